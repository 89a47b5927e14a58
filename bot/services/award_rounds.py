"""Award rounds: open, remind, close, decide, announce, archive. Both awards run in each round.

Reminders are outbox promises written when the round opens (due when it opens, 7 days and 1 day before it
closes, and when it closes), so they go out once, on time, across restarts and replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot import when
from beacon.bot.clock import Clock
from beacon.bot.content import Content
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.models import AwardRound, Nomination, NominationStatus, RoundStatus
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services import outbox
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.recurrence import to_utc
from beacon.bot.templates import Template

ROUND_POST = "round_post"
REMINDER_HOUR = time(9, 0)
RUNS_ROUNDS = (Role.PANEL, Role.ADMINS)


@dataclass(frozen=True)
class RoundReport:
    round: AwardRound
    nominations: dict[str, int]  # award key -> nominations in the round
    closes: str                  # when it closes, as people read it


class AwardRounds:
    def __init__(self, *, content: Content, organisation: Organisation, clock: Clock, authorisation: Authorisation,
                 audit: Audit):
        self._audit = audit
        self._content = content
        self._organisation = organisation
        self._clock = clock
        self._auth = authorisation

    @property
    def tz(self) -> ZoneInfo:
        return self._organisation.tz

    async def open_round(self, *, session: AsyncSession, user_id: str, name: str, closes_on: date) -> AwardRound:
        await self._auth.require_any(user_id, RUNS_ROUNDS, action="Opening an award round")
        name = name.strip()
        if not name:
            raise InvalidInput('Give the round a name, for example: /awards open "2027 Staff Awards" closes 2027-03-31')
        now = self._clock.now()
        closes_at = to_utc(datetime.combine(closes_on + timedelta(days=1), time(0, 0)), self.tz)  # end of that day
        if closes_at <= now + timedelta(days=1):
            raise InvalidInput(f"The closing date has to be after tomorrow; {closes_on:%-d %B %Y} is too soon.")
        if await self.open_now(session) is not None:
            raise InvalidInput("A round is already open. Close it with `/awards close` before opening another.")
        round_ = AwardRound(name=name[:120], status=RoundStatus.OPEN, closes_at=closes_at, created_by=user_id,
                            opened_at=now)
        session.add(round_)
        try:
            await session.flush()
        except IntegrityError:  # another panel member opened one at the same moment
            raise InvalidInput("A round has just been opened by someone else; see `/awards status`.") from None
        await self._schedule_posts(session, round_)
        await self._audit.record(session=session, actor=user_id, action="round.opened", subject=f"round:{round_.id}",
                                 details={"name": round_.name, "closes_at": closes_at})
        return round_

    async def _schedule_posts(self, session: AsyncSession, round_: AwardRound) -> None:
        now = self._clock.now()
        closing_day = (round_.closes_at.astimezone(self.tz) - timedelta(seconds=1)).date()
        posts: list[tuple[str, str, datetime, dict[str, object]]] = [
            ("opened", Template.ROUND_OPENED, now, {}), ("closed", Template.ROUND_CLOSED, round_.closes_at, {})]
        for days in (7, 1):
            due = to_utc(datetime.combine(closing_day - timedelta(days=days), REMINDER_HOUR), self.tz)
            if due > now:
                posts.append((f"{days}-days", Template.ROUND_REMINDER, due, {"days": days}))
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"round:{round_.id}:{kind}", source=ROUND_POST, source_id=round_.id,
            channel=self._organisation.channels.recognition,
            content={"template": template, "params": self._params(round_) | extra},
            due_at=due, expires_at=due + timedelta(hours=6)) for kind, template, due, extra in posts])

    def _params(self, round_: AwardRound) -> dict[str, object]:
        return {"round": round_.name, "closes": self.closes_text(round_),
                "awards": [a.name for a in self._content.awards]}

    def closes_text(self, round_: AwardRound) -> str:
        return when.last_minute(round_.closes_at, self.tz)

    async def open_now(self, session: AsyncSession) -> AwardRound | None:
        return (await session.scalars(select(AwardRound).where(col(AwardRound.status) == RoundStatus.OPEN))).first()

    async def latest(self, session: AsyncSession) -> AwardRound | None:
        """The round people are talking about: the open one, else the most recent one not archived."""
        return (await session.scalars(select(AwardRound).where(col(AwardRound.status) != RoundStatus.ARCHIVED)
                                      .order_by(col(AwardRound.id).desc()))).first()

    async def _latest_or_refuse(self, session: AsyncSession) -> AwardRound:
        round_ = await self.latest(session)
        if round_ is None:
            raise NotFound('There is no award round yet. Open one with `/awards open "Name" closes YYYY-MM-DD`.')
        return round_

    async def report(self, *, session: AsyncSession, user_id: str) -> RoundReport:
        await self._auth.require_any(user_id, RUNS_ROUNDS, action="Seeing the award round's status")
        round_ = await self._latest_or_refuse(session)
        counts = dict((await session.execute(
            select(col(Nomination.award), func.count()).where(col(Nomination.round_id) == round_.id,
                                                         col(Nomination.status) == NominationStatus.ACTIVE)
            .group_by(col(Nomination.award)))).all())
        return RoundReport(round=round_, nominations={a.key: counts.get(a.key, 0) for a in self._content.awards},
                           closes=self.closes_text(round_))

    async def close(self, *, session: AsyncSession, user_id: str) -> AwardRound:
        """Close the open round now, before its date."""
        await self._auth.require_any(user_id, RUNS_ROUNDS, action="Closing an award round")
        round_ = await self.open_now(session)
        if round_ is None:
            raise InvalidInput("No round is open.")
        now = self._clock.now()
        round_.status, round_.closed_at = RoundStatus.CLOSED, now
        await outbox.cancel_unsent(session=session, source=ROUND_POST, source_id=round_.id or 0)
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"round:{round_.id}:closed-early", source=ROUND_POST, source_id=round_.id,
            channel=self._organisation.channels.recognition,
            content={"template": Template.ROUND_CLOSED, "params": self._params(round_)}, due_at=now,
            expires_at=now + timedelta(hours=6))])
        await self._audit.record(session=session, actor=user_id, action="round.closed", subject=f"round:{round_.id}",
                                 details={"early": True})
        return round_

    async def close_due(self, *, session: AsyncSession) -> int:
        """Close every open round whose closing time has come (the scheduler calls this)."""
        now = self._clock.now()
        due = (await session.scalars(select(col(AwardRound.id)).where(col(AwardRound.status) == RoundStatus.OPEN,
                                                                 col(AwardRound.closes_at) <= now))).all()
        for round_id in due:
            await session.execute(update(AwardRound).where(col(AwardRound.id) == round_id, col(AwardRound.status) ==
                                                           RoundStatus.OPEN).values(status=RoundStatus.CLOSED,
                                                                                    closed_at=now))
            await self._audit.record(session=session, actor="system", action="round.closed",
                                     subject=f"round:{round_id}", details={"early": False})
        return len(due)

    async def archive(self, *, session: AsyncSession, user_id: str) -> AwardRound:
        await self._auth.require_any(user_id, RUNS_ROUNDS, action="Archiving an award round")
        round_ = await self._latest_or_refuse(session)
        if round_.status != RoundStatus.ANNOUNCED:
            raise InvalidInput(f"The round is {round_.status}; a round is archived once its winners are announced.")
        round_.status = RoundStatus.ARCHIVED
        await self._audit.record(session=session, actor=user_id, action="round.archived", subject=f"round:{round_.id}")
        return round_
