"""Reloading the organisation file in a running Beacon (SIGHUP, or `beacon reload`).

Roles, channels and sites take effect at once: every part of Beacon holds the same `Organisation` object, so
those sections are replaced in it, and role holders are looked up afresh. Other sections (the time zone, the
delivery pace, the digest's timetable, calendar sources...) are built into running parts; a change to them is
reported as needing a restart and is not applied. A file that does not validate changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from beacon.bot.config_errors import ConfigError
from beacon.bot.content import check_organisation
from beacon.bot.deps import Deps
from beacon.bot.organisation import Organisation, load_organisation

log = logging.getLogger("beacon.reload")
LIVE = ("roles", "channels", "sites", "leaders")


@dataclass
class ReloadReport:
    applied: list[str] = field(default_factory=list)         # sections that changed and now apply
    needs_restart: list[str] = field(default_factory=list)   # sections that changed but wait for a restart
    problems: list[str] = field(default_factory=list)        # why the new file was refused (nothing changed)

    @property
    def ok(self) -> bool:
        return not self.problems


def changed_sections(current: Organisation, new: Organisation) -> list[str]:
    return [name for name in Organisation.model_fields if getattr(current, name) != getattr(new, name)]


async def reload_organisation(deps: Deps, *, actor: str = "system") -> ReloadReport:
    report = ReloadReport()
    try:
        new = load_organisation(deps.settings.beacon_config)
        problems = check_organisation(deps.content, new)
        if problems:
            raise ConfigError(problems)
    except ConfigError as error:
        report.problems = list(error.problems)
        log.error("configuration reload refused; the running configuration is unchanged",
                  extra={"problems": report.problems})
        return report
    current = deps.organisation
    for name in changed_sections(current, new):
        (report.applied if name in LIVE else report.needs_restart).append(name)
    for name in report.applied:  # the model is frozen against accidents; this is the one deliberate change
        object.__setattr__(current, name, getattr(new, name))
    if "roles" in report.applied:
        deps.authorisation.replace_roles(current.roles)
    if report.applied or report.needs_restart:
        async with deps.db.transaction() as session:
            await deps.audit.record(session=session, actor=actor, action="configuration.reloaded",
                                    subject=str(deps.settings.beacon_config),
                                    details={"applied": report.applied, "needs_restart": report.needs_restart})
    log.info("configuration reloaded", extra={"applied": report.applied, "needs_restart": report.needs_restart})
    return report
