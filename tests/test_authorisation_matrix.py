"""Authorisation, proven: every slash command, block action and view submission Beacon registers, tried by one
person in each role and by one with none.

Whoever may use an entry point gets it done: a modal opens, a row is written, a message goes. Everyone else is
refused in words that name the role (or, for what belongs to one person, words that say so), and nothing changes:
not a row in any table, not a message or ephemeral anyone else sees, not a view.

Refused people do not stop at what Slack shows them. They forge the request Slack would send for a modal they could
never open (a copy of the role holder's, filled in) and press buttons copied from someone else's message, modal or
App Home; the local Slack signs those requests exactly as it signs real ones.

The table is `ENTRIES`; `test_the_matrix_covers_every_entry_point` fails when Beacon registers one it lacks.
"""

from __future__ import annotations

import copy
import functools
import json
import secrets
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import beacon.bot.deps
import tests.harness
from beacon.bot.blocks.nominations import NO_PATIENT_DETAILS, SHARE
from beacon.bot.blocks.pulses import slot_blocks
from beacon.bot.content import load_content
from beacon.bot.ids import ActionId, BlockId, CallbackId, Command
from beacon.bot.local_slack import Person, forms, payloads
from beacon.bot.local_slack.server import Reply
from beacon.bot.local_slack.workspace import View
from beacon.bot.models import (
    AwardRound,
    CandidateDecision,
    ConflictDeclaration,
    Consent,
    Endorsement,
    Engagement,
    EngagementAttendee,
    EngagementQuestion,
    ForumQuestion,
    ForumSupport,
    LeaderProfile,
    Nomination,
    NominationStatus,
    Nominee,
    PostStatus,
    Pulse,
    PulseAnswer,
    PulseHeld,
    RoundExport,
    RoundStatus,
    ScheduledPost,
    Score,
    UserPreference,
    VisitRequest,
)
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services import forum_questions
from beacon.bot.services.engagements import VisitDraft
from beacon.bot.services.nominations import NominationDraft, NomineeInput
from beacon.bot.services.pulses import PulseDraft, QuestionDraft
from beacon.bot.services.recurrence import Repeat
from beacon.bot.services.scheduled_posts import PostDraft
from tests.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ENGAGEMENT,
    ERIN,
    FORUM,
    FRANK,
    GENERAL,
    GRACE,
    HEIDI,
    RECOGNITION,
    Beacon,
    organisation_for,
    settle,
)
from tests.nominating import STORY, choose_award, deliver, open_modal
from tests.scheduling import compose

# The people each entry point is tried as: one per role, and Alice, who holds none.
PEOPLE: dict[str, tuple[str, frozenset[Role]]] = {
    ALICE: ("alice-none", frozenset()),
    CAROL: ("carol-executive", frozenset({Role.EXECUTIVES})),
    GRACE: ("grace-comms", frozenset({Role.COMMS})),
    DAVE: ("dave-panel", frozenset({Role.PANEL})),
    ERIN: ("erin-forum-moderator", frozenset({Role.FORUM_MODERATORS})),
    FRANK: ("frank-admin", frozenset({Role.ADMINS})),
}

# Cases that found a hole (a refused person changed something), with the reason, are marked xfail(strict=True)
# here until fixed; none are open.
HOLES: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _files_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speed only: each case starts a fresh Beacon, which reads the content files and the manifest again; they are
    the same for every case, so they are read once."""
    monkeypatch.setattr(beacon.bot.deps, "load_content", _content_once)
    monkeypatch.setattr(tests.harness, "manifest_scopes", _scopes_once)


_content_once = functools.cache(load_content)
_scopes_once = functools.cache(tests.harness.manifest_scopes)


@pytest.fixture
def organisation(slack) -> Organisation:  # type: ignore[no-untyped-def]
    # Approval on, so that Approve and Reject exist; Bob (comms through @comms-team) is the other approver.
    return organisation_for(slack.workspace, schedule={"require_approval": True},
                            calendar={"coordinator_channel": ENGAGEMENT})


# ---------------------------------------------------------------------------------------------------------------
# Who may use an entry point
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Access:
    roles: tuple[Role, ...] = ()  # any one will do; in the order the refusal names them
    everyone: bool = False
    only: str | None = None       # the one person it concerns (no role makes up for not being them)
    refusal: str | None = None    # what the refusal says, when it does not name a role

    def allows(self, user_id: str) -> bool:
        return self.everyone or user_id == self.only or bool(PEOPLE[user_id][1].intersection(self.roles))

    @property
    def refusal_text(self) -> str:
        return self.refusal or "needs the *" + "* or *".join(r.label for r in self.roles) + "* role"


EVERYONE = Access(everyone=True)


def roles(*held: Role, refusal: str | None = None) -> Access:
    return Access(roles=held, refusal=refusal)


def only(user_id: str, refusal: str) -> Access:
    return Access(only=user_id, refusal=refusal)


# ---------------------------------------------------------------------------------------------------------------
# A case: one entry point, one person
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Case:
    beacon: Beacon
    person: Person
    allowed: bool
    refs: dict[str, Any] = field(default_factory=dict)  # what the setup made: ids, messages to press

    def who(self, user_id: str) -> Person:
        return self.person if user_id == self.person.id else self.beacon.slack.person(user_id)

    def owner(self, default: str) -> Person:
        """Whose modal the person works in: their own when they may use it, else `default`'s, which they copy."""
        return self.person if self.allowed else self.who(default)

    def transaction(self) -> Any:
        return self.beacon.deps.db.transaction()


