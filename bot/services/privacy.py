"""UK GDPR duties: what Beacon holds about a person (export), forgetting them (erase), and retention.

Erasure replaces the person's Slack ID, everywhere Beacon stored it, with one new random pseudonym per erasure
("ERASED-…"), and removes the words they wrote about themselves or that describe them. Nothing links the
pseudonym to the person afterwards: it is not derived from their ID. Because one pseudonym replaces every
occurrence, counts stay right (nominations, colleagues recognised, answers, attendance).

Kept on purpose: audit entries (the trust's record of who did what, kept for `retention.audit_years`; their
integrity depends on not being rewritten) and anonymous pulse answers (nothing links them to anyone).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Text, case, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.db import rows_changed
from beacon.bot.models import (
    AuditEntry,
    AwardRound,
    CandidateDecision,
    ConflictDeclaration,
    Endorsement,
    Engagement,
    EngagementAttendee,
    EngagementQuestion,
    ForumQuestion,
    ForumSupport,
    LeaderProfile,
    Nomination,
    Nominee,
    OutboxMessage,
    OutboxStatus,
    Pulse,
    PulseAnswer,
    PulseHeld,
    PulseNamedAnswer,
    PulseParticipation,
    PulseSeries,
    RoundExport,
    RoundStatus,
    ScheduledPost,
    Score,
    UserPreference,
    VisitRequest,
    WorkItem,
    WorkStatus,
)
from beacon.bot.organisation import RetentionSettings
from beacon.bot.rich_text import plain_text
from beacon.bot.services import review_totals
from beacon.bot.services.audit import Audit
from beacon.bot.services.review_totals import candidate_key
from beacon.bot.services.work_queue import WorkKind

REMOVED = "(removed at the person's request)"
ERASED_LEADER = "A former leader"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass
class ErasureReport:
    user_id: str
    pseudonym: str
    changed: dict[str, int] = field(default_factory=dict)
    slack_posts: list[tuple[str, str]] = field(default_factory=list)  # (channel, ts) of celebrations naming them

    @property
    def total(self) -> int:
        return sum(self.changed.values())


@dataclass
class RetentionPlan:
    """What retention removes now (or would, in a dry run): counts by kind, and the cut-off dates used."""

    counts: dict[str, int]
    cutoffs: dict[str, str]


class Privacy:
    def __init__(self, *, clock: Clock, audit: Audit, retention: RetentionSettings, organisation_name: str):
        self._clock, self._audit, self._retention, self._org_name = clock, audit, retention, organisation_name

    # -- subject access --------------------------------------------------------------------------------------
    async def export(self, *, session: AsyncSession, user_id: str, actor: str) -> dict[str, Any]:
        """Everything Beacon holds about `user_id`, as one JSON-ready document. The export is audited."""
        made = (await session.scalars(select(Nomination).where(
            or_(col(Nomination.nominator_id) == user_id,
                col(Nomination.entered_by) == user_id)).order_by(col(Nomination.id)))).all()
        received_ids = (await session.scalars(select(col(Nominee.nomination_id))
                                              .where(col(Nominee.user_id) == user_id))).all()
        received = (await session.scalars(select(Nomination).where(col(Nomination.id).in_(received_ids))
                                          .order_by(col(Nomination.id)))).all()
        ids = {n.id for n in made} | set(received_ids)
        nominees: dict[int, list[Nominee]] = {}
        for nominee in (await session.scalars(select(Nominee).where(col(Nominee.nomination_id).in_(ids)))).all():
            nominees.setdefault(nominee.nomination_id, []).append(nominee)

        def nomination(n: Nomination, *, as_nominee: bool) -> dict[str, Any]:
            row: dict[str, Any] = {
                "id": n.id, "award": n.award, "created_at": _iso(n.created_at), "status": n.status, "story": n.story,
                "values": n.values, "behaviours": n.behaviours, "share_publicly": n.share_publicly,
                "celebrated_at": _iso(n.celebrated_at),
                # What a public post may show: the words and people everyone named agreed to, if any.
                "agreed_public_version": (n.consented_snapshot or {}).get("story"),
                "agreed_public_names": [p.get("user_id") or p.get("name")
                                        for p in (n.consented_snapshot or {}).get("nominees") or []]}
            if as_nominee:
                mine = next(p for p in nominees.get(n.id or 0, []) if p.user_id == user_id)
                row |= {"from": "withheld: the nominator asked not to be named" if n.hide_nominator else
                        (n.nominator_id or n.nominator_name), "your_consent": mine.consent,
                        "your_consent_at": _iso(mine.consent_at), "your_consent_to_version": mine.consented_version,
                        "current_version": n.content_version}
            else:
                row |= {"hide_my_name": n.hide_nominator, "entered_by_you_for": n.nominator_name
                        if n.entered_by == user_id else None,
                        "nominees": [p.user_id or ", ".join(x for x in (p.name, p.role, p.site) if x)
                                     for p in nominees.get(n.id or 0, [])]}
            return row

        async def rows(model: Any, *conditions: Any) -> list[Any]:
            return list((await session.scalars(select(model).where(*conditions))).all())

        preference = await session.get(UserPreference, user_id)
        leader = await session.get(LeaderProfile, user_id)
        decisions = await rows(CandidateDecision, or_(col(CandidateDecision.updated_by) == user_id,
                                                      col(CandidateDecision.candidate).contains(user_id)))
        taken = select(col(Pulse.id), col(Pulse.title), col(Pulse.anonymous))
        pulses_taken = [*(await session.execute(taken.join(
            PulseParticipation, col(PulseParticipation.pulse_id) == col(Pulse.id)).where(
            col(PulseParticipation.user_id) == user_id))).all(), *(await session.execute(taken.join(
                PulseHeld, col(PulseHeld.pulse_id) == col(Pulse.id)).where(col(PulseHeld.user_id) == user_id))).all()]
        posts = await rows(ScheduledPost, or_(col(ScheduledPost.author_id) == user_id,
                                              col(ScheduledPost.approved_by) == user_id,
                                              col(ScheduledPost.decided_by) == user_id))
        audit = await rows(AuditEntry, or_(col(AuditEntry.actor) == user_id, col(AuditEntry.subject).contains(user_id)))
        document: dict[str, Any] = {
            "about": {"user_id": user_id, "organisation": self._org_name, "exported_at": _iso(self._clock.now()),
                      "by": actor},
            "not_included": "Answers to anonymous pulses: Beacon stores them with nothing that links them to "
                            "anyone, so it cannot tell which are yours. The pulses you took part in are listed.",
            "preferences": {"site": preference.site, "personal_digest": preference.personal_digest}
            if preference else None,
            "leader_directory": {"name": leader.name, "title": leader.title, "photo": leader.image_url,
                                 "commitment": leader.statement, "commitment_written_at": _iso(leader.statement_at)}
            if leader else None,
            "nominations_made": [nomination(n, as_nominee=False) for n in made],
            "recognition_received": [nomination(n, as_nominee=True) for n in received],
            "endorsements": [{"nomination_id": e.nomination_id, "at": _iso(e.created_at)}
                             for e in await rows(Endorsement, col(Endorsement.user_id) == user_id)],
            "award_panel": {
                "scores": [{"nomination_id": s.nomination_id, "score": s.score, "level": s.level, "note": s.note,
                            "at": _iso(s.updated_at)} for s in await rows(Score, col(Score.panel_member) == user_id)],
                "conflicts_declared": [{"round_id": c.round_id, "award": c.award, "candidate": c.candidate}
                                       for c in await rows(ConflictDeclaration,
                                                           col(ConflictDeclaration.panel_member) == user_id)],
                "exports": [{"round_id": r.round_id, "rows": r.rows, "at": _iso(r.exported_at)}
                            for r in await rows(RoundExport, col(RoundExport.user_id) == user_id)],
                "rounds_opened": [{"id": r.id, "name": r.name}
                                  for r in await rows(AwardRound, col(AwardRound.created_by) == user_id)],
            },
            "award_decisions": [{"round_id": d.round_id, "award": d.award, "shortlisted": d.shortlisted,
                                 "winner": d.winner, "your_consent": d.winner_consents.get(user_id),
                                 "decided_by_you": d.updated_by == user_id} for d in decisions],
            "calendar": {
                "visits": [{"id": e.id, "title": e.title, "place": e.site or e.location,
                            "starts_at": _iso(e.starts_at), "as": "leader" if e.leader_user_id == user_id
                            else "announced by you"} for e in await rows(
                    Engagement, or_(col(Engagement.leader_user_id) == user_id, col(Engagement.created_by) == user_id))],
                "said_you_would_attend": [a.engagement_id for a in await rows(
                    EngagementAttendee, col(EngagementAttendee.user_id) == user_id)],
                "questions_asked": [{"engagement_id": q.engagement_id, "question": q.question,
                                     "name_hidden_from_leader": q.hide_name, "at": _iso(q.created_at)}
                                    for q in await rows(EngagementQuestion,
                                                        col(EngagementQuestion.asker_id) == user_id)],
                "visits_requested": [{"id": r.id, "place": r.place, "what": r.what, "status": r.status,
                                      "reason": r.reason, "at": _iso(r.created_at)}
                                     for r in await rows(VisitRequest, col(VisitRequest.requester_id) == user_id)],
            },
            "pulses": {
                "created": [{"id": p.id, "title": p.title} for p in await rows(Pulse,
                                                                               col(Pulse.created_by) == user_id)],
                "took_part_in": [{"id": p.id, "title": p.title, "anonymous": p.anonymous} for p in pulses_taken],
                "named_answers": [{"pulse_id": a.pulse_id, "answers": a.answers, "site": a.site,
                                   "at": _iso(a.answered_at)}
                                  for a in await rows(PulseNamedAnswer, col(PulseNamedAnswer.user_id) == user_id)],
            },
            # Ask the leaders: named questions only (an anonymous one holds nothing that leads to anyone)
            "questions_for_the_leaders": {
                "asked": [{"question": q.text, "asked_on": q.asked_on.isoformat(), "status": q.status}
                          for q in await rows(ForumQuestion, col(ForumQuestion.asker_id) == user_id)],
                "answered": [{"question": q.text, "answer": q.answer} for q in await rows(
                    ForumQuestion, col(ForumQuestion.answered_by) == user_id)],
                "supported": len(await rows(ForumSupport, col(ForumSupport.user_id) == user_id)),
            },
            "scheduled_posts": [{"id": p.id, "status": p.status, "channels": p.channels,
                                 "text": plain_text(p.message), "you_are": "author" if p.author_id == user_id
                                 else "approver"} for p in posts],
            "messages_beacon_sent_you": [{"what": m.content.get("template") or "message", "status": m.status,
                                          "at": _iso(m.sent_at or m.created_at)}
                                         for m in await rows(OutboxMessage, col(OutboxMessage.channel) == user_id)],
            "work_you_asked_for": [{"what": w.kind, "status": w.status, "at": _iso(w.created_at)}
                                   for w in await rows(WorkItem, col(WorkItem.requested_by) == user_id)],
            "audit_entries": [{"seq": a.seq, "at": _iso(a.at), "actor": a.actor, "action": a.action,
                               "subject": a.subject} for a in audit],
        }
        await self._audit.record(session=session, actor=actor, action="privacy.exported", subject=f"user:{user_id}")
        return document

    # -- erasure ---------------------------------------------------------------------------------------------------
    async def erase(self, *, session: AsyncSession, user_id: str, actor: str) -> ErasureReport:
        """Forget `user_id`: every stored Slack ID becomes one random pseudonym and their own words are removed.
        Idempotent: a second run finds nothing left to change."""
        pseudonym = f"ERASED-{secrets.token_hex(6).upper()}"
        report = ErasureReport(user_id=user_id, pseudonym=pseudonym)

        async def change(name: str, statement: Any) -> None:
            result = await rows_changed(session, statement.execution_options(synchronize_session=False))
            report.changed[name] = report.changed.get(name, 0) + result

        # Recognition the person received: their celebrations are named for the trust's IT team to take down.
        received = (await session.execute(select(col(Nomination.id), col(Nomination.public_channel),
                                                 col(Nomination.public_ts)).join(
            Nominee, col(Nominee.nomination_id) == col(Nomination.id)).where(col(Nominee.user_id) == user_id))).all()
        report.slack_posts = [(r.public_channel, r.public_ts) for r in received if r.public_channel and r.public_ts]
        # The panel's running totals hold their ID too (as a nominee, nominator or scorer): recounted once it is gone.
        touched = {r.id for r in received} | set((await session.scalars(select(col(Nomination.id)).where(or_(
            col(Nomination.nominator_id) == user_id, col(Nomination.entered_by) == user_id)))).all()) | set(
            (await session.scalars(select(col(Score.nomination_id)).where(col(Score.panel_member) == user_id))).all())
        theirs = select(col(Nominee.nomination_id)).where(col(Nominee.user_id) == user_id)
        alone = (await session.scalars(select(col(Nominee.nomination_id)).where(col(Nominee.nomination_id).in_(theirs))
                                       .group_by(col(Nominee.nomination_id)).having(func.count() == 1))).all()
        await change("stories about them removed", update(Nomination).where(
            col(Nomination.id).in_(alone), col(Nomination.story) != REMOVED).values(story=REMOVED))
        await change("nominations received", update(Nominee).where(col(Nominee.user_id) == user_id).values(
            user_id=pseudonym))
        await change("nominations made", update(Nomination).where(col(Nomination.nominator_id) == user_id).values(
            nominator_id=pseudonym))
        await change("nominations entered for others", update(Nomination).where(
            col(Nomination.entered_by) == user_id).values(entered_by=pseudonym))
        # The agreed public snapshot holds the nominees' and nominator's IDs and the story, as the rows above did.
        for agreed in (await session.scalars(select(Nomination).where(
                cast(col(Nomination.consented_snapshot), Text).contains(user_id)))).all():
            agreed.consented_snapshot = _erase_snapshot(agreed.consented_snapshot or {}, user_id, pseudonym,
                                                        story=agreed.story)
            report.changed["agreed public versions"] = report.changed.get("agreed public versions", 0) + 1
        await change("endorsements", update(Endorsement).where(col(Endorsement.user_id) == user_id).values(
            user_id=pseudonym))
        await change("scores", update(Score).where(col(Score.panel_member) == user_id).values(panel_member=pseudonym))
        await change("conflicts declared", update(ConflictDeclaration).where(
            col(ConflictDeclaration.panel_member) == user_id).values(panel_member=pseudonym))
        await change("round exports", update(RoundExport).where(col(RoundExport.user_id) == user_id).values(
            user_id=pseudonym))
        await change("rounds opened", update(AwardRound).where(col(AwardRound.created_by) == user_id).values(
            created_by=pseudonym))
        for decision in (await session.scalars(select(CandidateDecision).where(or_(
                col(CandidateDecision.updated_by) == user_id,
                col(CandidateDecision.candidate).contains(user_id))))).all():
            decision.candidate = candidate_key(pseudonym if part == user_id else part
                                               for part in decision.candidate.split("+"))
            consents = decision.winner_consents.items()
            decision.winner_consents = {pseudonym if k == user_id else k: v for k, v in consents}
            decision.updated_by = pseudonym if decision.updated_by == user_id else decision.updated_by
            report.changed["award decisions"] = report.changed.get("award decisions", 0) + 1
        await change("visits led", update(Engagement).where(col(Engagement.leader_user_id) == user_id).values(
            leader_user_id=None, leader=ERASED_LEADER))
        await change("visits announced", update(Engagement).where(col(Engagement.created_by) == user_id).values(
            created_by=pseudonym))
        await change("attendance", update(EngagementAttendee).where(col(EngagementAttendee.user_id) == user_id).values(
            user_id=pseudonym))
        # Kept as an anonymous question is (no asker at all: the schema allows no other shape for a hidden name).
        await change("questions asked", update(EngagementQuestion).where(col(EngagementQuestion.asker_id) == user_id)
                     .values(asker_id=None, question=REMOVED, hide_name=True))
        await change("questions answered", update(EngagementQuestion).where(
            col(EngagementQuestion.answered_by) == user_id).values(answered_by=pseudonym))
        await change("visits requested", update(VisitRequest).where(col(VisitRequest.requester_id) == user_id)
                     .values(requester_id=pseudonym, what=REMOVED, when_suits=None))
        await change("visit requests decided", update(VisitRequest).where(col(VisitRequest.decided_by) == user_id)
                     .values(decided_by=pseudonym))
        await change("pulses created",
                     update(Pulse).where(col(Pulse.created_by) == user_id).values(created_by=pseudonym))
        await change("pulse series created", update(PulseSeries).where(col(PulseSeries.created_by) == user_id).values(
            created_by=pseudonym))
        await change("pulses taken part in", update(PulseParticipation).where(
            col(PulseParticipation.user_id) == user_id).values(user_id=pseudonym))
        # An answer waiting to be stored is dropped, not renamed: the process holding it has the real ID in memory,
        # and would otherwise store it under that ID after the erasure.
        await change("pulse answers waiting to be stored (dropped)", delete(PulseHeld).where(
            col(PulseHeld.user_id) == user_id))
        await change("named pulse answers", update(PulseNamedAnswer).where(col(PulseNamedAnswer.user_id) == user_id)
                     .values(user_id=pseudonym))
        await change("questions for the leaders asked", update(ForumQuestion).where(
            col(ForumQuestion.asker_id) == user_id).values(asker_id=pseudonym, text=REMOVED))
        for name in ("leader_id", "answered_by"):
            await change("questions for the leaders answered", update(ForumQuestion).where(
                col(getattr(ForumQuestion, name)) == user_id).values({name: pseudonym}))
        await change("questions for the leaders supported", update(ForumSupport).where(
            col(ForumSupport.user_id) == user_id).values(user_id=pseudonym))
        for name in ("author_id", "approved_by", "decided_by"):
            await change("scheduled posts", update(ScheduledPost).where(col(getattr(ScheduledPost, name)) == user_id)
                         .values({name: pseudonym}))
        await change("nomination keys",
                     update(Nomination).where(col(Nomination.duplicate_key).contains(user_id)).values(
            duplicate_key=func.replace(col(Nomination.duplicate_key), user_id, pseudonym)))
        # Beacon's record of its messages: those to them or about them lose their content; unsent ones are not sent.
        mentions = or_(col(OutboxMessage.channel) == user_id, col(OutboxMessage.dedupe_key).contains(user_id),
                       cast(col(OutboxMessage.content), Text).contains(user_id))
        await change("messages to or about them not yet sent, cancelled", update(OutboxMessage).where(
            mentions, col(OutboxMessage.status).in_((OutboxStatus.HELD, OutboxStatus.PENDING)))
            .values(status=OutboxStatus.CANCELLED))
        await change("messages to or about them, emptied", update(OutboxMessage).where(mentions).values(
            channel=case((col(OutboxMessage.channel) == user_id, pseudonym), else_=col(OutboxMessage.channel)),
            dedupe_key=func.replace(col(OutboxMessage.dedupe_key), user_id, pseudonym), content={"text": REMOVED}))
        await change("preferences", delete(UserPreference).where(col(UserPreference.user_id) == user_id))
        await change("leader directory entry", delete(LeaderProfile).where(col(LeaderProfile.user_id) == user_id))
        # A nomination form by or about them, not yet stored (between its ack and its nomination, or failed): dropped
        # with its words, so erasure is not undone a moment later by a worker finishing it. A form still being
        # finished is no longer its holder's to mark done, so it stores nothing.
        await change("nomination forms by or about them not yet stored, dropped", update(WorkItem).where(
            col(WorkItem.kind) == WorkKind.NOMINATION_SUBMIT,
            col(WorkItem.status).in_((WorkStatus.PENDING, WorkStatus.RUNNING, WorkStatus.FAILED)),
            or_(col(WorkItem.requested_by) == user_id, cast(col(WorkItem.params), Text).contains(user_id)))
            .values(status=WorkStatus.FAILED, params={}, requested_by=None, claimed_by=None, lease_until=None,
                    last_error="dropped: erasure"))
        # Work they asked for and not yet done (an export waiting for a worker): it still runs, for nobody.
        await change("work they asked for", update(WorkItem).where(col(WorkItem.requested_by) == user_id)
                     .values(requested_by=pseudonym))
        await review_totals.refresh(session, touched)
        report.changed = {k: v for k, v in report.changed.items() if v}
        await self._audit.record(session=session, actor=actor, action="privacy.erased", subject=f"user:{pseudonym}",
                                 details={"changed": report.changed})
        return report

    # -- retention ---------------------------------------------------------------------------------------------------
    def cutoffs(self) -> dict[str, datetime]:
        now, r = self._clock.now(), self._retention
        return {"nominations": now - timedelta(days=365.25 * r.nominations_years),
                "pulse_answers": now - timedelta(days=365.25 * r.pulse_answers_years),
                "engagements": now - timedelta(days=365.25 * r.engagements_years),
                "outbox": now - timedelta(days=r.sent_messages_days),
                "audit": now - timedelta(days=365.25 * r.audit_years)}

    @staticmethod
    def _ended_rounds(cutoff: datetime) -> Select[int | None]:
        return select(col(AwardRound.id)).where(col(AwardRound.status) != RoundStatus.OPEN,
                                                col(AwardRound.closed_at) < cutoff)

    def _expired_nominations(self, cutoff: datetime) -> Select[int | None]:
        """Nominations whose round ended (closed) before the cut-off, or outside any round and made before it."""
        return select(col(Nomination.id)).where(or_(
            col(Nomination.round_id).in_(self._ended_rounds(cutoff)),
            col(Nomination.round_id).is_(None) & (col(Nomination.created_at) < cutoff)))

    async def retention(self, *, session: AsyncSession, dry_run: bool, actor: str = "system") -> RetentionPlan:
        # Sub-queries, not lists of ids: a year of a large trust holds more ids than PostgreSQL's driver takes
        # as parameters of one statement (32,767).
        cut = self.cutoffs()
        nominations = self._expired_nominations(cut["nominations"])
        old_pulses = select(col(Pulse.id)).where(col(Pulse.closed_at) < cut["pulse_answers"])
        old_engagements = select(col(Engagement.id)).where(col(Engagement.ends_at) < cut["engagements"])

        async def count(model: Any, *conditions: Any) -> int:
            return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)

        targets: list[tuple[str, Any, tuple[Any, ...]]] = [
            ("endorsements", Endorsement, (col(Endorsement.nomination_id).in_(nominations),)),
            ("scores", Score, (col(Score.nomination_id).in_(nominations),)),
            ("nominees", Nominee, (col(Nominee.nomination_id).in_(nominations),)),
            ("nominations", Nomination, (col(Nomination.id).in_(nominations),)),
            ("anonymous pulse answers", PulseAnswer, (col(PulseAnswer.pulse_id).in_(old_pulses),)),
            ("named pulse answers", PulseNamedAnswer, (col(PulseNamedAnswer.pulse_id).in_(old_pulses),)),
            ("pulse participation", PulseParticipation, (col(PulseParticipation.pulse_id).in_(old_pulses),)),
            ("pulse answers waiting to be stored", PulseHeld, (col(PulseHeld.pulse_id).in_(old_pulses),)),
            ("engagement attendance", EngagementAttendee,
             (col(EngagementAttendee.engagement_id).in_(old_engagements),)),
            ("engagement questions", EngagementQuestion, (col(EngagementQuestion.engagement_id).in_(old_engagements),)),
            ("engagements", Engagement, (col(Engagement.id).in_(old_engagements),)),
            ("sent messages", OutboxMessage, (col(OutboxMessage.status).in_(
                (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.MISSED, OutboxStatus.CANCELLED)),
                col(OutboxMessage.created_at) < cut["outbox"])),
        ]
        counts = {name: await count(model, *conditions) for name, model, conditions in targets}
        last_audit = await session.scalar(select(func.max(col(AuditEntry.seq)))
                                          .where(col(AuditEntry.at) < cut["audit"]))
        counts["audit entries"] = await count(AuditEntry, col(AuditEntry.seq) <= last_audit) if last_audit else 0
        if not dry_run:
            await review_totals.forget(session, rounds=self._ended_rounds(cut["nominations"]), nominations=nominations)
            for _name, model, conditions in targets:
                await session.execute(delete(model).where(*conditions).execution_options(synchronize_session=False))
            await self._audit.forget_before(session=session, cutoff=cut["audit"])
            if any(counts.values()):
                await self._audit.record(session=session, actor=actor, action="privacy.retention",
                                         subject="retention", details={k: v for k, v in counts.items() if v})
        return RetentionPlan(counts=counts, cutoffs={k: v.date().isoformat() for k, v in cut.items()})


def _erase_snapshot(snapshot: dict[str, Any], user_id: str, pseudonym: str, *, story: str) -> dict[str, Any]:
    """A consented snapshot with `user_id` replaced, and its story removed when the nomination's was."""
    erased = dict(snapshot)
    erased["nominees"] = [dict(p, user_id=pseudonym) if p.get("user_id") == user_id else p
                          for p in snapshot.get("nominees") or []]
    if erased.get("nominator_id") == user_id:
        erased["nominator_id"] = pseudonym
    if story == REMOVED:
        erased["story"] = REMOVED
    return erased
