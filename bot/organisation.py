"""The organisation file (`beacon.yaml`): channels, roles, sites and per-capability settings."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from beacon.bot.addresses import literal_refused
from beacon.bot.config_errors import ConfigError

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_HANDLE = re.compile(r"^@[a-z0-9][a-z0-9._-]*$")


_COMMENTED_OUT = ("needs a channel ID such as C0123ABCD, not a channel's name such as #recognition: `#` starts a "
                  "comment in YAML, so everything from it on was ignored")


def _channel_id(value: str) -> str:
    if value.startswith("#"):
        raise ValueError(f"should be a Slack channel ID such as C0123ABCDEF, not the channel's name {value!r} "
                         "(in Slack: open the channel, click its name, the ID is at the bottom of the About tab)")
    if not _CHANNEL_ID.match(value):
        raise ValueError(
            f"should be a Slack channel ID such as C0123ABCDEF, not {value!r} "
            "(in Slack: open the channel, click its name, the ID is at the bottom of the About tab)"
        )
    return value


def _role_member(value: str) -> str:
    if not (_USER_ID.match(value) or _GROUP_HANDLE.match(value)):
        raise ValueError(
            f"should be a Slack user ID such as U0123ABCDEF or a user-group handle such as @comms-team, "
            f"not {value!r}"
        )
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"should be an IANA time zone such as Europe/London, not {value!r}") from None
    return value


ChannelId = Annotated[str, AfterValidator(_channel_id)]
RoleMember = Annotated[str, AfterValidator(_role_member)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]


class Role(StrEnum):
    """The roles a trust hands out in `roles:`; each gates some of what Beacon can do."""

    EXECUTIVES = "executives"
    COMMS = "comms"
    PANEL = "panel"
    FORUM_MODERATORS = "forum_moderators"
    ADMINS = "admins"
    LEADERS = "leaders"  # announce engagements for their own areas and sites (see `leaders:`)

    @property
    def label(self) -> str:
        """The role's name as people read it ("Forum moderators"); not `title`, which would hide str.title()."""
        return _ROLE_TITLES[self]


_ROLE_TITLES = {
    Role.EXECUTIVES: "executive",
    Role.COMMS: "communications team",
    Role.PANEL: "awards panel",
    Role.FORUM_MODERATORS: "staff forum moderator",
    Role.ADMINS: "Beacon administrator",
    Role.LEADERS: "leader",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channels(_Strict):
    recognition: ChannelId
    engagement: ChannelId
    forum: ChannelId
    admin: ChannelId
    digest: list[ChannelId] = Field(default_factory=list)

    def all(self) -> dict[str, str]:
        """Every configured channel by the key that names it, for `beacon check`."""
        named = {"recognition": self.recognition, "engagement": self.engagement, "forum": self.forum,
                 "admin": self.admin}
        named.update({f"digest[{i}]": channel for i, channel in enumerate(self.digest)})
        return named


class Roles(_Strict):
    executives: list[RoleMember] = Field(default_factory=list)
    comms: list[RoleMember] = Field(default_factory=list)
    panel: list[RoleMember] = Field(default_factory=list)
    forum_moderators: list[RoleMember] = Field(default_factory=list)
    admins: list[RoleMember] = Field(default_factory=list)
    leaders: list[RoleMember] = Field(default_factory=list)

    def members(self, role: Role) -> list[str]:
        return list(getattr(self, role.value))


class _ChannelPlace(_Strict):
    """A place with a channel of its own (a site, a staff group)."""

    @model_validator(mode="before")
    @classmethod
    def _channel_written_out(cls, data: Any) -> Any:
        # `channel: #chelmsford` reads as `channel:` (the rest is a YAML comment): refuse it rather than quietly
        # give the place no channel. A place without a channel leaves the key out.
        if isinstance(data, dict) and "channel" in data and data["channel"] is None:
            raise ValueError(f"channel is empty: it {_COMMENTED_OUT} (leave channel out for a place without one)")
        return data


class Site(_ChannelPlace):
    # A site's name is an option's value in Slack's forms (150 characters at most) and is stored in columns of 120.
    name: str = Field(min_length=1, max_length=120)
    area: str = Field(min_length=1, max_length=120)
    channel: ChannelId | None = None
    aliases: list[str] = Field(default_factory=list)


class LeaderPlaces(_Strict):
    """Where a leader (or everyone in a user group) may announce engagements: whole areas, single sites, or both."""

    areas: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=list)
    staff_groups: list[str] = Field(default_factory=list)  # names under staff_groups: (their channels are places too)