Setup = Callable[[Case], Awaitable[None]]
Check = Callable[[Case, "Reply | None"], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """How the person invokes the entry point, and which one it is (for the coverage test)."""

    kind: str  # "command", "action" or "view"
    id: str    # the slash command, action_id or callback_id
    run: Callable[[Case], Awaitable[Reply | None]]
    prepare: Setup | None = None  # what must be on screen first (App Homes)


@dataclass(frozen=True)
class Entry:
    name: str
    access: Access
    step: Step
    worked: Check
    setup: Setup | None = None


# ---------------------------------------------------------------------------------------------------------------
# Doing things as Slack sends them: typed, pressed (on one's own screen or a copy), submitted (own, or forged)
# ---------------------------------------------------------------------------------------------------------------
def _element(blocks: list[dict], action_id: str) -> tuple[dict, dict] | None:
    return next(((b, e) for b, e in forms.elements(blocks) if e.get("action_id") == action_id), None)


async def type_command(person: Person, text: str) -> Reply:
    command, _, rest = text.partition(" ")
    reply = await person.command(command, rest)
    await settle()
    return reply


async def press_in_view(beacon: Beacon, presser: Person, view: View, action_id: str, *, value: Any = None,
                        forged: dict | None = None) -> Reply:
    """Press `action_id` in `view`: the presser's own, or a copy of someone else's. `forged` is the button to send
    when the view does not show one, as a crafted request would."""
    view = copy.deepcopy(view)
    block, element = _element(view.blocks, action_id) or ({"block_id": "forged"}, forged)
    assert element is not None, f"{action_id} is not in view {view.callback_id or view.type}"
    chosen = forms.element_value(element, value) if element["type"] != "button" else {}
    ws = beacon.ws
    reply = await beacon.slack.send_interaction(payloads.block_actions_on_view(
        ws, user=ws.users[presser.id], view=view, actions=[payloads.action(block, element, chosen)],
        trigger_id=ws.issue_trigger(presser.id)))
    await settle()
    return reply


async def show_home(beacon: Beacon, presser: Person, action_id: str, *, default: str, own: bool) -> None:
    """Put on screen the App Home `presser` will press `action_id` in: their own (when `own`) if it offers it,
    else `default`'s, which they copy."""
    if own:
        await presser.open_home()
        await settle()
        if presser.home is not None and _element(presser.home.blocks, action_id):
            return
    await beacon.slack.person(default).open_home()
    await settle()


async def press_in_home(beacon: Beacon, presser: Person, action_id: str, *, default: str,
                        value: Any = None) -> Reply:
    own = presser.home
    view = own if own is not None and _element(own.blocks, action_id) else beacon.ws.home_views[default]
    return await press_in_view(beacon, presser, view, action_id, value=value)


async def press_in_modal(beacon: Beacon, presser: Person, action_id: str, *, default: str, value: Any = None,
                         forged: dict | None = None) -> Reply:
    """Press in the presser's open modal, or in a copy of `default`'s when they have none."""
    view = presser.modal or beacon.ws.top_modal(default)
    assert view is not None, f"neither {presser.id} nor {default} has a modal open"
    return await press_in_view(beacon, presser, view, action_id, value=value, forged=forged)


async def submit_view(beacon: Beacon, presser: Person, callback_id: str, values: dict[str, Any], *, default: str,
                      forge: Callable[[View], None] | None = None) -> Reply:
    """Submit the presser's own modal, or forge the submission of a filled-in copy of `default`'s."""
    own = presser.modal
    if own is not None:
        assert own.callback_id == callback_id, f"{presser.id} has {own.callback_id} open, not {callback_id}"
        reply = await presser.submit(values)
    else:
        original = beacon.ws.top_modal(default)
        assert original is not None and original.callback_id == callback_id, f"{default} has no {callback_id} open"
        forged = copy.deepcopy(original)
        forms.fill(forged, values)
        if forge is not None:
            forge(forged)
        ws = beacon.ws
        reply = await beacon.slack.send_interaction(payloads.view_submission(
            ws, user=ws.users[presser.id], view=forged, trigger_id=ws.issue_trigger(presser.id)))
    await settle()
    return reply


# The steps the table uses ----------------------------------------------------------------------------------------
def typed(text: str) -> Step:
    """`/command args`; args may name what the setup made, e.g. `close {pulse}`."""
    async def run(case: Case) -> Reply:
        return await type_command(case.person, text.format(**case.refs))
    return Step("command", text.split(" ", 1)[0], run)


def in_home(action_id: str, *, default: str, value: Any = None) -> Step:
    async def prepare(case: Case) -> None:
        await show_home(case.beacon, case.person, action_id, default=default, own=case.allowed)

    async def run(case: Case) -> Reply:
        return await press_in_home(case.beacon, case.person, action_id, default=default, value=value)
    return Step("action", action_id, run, prepare)


def in_modal(action_id: str, *, default: str, value: Any = None, forged: dict | None = None) -> Step:
    async def run(case: Case) -> Reply:
        return await press_in_modal(case.beacon, case.person, action_id, default=default, value=value, forged=forged)
    return Step("action", action_id, run)


def on_message(action_id: str, ref: str = "message") -> Step:
    """Press a button on the message the setup kept in `refs[ref]` (someone else's, for most people)."""
    async def run(case: Case) -> Reply:
        reply = await case.person.click(action_id, message=case.refs[ref])
        await settle()
        return reply
    return Step("action", action_id, run)


def submitted(callback_id: str, values: dict[str, Any], *, default: str,
              forge: Callable[[View], None] | None = None) -> Step:
    async def run(case: Case) -> Reply:
        return await submit_view(case.beacon, case.person, callback_id, values, default=default, forge=forge)
    return Step("view", callback_id, run)


# ---------------------------------------------------------------------------------------------------------------
# What "it worked" means
# ---------------------------------------------------------------------------------------------------------------
PERSON = "<the person>"  # in `stored(...)`: the person trying the entry point


@dataclass(frozen=True)
class Ref:
    name: str  # in `stored(...)`: something the setup made


def _resolve(case: Case, value: Any) -> Any:
    if value == PERSON:
        return case.person.id
    return case.refs[value.name] if isinstance(value, Ref) else value


async def rows(case: Case, model: type, **where: Any) -> list[Any]:
    """Rows of `model` matching `where`; lists and dicts (JSON columns, which PostgreSQL cannot compare with `=`)
    are matched in Python."""
    wanted = {k: _resolve(case, v) for k, v in where.items()}
    in_sql = {k: v for k, v in wanted.items() if not isinstance(v, list | dict)}
    async with case.transaction() as session:
        found = (await session.scalars(select(model).filter_by(**in_sql))).all()
    return [row for row in found if all(getattr(row, k) == v for k, v in wanted.items() if k not in in_sql)]


def stored(model: type, **where: Any) -> Check:
    async def check(case: Case, _reply: Reply | None) -> None:
        assert await rows(case, model, **where), f"a {model.__name__} row with {where}"
    return check


def all_of(*checks: Check) -> Check:
    async def check(case: Case, reply: Reply | None) -> None:
        for one in checks:
            await one(case, reply)
    return check


def modal_opened(callback_id: str, **metadata: str) -> Check:
    """The person now sees a `callback_id` modal; `metadata` maps its private_metadata keys to refs."""
    async def check(case: Case, _reply: Reply | None) -> None:
        modal = case.person.modal
        assert modal is not None and modal.callback_id == callback_id, f"a {callback_id} modal: {modal}"
        meta = json.loads(modal.private_metadata or "{}")
        for key, ref in metadata.items():
            assert meta.get(key) == case.refs[ref], f"{key} in {meta}"
    return check


def shown(text: str) -> Check:
    async def check(case: Case, _reply: Reply | None) -> None:
        assert any(text in e.text for e in case.person.ephemerals()), f"an ephemeral saying {text!r}"
    return check


def dm_says(text: str) -> Check:
    async def check(case: Case, _reply: Reply | None) -> None:
        assert any(text in m.text for m in case.person.dms()), f"a direct message saying {text!r}"
    return check


def message_now_says(text: str) -> Check:
    """The message pressed (a DM to the person) was rewritten to say `text`."""
    async def check(case: Case, _reply: Reply | None) -> None:
        assert text in json.dumps(case.refs["message"].blocks), f"the message now says {text!r}"
    return check


def replied(action: str, text: str = "") -> Check:
    async def check(case: Case, reply: Reply | None) -> None:
        assert reply is not None and reply.json.get("response_action") == action, reply
        assert text in json.dumps(reply.json.get("view", {}))
    return check


def round_is(status: RoundStatus) -> Check:
    async def check(case: Case, _reply: Reply | None) -> None:
        [round_] = await rows(case, AwardRound, name="2027 Staff Awards")
        assert round_.status == status
    return check


def post_is(status: PostStatus, **extra: Any) -> Check:
    async def check(case: Case, _reply: Reply | None) -> None:
        [post] = await rows(case, ScheduledPost, id=case.refs["post"])
        assert post.status == status and all(getattr(post, k) == _resolve(case, v) for k, v in extra.items())
    return check


def review_redrawn(award: str) -> Check:
    async def check(case: Case, _reply: Reply | None) -> None:
        modal = case.person.modal
        assert modal is not None and modal.callback_id == CallbackId.AWARDS_REVIEW
        assert modal.hash != case.refs["hash"] and json.loads(modal.private_metadata)["award"] == award
    return check


def builder_slots(count: int) -> Check:
    async def check(case: Case, _reply: Reply | None) -> None:
        modal = case.person.modal
        assert modal is not None and json.loads(modal.private_metadata)["slots"] == count
    return check


def digest_wanted(wanted: bool) -> Check:
    async def check(case: Case, _reply: Reply | None) -> None:
        [preference] = await rows(case, UserPreference, user_id=case.person.id)
        assert preference.personal_digest is wanted
    return check


async def file_in_dms(case: Case, _reply: Reply | None) -> None:
    assert [m for m in case.person.dms() if m.files], "a file in the person's direct messages"


async def behaviours_asked(case: Case, _reply: Reply | None) -> None:
    modal = case.person.modal
    assert modal is not None and BlockId.NOMINATE_BEHAVIOURS in json.dumps(modal.blocks), "the modal was reshaped"


async def privacy_notice_shown(case: Case, _reply: Reply | None) -> None:
    modal = case.person.modal
    assert modal is not None and "information governance" in json.dumps(modal.blocks)


async def followed_up_in_thread(case: Case, _reply: Reply | None) -> None:
    thread = [m for m in case.beacon.ws.messages(ENGAGEMENT) if m.thread_ts == case.refs["message_ts"]]
    assert any("You said, we did" in m.text for m in thread), "the follow-up is in the announcement's thread"


async def answer_changed(case: Case, reply: Reply | None) -> None:
    await replied("update", "So that nobody can tell which answer is yours")(case, reply)
    await store_held_now(case)
    assert [a.answers for a in await rows(case, PulseAnswer)] == [{"q1": "Hard"}]
    assert "Your answer is changed." in json.dumps(case.person.dms()[-1].blocks)


async def store_held_now(case: Case) -> None:
    """Store the answers held for the pulse as the next group would (background state for the entry point under
    test: the group rule itself is tested in tests/test_pulse_anonymity.py)."""
    answering, pulse_id = case.beacon.deps.pulse_answering, case.refs["pulse"]
    async with case.transaction() as session:
        outcomes = await case.beacon.deps.pulses.store(session=session, pulse_id=pulse_id,
                                                       held=answering.held.take_all(pulse_id),
                                                       holder=answering.worker)
    await answering.replies.deliver(outcomes)
    await settle()


# ---------------------------------------------------------------------------------------------------------------
# State the entry points need. What a person does before the entry point (open a modal, see a message) goes
# through Slack; state that is only background (a round, a nomination, a pulse, a post) goes through the service
# the handler would call, since each of those handlers has an entry of its own.
# ---------------------------------------------------------------------------------------------------------------
TOMORROW = date(2026, 11, 24)
VISIT = {BlockId.VISIT_SITE: "Chelmsford Ambulance Station", BlockId.VISIT_DAY: "2026-11-25",
         BlockId.VISIT_STARTS: "14:00", BlockId.VISIT_ENDS: "15:30", BlockId.VISIT_PURPOSE: "Meet the day shift",
         BlockId.VISIT_OPEN_TO: "All staff"}
NOMINATION = {BlockId.NOMINATE_COLLEAGUES: [HEIDI], BlockId.NOMINATE_VALUES: ["care"],
              BlockId.NOMINATE_STORY: STORY, BlockId.NOMINATE_OPTIONS: [SHARE],
              BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS]}
