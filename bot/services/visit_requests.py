"""Staff asking for a visit ("come and see our night shift at Bedford", back to the floor, shadowing): the request
goes to the leaders' coordinator channel, is tracked to one decision (accepted, or declined with a reason), and
the person who asked is told."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.db import rows_changed
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.models import VisitRequest, VisitRequestStatus
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation

KINDS = {"visit": "A visit", "back_to_the_floor": "Back to the floor", "shadowing": "Shadowing a shift",
         "online": "An online session"}
WHAT_MIN, WHAT_MAX, REASON_MIN, REASON_MAX = 10, 1000, 5, 500
# Who decides: the executives, as for announcing a visit.
DECIDERS = (Role.EXECUTIVES, Role.ADMINS)


@dataclass(frozen=True)
class RequestDraft:
    place: str | None
    kind: str
    what: str
    when_suits: str | None


class RequestProblems(InvalidInput):
    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


class VisitRequests:
    def __init__(self, *, organisation: Organisation, clock: Clock, authorisation: Authorisation, audit: Audit):
        self._org, self._clock, self._auth, self._audit = organisation, clock, authorisation, audit

    @property
    def coordinator_channel(self) -> str:
        channel = self._org.calendar.coordinator_channel
        if not channel:
            raise InvalidInput("Visit requests are not set up yet: an admin sets `calendar.coordinator_channel` in "
                               "beacon.yaml.")
        return channel

    def places(self) -> list[str]:
        return [s.name for s in self._org.sites] + [g.name for g in self._org.staff_groups]

    def check(self, draft: RequestDraft) -> dict[str, str]:
        problems: dict[str, str] = {}
        if not draft.place or draft.place not in self.places():
            problems["place"] = "Choose the station, office or staff group the visit is for."
        if draft.kind not in KINDS:
            problems["kind"] = "Choose what you are asking for."
        what = draft.what.strip()
        if len(what) < WHAT_MIN:
            problems["what"] = f"Say in a sentence what you would like the leader to see (at least {WHAT_MIN} " \
                               "characters)."
        elif len(what) > WHAT_MAX:
            problems["what"] = f"Keep it to {WHAT_MAX} characters; this is {len(what)}."
        if len((draft.when_suits or "").strip()) > 200:
            problems["when"] = "Keep when suits to 200 characters."
        return problems

    async def submit(self, *, session: AsyncSession, user_id: str, draft: RequestDraft) -> VisitRequest:
        self.coordinator_channel  # noqa: B018 (refuses when there is nowhere to send it)
        problems = self.check(draft)
        if problems:
            raise RequestProblems(problems)
        request = VisitRequest(requester_id=user_id, place=draft.place or "", kind=draft.kind,
                               what=draft.what.strip(), when_suits=(draft.when_suits or "").strip() or None,
                               created_at=self._clock.now())
        session.add(request)
        await session.flush()
        return request

    async def record_posted(self, *, session: AsyncSession, request_id: int, channel: str, ts: str) -> None:
        request = await session.get(VisitRequest, request_id)
        if request is not None:
            request.posted_channel, request.posted_ts = channel, ts

    async def open_request(self, *, session: AsyncSession, user_id: str, request_id: int) -> VisitRequest:
        await self._auth.require_any(user_id, DECIDERS, action="Deciding a visit request")
        request = await session.get(VisitRequest, request_id)
        if request is None:
            raise NotFound("That visit request is no longer there.")
        if request.status != VisitRequestStatus.OPEN:
            raise InvalidInput(f"That request has already been {request.status}.")
        return request

    async def decide(self, *, session: AsyncSession, user_id: str, request_id: int, accept: bool,
                     reason: str | None = None) -> VisitRequest:
        """Accept, or decline with a reason: once (a second decision, by anyone, is refused)."""
        request = await self.open_request(session=session, user_id=user_id, request_id=request_id)
        text = (reason or "").strip()
        if not accept and not REASON_MIN <= len(text) <= REASON_MAX:
            raise RequestProblems({"reason": f"Give the reason the colleague who asked will read ({REASON_MIN} to "
                                             f"{REASON_MAX} characters)."})
        status = VisitRequestStatus.ACCEPTED if accept else VisitRequestStatus.DECLINED
        now = self._clock.now()
        done = await rows_changed(session, update(VisitRequest).where(
            col(VisitRequest.id) == request_id, col(VisitRequest.status) == VisitRequestStatus.OPEN).values(
            status=status, decided_by=user_id, decided_at=now, reason=text or None)
            .execution_options(synchronize_session=False))
        if not done:
            raise InvalidInput("Someone decided that request a moment ago.")
        await session.refresh(request)
        await self._audit.record(session=session, actor=user_id, action=f"visit_request.{status}",
                                 subject=f"visit_request:{request_id}", details={"place": request.place})
        return request