class StaffGroup(_ChannelPlace):
    """Staff who are not at one site (the control room, 111, patient transport, support services): an engagement
    can be for them, announced in their channel as a site's is."""

    name: str = Field(min_length=1, max_length=120)  # stored in columns of 120, as a site's name
    channel: ChannelId | None = None
    aliases: list[str] = Field(default_factory=list)


class ScheduleSettings(_Strict):
    require_approval: bool = False
    grace_hours: float = Field(default=6, ge=0, le=168)
    large_audience: int = Field(default=1000, ge=1)


class DeliverySettings(_Strict):
    posts_per_minute: float = Field(default=300, gt=0, le=60000)  # workspace-wide pace for chat.postMessage
    per_channel_seconds: float = Field(default=1.0, ge=0, le=60)   # Slack: about one message a second a channel
    lease_seconds: float = Field(default=60, gt=0, le=3600)        # a claim lapses this long after its last renewal
    concurrency: int = Field(default=32, ge=1, le=64)             # sends in flight at once (the pace still rules)
    unhealthy_after_minutes: float = Field(default=15, gt=0, le=1440)  # /healthz: oldest due message this late


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock_time(value: str) -> str:
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", value):
        raise ValueError(f"should be a 24-hour time such as 07:30, not {value!r}")
    return value


def _weekday(value: str) -> str:
    if value.lower()[:3] not in _WEEKDAYS:
        raise ValueError(f"should be a day of the week such as mon, not {value!r}")
    return value.lower()[:3]


ClockTime = Annotated[str, AfterValidator(_clock_time)]
Weekday = Annotated[str, AfterValidator(_weekday)]


class GraphSource(_Strict):
    """A Microsoft 365 mailbox (user, shared or room) whose calendar holds leader engagements."""

    type: Literal["graph"]
    mailbox: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    category: str = "Leader engagement"  # only events in this Outlook category are published
    name: str | None = None              # shown as the leader when the organiser is not the leader
    leader_slack_id: Annotated[str, AfterValidator(_role_member)] | None = None

    @property
    def key(self) -> str:
        return f"graph:{self.mailbox.lower()}"


class IcsSource(_Strict):
    """A published calendar (Outlook "publish calendar", Google, any RFC 5545 feed)."""

    type: Literal["ics"]
    name: str = Field(min_length=1)  # the leader (or team) the feed belongs to
    url: str = Field(pattern=r"^https?://")
    leader_slack_id: Annotated[str, AfterValidator(_role_member)] | None = None

    @property
    def key(self) -> str:
        return f"ics:{self.url}"