ON_BEHALF = {BlockId.NOMINATE_NOT_ON_SLACK: "Sam Jones, Emergency Care Assistant, Chelmsford",
             BlockId.NOMINATE_ON_BEHALF: "Pat Smith (paper form)", BlockId.NOMINATE_VALUES: ["care"],
             BlockId.NOMINATE_STORY: STORY, BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS]}
EDITED = {BlockId.NOMINATE_VALUES: ["respect"], BlockId.NOMINATE_STORY: STORY,
          BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS]}
_KIND, _TEXT, _OPTIONS = slot_blocks(1)
PULSE = {BlockId.PULSE_TITLE: "Winter pressures", BlockId.PULSE_SETTINGS: ["anonymous"], _KIND: "single",
         _TEXT: "How was your last shift?", _OPTIONS: "Good\nOK\nHard", BlockId.PULSE_CLOSES_DAY: "2026-11-30",
         BlockId.PULSE_CLOSES_TIME: "17:00"}
POST = {BlockId.SCHEDULE_CHANNELS: [GENERAL], BlockId.SCHEDULE_MESSAGE: "Staff briefing at 10:00 in the hall",
        BlockId.SCHEDULE_DAY: TOMORROW, BlockId.SCHEDULE_TIME: "09:00"}


def message_with(messages: list[Any], action_id: str) -> Any:
    """The latest message (or ephemeral) with a button `action_id`."""
    return next(m for m in reversed(messages) if action_id in json.dumps(m.blocks))


def keep_dm(case: Case, user_id: str, action_id: str) -> None:
    case.refs["message"] = message_with(case.who(user_id).dms(), action_id)


def then(*setups: Setup) -> Setup:
    async def setup(case: Case) -> None:
        for one in setups:
            await one(case)
    return setup


# Awards --------------------------------------------------------------------------------------------------------
def _draft(nominee: str) -> NominationDraft:
    return NominationDraft(nominees=(NomineeInput(user_id=nominee),), award="values", values=("care",),
                           behaviours=(), story=STORY, share_publicly=True, hide_nominator=False,
                           no_patient_details=True)


async def nominated(case: Case, nominator: str, nominee: str, *, told: bool = False) -> int:
    """`nominator` recognises `nominee` for the Values award, asking to share it (`told`: the DMs go out now)."""
    async with case.transaction() as session:
        submitted = await case.beacon.deps.nominations.submit(session=session, nominator=nominator,
                                                              draft=_draft(nominee))
    if told:
        await deliver(case.beacon)
    case.refs["nomination"] = submitted.nomination.id
    return submitted.nomination.id or 0


async def round_open(case: Case) -> None:
    async with case.transaction() as session:
        await case.beacon.deps.award_rounds.open_round(session=session, user_id=DAVE, name="2027 Staff Awards",
                                                       closes_on=date(2027, 3, 31))


async def round_nominated(case: Case) -> None:
    """The round, with Bob's nomination of Alice for the Values award."""
    await round_open(case)
    await nominated(case, BOB, ALICE)


async def round_closed(case: Case) -> None:
    await round_nominated(case)
    async with case.transaction() as session:
        await case.beacon.deps.award_rounds.close(session=session, user_id=DAVE)


async def round_with_winner(case: Case) -> None:
    await round_closed(case)
    async with case.transaction() as session:
        await case.beacon.deps.panel_review.decide_candidate(session=session, user_id=DAVE, award="values",
                                                             key=ALICE, winner=True)


async def round_decided(case: Case) -> None:
    await round_with_winner(case)
    async with case.transaction() as session:
        await case.beacon.deps.panel_review.decide_round(session=session, user_id=DAVE)


async def winner_asked(case: Case) -> None:
    """Alice won; she is asked by direct message whether she may be named."""
    await round_decided(case)
    await deliver(case.beacon)
    keep_dm(case, ALICE, ActionId.WINNER_CONSENT_GIVE)


async def round_announced(case: Case) -> None:
    await round_decided(case)
    async with case.transaction() as session:
        await case.beacon.deps.panel_review.announce_round(session=session, user_id=DAVE)


async def review_modal(case: Case) -> None:
    owner = case.owner(DAVE)
    await type_command(owner, "/awards review")
    assert owner.modal is not None and owner.modal.callback_id == CallbackId.AWARDS_REVIEW
    case.refs["hash"] = owner.modal.hash


async def candidate_modal(case: Case) -> None:
    await review_modal(case)
    owner = case.owner(DAVE)
    await owner.click(ActionId.AWARDS_CANDIDATE_OPEN)
    await settle()
    assert owner.modal is not None and owner.modal.callback_id == CallbackId.AWARDS_CANDIDATE


async def score_modal(case: Case) -> None:
    await candidate_modal(case)
    owner = case.owner(DAVE)
    await owner.click(ActionId.AWARDS_SCORE_OPEN)
    await settle()
    assert owner.modal is not None and owner.modal.callback_id == CallbackId.AWARDS_SCORE


async def open_round_modal(case: Case) -> None:
    owner = case.owner(DAVE)
    await show_home(case.beacon, owner, ActionId.AWARDS_ROUND_NEW, default=DAVE, own=True)
    await press_in_home(case.beacon, owner, ActionId.AWARDS_ROUND_NEW, default=DAVE)
    assert owner.modal is not None and owner.modal.callback_id == CallbackId.AWARDS_OPEN


# Recognition ---------------------------------------------------------------------------------------------------
async def nominate_modal(case: Case) -> None:
    owner = case.owner(GRACE)
    await open_modal(owner)
    await choose_award(owner, "values")


async def alice_nominated_heidi(case: Case) -> None:
    await nominated(case, ALICE, HEIDI)


async def alice_editing(case: Case) -> None:
    await alice_nominated_heidi(case)
    alice = case.who(ALICE)
    await show_home(case.beacon, alice, ActionId.NOMINATION_EDIT, default=ALICE, own=True)
    await press_in_home(case.beacon, alice, ActionId.NOMINATION_EDIT, default=ALICE)
    assert alice.modal is not None and json.loads(alice.modal.private_metadata)["editing"]


async def alice_asked_to_consent(case: Case) -> None:
    await nominated(case, BOB, ALICE, told=True)
    keep_dm(case, ALICE, ActionId.CONSENT_GIVE)


async def heidi_celebrated(case: Case) -> None:
    nomination = await nominated(case, BOB, HEIDI)
    async with case.transaction() as session:
        await case.beacon.deps.nominations.consent(session=session, user_id=HEIDI, nomination_id=nomination,
                                                   give=True)
    await deliver(case.beacon)
    case.refs["message"] = message_with(case.beacon.ws.messages(RECOGNITION), ActionId.ENDORSE)


# Calendar ------------------------------------------------------------------------------------------------------
async def visit_modal(case: Case) -> None:
    await type_command(case.owner(CAROL), "/visit")


async def statement_modal(case: Case) -> None:
    writer = case.owner(CAROL)
    await writer.open_home()
    await settle()
    await writer.click(ActionId.LEADER_STATEMENT_OPEN, in_home=True)
    await settle()


async def visit_announced(case: Case) -> None:
    """Carol's visit to Chelmsford on Wednesday, announced in the engagement channel."""
    draft = VisitDraft(leader_user_id=CAROL, leader_name="Carol Chen", site="Chelmsford Ambulance Station",
                       other_place=None, starts_at=datetime(2026, 11, 25, 14, 0, tzinfo=UTC),
                       ends_at=datetime(2026, 11, 25, 15, 30, tzinfo=UTC), purpose="Meet the day shift",
                       open_to="All staff")
    async with case.transaction() as session:
        engagement = await case.beacon.deps.engagements.create_visit(session=session, user_id=CAROL, draft=draft)
    await deliver(case.beacon)
    case.refs["engagement"] = engagement.id
    case.refs["message"] = message_with(case.beacon.ws.messages(ENGAGEMENT), ActionId.CALENDAR_ATTEND)
    case.refs["message_ts"] = case.refs["message"].ts


