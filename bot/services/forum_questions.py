"""Ask the leaders: any member of staff raises a question or suggestion for the leadership team, named or
anonymous; forum moderators publish, merge or decline it; colleagues support it once each; a named leader answers.

An anonymous question keeps no link to its asker that the database files, backups or logs could reveal (the same
idea as anonymous pulses, docs/ARCHITECTURE.md "Threat model"): its row has no user and no hash of one, only the day
it was asked and a random id in a table without rowids; the asker is given a status token once, on the screen and
in a direct message sent at once (never through the outbox, whose rows name their recipient), and only the token's
hash is stored. The asker follows their question with `/ask status <token>`; Beacon cannot tell them itself, because
it does not know who they are.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.db import insert_ignoring_duplicates, rows_changed
from beacon.bot.errors import BeaconError, InvalidInput, NotFound
from beacon.bot.models import ForumQuestion, ForumQuestionStatus, ForumSupport, OutboxMessage
from beacon.bot.services import outbox
from beacon.bot.templates import Template, templated

MAX_LENGTH = 1000       # a question or suggestion; an answer may be longer
ANSWER_MAX_LENGTH = 2500
REASON_MAX_LENGTH = 500
SOURCE = "forum_question"
TOKEN_PREFIX = "ask-"  # noqa: S105 (marks what a person pastes; the secret follows it)
Status = ForumQuestionStatus


class QuestionProblems(BeaconError):
    """What to change in the form, by field (shown inline in the modal)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class Asked:
    question_id: str
    token: str | None  # an anonymous question's status token: shown once, never stored


@dataclass(frozen=True)
class QuestionView:
    """A question as moderators, leaders and (by token) its asker see it; never who asked anonymously."""

    id: str
    text: str
    asker_id: str | None
    anonymous: bool
    status: str
    asked_on: date
    supporters: int
    reason: str | None = None
    merged_into: str | None = None
    leader_id: str | None = None
    answer: str | None = None
    answered_on: date | None = None
    published_on: date | None = None
    overdue: bool = False


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(q: ForumQuestion, *, today: date | None = None, unanswered_days: int = 14) -> QuestionView:
    overdue = bool(today and q.status == Status.PUBLISHED and q.published_on
                   and today - q.published_on > timedelta(days=unanswered_days))
    return QuestionView(id=q.id, text=q.text, asker_id=q.asker_id, anonymous=q.asker_id is None, status=q.status,
                        asked_on=q.asked_on, supporters=q.supporters, reason=q.reason, merged_into=q.merged_into,
                        leader_id=q.leader_id, answer=q.answer, answered_on=q.answered_on,
                        published_on=q.published_on, overdue=overdue)


def check_text(text: str, *, limit: int = MAX_LENGTH, what: str = "question") -> str:
    """The text as stored, or the problem in words that say what to change."""
    text = text.strip()
    if not text:
        raise QuestionProblems({"text": f"Write your {what}."})
    if len(text) > limit:
        raise QuestionProblems({"text": f"Keep your {what} to {limit:,} characters: it is {len(text):,}. "
                                        f"Shorten it by {len(text) - limit:,}."})
    return text


async def ask(*, session: AsyncSession, user_id: str, text: str, anonymous: bool, today: date) -> Asked:
    """Store a question for the moderators' queue. An anonymous one stores no user, only its token's hash."""
    text = check_text(text)
    token = TOKEN_PREFIX + secrets.token_urlsafe(18) if anonymous else None
    question = ForumQuestion(id=secrets.token_hex(16), text=text, asker_id=None if anonymous else user_id,
                             status_hash=_hash(token) if token else None, asked_on=today)
    session.add(question)
    await session.flush()
    return Asked(question_id=question.id, token=token)


async def by_token(*, session: AsyncSession, token: str) -> QuestionView:
    """What became of an anonymous question, for whoever holds its token (and only them)."""
    question = (await session.scalars(select(ForumQuestion).where(
        col(ForumQuestion.status_hash) == _hash(token.strip())))).first()
    if question is None:
        raise NotFound("No question has that token. Check you copied the whole of it, starting `ask-`.")
    return _view(question)


async def mine(*, session: AsyncSession, user_id: str) -> list[QuestionView]:
    """A person's named questions (their anonymous ones cannot be found by them, only by token)."""
    rows = (await session.scalars(select(ForumQuestion).where(col(ForumQuestion.asker_id) == user_id)
                                  .order_by(col(ForumQuestion.asked_on).desc()).limit(20))).all()
    return [_view(q) for q in rows]