class CalendarSettings(_Strict):
    sync_every_minutes: int = Field(default=15, ge=1, le=1440)
    window_days: int = Field(default=28, ge=1, le=180)           # how far ahead sources are read
    announce_within_days: int = Field(default=14, ge=0, le=90)   # engagements this close are announced
    weekly_post_day: Weekday = "mon"
    weekly_post_time: ClockTime = "07:30"
    reminder_time: ClockTime = "16:00"                           # the day before a visit, in the site's channel
    follow_up_time: ClockTime = "10:00"                          # the day after, the leader is asked to follow up
    coordinator_channel: ChannelId | None = None                 # staff's requests for a visit go here
    sources: list[Annotated[GraphSource | IcsSource, Field(discriminator="type")]] = Field(default_factory=list)
    # Feeds are never fetched from loopback, private, link-local (cloud metadata) or other non-public addresses,
    # unless their host (a name, or an address, as written in the URL) is listed here.
    allow_hosts: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]+$", max_length=253)]] = Field(
        default_factory=list)

    @model_validator(mode="after")
    def _feeds_at_public_addresses(self) -> CalendarSettings:
        allowed = {h.strip("[]").rstrip(".").lower() for h in self.allow_hosts}
        for source in self.sources:
            if not isinstance(source, IcsSource):
                continue
            host = urlsplit(source.url).hostname or ""
            if host and literal_refused(host) and host.rstrip(".").lower() not in allowed:
                raise ValueError(f"the feed {source.url} is at {host}, which is not a public internet address "
                                 "(loopback, private, link-local or cloud metadata); list the host under "
                                 "calendar.allow_hosts if it is really meant")
        return self


class PulseSettings(_Strict):
    reporting_minimum: int = Field(default=11, ge=2, le=1000)  # fewer answers than this: no figures shown
    # Anonymous answers are stored at least this many at a time, never fewer (see docs/ARCHITECTURE.md,
    # "Threat model"): 5 is the least that still hides each answer among others.
    answer_batch: int = Field(default=5, ge=5, le=100)


def _cron(value: str) -> str:
    from beacon.bot.cron import parse_cron  # apscheduler is only needed once there is something to check
    parse_cron(value, ZoneInfo("UTC"))
    return value


class DigestSettings(_Strict):
    cron: Annotated[str, AfterValidator(_cron)] = "0 8 * * mon"  # when the weekly digest goes, trust time
    skip_quiet_weeks: bool = False  # true: a week with nothing to report sends nothing (else one line says so)


class RetentionSettings(_Strict):
    """How long Beacon keeps things; a daily job removes what is older (`beacon privacy retention --dry-run`)."""

    nominations_years: float = Field(default=3, gt=0, le=50)     # after their award round closed (or were made)
    pulse_answers_years: float = Field(default=2, gt=0, le=50)   # after the pulse closed
    engagements_years: float = Field(default=2, gt=0, le=50)     # after the engagement ended
    sent_messages_days: float = Field(default=90, gt=0, le=3650)  # Beacon's record of messages it sent
    audit_years: float = Field(default=6, gt=0, le=50)


class RecognitionSettings(_Strict):
    leadership_framework: str = "healthcare_leadership_model"  # a framework in content/leadership.yaml


class AskSettings(_Strict):
    """Ask the leaders (`/ask`): staff questions for the leadership team."""

    unanswered_days: int = Field(default=14, ge=1, le=365)  # older published questions are flagged to moderators