async def question_modal(case: Case) -> None:
    await visit_announced(case)
    await case.person.click(ActionId.CALENDAR_ASK, message=case.refs["message"])
    await settle()


async def anonymous_question_asked(case: Case) -> None:
    """The person asked a question without their name and kept Beacon's receipt, which holds their token."""
    await question_modal(case)
    await case.person.submit({BlockId.QUESTION_TEXT: "Will the rota be fair?",
                              BlockId.QUESTION_ANONYMOUS: ["anonymous"]})
    await settle()
    case.refs["receipt"] = message_with(case.person.dms(), ActionId.CALENDAR_QUESTION_CHECK)


async def briefed_with_a_question(case: Case) -> None:
    """Heidi asked Carol a question; Carol's briefing holds it with an Answer button."""
    await visit_announced(case)
    heidi = case.beacon.slack.person(HEIDI)
    await heidi.click(ActionId.CALENDAR_ASK, message=case.refs["message"])
    await settle()
    await heidi.submit({BlockId.QUESTION_TEXT: "Can we talk about breaks?"})
    await settle()
    case.beacon.clock.set(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    async with case.transaction() as session:
        await case.beacon.deps.engagements.day_before(session=session, worker="test")
    await deliver(case.beacon)
    case.refs["briefing"] = message_with(case.beacon.slack.person(CAROL).dms(), ActionId.CALENDAR_ANSWER)
    async with case.transaction() as session:
        case.refs["question"] = (await session.scalars(select(EngagementQuestion))).one().id


async def leader_answer_modal(case: Case) -> None:
    await briefed_with_a_question(case)
    await case.owner(CAROL).click(ActionId.CALENDAR_ANSWER, message=case.refs["briefing"])
    await settle()


async def follow_up_asked(case: Case) -> None:
    """The day after Carol's visit, Beacon asks her (by direct message) for a follow-up."""
    await visit_announced(case)
    case.beacon.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    async with case.transaction() as session:
        await case.beacon.deps.engagements.day_after(session=session, worker="test")
    await deliver(case.beacon)
    keep_dm(case, CAROL, ActionId.CALENDAR_FOLLOW_UP)


async def follow_up_modal(case: Case) -> None:
    await follow_up_asked(case)
    await case.owner(CAROL).click(ActionId.CALENDAR_FOLLOW_UP, message=case.refs["message"])
    await settle()


async def request_modal(case: Case) -> None:
    await type_command(case.owner(ALICE), "/calendar request")


async def request_posted(case: Case) -> None:
    """Alice's request for a visit to Chelmsford, posted in the coordinator channel (the engagement channel here)."""
    alice = case.owner(ALICE)
    await type_command(alice, "/calendar request")
    await alice.submit({BlockId.REQUEST_PLACE: "Chelmsford Ambulance Station", BlockId.REQUEST_KIND: "visit",
                        BlockId.REQUEST_WHAT: "Come and see the night shift"})
    await settle()
    await deliver(case.beacon)
    case.refs["message"] = message_with(case.beacon.ws.messages(ENGAGEMENT), ActionId.VISIT_REQUEST_ACCEPT)
    async with case.transaction() as session:
        case.refs["request"] = (await session.scalars(select(VisitRequest))).one().id


async def decline_modal(case: Case) -> None:
    await request_posted(case)
    await case.owner(CAROL).click(ActionId.VISIT_REQUEST_DECLINE, message=case.refs["message"])
    await settle()


# Pulses --------------------------------------------------------------------------------------------------------
async def _pulse(case: Case, *, anonymous: bool = True, questions: int = 1, posted: bool = True) -> None:
    """Erin's pulse in the staff forum (`posted`: its message is in the channel)."""
    asked = tuple(QuestionDraft(type="single", text=f"How was shift {n}?", options=("Good", "OK", "Hard"))
                  for n in range(1, questions + 1))
    draft = PulseDraft(title="Winter pressures", questions=asked, channel=FORUM, anonymous=anonymous,
                       closes_at=datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    async with case.transaction() as session:
        pulse = await case.beacon.deps.pulses.create(session=session, user_id=ERIN, draft=draft)
    case.refs["pulse"] = pulse.id
    if posted:
        await deliver(case.beacon)
        action = ActionId.PULSE_ANSWER if questions > 1 else f"{ActionId.PULSE_CHOOSE}_0"
        case.refs["message"] = message_with(case.beacon.ws.messages(FORUM), action)


async def pulse_open(case: Case) -> None:
    await _pulse(case)


async def named_pulse(case: Case) -> None:
    """Named, so that its results and export need not wait for it to close."""
    await _pulse(case, anonymous=False, posted=False)


async def two_question_pulse(case: Case) -> None:
    await _pulse(case, questions=2)


async def answer_modal(case: Case) -> None:
    await two_question_pulse(case)
    await case.person.click(ActionId.PULSE_ANSWER, message=case.refs["message"])
    await settle()


async def answered(case: Case) -> None:
    """The person answered a one-question pulse; their confirmation has a Change button."""
    await pulse_open(case)
    await case.person.click(f"{ActionId.PULSE_CHOOSE}_0", message=case.refs["message"])
    await settle()
    await store_held_now(case)
    case.refs["confirmation"] = message_with(case.person.ephemerals(), ActionId.PULSE_CHANGE)


async def alice_changing_her_answer(case: Case) -> None:
    await pulse_open(case)
    alice = case.who(ALICE)
    await alice.click(f"{ActionId.PULSE_CHOOSE}_0", message=case.refs["message"])
    await settle()
    await store_held_now(case)
    await alice.click(ActionId.PULSE_CHANGE, message=alice.last_ephemeral())
    await settle()
    assert alice.modal is not None and json.loads(alice.modal.private_metadata)["token"]


async def builder_modal(case: Case) -> None:
    await type_command(case.owner(ERIN), "/pulse")


def guessed_token(view: View) -> None:
    """Nobody but the person who answered has their change token; a forger can only guess one."""
    view.private_metadata = json.dumps(json.loads(view.private_metadata) | {"token": secrets.token_urlsafe(24)})


# Scheduled posts -----------------------------------------------------------------------------------------------
async def post_by(case: Case, author: str) -> None:
    """`author`'s post for tomorrow 09:00 in #general, scheduled and awaiting a second person's approval."""
    text = "Staff briefing at 10:00 in the hall"
    draft = PostDraft(channels=(GENERAL,), message=forms.rich_text(text), fallback_text=text, plain_text=text,
                      day=TOMORROW, at=time(9, 0), repeat=Repeat.NONE, until=None)
    posts = case.beacon.deps.scheduled_posts
    async with case.transaction() as session:
        post = await posts.save_draft(session=session, user_id=author, draft=draft)
        await posts.record_audience(session=session, post_id=post.id or 0, audience={GENERAL: 8})
        await posts.confirm(session=session, user_id=author, post_id=post.id or 0, audience_confirmed=False)
    case.refs["post"] = post.id


async def grace_post(case: Case) -> None:
    await post_by(case, GRACE)


async def grace_post_paused(case: Case) -> None:
    await grace_post(case)
    async with case.transaction() as session:
        await case.beacon.deps.scheduled_posts.pause(session=session, user_id=GRACE, post_id=case.refs["post"])


async def approval_asked(case: Case) -> None:
    """Bob schedules a post; Grace, the other member of the communications team, is asked to approve it."""
    await post_by(case, BOB)
    await deliver(case.beacon)
    keep_dm(case, GRACE, ActionId.SCHEDULE_APPROVE)


async def compose_modal(case: Case) -> None:
    await type_command(case.owner(GRACE), "/schedule")


async def preview_modal(case: Case) -> None:
    owner = case.owner(GRACE)
    reply = await compose(owner, channels=[GENERAL], message="Staff briefing", day=TOMORROW, at=time(9, 0))
    assert reply.json.get("response_action") == "push" and owner.modal is not None
    assert owner.modal.callback_id == CallbackId.SCHEDULE_PREVIEW


async def edit_modal(case: Case) -> None:
    await grace_post(case)
    owner = case.owner(GRACE)
    await show_home(case.beacon, owner, ActionId.SCHEDULE_EDIT, default=GRACE, own=True)
    await press_in_home(case.beacon, owner, ActionId.SCHEDULE_EDIT, default=GRACE)
    assert owner.modal is not None and json.loads(owner.modal.private_metadata)["edit_of"] == case.refs["post"]


async def digest_on(case: Case) -> None:
    await type_command(case.person, "/digest on")


# ---------------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------------
RUNS_ROUNDS = roles(Role.PANEL, Role.ADMINS)
PANEL = roles(Role.PANEL)
RUNS_PULSES = roles(Role.FORUM_MODERATORS, Role.COMMS)
COMMS = roles(Role.COMMS)
NOT_YOURS = "You can only change nominations you made."
NOT_ADDRESSED = "That recognition is not addressed to you."
NOT_THE_WINNER = "That question was not for you."
NOT_THE_LEADER = "Only the leader who made the visit can post its follow-up."
NOT_ASKED = "Only the leader the question was asked of can answer it."
PAGE_BUTTON = {"type": "button", "action_id": ActionId.AWARDS_PAGE, "value": "0",
               "text": {"type": "plain_text", "text": "Next"}}
ROUND_NAMED = {BlockId.AWARDS_ROUND_NAME: "Spring Awards", BlockId.AWARDS_ROUND_CLOSES: "2027-02-28"}
FOLLOW_UP = {BlockId.FOLLOW_UP_TEXT: "You said the rota was unfair; we are changing it in January."}

# Ask the leaders (/ask) -----------------------------------------------------------------------------------------
ASKED = "Why is the Clacton rest room closed at night?"
NOT_THE_ANSWERER = "Only the leader the forum moderators asked can answer this question."
MODERATORS = roles(Role.FORUM_MODERATORS)


async def heidi_asked(case: Case) -> None:
    """Heidi's named question, waiting for the moderators."""
    async with case.transaction() as session:
        asked = await forum_questions.ask(session=session, user_id=HEIDI, text=ASKED, anonymous=False,
                                          today=TOMORROW)
    case.refs["question"] = asked.question_id


async def anonymous_asked(case: Case) -> None:
    async with case.transaction() as session:
        asked = await forum_questions.ask(session=session, user_id=HEIDI, text=ASKED, anonymous=True, today=TOMORROW)
    case.refs["token"] = asked.token


async def question_published(case: Case) -> None:
    """Heidi's question, published in the staff forum, where its Support button is."""
    await heidi_asked(case)
    async with case.transaction() as session:
        await forum_questions.publish(session=session, question_id=case.refs["question"], channel=FORUM,
                                      now=case.beacon.clock.now(), today=TOMORROW)
    await deliver(case.beacon)
    case.refs["message"] = message_with(case.beacon.ws.messages(FORUM), ActionId.ASK_SUPPORT)


async def another_question_waiting(case: Case) -> None:
    """A published question (`into`) and Heidi's second one, waiting (`question`)."""
    await question_published(case)
    case.refs["into"] = case.refs["question"]
    await heidi_asked(case)


async def carol_asked_to_answer(case: Case) -> None:
    await question_published(case)
    async with case.transaction() as session:
        await forum_questions.assign(session=session, question_id=case.refs["question"], leader_id=CAROL,
                                     now=case.beacon.clock.now())
    await deliver(case.beacon)
    keep_dm(case, CAROL, ActionId.ASK_ANSWER)


def moderator_form(action_id: str) -> Setup:
    async def setup(case: Case) -> None:
        owner = case.owner(ERIN)
        await show_home(case.beacon, owner, action_id, default=ERIN, own=True)
        await press_in_home(case.beacon, owner, action_id, default=ERIN)
        assert owner.modal is not None and owner.modal.callback_id == action_id
    return setup


async def merge_chosen(case: Case) -> Reply:
    """Submit the merge form with the published question chosen (its id is only known once the setup made it)."""
    return await submit_view(case.beacon, case.person, CallbackId.ASK_MERGE,
                             {BlockId.ASK_MERGE_INTO: case.refs["into"]}, default=ERIN)


async def ask_form(case: Case) -> None:
    await type_command(case.owner(ALICE), "/ask")


async def answer_form(case: Case) -> None:
    await case.owner(CAROL).click(ActionId.ASK_ANSWER, message=case.refs["message"])
    await settle()


ASK_ENTRIES = [
    Entry("ask", EVERYONE, typed("/ask"), modal_opened(CallbackId.ASK_COMPOSE)),
    Entry("ask-open", EVERYONE, in_home(ActionId.ASK_OPEN, default=ALICE), modal_opened(CallbackId.ASK_COMPOSE)),
    Entry("ask-submit", EVERYONE, submitted(CallbackId.ASK_COMPOSE, {BlockId.ASK_TEXT: ASKED}, default=ALICE),
          stored(ForumQuestion, asker_id=PERSON, text=ASKED), ask_form),
    Entry("ask-status", EVERYONE, typed("/ask status {token}"), shown("Your question for the leaders"),
          anonymous_asked),
    Entry("ask-queue", MODERATORS, typed("/ask queue"), shown("the moderators' queue"), heidi_asked),
    Entry("ask-publish", MODERATORS, in_home(ActionId.ASK_PUBLISH, default=ERIN),
          stored(ForumQuestion, id=Ref("question"), status="published"), heidi_asked),
    Entry("ask-decline-form", MODERATORS, in_home(ActionId.ASK_DECLINE, default=ERIN),
          modal_opened(CallbackId.ASK_DECLINE, question="question"), heidi_asked),
    Entry("ask-decline", MODERATORS,
          submitted(CallbackId.ASK_DECLINE, {BlockId.ASK_REASON: "One for the station manager."}, default=ERIN),
          stored(ForumQuestion, id=Ref("question"), status="declined"),
          then(heidi_asked, moderator_form(ActionId.ASK_DECLINE))),
    Entry("ask-merge-form", MODERATORS, in_home(ActionId.ASK_MERGE, default=ERIN),
          modal_opened(CallbackId.ASK_MERGE, question="question"), another_question_waiting),
    Entry("ask-merge", MODERATORS, Step("view", CallbackId.ASK_MERGE, merge_chosen),
          stored(ForumQuestion, id=Ref("question"), status="merged", merged_into=Ref("into")),
          then(another_question_waiting, moderator_form(ActionId.ASK_MERGE))),
    Entry("ask-assign-form", MODERATORS, in_home(ActionId.ASK_ASSIGN, default=ERIN),
          modal_opened(CallbackId.ASK_ASSIGN, question="question"), question_published),
    Entry("ask-assign", MODERATORS, submitted(CallbackId.ASK_ASSIGN, {BlockId.ASK_LEADER: CAROL}, default=ERIN),
          stored(ForumQuestion, id=Ref("question"), leader_id=CAROL),
          then(question_published, moderator_form(ActionId.ASK_ASSIGN))),
    Entry("ask-support", EVERYONE, on_message(ActionId.ASK_SUPPORT),
          stored(ForumSupport, question_id=Ref("question"), user_id=PERSON), question_published),
    Entry("ask-answer-form", only(CAROL, NOT_THE_ANSWERER), on_message(ActionId.ASK_ANSWER),
          modal_opened(CallbackId.ASK_ANSWER, question="question"), carol_asked_to_answer),
    Entry("ask-answer", only(CAROL, NOT_THE_ANSWERER),
          submitted(CallbackId.ASK_ANSWER, {BlockId.ASK_ANSWER_TEXT: "It reopens on Monday."}, default=CAROL),
          stored(ForumQuestion, id=Ref("question"), status="answered", answered_by=CAROL),
          then(carol_asked_to_answer, answer_form)),
]

ENTRIES: list[Entry] = [
    # /beacon ----------------------------------------------------------------------------------------------------
    Entry("beacon", EVERYONE, typed("/beacon"), shown("What Beacon can do for you")),

    # Recognition ------------------------------------------------------------------------------------------------
    Entry("nominate", EVERYONE, typed("/nominate"), modal_opened(CallbackId.NOMINATE)),
    Entry("nominate-new", EVERYONE, in_home(ActionId.NOMINATE_NEW, default=ALICE), modal_opened(CallbackId.NOMINATE)),
    Entry("nominate-award", EVERYONE, in_modal(ActionId.NOMINATE_AWARD, default=GRACE, value="leadership"),
          behaviours_asked, nominate_modal),
    Entry("nominate-submit", EVERYONE, submitted(CallbackId.NOMINATE, NOMINATION, default=GRACE),
          stored(Nomination, nominator_id=PERSON), nominate_modal),
    Entry("nominate-on-behalf", COMMS, submitted(CallbackId.NOMINATE, ON_BEHALF, default=GRACE),
          stored(Nomination, entered_by=PERSON, nominator_name="Pat Smith (paper form)"), nominate_modal),
    Entry("nomination-edit", only(ALICE, NOT_YOURS), in_home(ActionId.NOMINATION_EDIT, default=ALICE),
          modal_opened(CallbackId.NOMINATE, editing="nomination"), alice_nominated_heidi),
    Entry("nominate-award-editing", only(ALICE, NOT_YOURS),
          in_modal(ActionId.NOMINATE_AWARD, default=ALICE, value="leadership"), behaviours_asked, alice_editing),
    Entry("nomination-edit-submit", only(ALICE, NOT_YOURS), submitted(CallbackId.NOMINATE, EDITED, default=ALICE),
          stored(Nomination, id=Ref("nomination"), values=["respect"]), alice_editing),
    Entry("nomination-withdraw", only(ALICE, NOT_YOURS), in_home(ActionId.NOMINATION_WITHDRAW, default=ALICE),
          stored(Nomination, id=Ref("nomination"), status=NominationStatus.WITHDRAWN), alice_nominated_heidi),
    Entry("consent-give", only(ALICE, NOT_ADDRESSED), on_message(ActionId.CONSENT_GIVE),
          stored(Nominee, nomination_id=Ref("nomination"), user_id=ALICE, consent=Consent.GIVEN),
          alice_asked_to_consent),
    Entry("consent-decline", only(ALICE, NOT_ADDRESSED), on_message(ActionId.CONSENT_DECLINE),
          stored(Nominee, nomination_id=Ref("nomination"), user_id=ALICE, consent=Consent.DECLINED),
          alice_asked_to_consent),
    Entry("endorse", EVERYONE, on_message(ActionId.ENDORSE), stored(Endorsement, user_id=PERSON), heidi_celebrated),

    # Awards: commands -------------------------------------------------------------------------------------------
    Entry("awards-open", RUNS_ROUNDS, typed('/awards open "Spring Awards" closes 2027-03-31'),
          stored(AwardRound, name="Spring Awards", status=RoundStatus.OPEN, created_by=PERSON)),
    Entry("awards-status", RUNS_ROUNDS, typed("/awards status"), shown("Award round status"), round_nominated),
    Entry("awards-close", RUNS_ROUNDS, typed("/awards close"), round_is(RoundStatus.CLOSED), round_nominated),
    Entry("awards-review", PANEL, typed("/awards review"), modal_opened(CallbackId.AWARDS_REVIEW), round_nominated),
    Entry("awards-decide", PANEL, typed("/awards decide"), round_is(RoundStatus.DECIDED), round_with_winner),
    Entry("awards-announce", RUNS_ROUNDS, typed("/awards announce"), round_is(RoundStatus.ANNOUNCED), round_decided),
    Entry("awards-export", PANEL, typed("/awards export"),
          all_of(file_in_dms, stored(RoundExport, user_id=PERSON)), round_closed),
    Entry("awards-insight", roles(Role.PANEL, Role.COMMS), typed("/awards insight"), shown("Award insight"),
          round_nominated),
    Entry("awards-archive", RUNS_ROUNDS, typed("/awards archive"), round_is(RoundStatus.ARCHIVED), round_announced),

    # Awards: the App Home, the panel's modals, and the winners --------------------------------------------------
    Entry("awards-round-new", RUNS_ROUNDS, in_home(ActionId.AWARDS_ROUND_NEW, default=DAVE),
          modal_opened(CallbackId.AWARDS_OPEN)),
    Entry("awards-open-submit", RUNS_ROUNDS, submitted(CallbackId.AWARDS_OPEN, ROUND_NAMED, default=DAVE),
          stored(AwardRound, name="Spring Awards", created_by=PERSON), open_round_modal),
    Entry("awards-review-open", PANEL, in_home(ActionId.AWARDS_REVIEW_OPEN, default=DAVE),
          modal_opened(CallbackId.AWARDS_REVIEW), round_open),
    Entry("awards-award", PANEL, in_modal(ActionId.AWARDS_AWARD, default=DAVE, value="leadership"),
          review_redrawn("leadership"), then(round_nominated, review_modal)),
    Entry("awards-page", PANEL, in_modal(ActionId.AWARDS_PAGE, default=DAVE, forged=PAGE_BUTTON),
          review_redrawn("values"), then(round_nominated, review_modal)),
    Entry("awards-candidate-open", PANEL, in_modal(ActionId.AWARDS_CANDIDATE_OPEN, default=DAVE),
          modal_opened(CallbackId.AWARDS_CANDIDATE), then(round_nominated, review_modal)),
    Entry("awards-shortlist", PANEL, in_modal(ActionId.AWARDS_SHORTLIST, default=DAVE),
          stored(CandidateDecision, candidate=ALICE, shortlisted=True, updated_by=PERSON),
          then(round_closed, candidate_modal)),
    Entry("awards-winner", PANEL, in_modal(ActionId.AWARDS_WINNER, default=DAVE),
          stored(CandidateDecision, candidate=ALICE, winner=True, updated_by=PERSON),
          then(round_closed, candidate_modal)),
    Entry("awards-conflict", PANEL, in_modal(ActionId.AWARDS_CONFLICT, default=DAVE),
          stored(ConflictDeclaration, candidate=ALICE, panel_member=PERSON), then(round_closed, candidate_modal)),
    Entry("awards-score-open", PANEL, in_modal(ActionId.AWARDS_SCORE_OPEN, default=DAVE),
          modal_opened(CallbackId.AWARDS_SCORE), then(round_closed, candidate_modal)),
    Entry("awards-score", PANEL, submitted(CallbackId.AWARDS_SCORE, {BlockId.AWARDS_SCORE_VALUE: "4"}, default=DAVE),
          stored(Score, panel_member=PERSON, score=4), then(round_closed, score_modal)),
    Entry("winner-consent-give", only(ALICE, NOT_THE_WINNER), on_message(ActionId.WINNER_CONSENT_GIVE),
          message_now_says("you will be named"), winner_asked),
    Entry("winner-consent-decline", only(ALICE, NOT_THE_WINNER), on_message(ActionId.WINNER_CONSENT_DECLINE),
          message_now_says("you will not be named"), winner_asked),

    # The engagement calendar ------------------------------------------------------------------------------------
    Entry("calendar", EVERYONE, typed("/calendar"), shown("Leaders out and about")),
    Entry("visit", roles(Role.EXECUTIVES, Role.LEADERS), typed("/visit"), modal_opened(CallbackId.VISIT)),
    Entry("visit-submit", roles(Role.EXECUTIVES, Role.LEADERS), submitted(CallbackId.VISIT, VISIT, default=CAROL),
          all_of(stored(Engagement, created_by=PERSON), dm_says("is announced in")), visit_modal),
    Entry("visit-request", EVERYONE,
          submitted(CallbackId.VISIT_REQUEST, {BlockId.REQUEST_PLACE: "Chelmsford Ambulance Station",
                                               BlockId.REQUEST_KIND: "visit",
                                               BlockId.REQUEST_WHAT: "Come and see the night shift"}, default=ALICE),
          stored(VisitRequest, requester_id=PERSON), request_modal),
    Entry("visit-request-accept", roles(Role.EXECUTIVES, Role.ADMINS), on_message(ActionId.VISIT_REQUEST_ACCEPT),
          stored(VisitRequest, id=Ref("request"), status="accepted", decided_by=PERSON), request_posted),
    Entry("visit-request-decline", roles(Role.EXECUTIVES, Role.ADMINS), on_message(ActionId.VISIT_REQUEST_DECLINE),
          modal_opened(CallbackId.VISIT_REQUEST_DECLINE, request="request"), request_posted),
    Entry("visit-request-decline-submit", roles(Role.EXECUTIVES, Role.ADMINS),
          submitted(CallbackId.VISIT_REQUEST_DECLINE, {BlockId.REQUEST_REASON: "On leave that month"},
                    default=CAROL),
          stored(VisitRequest, id=Ref("request"), status="declined", decided_by=PERSON), decline_modal),
    Entry("calendar-attend", EVERYONE, on_message(ActionId.CALENDAR_ATTEND),
          stored(EngagementAttendee, engagement_id=Ref("engagement"), user_id=PERSON), visit_announced),
    Entry("calendar-ask", EVERYONE, on_message(ActionId.CALENDAR_ASK),
          modal_opened(CallbackId.CALENDAR_QUESTION, engagement="engagement"), visit_announced),
    Entry("calendar-question", EVERYONE,
          submitted(CallbackId.CALENDAR_QUESTION, {BlockId.QUESTION_TEXT: "Will the rota be fair?"}, default=CAROL),
          stored(EngagementQuestion, engagement_id=Ref("engagement"), asker_id=PERSON), question_modal),
    Entry("calendar-answer", only(CAROL, NOT_ASKED), on_message(ActionId.CALENDAR_ANSWER, "briefing"),
          modal_opened(CallbackId.CALENDAR_ANSWER, question="question"), briefed_with_a_question),
    Entry("calendar-answer-submit", only(CAROL, NOT_ASKED),
          submitted(CallbackId.CALENDAR_ANSWER, {BlockId.ANSWER_TEXT: "Breaks are protected from January."},
                    default=CAROL),
          stored(EngagementQuestion, answered_by=PERSON), leader_answer_modal),
    Entry("calendar-question-check", EVERYONE, on_message(ActionId.CALENDAR_QUESTION_CHECK, "receipt"),
          shown("No answer yet"), anonymous_question_asked),
    Entry("calendar-follow-up", only(CAROL, NOT_THE_LEADER), on_message(ActionId.CALENDAR_FOLLOW_UP),
          modal_opened(CallbackId.CALENDAR_FOLLOW_UP, engagement="engagement"), follow_up_asked),
    Entry("calendar-follow-up-submit", only(CAROL, NOT_THE_LEADER),
          submitted(CallbackId.CALENDAR_FOLLOW_UP, FOLLOW_UP, default=CAROL), followed_up_in_thread,
          follow_up_modal),
    Entry("leaders", EVERYONE, typed("/leaders"), shown("Your leaders")),
    Entry("leaders-open", EVERYONE, in_home(ActionId.LEADERS_OPEN, default=ALICE),
          modal_opened(CallbackId.LEADERS_DIRECTORY)),
    Entry("leader-statement-open", roles(Role.EXECUTIVES, Role.LEADERS),
          in_home(ActionId.LEADER_STATEMENT_OPEN, default=CAROL), modal_opened(CallbackId.LEADER_STATEMENT)),
    Entry("leader-statement", roles(Role.EXECUTIVES, Role.LEADERS),
          submitted(CallbackId.LEADER_STATEMENT, {BlockId.LEADER_STATEMENT: "I will listen"}, default=CAROL),
          stored(LeaderProfile, user_id=PERSON, statement="I will listen"), statement_modal),
    Entry("calendar-my-site", EVERYONE,
          in_home(ActionId.CALENDAR_MY_SITE, default=ALICE, value="Chelmsford Ambulance Station"),
          stored(UserPreference, user_id=PERSON, site="Chelmsford Ambulance Station")),

    # Pulses -----------------------------------------------------------------------------------------------------
    Entry("pulse", RUNS_PULSES, typed("/pulse"), modal_opened(CallbackId.PULSE_CREATE)),
    Entry("pulse-new", RUNS_PULSES, in_home(ActionId.PULSE_NEW, default=ERIN), modal_opened(CallbackId.PULSE_CREATE),
          named_pulse),
    Entry("pulse-add-question", RUNS_PULSES, in_modal(ActionId.PULSE_ADD_QUESTION, default=ERIN), builder_slots(2),
          builder_modal),
    Entry("pulse-remove-question", RUNS_PULSES, in_modal(ActionId.PULSE_REMOVE_QUESTION, default=ERIN),
          builder_slots(0), builder_modal),
    Entry("pulse-create", RUNS_PULSES, submitted(CallbackId.PULSE_CREATE, PULSE, default=ERIN),
          all_of(stored(Pulse, created_by=PERSON), dm_says("opens now")), builder_modal),
    Entry("pulse-close", RUNS_PULSES, typed("/pulse close {pulse}"),
          stored(Pulse, id=Ref("pulse"), status="closed"), pulse_open),
    Entry("pulse-export", RUNS_PULSES, typed("/pulse export {pulse}"), file_in_dms, named_pulse),
    Entry("pulse-results", RUNS_PULSES, typed("/pulse results {pulse}"), shown("responses to"), named_pulse),
    Entry("pulse-close-button", RUNS_PULSES, in_home(ActionId.PULSE_CLOSE, default=ERIN),
          stored(Pulse, id=Ref("pulse"), status="closed"), named_pulse),
    Entry("pulse-export-button", RUNS_PULSES, in_home(ActionId.PULSE_EXPORT, default=ERIN), file_in_dms,
          named_pulse),
    Entry("pulse-comments-button", RUNS_PULSES, in_home(ActionId.PULSE_COMMENTS, default=ERIN),
          dm_says("responses to"), named_pulse),
    Entry("pulse-choose", EVERYONE, on_message(f"{ActionId.PULSE_CHOOSE}_0"),
          all_of(shown("your answer will be stored with others'"),
                 stored(PulseHeld, pulse_id=Ref("pulse"), user_id=PERSON)),
          pulse_open),
    Entry("pulse-answer", EVERYONE, on_message(ActionId.PULSE_ANSWER), modal_opened(CallbackId.PULSE_ANSWER),
          two_question_pulse),
    Entry("pulse-answer-submit", EVERYONE,
          submitted(CallbackId.PULSE_ANSWER, {"answer_q1": "Good", "answer_q2": "OK"}, default=ERIN),
          all_of(replied("update", "So that nobody can tell which answer is yours"),
                 stored(PulseHeld, pulse_id=Ref("pulse"), user_id=PERSON)), answer_modal),
    Entry("pulse-change", EVERYONE, on_message(ActionId.PULSE_CHANGE, ref="confirmation"),
          modal_opened(CallbackId.PULSE_ANSWER, pulse="pulse"), answered),
    # Only the change token in Alice's own confirmation changes her anonymous answer; anyone else can only guess it.
    Entry("pulse-change-submit", only(ALICE, "That change button has expired"),
          submitted(CallbackId.PULSE_ANSWER, {"answer_q1": "Hard"}, default=ALICE, forge=guessed_token),
          answer_changed, alice_changing_her_answer),

    # Digests ----------------------------------------------------------------------------------------------------
    Entry("digest-preview", roles(Role.COMMS, Role.ADMINS), typed("/digest preview"),
          shown("A preview of the next weekly digest")),
    Entry("digest-on", EVERYONE, typed("/digest on"), digest_wanted(True)),
    Entry("digest-off", EVERYONE, typed("/digest off"), digest_wanted(False), digest_on),
    Entry("digest-personal", EVERYONE, in_home(ActionId.DIGEST_PERSONAL, default=ALICE), digest_wanted(True)),

    # Scheduled posts --------------------------------------------------------------------------------------------
    Entry("schedule", COMMS, typed("/schedule"), modal_opened(CallbackId.SCHEDULE_COMPOSE)),
    Entry("schedule-list", COMMS, typed("/schedule list"), shown("Scheduled posts"), grace_post),
    Entry("schedule-new", COMMS, in_home(ActionId.SCHEDULE_NEW, default=GRACE),
          modal_opened(CallbackId.SCHEDULE_COMPOSE), grace_post),
    Entry("schedule-compose", COMMS, submitted(CallbackId.SCHEDULE_COMPOSE, POST, default=GRACE),
          all_of(replied("push"), stored(ScheduledPost, author_id=PERSON, status=PostStatus.DRAFT)), compose_modal),
    # A forger can only name a draft that is not theirs (making one needs the role), so the refusal says that the
    # draft has gone rather than naming the role.
    Entry("schedule-preview", roles(Role.COMMS, refusal="That draft has gone"),
          submitted(CallbackId.SCHEDULE_PREVIEW, {}, default=GRACE),
          stored(ScheduledPost, author_id=PERSON, status=PostStatus.PENDING_APPROVAL), preview_modal),
    Entry("schedule-edit", COMMS, in_home(ActionId.SCHEDULE_EDIT, default=GRACE),
          modal_opened(CallbackId.SCHEDULE_COMPOSE, edit_of="post"), grace_post),
    Entry("schedule-edit-submit", COMMS,
          submitted(CallbackId.SCHEDULE_COMPOSE, {BlockId.SCHEDULE_MESSAGE: "Staff briefing moved to 11:00"},
                    default=GRACE),
          all_of(replied("push"), stored(ScheduledPost, author_id=PERSON, edit_of=Ref("post"))), edit_modal),
    Entry("schedule-pause", COMMS, in_home(ActionId.SCHEDULE_PAUSE, default=GRACE), post_is(PostStatus.PAUSED),
          grace_post),
    Entry("schedule-resume", COMMS, in_home(ActionId.SCHEDULE_RESUME, default=GRACE),
          post_is(PostStatus.PENDING_APPROVAL), grace_post_paused),
    Entry("schedule-cancel", COMMS, in_home(ActionId.SCHEDULE_CANCEL, default=GRACE), post_is(PostStatus.CANCELLED),
          grace_post),
    Entry("schedule-approve", COMMS, on_message(ActionId.SCHEDULE_APPROVE),
          post_is(PostStatus.SCHEDULED, approved_by=PERSON), approval_asked),
    Entry("schedule-reject", COMMS, on_message(ActionId.SCHEDULE_REJECT),
          post_is(PostStatus.REJECTED, decided_by=PERSON), approval_asked),

    # The privacy notice -----------------------------------------------------------------------------------------
    Entry("privacy-notice", EVERYONE, in_home(ActionId.PRIVACY_NOTICE, default=ALICE), privacy_notice_shown),
    *ASK_ENTRIES,
]


# ---------------------------------------------------------------------------------------------------------------
# Nothing changed: every table, and everything the local Slack shows anyone
# ---------------------------------------------------------------------------------------------------------------
def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, list[str]]
    messages: dict[str, list[str]]   # channel (DMs too) -> its messages, oldest first
    ephemerals: list[str]
    views: dict[str, str]            # every view Beacon opened, pushed, updated or published, as it stands
    stacks: dict[str, list[str]]     # each person's open modals
    homes: dict[str, str]
    files: dict[str, str]


@functools.cache
def _select_all(table: str) -> str:
    return str(select(SQLModel.metadata.tables[table]).compile(dialect=sqlite.dialect()))


async def table_rows(beacon: Beacon) -> dict[str, list[str]]:
    """Every row of every table. Bookkeeping tables are included (processed_event, job_run, the audit chain): an
    entry point a refused person reaches has no business writing any of them, so none is left out. Except
    slack_request_seen: every signed request is recorded there at the door, before any entry point is reached."""
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name != "slack_request_seen"]
    if beacon.deps.db.is_sqlite:  # the same rows, read from the file much faster than through the app's engine
        with sqlite3.connect(f"file:{make_url(beacon.deps.db.url).database}?mode=ro", uri=True) as connection:
            return {t.name: sorted(map(repr, connection.execute(_select_all(t.name)))) for t in tables}
    async with beacon.deps.db.transaction() as session:
        return {t.name: sorted(repr(tuple(row)) for row in (await session.execute(select(t))).all()) for t in tables}


