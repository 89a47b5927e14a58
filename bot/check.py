"""`beacon check`: is the configuration usable, does Slack accept the token, can Beacon post where told?"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.organisation import Organisation, Role

_FIXES = {
    "channel_not_found": "no such channel, or it is private and Beacon is not in it: check the ID, "
                         "or /invite @Beacon in the channel",
    "invalid_auth": "Slack refused the token: copy the Bot User OAuth Token again",
    "not_authed": "no token was sent: set SLACK_BOT_TOKEN",
    "account_inactive": "the app was uninstalled or the token revoked: reinstall the app",
    "missing_scope": "the app lacks a scope: recreate it from manifest.yaml and reinstall",
    "user_not_found": "no such user: check the ID in beacon.yaml",
}


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _explain(error: SlackApiError) -> str:
    code = str(error.response.get("error", "unknown_error"))
    return f"{code}: {_FIXES.get(code, 'see the Slack API documentation for this error')}"


async def check_ways_to_run(client: AsyncWebClient, *, app_token: str | None, missing_for_run: list[str],
                            missing_for_serve: list[str]) -> list[CheckResult]:
    """Whether `beacon run` and `beacon serve` would start with these settings. A trust uses one of them, so the
    other one not being set up is fine; neither, or an app token Slack refuses, is a failure."""
    run_ready = not missing_for_run
    if app_token is not None:
        try:
            await client.apps_connections_open(app_token=app_token)  # an address Beacon does not use: no connection
        except SlackApiError as error:
            code = str(error.response.get("error", "unknown_error"))
            refused = CheckResult("beacon run (Socket Mode)", False, f"Slack refused SLACK_APP_TOKEN ({code}): copy "
                                  "the app-level token again (Basic Information > App-Level Tokens, connections:write)")
            return [refused, _way("beacon serve (HTTP)", missing_for_serve, other_ready=False)]
    serve_ready = not missing_for_serve
    if not run_ready and not serve_ready:
        return [CheckResult("beacon run (Socket Mode)", False, "needs " + ", ".join(missing_for_run)),
                CheckResult("beacon serve (HTTP)", False, "needs " + ", ".join(missing_for_serve))]
    return [_way("beacon run (Socket Mode)", missing_for_run, other_ready=serve_ready),
            _way("beacon serve (HTTP)", missing_for_serve, other_ready=run_ready)]


def _way(name: str, missing: list[str], *, other_ready: bool) -> CheckResult:
    if not missing:
        return CheckResult(name, True, "ready")
    return CheckResult(name, other_ready, "not set up (needs " + ", ".join(missing) + ")"
                       + ("; fine if you use the other way" if other_ready else ""))


async def run_checks(organisation: Organisation, client: AsyncWebClient) -> list[CheckResult]:
    results = [CheckResult("configuration", True, "environment and organisation file are valid")]
    try:
        auth = await client.auth_test()
    except SlackApiError as error:
        return [*results, CheckResult("Slack token (auth.test)", False, _explain(error))]
    results.append(CheckResult("Slack token (auth.test)", True, f"signed in as {auth['user']} in {auth['team']}"))

    for key, channel_id in organisation.channels.all().items():
        results.append(await _check_channel(client, f"channels.{key}", channel_id))
    for site in organisation.sites:
        if site.channel:
            results.append(await _check_channel(client, f"sites: {site.name}", site.channel))
    for group in organisation.staff_groups:
        if group.channel:
            results.append(await _check_channel(client, f"staff_groups: {group.name}", group.channel))
    if organisation.calendar.coordinator_channel:
        results.append(await _check_channel(client, "calendar.coordinator_channel",
                                            organisation.calendar.coordinator_channel))
    results.extend(await _check_roles(organisation, client))
    return results


async def _check_channel(client: AsyncWebClient, name: str, channel_id: str) -> CheckResult:
    label = f"{name} ({channel_id})"
    try:
        info = (await client.conversations_info(channel=channel_id))["channel"]
    except SlackApiError as error:
        return CheckResult(label, False, _explain(error))
    if info.get("is_archived"):
        return CheckResult(label, False, f"#{info.get('name')} is archived: unarchive it or choose another")
    if not info.get("is_member"):
        return CheckResult(label, False, f"Beacon is not in #{info.get('name')}: type /invite @Beacon there")
    return CheckResult(label, True, f"#{info.get('name')}, Beacon is a member")


async def _check_roles(organisation: Organisation, client: AsyncWebClient) -> list[CheckResult]:
    results: list[CheckResult] = []
    members = {m for role in Role for m in organisation.roles.members(role)}
    handles = sorted(m for m in members if m.startswith("@"))
    if handles:
        try:
            groups = (await client.usergroups_list())["usergroups"]
            known = {"@" + g["handle"] for g in groups}
            for handle in handles:
                results.append(CheckResult(f"roles: {handle}", handle in known,
                                           "user group found" if handle in known else "no user group has this handle"))
        except SlackApiError as error:
            results.append(CheckResult("roles: user groups", False, _explain(error)))
    for user_id in sorted(m for m in members if not m.startswith("@")):
        try:
            user = (await client.users_info(user=user_id))["user"]
        except SlackApiError as error:
            results.append(CheckResult(f"roles: {user_id}", False, _explain(error)))
            continue
        active = not user.get("deleted")
        results.append(CheckResult(f"roles: {user_id}", active,
                                   user.get("real_name") or user.get("name", "") if active else "deactivated user"))
    return results


def format_table(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{'CHECK'.ljust(width)}  RESULT  DETAIL"]
    lines += [f"{r.name.ljust(width)}  {'ok' if r.ok else 'FAIL':6}  {r.detail}" for r in results]
    failed = sum(not r.ok for r in results)
    lines.append("" if not failed else f"\n{failed} check(s) failed.")
    return "\n".join(lines).rstrip() + "\n"
