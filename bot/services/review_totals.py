"""The awards panel's running totals: one row per candidate and per round, kept in the transaction that changes
them, so a review page reads its own rows instead of rebuilding the round on every click.

Whatever changes a candidate's inputs (a nomination made, edited, merged into or withdrawn, an endorsement, a
score, an erasure) calls `refresh` with the nominations it touched, in its own transaction. `refresh` puts each
nomination under the candidate it now belongs to, locks every candidate it left or joined (in id order), and then
recounts each one from its own rows. A second transaction touching the same candidate waits for the lock and
counts what the first committed, so two panel members scoring at once cannot lose an update on PostgreSQL (on
SQLite writers queue anyway). The round's tallies move by the difference each recount made, with one atomic
`count = count + n` per row, in a fixed order.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.models import (
    Endorsement,
    Nomination,
    NominationStatus,
    Nominee,
    ReviewCandidate,
    ReviewNomination,
    ReviewPerson,
    ReviewTally,
    Score,
)

LONGEST_KEY = 200
CHUNK = 500  # nominations read at once (well under PostgreSQL's 32,767 parameters)
TALLY_LABEL = 200

Tallies = Counter[tuple[int, str, str, str]]  # (round, award, kind, label) -> change


def person_key(user_id: str | None, name: str | None) -> str:
    return user_id or f"name:{(name or '').strip().lower()}"


def candidate_key(keys: Iterable[str]) -> str:
    """A candidate's key: its people's keys, sorted and joined. A large team's would outgrow a button's value and
    the 400-character column, so past 200 characters it is a digest of them instead (the same team, the same key)."""
    joined = "+".join(sorted(keys))
    if len(joined) <= LONGEST_KEY:
        return joined
    return "team:" + hashlib.sha256(joined.encode()).hexdigest()


def _insert(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def _many(session: AsyncSession, statement: Any, rows: list[dict[str, Any]]) -> None:
    """One statement for many rows, as Core (the ORM's bulk path is not needed for these tables)."""
    connection = await session.connection()
    await connection.execute(statement, rows)


async def refresh(session: AsyncSession, nomination_ids: Iterable[int | None]) -> None:
    """Bring the totals up to date with these nominations as they now stand in this transaction."""
    ids = sorted({i for i in nomination_ids if i is not None})
    await session.flush()
    tallies: Tallies = Counter()
    for start in range(0, len(ids), CHUNK):
        await _refresh_chunk(session, ids[start:start + CHUNK], tallies)
    await _apply_tallies(session, tallies)


async def _refresh_chunk(session: AsyncSession, ids: list[int], tallies: Tallies) -> None:
    rows = (await session.execute(select(col(Nomination.id), col(Nomination.round_id), col(Nomination.award),
                                         col(Nomination.status)).where(col(Nomination.id).in_(ids)))).all()
    people: dict[int, list[str]] = {i: [] for i in ids}
    for nomination_id, user_id, name in (await session.execute(select(
            col(Nominee.nomination_id), col(Nominee.user_id), col(Nominee.name))
            .where(col(Nominee.nomination_id).in_(ids)))).all():
        people[nomination_id].append(person_key(user_id, name))
    wanted = {r.id: (r.round_id, r.award, candidate_key(people[r.id])) for r in rows
              if r.status == NominationStatus.ACTIVE and r.round_id is not None}
    for _attempt in range(5):
        mapped = dict((await session.execute(select(col(ReviewNomination.nomination_id),
                                                    col(ReviewNomination.candidate_id))
                                             .where(col(ReviewNomination.nomination_id).in_(ids)))).all())
        by_key = await _candidate_ids(session, set(wanted.values()))
        locked = await _lock(session, set(mapped.values()) | set(by_key.values()))
        if set(by_key.values()) <= locked:
            break
        # A candidate we found was emptied and deleted by another transaction before we could lock it: again.
    else:  # pragma: no cover - five deletions in a row of the very candidate being joined
        raise RuntimeError("the panel's totals could not be locked")
    moved = {n: by_key[key] for n, key in wanted.items() if mapped.get(n) != by_key[key]}
    gone = [n for n in mapped if n not in wanted]
    if gone or moved:
        await session.execute(delete(ReviewNomination).where(col(ReviewNomination.nomination_id).in_(
            gone + list(moved))))
    if moved:
        await _many(session, _insert(session, ReviewNomination), [
            {"nomination_id": n, "candidate_id": c} for n, c in sorted(moved.items())])
    for candidate_id in sorted(locked):
        await _recount(session, candidate_id, tallies)


async def _candidate_ids(session: AsyncSession, keys: set[tuple[int, str, str]]) -> dict[tuple[int, str, str], int]:
    """The ids of these candidates, each made (empty) if it has no row yet."""
    if not keys:
        return {}
    await _many(session, _insert(session, ReviewCandidate).on_conflict_do_nothing(), [
        {"round_id": r, "award": a, "candidate": k, "people": [], "values": {}, "behaviours": {}, "nominations": 0,
         "endorsements": 0, "scores": 0, "score_total": 0} for r, a, k in sorted(keys)])
    found = (await session.execute(select(col(ReviewCandidate.id), col(ReviewCandidate.round_id),
                                          col(ReviewCandidate.award), col(ReviewCandidate.candidate)).where(
        tuple_(col(ReviewCandidate.round_id), col(ReviewCandidate.award), col(ReviewCandidate.candidate))
        .in_(sorted(keys))))).all()
    return {(r.round_id, r.award, r.candidate): r.id for r in found}


async def _lock(session: AsyncSession, candidate_ids: set[int]) -> set[int]:
    """Lock these candidates' rows until the transaction ends, in id order (so two transactions cannot each hold
    what the other waits for); those that still exist."""
    if not candidate_ids:
        return set()
    ids = sorted(candidate_ids)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a write takes the database's one write lock, held until commit.
        await session.execute(update(ReviewCandidate).where(col(ReviewCandidate.id).in_(ids))
                              .values(nominations=col(ReviewCandidate.nominations)))
        found = (await session.scalars(select(col(ReviewCandidate.id)).where(col(ReviewCandidate.id).in_(ids)))).all()
    else:
        found = (await session.scalars(select(col(ReviewCandidate.id)).where(col(ReviewCandidate.id).in_(ids))
                                       .order_by(col(ReviewCandidate.id)).with_for_update())).all()
    return {i for i in found if i is not None}


async def _recount(session: AsyncSession, candidate_id: int, tallies: Tallies) -> None:
    """Count one (locked) candidate again from its own nominations, endorsements and scores."""
    old = (await session.execute(select(col(ReviewCandidate.round_id), col(ReviewCandidate.award),
                                        col(ReviewCandidate.nominations), col(ReviewCandidate.values),
                                        col(ReviewCandidate.behaviours))
                                 .where(col(ReviewCandidate.id) == candidate_id))).first()
    if old is None:
        return
    theirs = select(col(ReviewNomination.nomination_id)).where(col(ReviewNomination.candidate_id) == candidate_id)
    nominations = (await session.execute(select(
        col(Nomination.id), col(Nomination.values), col(Nomination.behaviours), col(Nomination.nominator_id),
        col(Nomination.entered_by)).where(col(Nomination.id).in_(theirs)).order_by(col(Nomination.id)))).all()
    values: Counter[str] = Counter()
    behaviours: Counter[str] = Counter()
    nominated: Counter[str] = Counter()
    for n in nominations:
        values.update(n.values or [])
        behaviours.update(n.behaviours or [])
        nominated.update({u for u in (n.nominator_id, n.entered_by) if u})
    scored: dict[str, tuple[int, int]] = {}
    endorsements = 0
    people: list[dict[str, Any]] = []
    if nominations:
        endorsements = int(await session.scalar(select(func.count()).select_from(Endorsement).where(
            col(Endorsement.nomination_id).in_(theirs))) or 0)
        scored = {member: (int(count), int(total or 0)) for member, count, total in (await session.execute(
            select(col(Score.panel_member), func.count(), func.sum(col(Score.score)))
            .where(col(Score.nomination_id).in_(theirs)).group_by(col(Score.panel_member)))).all()}
        first = (await session.execute(select(col(Nominee.user_id), col(Nominee.name), col(Nominee.role),
                                              col(Nominee.site)).where(
            col(Nominee.nomination_id) == nominations[0].id).order_by(col(Nominee.id)))).all()
        people = [{"user_id": p.user_id, "name": p.name, "role": p.role, "site": p.site}
                  for p in sorted(first, key=lambda p: person_key(p.user_id, p.name))]
    _tally(tallies, old.round_id, old.award, len(nominations), old.nominations, values, behaviours,
           Counter(old.values or {}), Counter(old.behaviours or {}))
    involved = {user: (nominated.get(user, 0), scored.get(user, (0, 0))[0]) for user in {*nominated, *scored}}
    before = {r.user_id: (r.nominated, r.scored) for r in (await session.execute(select(
        col(ReviewPerson.user_id), col(ReviewPerson.nominated), col(ReviewPerson.scored))
        .where(col(ReviewPerson.candidate_id) == candidate_id))).all()}
    if set(before) - set(involved):
        await session.execute(delete(ReviewPerson).where(col(ReviewPerson.candidate_id) == candidate_id,
                                                         col(ReviewPerson.user_id).in_(set(before) - set(involved))))
    if not nominations:
        await session.execute(delete(ReviewCandidate).where(col(ReviewCandidate.id) == candidate_id))
        return
    changed = sorted((user, counts) for user, counts in involved.items() if before.get(user) != counts)
    if changed:
        statement = _insert(session, ReviewPerson)
        await _many(session, statement.on_conflict_do_update(
            index_elements=["candidate_id", "user_id"],
            set_={"nominated": statement.excluded["nominated"], "scored": statement.excluded["scored"]}),
            [{"candidate_id": candidate_id, "user_id": user, "nominated": n, "scored": s}
             for user, (n, s) in changed])
    await session.execute(update(ReviewCandidate).where(col(ReviewCandidate.id) == candidate_id).values(
        people=people, nominations=len(nominations), endorsements=endorsements,
        scores=sum(c for c, _ in scored.values()), score_total=sum(t for _, t in scored.values()),
        values=dict(sorted(values.items())), behaviours=dict(sorted(behaviours.items()))))


def _tally(tallies: Tallies, round_id: int, award: str, nominations: int, before: int, values: Counter[str],
           behaviours: Counter[str], values_before: Counter[str], behaviours_before: Counter[str]) -> None:
    tallies[(round_id, award, "nominations", "")] += nominations - before
    tallies[(round_id, award, "candidates", "")] += (nominations > 0) - (before > 0)
    for kind, now, then in (("value", values, values_before), ("behaviour", behaviours, behaviours_before)):
        for label in {*now, *then}:
            tallies[(round_id, award, kind, label[:TALLY_LABEL])] += now.get(label, 0) - then.get(label, 0)


async def _apply_tallies(session: AsyncSession, tallies: Tallies) -> None:
    rows = [{"round_id": r, "award": a, "kind": k, "label": label, "count": n}
            for (r, a, k, label), n in sorted(tallies.items()) if n]
    if rows:
        statement = _insert(session, ReviewTally)
        await _many(session, statement.on_conflict_do_update(
            index_elements=["round_id", "award", "kind", "label"],
            set_={"count": col(ReviewTally.count) + statement.excluded["count"]}), rows)


async def rebuild(session: AsyncSession, round_id: int) -> None:
    """Count a whole round from scratch (for data written around the services, as the benchmark seeds it)."""
    ids = (await session.scalars(select(col(Nomination.id)).where(col(Nomination.round_id) == round_id))).all()
    await refresh(session, ids)


def tally_counts(rows: Sequence[Any]) -> dict[str, Counter[str]]:
    """Tally rows (kind, label, count) as counters by kind, largest first, ties by label."""
    counts: dict[str, Counter[str]] = {}
    for kind, label, count in sorted(rows, key=lambda r: (-r[2], r[1])):
        if count > 0:
            counts.setdefault(kind, Counter())[label] = count
    return counts


async def forget(session: AsyncSession, *, rounds: Any, nominations: Any) -> None:
    """Retention removes these nominations (a sub-query), which include every nomination of these rounds (another):
    their totals go first."""
    await session.execute(delete(ReviewNomination).where(col(ReviewNomination.nomination_id).in_(nominations)))
    await session.execute(delete(ReviewPerson).where(col(ReviewPerson.candidate_id).in_(
        select(col(ReviewCandidate.id)).where(col(ReviewCandidate.round_id).in_(rounds)))))
    await session.execute(delete(ReviewCandidate).where(col(ReviewCandidate.round_id).in_(rounds)))
    await session.execute(delete(ReviewTally).where(col(ReviewTally.round_id).in_(rounds)))