async def snapshot(beacon: Beacon) -> Snapshot:
    ws = beacon.ws
    return Snapshot(
        tables=await table_rows(beacon),
        messages={c.id: [_json(vars(m)) for m in c.messages] for c in ws.channels.values() if c.messages},
        ephemerals=[_json(vars(e)) for e in ws.ephemerals],
        views={view_id: _json(vars(view)) for view_id, view in ws.views.items()},
        stacks={user: [v.id for v in stack] for user, stack in ws.modal_stacks.items() if stack},
        homes={user: view.id for user, view in ws.home_views.items()},
        files={file_id: _json([f.filename, f.channels]) for file_id, f in ws.files.items()})


def _dm(user_id: str) -> str:
    return "D" + user_id[1:]


def told_to(person: str, before: Snapshot, after: Snapshot, reply: Reply | None) -> list[str]:
    """What Beacon said to `person` in answer: new ephemerals and direct messages, and the ack itself."""
    ephemerals = [json.loads(e) for e in after.ephemerals[len(before.ephemerals):]]
    dms = [json.loads(m) for m in after.messages.get(_dm(person), [])[len(before.messages.get(_dm(person), [])):]]
    words = [f"{said['text']} {_json(said['blocks'])}" for said in ephemerals if said["user"] == person]
    words += [f"{said['text']} {_json(said['blocks'])}" for said in dms]
    body = reply.json if reply is not None else {}
    if body.get("response_action") == "errors":
        words += list(body["errors"].values())
    elif body.get("response_action") in ("push", "update"):
        words.append(_json(body["view"]["blocks"]))
    return words


