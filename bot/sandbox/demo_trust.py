"""The sandbox's demo trust: its people, channels, sites and organisation file, and its leaders' ICS calendar.

Everything here is made up; the names are chosen so that each role is easy to spot in the "Who are you?" list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from beacon.bot.local_slack import Workspace
from beacon.bot.organisation import Organisation, parse_organisation

TRUST = "Eastshire Ambulance Service NHS Trust"
TZ = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class DemoPerson:
    id: str
    name: str
    real_name: str
    title: str
    role: str | None  # the organisation file's role key, or None for staff
    label: str        # what the "Who are you?" list says


PEOPLE = (
    DemoPerson("U0ALICE", "alice", "Alice Ambrose", "Paramedic, Chelmsford", None, "Staff member"),
    DemoPerson("U0HEIDI", "heidi", "Heidi Hart", "Emergency Medical Technician, Colchester", None, "Staff member"),
    DemoPerson("U0IVAN", "ivan", "Ivan Iles", "Call handler, Norwich control room", None, "Staff member"),
    DemoPerson("U0CAROL", "carol", "Carol Chen", "Chief Executive", "executives", "Executive"),
    DemoPerson("U0OMAR", "omar", "Omar Obi", "Director of Operations", "executives", "Executive"),
    DemoPerson("U0GRACE", "grace", "Grace Gale", "Head of Communications", "comms", "Comms officer"),
    DemoPerson("U0BOB", "bob", "Bob Birch", "Communications Officer (via @comms-team)", "comms", "Comms officer"),
    DemoPerson("U0DAVE", "dave", "Dave Dale", "Clinical Lead, awards panel chair", "panel", "Awards panel member"),
    DemoPerson("U0PRIYA", "priya", "Priya Patel", "HR Business Partner, awards panel", "panel",
               "Awards panel member"),
    DemoPerson("U0ERIN", "erin", "Erin Evans", "Staff forum chair", "forum_moderators", "Forum moderator"),
    DemoPerson("U0FRANK", "frank", "Frank Fox", "IT lead", "admins", "Beacon admin"),
    DemoPerson("U0LENA", "lena", "Lena Lowe", "Locality Manager, Essex", "leaders", "Leader"),
)
BY_ID = {p.id: p for p in PEOPLE}
ALICE, HEIDI, IVAN, CAROL, OMAR, GRACE, BOB, DAVE, PRIYA, ERIN, FRANK, LENA = (p.id for p in PEOPLE)
# What two leaders have written as their commitment to staff (the demo story types them in through Slack).
COMMITMENTS = {
    CAROL: "I will spend a shift with a crew or in a control room every month, and tell you what I heard and what "
           "we are doing about it.",
    LENA: "I will be at every Essex station each quarter, on days and on nights, and I will answer every question "
          "you ask me, even when the answer is not yet.",
}

GENERAL, RECOGNITION, ENGAGEMENT, FORUM, DIGEST, ADMIN = (
    "C0GENERAL", "C0RECOG", "C0ENGAGE", "C0FORUM", "C0DIGEST", "C0ADMIN")
SITES = (  # (name, area, channel id, channel name, aliases)
    ("Chelmsford Ambulance Station", "Essex", "C0CHELMS", "chelmsford-station", ["Chelmsford"]),
    ("Colchester Ambulance Station", "Essex", "C0COLCH", "colchester-station", ["Colchester"]),
    ("Ipswich Ambulance Station", "Suffolk", "C0IPSW", "ipswich-station", ["Ipswich"]),
    ("Norwich Emergency Operations Centre", "Norfolk", "C0NORW", "norwich-control", ["Norwich EOC", "Norwich"]),
)
CHANNELS = ((GENERAL, "general"), (RECOGNITION, "recognition"), (ENGAGEMENT, "leaders-out-and-about"),
            (FORUM, "staff-forum"), (DIGEST, "weekly-digest"))


def workspace(scopes: set[str] | None) -> Workspace:
    """The local Slack workspace: everyone is in every public channel; only the admin sees #beacon-admin.
    `scopes`: the bot token's, from manifest.yaml (None: every scope)."""
    ws = Workspace(team_domain="eastshire-ambulance", scopes=scopes)
    for person in PEOPLE:
        ws.add_user(person.id, person.name, person.real_name, title=person.title)
    everyone = {p.id for p in PEOPLE}
    for channel_id, name in CHANNELS:
        ws.add_channel(channel_id, name, members=everyone)
    for _name, _area, channel_id, channel_name, _aliases in SITES:
        ws.add_channel(channel_id, channel_name, members=everyone)
    ws.add_channel(ADMIN, "beacon-admin", members={FRANK}, is_private=True)
    ws.add_usergroup("S0COMMS", "comms-team", "Communications team", [BOB])
    return ws


