"""`/awards`: the awards panel runs each round: open, status, close, review and score, decide, announce,
export and insight. Winners say whether they may be named."""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from beacon.bot.blocks.awards import (
    build_candidate_modal,
    build_insight_blocks,
    build_open_round_modal,
    build_panel_home_section,
    build_review_modal,
    build_round_line,
    build_score_modal,
    build_status_blocks,
    build_winner_naming,
)
from beacon.bot.deps import Deps
from beacon.bot.errors import BeaconError, InvalidInput, NotFound
from beacon.bot.ids import ActionId, BlockId, CallbackId, Command
from beacon.bot.integrations.slack_files import upload_file
from beacon.bot.organisation import Role
from beacon.bot.services.work_queue import Work, WorkKind
from beacon.handlers.errors import guarded
from beacon.handlers.home import HomeTab
from beacon.handlers.modal_state import ModalState
from beacon.handlers.parsing import bounded, one_of, read_json_object, read_metadata, record_id, short_text
from beacon.handlers.verbs import Said, Verbs

OPEN = re.compile(r'^open\s+["“”]?(?P<name>.+?)["“”]?\s+closes\s+(?P<day>\d{4}-\d{2}-\d{2})$', re.IGNORECASE)
# The first word names the verb and anything after it is ignored, except by `open`, which reads it with OPEN.
VERBS = Verbs(Command.AWARDS, {verb: verb + "(?: .*)?" for verb in (
    "open", "status", "close", "review", "decide", "announce", "export", "insight", "archive")})