def changes(person: str, before: Snapshot, after: Snapshot) -> list[str]:
    """Everything that differs, apart from what was told to `person` (their new ephemerals and direct messages)."""
    found = [f"table {t}" for t in before.tables if before.tables[t] != after.tables[t]]
    messages = dict(after.messages)
    if _dm(person) in messages:
        messages[_dm(person)] = messages[_dm(person)][:len(before.messages.get(_dm(person), []))]
    found += [f"messages in {c}" for c in sorted(set(before.messages) | set(messages))
              if before.messages.get(c, []) != messages.get(c, [])]
    shown_to_others = [e for e in after.ephemerals[len(before.ephemerals):] if json.loads(e)["user"] != person]
    if after.ephemerals[:len(before.ephemerals)] != before.ephemerals or shown_to_others:
        found.append("ephemerals")
    found += [f"view {v}" for v in sorted(set(before.views) | set(after.views))
              if before.views.get(v) != after.views.get(v)]
    found += [name for name in ("stacks", "homes", "files") if getattr(before, name) != getattr(after, name)]
    return found


def assert_refused(case: Case, before: Snapshot, after: Snapshot, reply: Reply | None, refusal: str) -> None:
    person = case.person.id
    changed = changes(person, before, after)
    assert not changed, f"{person} may not use this, yet it changed: {changed}"
    words = told_to(person, before, after, reply)
    assert len(words) == 1 and refusal in words[0], f"one refusal saying {refusal!r} to {person}; got {words}"


