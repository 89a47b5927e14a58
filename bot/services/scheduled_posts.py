"""Posts the communications team schedules: drafts, confirmation, approval, runs, edits and outcomes.

A confirmed post's next run is written to the outbox at once (one row per channel, held while it
awaits approval); `roll_forward` writes each following run when the previous one falls due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.db import rows_changed
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.models import OutboxMessage, OutboxStatus, PostStatus, ScheduledPost
from beacon.bot.organisation import Role, ScheduleSettings
from beacon.bot.rich_text import plain_text
from beacon.bot.services import outbox
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.recurrence import Repeat, exists_locally, next_run, to_utc
from beacon.bot.templates import Template
from beacon.bot.when import moment

SOURCE = "scheduled_post"
APPROVAL_SOURCE = "approval_request"
MAX_CHANNELS = 10
MAX_MESSAGE_CHARACTERS = 3000
ACTIVE = (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL)
EDITABLE = (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL, PostStatus.PAUSED, PostStatus.FAILED)
LISTED = (*EDITABLE, PostStatus.COMPLETED, PostStatus.REJECTED)


class DraftProblems(InvalidInput):
    """Inputs that cannot be scheduled, each with what to do, keyed by the draft field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class PostDraft:
    channels: tuple[str, ...]
    message: dict[str, Any]            # a rich_text block, already made safe
    fallback_text: str
    plain_text: str          # what a person reads, for length checks and summaries
    day: date | None
    at: time | None
    repeat: Repeat
    until: date | None


@dataclass(frozen=True)
class Confirmation:
    post: ScheduledPost
    first_run: datetime | None
    awaiting_approval: bool


@dataclass(frozen=True)
class ListedPost:
    post: ScheduledPost
    last: OutboxMessage | None


@dataclass(frozen=True)
class SentMessage:
    channel: str
    ts: str