def _blocks(blocks: list[Block]) -> list[dict]:
    return [b.to_dict() for b in blocks]


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    rounds, review, content, tz = deps.award_rounds, deps.panel_review, deps.content, deps.organisation.tz
    framework = deps.organisation.recognition.leadership_framework
    first_award = content.awards[0].key
    award_keys = frozenset(award.key for award in content.awards)
    framework_levels = frozenset(content.frameworks[framework].levels if framework in content.frameworks else ())

    def candidate_ref(value: object) -> tuple[str, str, bool]:
        """A candidate button's value, `{"a": award, "k": candidate key, "on": flag}`, bounded."""
        ref = read_json_object(value)
        return one_of(ref.get("a"), award_keys), short_text(ref.get("k"), limit=400), ref.get("on") is True

    async def review_view(user_id: str, award: str, page: int) -> dict:
        async with deps.db.transaction() as session:
            result = await review.review(session=session, user_id=user_id, award=award, page=page)
        return build_review_modal(result, content=content, framework=framework, viewer=user_id)

    async def candidate_view(user_id: str, award: str, key: str) -> dict:
        async with deps.db.transaction() as session:
            detail = await review.candidate(session=session, user_id=user_id, award=award, key=key)
        return build_candidate_modal(detail, content=content, tz=tz)

    async def home_section(user_id: str, roles: frozenset[Role]) -> list[Block]:
        if Role.PANEL not in roles:
            return []
        async with deps.db.transaction() as session:
            try:
                report = await rounds.report(session=session, user_id=user_id)
            except NotFound:
                report = None
        return build_panel_home_section(report, content=content)

    home_tab.add_section(home_section)

    async def open_(said: Said) -> None:
        match = OPEN.match(said.text)
        if not match:
            raise InvalidInput('Say it like this: `/awards open "2027 Staff Awards" closes 2027-03-31`')
        try:
            closes_on = date.fromisoformat(match["day"])
        except ValueError:
            raise InvalidInput(f"{match['day']} is not a date; use YYYY-MM-DD.") from None
        async with deps.db.transaction() as session:
            opened = await rounds.open_round(session=session, user_id=said.user_id, name=match["name"],
                                             closes_on=closes_on)
        await said.reply(f":white_check_mark: {build_round_line(opened)} It closes {rounds.closes_text(opened)}; "
                         "the recognition channel has been told.")

    async def status(said: Said) -> None:
        async with deps.db.transaction() as session:
            report = await rounds.report(session=session, user_id=said.user_id)
        await said.reply("Award round status", _blocks(build_status_blocks(report, content=content)))

    async def close(said: Said) -> None:
        async with deps.db.transaction() as session:
            closed = await rounds.close(session=session, user_id=said.user_id)
        await said.reply(f":lock: {build_round_line(closed)} Review it with `/awards review`.")

    async def review_(said: Said) -> None:
        await deps.authorisation.require(said.user_id, Role.PANEL, action="Reviewing nominations")
        await said.client.views_open(trigger_id=said.command["trigger_id"],
                                     view=await review_view(said.user_id, first_award, 0))

    async def decide(said: Said) -> None:
        async with deps.db.transaction() as session:
            decided, winners = await review.decide_round(session=session, user_id=said.user_id)
        await said.reply(f":white_check_mark: {build_round_line(decided)} {winners} winner(s); each has been asked "
                         "whether they may be named. Announce with `/awards announce`.")

    async def announce(said: Said) -> None:
        async with deps.db.transaction() as session:
            announced, naming = await review.announce_round(session=session, user_id=said.user_id)
        await said.reply(f":trophy: {build_round_line(announced)} The winners are being posted, and every "
                         "nominator is being told the outcome privately. " + build_winner_naming(naming))

    async def export(said: Said) -> None:  # the file is written and uploaded by a worker: see export_job
        await deps.authorisation.require(said.user_id, Role.PANEL, action="Exporting a round")
        # Said first, so it comes before the worker's own answer, however quick that is.
        await said.reply(":hourglass_flowing_sand: Preparing the export; it will arrive in your direct messages.")
        await deps.work.submit(WorkKind.AWARDS_EXPORT, {"response_url": said.command.get("response_url")},
                               requested_by=said.user_id)

    async def insight(said: Said) -> None:  # counted by a worker, which answers here: see insight_job
        await deps.authorisation.require_any(said.user_id, (Role.PANEL, Role.COMMS), action="Seeing award insight")
        await deps.work.submit(WorkKind.AWARDS_INSIGHT, {"response_url": said.command.get("response_url")},
                               requested_by=said.user_id)

    async def archive(said: Said) -> None:
        async with deps.db.transaction() as session:
            archived = await rounds.archive(session=session, user_id=said.user_id)
        await said.reply(f":file_cabinet: {build_round_line(archived)}")

    route = VERBS.router(deps, {"open": open_, "status": status, "close": close, "review": review_,
                                "decide": decide, "announce": announce, "export": export, "insight": insight,
                                "archive": archive})

    @app.command(Command.AWARDS)
    @guard
    async def handle_awards(ack: AsyncAck, command: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        await route(command, client, respond)

    @app.action(ActionId.AWARDS_ROUND_NEW)
    @guard
    async def handle_round_new(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await deps.authorisation.require_any(body["user"]["id"], (Role.PANEL, Role.ADMINS),
                                             action="Opening an award round")
        await client.views_open(trigger_id=body["trigger_id"],
                                view=build_open_round_modal(today=deps.clock.now().astimezone(tz).date()))

    @app.view(CallbackId.AWARDS_OPEN)
    @guard
    async def handle_round_open(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id, state = body["user"]["id"], ModalState(view)
        name, day = state.text(BlockId.AWARDS_ROUND_NAME), state.date(BlockId.AWARDS_ROUND_CLOSES)
        try:
            if not day:
                raise InvalidInput("Choose the day the round closes.")
            async with deps.db.transaction() as session:
                await rounds.open_round(session=session, user_id=user_id, name=name,
                                        closes_on=date.fromisoformat(day))
        except InvalidInput as problem:
            await ack(response_action="errors", errors={BlockId.AWARDS_ROUND_CLOSES: problem.user_message})
            return
        await ack()
        await home_tab.publish(client, user_id)

    @app.action(ActionId.AWARDS_REVIEW_OPEN)
    @guard
    async def handle_review_open(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=await review_view(body["user"]["id"],
                                                                                     first_award, 0))

    @app.action(re.compile(f"^({ActionId.AWARDS_AWARD}|{ActionId.AWARDS_PAGE})$"))
    @guard
    async def handle_review_browse(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        state = read_metadata(body.get("view"))
        if action["action_id"] == ActionId.AWARDS_AWARD:
            award, page = one_of((action.get("selected_option") or {}).get("value"), award_keys), 0
        else:
            award, page = one_of(state.get("award"), award_keys), bounded(action.get("value"), 0, 10_000)
        await client.views_update(view_id=body["view"]["id"], view=await review_view(body["user"]["id"], award, page))

    @app.action(ActionId.AWARDS_CANDIDATE_OPEN)
    @guard
    async def handle_candidate_open(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        award, key, _ = candidate_ref(action.get("value"))
        await client.views_push(trigger_id=body["trigger_id"],
                                view=await candidate_view(body["user"]["id"], award, key))

    @app.action(re.compile(f"^({ActionId.AWARDS_SHORTLIST}|{ActionId.AWARDS_WINNER}|{ActionId.AWARDS_CONFLICT})$"))
    @guard
    async def handle_candidate_decision(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id, (award, key, on) = body["user"]["id"], candidate_ref(action.get("value"))
        async with deps.db.transaction() as session:
            if action["action_id"] == ActionId.AWARDS_CONFLICT:
                await review.declare_conflict(session=session, user_id=user_id, award=award, key=key)
            else:
                flag = "shortlisted" if action["action_id"] == ActionId.AWARDS_SHORTLIST else "winner"
                await review.decide_candidate(session=session, user_id=user_id, award=award, key=key,
                                              **{flag: on})
        await client.views_update(view_id=body["view"]["id"], view=await candidate_view(user_id, award, key))

    @app.action(ActionId.AWARDS_SCORE_OPEN)
    @guard
    async def handle_score_open(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id = body["user"]["id"]
        async with deps.db.transaction() as session:
            nomination, existing = await review.score_sheet(session=session, user_id=user_id,
                                                            nomination_id=record_id(action.get("value")))
        await client.views_push(trigger_id=body["trigger_id"], view=build_score_modal(
            nomination=nomination, content=content, framework=framework, existing=existing,
            candidate_view=body["view"]["id"]))

    @app.view(CallbackId.AWARDS_SCORE)
    @guard
    async def handle_score(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id, meta, state = body["user"]["id"], read_metadata(view), ModalState(view)
        nomination_id, candidate_view_id = record_id(meta.get("nomination")), short_text(meta.get("candidate_view"))
        chosen = state.option(BlockId.AWARDS_SCORE_VALUE)
        level = state.option(BlockId.AWARDS_SCORE_LEVEL)
        note = state.text(BlockId.AWARDS_SCORE_NOTE)
        if not chosen:
            await ack(response_action="errors", errors={BlockId.AWARDS_SCORE_VALUE: "Choose a score from 1 to 5."})
            return
        score = bounded(chosen, 1, 5)
        if level is not None:
            level = one_of(level, framework_levels)
        async with deps.db.transaction() as session:
            await review.score(session=session, user_id=user_id, nomination_id=nomination_id,
                               score=score, level=level, note=note)
            nomination, _ = await review.score_sheet(session=session, user_id=user_id,
                                                     nomination_id=nomination_id)
            detail = await review.candidate_of(session=session, user_id=user_id, nomination=nomination)
        await ack()
        await client.views_update(view_id=candidate_view_id, view=build_candidate_modal(detail, content=content,
                                                                                        tz=tz))

    @app.action(re.compile(f"^({ActionId.WINNER_CONSENT_GIVE}|{ActionId.WINNER_CONSENT_DECLINE})$"))
    @guard
    async def handle_winner_consent(ack: AsyncAck, body: dict, action: dict, respond: AsyncRespond) -> None:
        await ack()
        give = action["action_id"] == ActionId.WINNER_CONSENT_GIVE
        async with deps.db.transaction() as session:
            await review.winner_consent(session=session, user_id=body["user"]["id"],
                                        decision_id=record_id(action.get("value")), give=give)
        answer = ("Thank you: you will be named when the winners are announced." if give
                  else "Understood: you will not be named. The award is still yours.")
        kept = [b for b in body["message"]["blocks"] if b.get("block_id") != "winner_consent"]
        await respond(replace_original=True, text=body["message"].get("text", ""),
                      blocks=[*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": answer}]}])


# Jobs run by `beacon worker` (bot/worker.py), out of the process that answers Slack. Each answers where the command
# was typed, through its response URL, as the handler would have.

async def _answer(deps: Deps, item: Work, text: str, blocks: list[dict] | None = None) -> None:
    url = item.params.get("response_url")
    if not url:
        return
    response = await AsyncWebhookClient(str(url), session=deps.slack.session).send(
        text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    if response.status_code != 200:
        raise RuntimeError(f"the response URL answered {response.status_code}")


async def export_job(deps: Deps, item: Work) -> None:
    """The round's CSV, written a part at a time to a temporary file and streamed to the requester's DM."""
    user_id = item.requested_by or ""
    with tempfile.TemporaryDirectory(prefix="beacon-export-") as folder:  # written in parts, not held in memory
        path = Path(folder) / "export.csv"
        try:
            with path.open("wb") as out:
                async with deps.db.transaction() as session:
                    round_, filename, rows = await deps.panel_review.export_csv(session=session, user_id=user_id,
                                                                                out=out)
        except BeaconError as refusal:  # no round, or no longer on the panel: an answer, not a failure
            await _answer(deps, item, refusal.user_message)
            return
        dm = (await deps.slack.conversations_open(users=user_id))["channel"]["id"]
        await upload_file(deps.slack, path=path, filename=filename, title=f"{round_.name} export", channel=dm,
                          initial_comment=f"{rows} nominations from {round_.name}. Keep this file safe: it holds "
                                          "nominations and the panel's scores.")
    await _answer(deps, item, f":inbox_tray: The export of {round_.name} ({rows} nominations) is in your direct "
                              "messages.")


async def insight_job(deps: Deps, item: Work) -> None:
    """Who gets noticed, counted from the whole round, answered where `/awards insight` was typed."""
    try:
        async with deps.db.transaction() as session:
            found = await deps.panel_review.insight(session=session, user_id=item.requested_by or "")
    except BeaconError as refusal:
        await _answer(deps, item, refusal.user_message)
        return
    await _answer(deps, item, "Award insight", _blocks(build_insight_blocks(found)))