def assert_not_refused(case: Case, before: Snapshot, after: Snapshot, reply: Reply | None, refusal: str) -> None:
    words = told_to(case.person.id, before, after, reply)
    assert not [w for w in words if refusal in w or "needs the *" in w], f"{case.person.id} was refused: {words}"


# ---------------------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------------------
def _cases() -> list[Any]:
    cases = []
    for entry in ENTRIES:
        for user_id, (label, _) in PEOPLE.items():
            case_id = f"{entry.name}/{label}"
            marks = [pytest.mark.xfail(strict=True, reason=HOLES[case_id])] if case_id in HOLES else []
            cases.append(pytest.param(entry, user_id, id=case_id, marks=marks))
    return cases


@pytest.mark.parametrize(("entry", "user_id"), _cases())
async def test_entry_point(beacon: Beacon, entry: Entry, user_id: str) -> None:
    case = Case(beacon, beacon.slack.person(user_id), allowed=entry.access.allows(user_id))
    for prepare in (entry.setup, entry.step.prepare):
        if prepare is not None:
            await prepare(case)
    await settle()
    before = await snapshot(beacon)
    reply = await entry.step.run(case)
    await settle()
    after = await snapshot(beacon)
    if case.allowed:
        assert_not_refused(case, before, after, reply, entry.access.refusal_text)
        await entry.worked(case, reply)
    else:
        assert_refused(case, before, after, reply, entry.access.refusal_text)