class Organisation(_Strict):
    name: str = "the Trust"
    timezone: TimeZoneName = "Europe/London"
    channels: Channels
    roles: Roles = Field(default_factory=Roles)
    sites: list[Site] = Field(default_factory=list)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    recognition: RecognitionSettings = Field(default_factory=RecognitionSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    pulse: PulseSettings = Field(default_factory=PulseSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    # Each member of roles.leaders (a user ID or a @user-group) and the places it covers.
    leaders: dict[RoleMember, LeaderPlaces] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _leaders_cover_known_places(self) -> Organisation:
        areas, names = {s.area for s in self.sites}, {s.name for s in self.sites}
        for member, places in self.leaders.items():
            if member not in self.roles.leaders:
                raise ValueError(f"leaders.{member} is not in roles.leaders; add it there too (or remove it here)")
            if not places.areas and not places.sites and not places.staff_groups:
                raise ValueError(f"leaders.{member} names no areas, sites or staff groups; give at least one")
            for group in places.staff_groups:
                if self.staff_group_named(group) is None:
                    raise ValueError(f"leaders.{member}.staff_groups: {group!r} is not a staff group under "
                                     "staff_groups: (use the group's name exactly)")
            for area in places.areas:
                if area not in areas:
                    raise ValueError(f"leaders.{member}.areas: {area!r} is not the area of any site under sites: "
                                     f"(areas: {', '.join(sorted(areas)) or 'none yet'})")
            for site in places.sites:
                if site not in names:
                    raise ValueError(f"leaders.{member}.sites: {site!r} is not a site under sites: "
                                     "(use the site's name exactly)")
        for member in self.roles.leaders:
            if member not in self.leaders:
                raise ValueError(f"roles.leaders: {member} has no places; under leaders:, give the areas or sites "
                                 f"{member} covers")
        return self

    def leader_sites(self, members: list[str]) -> list[Site]:
        """The sites that `members` (the role entries a person holds `leaders` through) cover, in file order."""
        covered = [self.leaders[m] for m in members if m in self.leaders]
        areas = {a for p in covered for a in p.areas}
        names = {n for p in covered for n in p.sites}
        return [s for s in self.sites if s.area in areas or s.name in names]

    def leader_staff_groups(self, members: list[str]) -> list[StaffGroup]:
        """The staff groups that `members` (the role entries a person holds `leaders` through) cover, in file order."""
        names = {n for m in members if m in self.leaders for n in self.leaders[m].staff_groups}
        return [g for g in self.staff_groups if g.name in names]
    ask: AskSettings = Field(default_factory=AskSettings)
    staff_groups: list[StaffGroup] = Field(default_factory=list)

    def site_named(self, name: str | None) -> Site | None:
        return next((s for s in self.sites if name and s.name == name), None)

    def staff_group_named(self, name: str | None) -> StaffGroup | None:
        return next((g for g in self.staff_groups if name and g.name == name), None)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_organisation(data: Any, *, source: str) -> Organisation:
    """Validate already-loaded YAML; every fault is named with its key path."""
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: should be a YAML mapping with channels:, roles: and sites:"])
    try:
        return Organisation.model_validate(data)
    except ValidationError as error:
        raise ConfigError([f"{source}: {_describe(e)}" for e in error.errors()]) from None


def load_organisation(path: Path) -> Organisation:
    if not path.exists():
        raise ConfigError(
            [f"BEACON_CONFIG: {path} does not exist (copy beacon.example.yaml to {path} and fill it in)"]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ConfigError([f"BEACON_CONFIG: {path} is a folder; give the organisation file itself "
                           "(e.g. /etc/beacon/beacon.yaml)"]) from None
    except UnicodeDecodeError as error:
        raise ConfigError([f"BEACON_CONFIG: {path} is not UTF-8 text (byte {error.start + 1} cannot be read); "
                           "save it as UTF-8"]) from None
    except OSError as error:
        raise ConfigError([f"BEACON_CONFIG: {path} cannot be read ({error.strerror or error}); Beacon's user "
                           "needs to read it"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        hint = ""
        lines = (where.buffer or "").splitlines()[: where.line + 1] if where is not None else []
        commented = [n for n, line in enumerate(lines, 1) if re.search(r"[\[{,]\s*#", line)]
        if commented:  # `digest: [C01, #digest]`: the comment swallows the closing bracket
            hint = (f" (line {commented[0]}: `#` starts a comment in YAML, so a channel written as #name cuts the line "
                    "off there; give channels by ID, such as C0123ABCD)")
        raise ConfigError([f"{path}: is not valid YAML{at}: {getattr(error, 'problem', error)}{hint}"]) from None
    return parse_organisation(data, source=str(path))


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "missing":
        return f"{key} is missing"
    if error.get("input", "") is None and _names_a_channel(error["loc"]):
        return f"{key} is empty: it {_COMMENTED_OUT}"
    if kind == "extra_forbidden":
        return f"{key} is not a setting Beacon knows (check the spelling against beacon.example.yaml)"
    message = error["msg"].removeprefix("Value error, ")
    return f"{key}: {message[:1].lower()}{message[1:]}"


def _names_a_channel(loc: tuple[int | str, ...]) -> bool:
    return bool(loc) and loc[0] == "channels"