async def queue(*, session: AsyncSession, today: date, unanswered_days: int) -> tuple[list[QuestionView],
                                                                                       list[QuestionView]]:
    """The moderators' view: questions waiting for a decision (oldest first), and published questions waiting for
    their answer (overdue ones first)."""
    pending = (await session.scalars(select(ForumQuestion).where(col(ForumQuestion.status) == Status.PENDING)
                                     .order_by(col(ForumQuestion.asked_on), col(ForumQuestion.id)).limit(40))).all()
    published = (await session.scalars(select(ForumQuestion).where(col(ForumQuestion.status) == Status.PUBLISHED)
                                       .order_by(col(ForumQuestion.published_on), col(ForumQuestion.id))
                                       .limit(40))).all()
    waiting = [_view(q, today=today, unanswered_days=unanswered_days) for q in published]
    return [_view(q) for q in pending], sorted(waiting, key=lambda v: not v.overdue)


async def overdue_count(*, session: AsyncSession, today: date, unanswered_days: int) -> int:
    """Published questions still waiting for an answer after `unanswered_days` (the digest flags them)."""
    return int(await session.scalar(select(func.count()).select_from(ForumQuestion).where(
        col(ForumQuestion.status) == Status.PUBLISHED,
        col(ForumQuestion.published_on) < today - timedelta(days=unanswered_days))) or 0)


async def published(*, session: AsyncSession) -> list[QuestionView]:
    """Questions another may be merged into."""
    rows = (await session.scalars(select(ForumQuestion).where(
        col(ForumQuestion.status).in_([Status.PUBLISHED, Status.ANSWERED]))
        .order_by(col(ForumQuestion.published_on).desc(), col(ForumQuestion.id)).limit(100))).all()
    return [_view(q) for q in rows]


async def _get(session: AsyncSession, question_id: str, *, status: Sequence[str] | None = None) -> ForumQuestion:
    question = await session.get(ForumQuestion, question_id[:32], with_for_update=True)
    if question is None:
        raise NotFound("That question no longer exists.")
    if status is not None and question.status not in status:
        raise InvalidInput(f"That question is {question.status} already; nothing was changed.")
    return question


def _outcome(question: ForumQuestion, *, now: datetime, outcome: str, **params: Any) -> list[outbox.Promise]:
    """The named asker is told by DM; an anonymous asker reads it with their token (Beacon cannot DM them)."""
    if question.asker_id is None:
        return []
    return [outbox.notice(key=f"forum-outcome:{question.id}:{outcome}", user_id=question.asker_id,
                          template=Template.FORUM_OUTCOME, now=now, source=SOURCE,
                          params={"outcome": outcome, "question": question.text, **params})]


def _post_key(question_id: str) -> str:
    return f"forum-question:{question_id}"


def _post_params(question: QuestionView) -> dict[str, Any]:
    """The published post's content: the count, never who supported."""
    return {"question_id": question.id, "question": question.text, "asker": question.asker_id,
            "supporters": question.supporters, "leader": question.leader_id,
            "answered": question.status == Status.ANSWERED}


async def publish(*, session: AsyncSession, question_id: str, channel: str, now: datetime, today: date) -> QuestionView:
    question = await _get(session, question_id, status=[Status.PENDING])
    question.status, question.published_on = Status.PUBLISHED, today
    await outbox.enqueue(session=session, now=now, promises=[
        outbox.Promise(dedupe_key=_post_key(question.id), source=SOURCE, channel=channel,
                       content=templated(Template.FORUM_QUESTION, _post_params(_view(question))), due_at=now,
                       expires_at=now + timedelta(days=2)),
        *_outcome(question, now=now, outcome="published", channel=channel)])
    return _view(question)


async def decline(*, session: AsyncSession, question_id: str, reason: str, now: datetime) -> QuestionView:
    reason = reason.strip()
    if not reason:
        raise QuestionProblems({"reason": "Say why, so the person who asked understands."})
    if len(reason) > REASON_MAX_LENGTH:
        raise QuestionProblems({"reason": f"Keep the reason to {REASON_MAX_LENGTH} characters: it is {len(reason)}."})
    question = await _get(session, question_id, status=[Status.PENDING])
    question.status, question.reason = Status.DECLINED, reason
    await outbox.enqueue(session=session, now=now, promises=_outcome(question, now=now, outcome="declined",
                                                                     reason=reason))
    return _view(question)