def organisation(calendar_url: str) -> Organisation:
    """The demo trust's beacon.yaml, as data. `calendar_url` serves `leaders_calendar`."""
    roles: dict[str, list[str]] = {"executives": [], "comms": ["@comms-team"], "panel": [], "forum_moderators": [],
                                   "admins": [], "leaders": []}
    for person in PEOPLE:
        if person.role and person.id != BOB:  # Bob is in comms through the @comms-team user group
            roles[person.role].append(person.id)
    data: dict[str, Any] = {
        "name": TRUST,
        "timezone": "Europe/London",
        "channels": {"recognition": RECOGNITION, "engagement": ENGAGEMENT, "forum": FORUM, "admin": ADMIN,
                     "digest": [DIGEST]},
        "roles": roles,
        "leaders": {LENA: {"areas": ["Essex"]}},  # a locality manager announces visits in her own area
        "sites": [{"name": name, "area": area, "channel": channel_id, "aliases": aliases}
                  for name, area, channel_id, _channel_name, aliases in SITES],
        # The sandbox serves its leaders' calendars itself, on this machine: allowed by name, as a trust would.
        "calendar": {"allow_hosts": [urlsplit(calendar_url).hostname or ""], "sources": [
            {"type": "ics", "name": "Carol Chen, Chief Executive", "url": f"{calendar_url}/carol.ics",
             "leader_slack_id": CAROL},
            {"type": "ics", "name": "Omar Obi, Director of Operations", "url": f"{calendar_url}/omar.ics",
             "leader_slack_id": OMAR}]},
        # A demo workspace has eleven people; the real default (11) would hide every pulse result.
        "pulse": {"reporting_minimum": 3},
        # The local workspace has no rate limits to respect, and a clock jump should not wait a second per post.
        "delivery": {"posts_per_minute": 60000, "per_channel_seconds": 0},
    }
    return parse_organisation(data, source="the sandbox's demo trust")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _event(uid: str, summary: str, start: datetime, hours: float, location: str, *, private: bool = False,
           weekly: int = 0) -> str:
    end = start + timedelta(hours=hours)
    return "\r\n".join([
        "BEGIN:VEVENT", f"UID:{uid}@eastshire.example", f"SUMMARY:{summary}",
        f"DTSTART;TZID=Europe/London:{_stamp(start)}", f"DTEND;TZID=Europe/London:{_stamp(end)}",
        *([f"RRULE:FREQ=WEEKLY;COUNT={weekly}"] if weekly else []),
        f"LOCATION:{location}", f"CLASS:{'PRIVATE' if private else 'PUBLIC'}", "END:VEVENT"])


def leaders_calendar(leader: str, today: date) -> str:
    """A published Outlook-style calendar for `leader` ('carol' or 'omar'), with visits in the fortnight from
    `today` (the day the sandbox started), a weekly forum for two months, and one private appointment, which
    Beacon must never publish."""
    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour, minute))

    if leader == "carol":
        events = [
            _event("carol-chelmsford", "Listening session with the night shift", at(1, 7), 1.5,
                   "Chelmsford Ambulance Station, mess room"),
            _event("carol-dentist", "Dentist", at(2, 9), 1, "Town centre", private=True),
            _event("carol-norwich", "Visit to the control room", at(3, 14), 2, "Norwich Emergency Operations Centre"),
            _event("carol-ipswich", "Back of the ambulance: a shift with crews", at(8, 10), 6,
                   "Ipswich Ambulance Station"),
        ]
    else:
        events = [
            _event("omar-colchester", "Station visit and team brief", at(2, 11), 2, "Colchester Ambulance Station"),
            _event("omar-forum", "Staff forum: winter plan, your questions", at(4, 12, 30), 1,
                   "Online (Teams) and Chelmsford Ambulance Station", weekly=8),
        ]
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Eastshire Ambulance//Beacon sandbox//EN",
                        "METHOD:PUBLISH", f"X-WR-CALNAME:{leader}", "X-WR-TIMEZONE:Europe/London", *events,
                        "END:VCALENDAR", ""])