async def test_the_people_hold_the_roles_the_matrix_assumes(beacon: Beacon) -> None:
    for user_id, (label, held) in PEOPLE.items():
        assert await beacon.deps.authorisation.roles_of(user_id) == held, label


def _probe(kind: str, name: str) -> AsyncBoltRequest:
    """The least of a request that Bolt routes to a listener."""
    user = {"id": ALICE}
    if kind == "command":
        body: dict[str, Any] = {"command": name, "text": "", "user_id": ALICE, "team_id": "T0BEACON01"}
    elif kind == "action":
        body = {"type": "block_actions", "user": user,
                "actions": [{"type": "button", "action_id": name, "block_id": "probe"}]}
    elif kind == "view":
        body = {"type": "view_submission", "user": user, "view": {"type": "modal", "callback_id": name}}
    else:
        body = {"type": "event_callback", "event": {"type": name, "user": ALICE}}
    return AsyncBoltRequest(body=body, mode="socket_mode")


async def test_the_matrix_covers_every_entry_point(beacon: Beacon) -> None:
    """Every listener Beacon registers is reached by an entry of the table, and every command, action_id and
    callback_id a listener answers to is in it (some listeners answer several: pause, resume and cancel)."""
    listeners = beacon.runtime.app._async_listeners  # Bolt keeps no public list of them

    async def reaches(listener: Any, kind: str, name: str) -> bool:
        return await listener.async_matches(req=_probe(kind, name), resp=BoltResponse(status=200))

    in_table = {(e.step.kind, e.step.id) for e in ENTRIES}
    missing = []
    for listener in listeners:
        if await reaches(listener, "event", "app_home_opened"):
            continue  # publishing the App Home is not something a person asks for; its buttons are in the table
        if not [probe for probe in in_table if await reaches(listener, *probe)]:
            missing.append(listener.ack_function.__name__)
    assert not missing, f"entry points missing from the authorisation matrix: {missing}"

    every_id = ([("command", c.value) for c in Command] + [("action", a.value) for a in ActionId]
                + [("view", v.value) for v in CallbackId])
    answered = {probe for probe in every_id for listener in listeners if await reaches(listener, *probe)}
    assert answered <= in_table, f"not in the authorisation matrix: {sorted(answered - in_table)}"