async def merge(*, session: AsyncSession, question_id: str, into_id: str, now: datetime) -> QuestionView:
    """Fold a waiting question into a published one: its asker is pointed to it, and it counts one more supporter
    (the asker's own, anonymous or not: nobody's id is stored for it)."""
    into = await _get(session, into_id, status=[Status.PUBLISHED, Status.ANSWERED])
    question = await _get(session, question_id, status=[Status.PENDING])
    if into.id == question.id:
        raise QuestionProblems({"into": "Choose another question."})
    question.status, question.merged_into = Status.MERGED, into.id
    into.supporters += 1
    await outbox.enqueue(session=session, now=now, promises=_outcome(
        question, now=now, outcome="merged", into=into.text, answer=into.answer))
    return _view(question)


async def support(*, session: AsyncSession, question_id: str, user_id: str, now: datetime) -> int | None:
    """Add a colleague's support, once each; the new count, or None if they had supported it already. The
    question's forum post, as Beacon posted it (never the channel and ts a click claims, which a forged click could
    point at any message of the bot's), is edited through the outbox to show the new count."""
    question = await _get(session, question_id, status=[Status.PUBLISHED, Status.ANSWERED])
    if not await insert_ignoring_duplicates(session, ForumSupport, {"question_id": question.id, "user_id": user_id}):
        return None
    await rows_changed(session, update(ForumQuestion).where(col(ForumQuestion.id) == question.id)
                       .values(supporters=col(ForumQuestion.supporters) + 1))
    await session.refresh(question)
    post = await _posted(session, question.id)
    if post is not None and post.sent_ts:
        await outbox.enqueue(session=session, now=now, promises=[
            post_update(_view(question), channel=post.sent_channel or post.channel, ts=post.sent_ts, now=now)])
    return question.supporters


def post_update(question: QuestionView, *, channel: str, ts: str, now: datetime) -> outbox.Promise:
    """The published post, edited to show the count (keyed by the count, so two clicks never undo each other)."""
    return outbox.Promise(dedupe_key=f"forum-question:{question.id}:{question.supporters}:{question.status}:"
                                     f"{question.leader_id or ''}",
                          source=SOURCE, channel=channel, update_ts=ts,
                          content=templated(Template.FORUM_QUESTION, _post_params(question)), due_at=now,
                          expires_at=now + timedelta(days=1))


async def view(*, session: AsyncSession, question_id: str) -> QuestionView:
    return _view(await _get(session, question_id))


async def assign(*, session: AsyncSession, question_id: str, leader_id: str, now: datetime) -> QuestionView:
    question = await _get(session, question_id, status=[Status.PUBLISHED])
    question.leader_id = leader_id
    post = await _posted(session, question.id)
    if post is not None and post.sent_ts:  # the post says who will answer
        await outbox.enqueue(session=session, now=now, promises=[
            post_update(_view(question), channel=post.sent_channel or post.channel, ts=post.sent_ts, now=now)])
    await outbox.enqueue(session=session, now=now, promises=[outbox.notice(
        key=f"forum-leader:{question.id}:{leader_id}", user_id=leader_id, template=Template.FORUM_LEADER_ASKED,
        now=now, source=SOURCE, params={"question_id": question.id, "question": question.text,
                                        "supporters": question.supporters})])
    return _view(question)


async def _posted(session: AsyncSession, question_id: str) -> OutboxMessage | None:
    return (await session.scalars(select(OutboxMessage).where(
        col(OutboxMessage.dedupe_key) == _post_key(question_id)))).first()


async def answer(*, session: AsyncSession, question_id: str, user_id: str, text: str, now: datetime,
                 today: date) -> QuestionView:
    """The assigned leader's answer: in the question's thread, the post marked answered, a named asker told."""
    text = check_text(text, limit=ANSWER_MAX_LENGTH, what="answer")
    question = await _get(session, question_id, status=[Status.PUBLISHED])
    if question.leader_id != user_id:
        raise InvalidInput("Only the leader the forum moderators asked can answer this question.")
    post = await _posted(session, question.id)
    if post is None or not post.sent_ts:
        raise InvalidInput("The question is still being posted to the forum; try again in a minute.")
    question.status, question.answer, question.answered_by, question.answered_on = (
        Status.ANSWERED, text, user_id, today)
    channel = post.sent_channel or post.channel
    await outbox.enqueue(session=session, now=now, promises=[
        outbox.Promise(dedupe_key=f"forum-answer:{question.id}", source=SOURCE, channel=channel,
                       thread_ts=post.sent_ts, content=templated(Template.FORUM_ANSWER, {
                           "question": question.text, "answer": text, "leader": user_id}, broadcast=False),
                       due_at=now, expires_at=now + timedelta(days=2)),
        post_update(_view(question), channel=channel, ts=post.sent_ts, now=now),
        *_outcome(question, now=now, outcome="answered", answer=text, leader=user_id, channel=channel)])
    return _view(question)
