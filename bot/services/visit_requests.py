"""Staff asking for a visit ("come and see our night shift at Bedford", back to the floor, shadowing): the request
goes to the leaders' coordinator channel, is tracked to one decision (accepted, or declined with a reason), and
the person who asked is told.

Every message about a request goes through the outbox in the transaction that stores the request or its decision:
the post in the coordinator channel, the receipt to the person who asked, the post's edit once decided, and the
outcome. A Slack outage delays them; it loses none, and none is sent twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.db import rows_changed
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.models import OutboxMessage, OutboxStatus, VisitRequest, VisitRequestStatus
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services import outbox
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.templates import Template, templated

KINDS = {"visit": "A visit", "back_to_the_floor": "Back to the floor", "shadowing": "Shadowing a shift",
         "online": "An online session"}
WHAT_MIN, WHAT_MAX, REASON_MIN, REASON_MAX = 10, 1000, 5, 500
# Who decides: the executives, as for announcing a visit.
DECIDERS = (Role.EXECUTIVES, Role.ADMINS)
VISIT_REQUEST = "visit_request"  # the outbox source of the coordinator channel's post (its hook records where it is)
KEPT_FOR = timedelta(days=7)     # a request's messages are still worth sending after a week-long Slack outage


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
        now, channel = request.created_at, self.coordinator_channel
        await outbox.enqueue(session=session, now=now, promises=[
            outbox.Promise(dedupe_key=f"visit-request:{request.id}", source=VISIT_REQUEST, source_id=request.id,
                           channel=channel, content=templated(Template.VISIT_REQUEST_POST, describe(request)),
                           due_at=now, expires_at=now + KEPT_FOR),
            outbox.notice(key=f"visit-request-received:{request.id}", user_id=user_id, now=now,
                          source=VISIT_REQUEST, source_id=request.id, template=Template.VISIT_REQUEST_RECEIVED,
                          params=describe(request) | {"channel": channel})])
        return request

    async def record_posted(self, session: AsyncSession, message: OutboxMessage, status: OutboxStatus,
                            error: str | None) -> None:
        """Outbox hook: once the coordinator's post is in Slack, remember where, so a decision edits it."""
        if status != OutboxStatus.SENT or (message.content or {}).get("template") != Template.VISIT_REQUEST_POST \
                or message.update_ts:
            return
        request, sent = await session.get(VisitRequest, message.source_id), await session.get(OutboxMessage,
                                                                                              message.id)
        if request is not None and sent is not None:
            request.posted_channel, request.posted_ts = sent.sent_channel, sent.sent_ts
            if request.status != VisitRequestStatus.OPEN:  # decided while the post was on its way: show it now
                await self._tell_decided(session, request)

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
        await self._tell_decided(session, request)
        await self._audit.record(session=session, actor=user_id, action=f"visit_request.{status}",
                                 subject=f"visit_request:{request_id}", details={"place": request.place})
        return request

    async def _tell_decided(self, session: AsyncSession, request: VisitRequest) -> None:
        """The coordinator's post shows the decision (the post itself, if it is still waiting to go; an edit of it
        otherwise), and the person who asked is told."""
        now, params = self._clock.now(), describe(request)
        post = templated(Template.VISIT_REQUEST_POST, params)
        waiting = (await session.scalars(select(OutboxMessage).where(
            col(OutboxMessage.dedupe_key) == f"visit-request:{request.id}",
            col(OutboxMessage.status) == OutboxStatus.PENDING))).first()
        promises = [outbox.notice(key=f"visit-request-outcome:{request.id}", user_id=request.requester_id, now=now,
                                  source=VISIT_REQUEST, source_id=request.id, template=Template.VISIT_REQUEST_OUTCOME,
                                  params=params)]
        if waiting is not None:
            waiting.content = post
        else:
            sent = (request.posted_channel and request.posted_ts) or None
            posted = None if sent else (await session.scalars(select(OutboxMessage).where(
                col(OutboxMessage.dedupe_key) == f"visit-request:{request.id}",
                col(OutboxMessage.status) == OutboxStatus.SENT))).first()
            channel = request.posted_channel or (posted.sent_channel if posted else None)
            ts = request.posted_ts or (posted.sent_ts if posted else None)
            if channel and ts:
                promises.append(outbox.Promise(
                    dedupe_key=f"visit-request-decided:{request.id}", source=VISIT_REQUEST, source_id=request.id,
                    channel=channel, update_ts=ts, content=post, due_at=now, expires_at=now + KEPT_FOR))
        await outbox.enqueue(session=session, now=now, promises=promises)


def describe(request: VisitRequest) -> dict[str, Any]:
    """What the messages about a request show."""
    return {"id": request.id, "requester_id": request.requester_id, "place": request.place,
            "kind": KINDS.get(request.kind, request.kind), "what": request.what, "when_suits": request.when_suits,
            "status": str(request.status), "decided_by": request.decided_by, "reason": request.reason}