class ScheduledPosts:
    def __init__(self, *, authorisation: Authorisation, clock: Clock, tz: ZoneInfo, settings: ScheduleSettings,
                 audit: Audit):
        self._audit = audit
        self._auth = authorisation
        self._clock = clock
        self._tz = tz
        self._settings = settings

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self._settings.grace_hours)

    # -- writing a post -----------------------------------------------------------------------------------
    def check_draft(self, draft: PostDraft) -> dict[str, str]:
        """Everything wrong with a draft, keyed by field; empty when it can be previewed."""
        problems: dict[str, str] = {}
        if not draft.channels:
            problems["channels"] = "Choose at least one channel."
        elif len(draft.channels) > MAX_CHANNELS:
            problems["channels"] = f"Choose at most {MAX_CHANNELS} channels; schedule another post for the rest."
        if not draft.plain_text.strip():
            problems["message"] = "Write the message to post."
        elif len(draft.plain_text) > MAX_MESSAGE_CHARACTERS:
            problems["message"] = (f"Keep the message under {MAX_MESSAGE_CHARACTERS:,} characters "
                                   f"(it has {len(draft.plain_text):,}).")
        if draft.day is None:
            problems["day"] = "Choose the day to post."
        if draft.at is None:
            problems["at"] = "Choose the time to post."
        if draft.day and draft.at:
            wall = datetime.combine(draft.day, draft.at)
            if not exists_locally(wall, self._tz):
                problems["at"] = (f"{draft.at:%H:%M} does not exist on {draft.day:%-d %B}: the clocks go forward "
                                  "that night. Choose a time after 02:00.")
            elif to_utc(wall, self._tz) <= self._clock.now() + timedelta(minutes=1):
                problems["at"] = "That time has passed: choose a time in the future."
        if draft.until and draft.day and draft.until < draft.day:
            problems["until"] = "The last day must be on or after the first."
        if draft.until and draft.repeat is Repeat.NONE:
            problems["until"] = "A post that does not repeat needs no last day; clear it or choose a repeat."
        return problems

    async def save_draft(self, *, session: AsyncSession, user_id: str, draft: PostDraft,
                         edit_of: int | None = None) -> ScheduledPost:
        await self._auth.require(user_id, Role.COMMS, action="Scheduling a post")
        problems = self.check_draft(draft)
        if problems:
            raise DraftProblems(problems)
        if edit_of is not None:
            await self._editable(session, edit_of)
        assert draft.day is not None and draft.at is not None  # check_draft refuses a draft without them
        now = self._clock.now()
        post = ScheduledPost(
            author_id=user_id, channels=list(draft.channels), message=draft.message,
            fallback_text=draft.fallback_text, starts_local=datetime.combine(draft.day, draft.at),
            timezone=self._tz.key, repeat=draft.repeat.value, until_local=draft.until, status=PostStatus.DRAFT,
            edit_of=edit_of, created_at=now, updated_at=now)
        session.add(post)
        await session.flush()
        return post

    async def record_audience(self, *, session: AsyncSession, post_id: int, audience: dict[str, int | None]) -> None:
        post = await session.get(ScheduledPost, post_id)
        if post is not None and post.status == PostStatus.DRAFT:
            post.audience = {channel: -1 if size is None else size for channel, size in audience.items()}

    def large_channels(self, post: ScheduledPost) -> dict[str, int | None]:
        """Channels whose audience needs the author's confirmation (None: size unknown)."""
        sizes = post.audience or {}
        return {c: (None if sizes.get(c, -1) < 0 else sizes[c]) for c in post.channels
                if sizes.get(c, -1) < 0 or sizes[c] > self._settings.large_audience}

    async def draft(self, *, session: AsyncSession, user_id: str, post_id: int) -> ScheduledPost:
        post = await session.get(ScheduledPost, post_id)
        if post is None or post.status != PostStatus.DRAFT or post.author_id != user_id:
            raise NotFound("That draft has gone (drafts last a day). Start again with /schedule.")
        return post

    async def confirm(self, *, session: AsyncSession, user_id: str, post_id: int,
                      audience_confirmed: bool) -> Confirmation:
        """Turn a previewed draft into a scheduled post (or apply it to the post it edits)."""
        await self._auth.require(user_id, Role.COMMS, action="Scheduling a post")
        draft = await self.draft(session=session, user_id=user_id, post_id=post_id)
        if draft.audience is None:
            raise DraftProblems({"audience": "Beacon is still checking who is in those channels; "
                                             "try again in a moment."})
        if self.large_channels(draft) and not audience_confirmed:
            raise DraftProblems({"audience": "Tick the box to confirm you mean to post to this many people."})
        approvers = await self._approvers(user_id)
        if self._settings.require_approval and not approvers:
            raise DraftProblems({"approval": "Posts need a second member of the communications team to approve "
                                             "them, and nobody else holds that role. Ask an administrator."})
        now = self._clock.now()
        first = self._next_run(draft, after=now)
        if first is None:
            raise DraftProblems({"at": "That time has passed: go back and choose a time in the future."})
        post = draft
        edited = draft.edit_of is not None
        if draft.edit_of is not None:
            post = await self._editable(session, draft.edit_of)
            await outbox.cancel_unsent(session=session, source=SOURCE, source_id=post.id or 0)
            for name in ("channels", "message", "fallback_text", "starts_local", "repeat", "until_local",
                         "audience"):
                setattr(post, name, getattr(draft, name))
            post.revision += 1
            await session.delete(draft)
        post.audience_confirmed = audience_confirmed
        post.status = PostStatus.PENDING_APPROVAL if self._settings.require_approval else PostStatus.SCHEDULED
        post.approved_by = None
        post.next_run_at, post.updated_at = first, now
        await session.flush()
        await self._materialise(session, post, first)
        if post.status == PostStatus.PENDING_APPROVAL:
            await outbox.enqueue(session=session, now=now, promises=[
                outbox.notice(key=f"approval:{post.id}:r{post.revision}:{approver}", user_id=approver,
                              template=Template.POST_APPROVAL_REQUEST, source=APPROVAL_SOURCE, source_id=post.id,
                              now=now,
                              params=self._params(post, first) | {"author": post.author_id})
                for approver in sorted(approvers)])
        await self._audit.record(session=session, actor=user_id, action="post.edited" if edited else "post.scheduled",
                                 subject=f"post:{post.id}", details={"channels": post.channels, "first_run": first,
                                                                     "repeat": post.repeat, "revision": post.revision})
        return Confirmation(post=post, first_run=first, awaiting_approval=post.status == PostStatus.PENDING_APPROVAL)

    # -- managing posts -------------------------------------------------------------------------------------
    async def for_edit(self, *, session: AsyncSession, user_id: str, post_id: int) -> ScheduledPost:
        await self._auth.require(user_id, Role.COMMS, action="Editing a scheduled post")
        return await self._editable(session, post_id)

    async def listing(self, *, session: AsyncSession, user_id: str, limit: int = 20) -> list[ListedPost]:
        await self._auth.require(user_id, Role.COMMS, action="Seeing scheduled posts")
        recent = self._clock.now() - timedelta(days=7)
        posts = list((await session.scalars(
            select(ScheduledPost)
            .where(col(ScheduledPost.status).in_(LISTED),
                   or_(col(ScheduledPost.status).in_(EDITABLE), col(ScheduledPost.updated_at) >= recent))
            .order_by(col(ScheduledPost.next_run_at).is_(None), col(ScheduledPost.next_run_at),
                      col(ScheduledPost.id).desc())
            .limit(limit))).all())
        last = await outbox.last_outcomes(session=session, source=SOURCE, source_ids=[p.id or 0 for p in posts])
        return [ListedPost(post=p, last=last.get(p.id or 0)) for p in posts]

    async def pause(self, *, session: AsyncSession, user_id: str, post_id: int) -> ScheduledPost:
        await self._auth.require(user_id, Role.COMMS, action="Pausing a scheduled post")
        post = await self._in_status(session, post_id, ACTIVE, "Only a scheduled post can be paused.")
        await outbox.cancel_unsent(session=session, source=SOURCE, source_id=post_id)
        post.status, post.next_run_at, post.updated_at = PostStatus.PAUSED, None, self._clock.now()
        await self._audit.record(session=session, actor=user_id, action="post.paused", subject=f"post:{post_id}")
        return post

    async def resume(self, *, session: AsyncSession, user_id: str, post_id: int) -> ScheduledPost:
        await self._auth.require(user_id, Role.COMMS, action="Resuming a scheduled post")
        post = await self._in_status(session, post_id, (PostStatus.PAUSED,), "Only a paused post can be resumed.")
        now = self._clock.now()
        upcoming = self._next_run(post, after=now)
        post.updated_at = now
        await self._audit.record(session=session, actor=user_id, action="post.resumed", subject=f"post:{post_id}")
        if upcoming is None:
            post.status = PostStatus.COMPLETED
            return post
        approved = post.approved_by is not None or not self._settings.require_approval
        post.status = PostStatus.SCHEDULED if approved else PostStatus.PENDING_APPROVAL
        post.revision += 1
        post.next_run_at = upcoming
        await self._materialise(session, post, upcoming)
        return post

    async def cancel(self, *, session: AsyncSession, user_id: str, post_id: int) -> ScheduledPost:
        await self._auth.require(user_id, Role.COMMS, action="Cancelling a scheduled post")
        post = await self._in_status(session, post_id, EDITABLE, "That post has already ended.")
        await outbox.cancel_unsent(session=session, source=SOURCE, source_id=post_id)
        post.status, post.next_run_at, post.updated_at = PostStatus.CANCELLED, None, self._clock.now()
        await self._audit.record(session=session, actor=user_id, action="post.cancelled", subject=f"post:{post_id}")
        return post

    async def decide(self, *, session: AsyncSession, user_id: str, post_id: int, approve: bool) -> ScheduledPost:
        """A second comms member approves or rejects a post; the author is told either way."""
        await self._auth.require(user_id, Role.COMMS, action="Approving a scheduled post")
        post = await session.get(ScheduledPost, post_id, with_for_update=True)
        if post is not None and post.status == PostStatus.COMPLETED and post.approved_by is None:
            raise InvalidInput("Too late: the post's time passed before anyone approved it, so it was not sent.")
        post = await self._in_status(session, post_id, (PostStatus.PENDING_APPROVAL,),
                                     "That post is no longer waiting for approval.")
        if post.author_id == user_id:
            raise InvalidInput("A post needs a second person: you cannot approve your own.")
        now = self._clock.now()
        post.decided_by, post.updated_at = user_id, now
        if approve:
            if post.next_run_at is None:
                raise InvalidInput("Too late: the post's time has passed without approval.")
            post.approved_by, post.status = user_id, PostStatus.SCHEDULED
            await outbox.release_held(session=session, source=SOURCE, source_id=post_id)
        else:
            post.status, post.next_run_at = PostStatus.REJECTED, None
            await outbox.cancel_unsent(session=session, source=SOURCE, source_id=post_id)
        await outbox.enqueue(session=session, now=now, promises=[outbox.notice(
            key=f"decision:{post.id}:r{post.revision}", user_id=post.author_id, now=now, source_id=post.id,
            template=Template.POST_APPROVED if approve else Template.POST_REJECTED,
            params=self._params(post, post.next_run_at) | {"decided_by": user_id})])
        await self._audit.record(session=session, actor=user_id, action="post.approved" if approve else "post.rejected",
                                 subject=f"post:{post_id}")
        return post

    async def approval_messages(self, *, session: AsyncSession, post_id: int) -> list[SentMessage]:
        """The approval requests already delivered for a post, so they can say it has been decided."""
        rows = await session.scalars(select(OutboxMessage).where(
            col(OutboxMessage.source) == APPROVAL_SOURCE, col(OutboxMessage.source_id) == post_id,
            col(OutboxMessage.status) == OutboxStatus.SENT))
        return [SentMessage(channel=r.sent_channel or "", ts=r.sent_ts or "") for r in rows]

    # -- running ------------------------------------------------------------------------------------------
    async def roll_forward(self, *, session: AsyncSession) -> int:
        """Write the next run of every post whose current run has fallen due; returns how many moved on."""
        now = self._clock.now()
        due = (await session.scalars(select(ScheduledPost).where(
            col(ScheduledPost.status).in_(ACTIVE), col(ScheduledPost.next_run_at) <= now))).all()
        moved = 0
        for post in due:
            current = post.next_run_at
            assert current is not None
            # Runs older than the grace period (Beacon was down) are skipped, not sent late.
            following, skipped = self._next_run(post, after=current), 0
            while following is not None and following < now - self.grace:
                following, skipped = self._next_run(post, after=following), skipped + 1
            values: dict[str, object] = {"next_run_at": following, "updated_at": now}
            if following is None:
                values["status"] = PostStatus.COMPLETED
            changed = await rows_changed(session, update(ScheduledPost)
                                         .where(col(ScheduledPost.id) == post.id,
                                                col(ScheduledPost.next_run_at) == current)
                                         .values(**values).execution_options(synchronize_session=False))
            if changed != 1:
                continue  # another replica moved it on first
            moved += 1
            if following is not None:
                await self._materialise(session, post, following)
            if skipped:
                await outbox.enqueue(session=session, now=now, promises=[outbox.notice(
                    key=f"skipped:{post.id}:{current:%Y%m%dT%H%M}", user_id=post.author_id, now=now,
                    source_id=post.id, template=Template.POST_RUNS_SKIPPED,
                    params=self._params(post, following) | {"skipped": skipped,
                                                            "grace_hours": self._settings.grace_hours})])
        return moved

    async def record_outcome(self, session: AsyncSession, message: OutboxMessage, status: OutboxStatus,
                             error: str | None) -> None:
        """The outbox's report on one run: a refusal stops the post; a failure or miss is told to the author."""
        post = await session.get(ScheduledPost, message.source_id)
        if post is None or status == OutboxStatus.SENT:
            return
        now = self._clock.now()
        params = self._params(post, message.due_at) | {"channel": message.channel, "error": error or "",
                                                        "grace_hours": self._settings.grace_hours}
        template = Template.POST_FAILED if status == OutboxStatus.FAILED else Template.POST_MISSED
        if status == OutboxStatus.FAILED and post.status not in (PostStatus.CANCELLED, PostStatus.REJECTED):
            post.status, post.next_run_at, post.updated_at = PostStatus.FAILED, None, now
            await outbox.cancel_unsent(session=session, source=SOURCE, source_id=post.id or 0)
        await outbox.enqueue(session=session, now=now, promises=[outbox.notice(
            key=f"outcome:{message.id}", user_id=post.author_id, template=template, params=params, now=now,
            source_id=post.id)])

    async def forget_abandoned_drafts(self, *, session: AsyncSession) -> int:
        cutoff = self._clock.now() - timedelta(days=1)
        return await rows_changed(session, delete(ScheduledPost).where(
            col(ScheduledPost.status) == PostStatus.DRAFT, col(ScheduledPost.created_at) < cutoff))

    def upcoming(self, post: ScheduledPost, count: int = 3) -> list[datetime]:
        """The next few run times, for a preview."""
        runs: list[datetime] = []
        after = self._clock.now()
        while len(runs) < count:
            run = self._next_run(post, after=after)
            if run is None:
                break
            runs.append(run)
            after = run
        return runs

    # -- helpers -----------------------------------------------------------------------------------------
    def _next_run(self, post: ScheduledPost, *, after: datetime) -> datetime | None:
        return next_run(post.starts_local, Repeat(post.repeat), ZoneInfo(post.timezone), after=after,
                        until=post.until_local)

    async def _approvers(self, author: str) -> set[str]:
        if not self._settings.require_approval:
            return set()
        return set(await self._auth.members(Role.COMMS)) - {author}

    async def _materialise(self, session: AsyncSession, post: ScheduledPost, run_at: datetime) -> None:
        held = post.status == PostStatus.PENDING_APPROVAL
        stamp = run_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
        await outbox.enqueue(session=session, now=self._clock.now(), promises=[
            outbox.Promise(dedupe_key=f"post:{post.id}:r{post.revision}:{stamp}:{channel}", source=SOURCE,
                           source_id=post.id, channel=channel,
                           content={"text": post.fallback_text, "blocks": [post.message]},
                           due_at=run_at, expires_at=run_at + self.grace, held=held)
            for channel in post.channels])

    async def _editable(self, session: AsyncSession, post_id: int) -> ScheduledPost:
        return await self._in_status(session, post_id, EDITABLE, "That post has ended and can no longer be changed.")

    @staticmethod
    async def _in_status(session: AsyncSession, post_id: int, statuses: tuple[PostStatus, ...],
                         refusal: str) -> ScheduledPost:
        post = await session.get(ScheduledPost, post_id, with_for_update=True)
        if post is None or post.status == PostStatus.DRAFT:
            raise NotFound("That scheduled post does not exist.")
        if post.status not in statuses:
            raise InvalidInput(refusal)
        return post

    def _params(self, post: ScheduledPost, run_at: datetime | None) -> dict[str, object]:
        return {"post_id": post.id, "channels": list(post.channels), "summary": plain_text(post.message)[:300],
                "when": moment(run_at, self._tz, year=True) if run_at else "", "repeat": Repeat(post.repeat).phrase}
