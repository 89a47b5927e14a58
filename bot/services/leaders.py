"""The leaders: where each may announce engagements, and the directory staff read to know who their leaders are
(name, role, area, photo, next engagements, and the commitment each wrote: the strategy's Leadership Charter)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot import when
from beacon.bot.clock import Clock
from beacon.bot.db import insert_ignoring_duplicates
from beacon.bot.errors import InvalidInput
from beacon.bot.models import Engagement, EngagementStatus, LeaderProfile
from beacon.bot.organisation import Organisation, Role, Site, StaffGroup
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.people import Colleague, PeopleDirectory

STATEMENT_LIMIT = 500  # characters: a promise people read at a glance, not an essay
UPCOMING = 3           # engagements shown per leader
LISTED = 40            # leaders in one answer (a message holds 50 blocks: one each, and the heading and buttons)
ANNOUNCES = (Role.EXECUTIVES, Role.LEADERS)
TRUST_WIDE = "Trust-wide"


@dataclass(frozen=True)
class LeaderCard:
    user_id: str
    name: str              # empty until the profile is first copied: the builder mentions them instead
    title: str             # from their Slack profile, else their Beacon role
    area: str
    image_url: str
    statement: str | None
    upcoming: tuple[str, ...]  # "Wed 25 Nov, 14:00–15:30 GMT at Chelmsford Ambulance Station"


@dataclass(frozen=True)
class Directory:
    leaders: list[LeaderCard]
    more: int                # matched but not listed
    query: str | None


class Leaders:
    def __init__(self, *, organisation: Organisation, clock: Clock, authorisation: Authorisation,
                 people: PeopleDirectory, audit: Audit):
        self._org = organisation
        self._clock = clock
        self._auth = authorisation
        self._people = people
        self._audit = audit

    # -- where a leader may announce -----------------------------------------------------------------------
    async def visit_sites(self, user_id: str) -> list[Site]:
        """The sites `user_id` may announce a visit at: every site for an executive, a leader's own otherwise."""
        if await self._auth.has(user_id, Role.EXECUTIVES):
            return list(self._org.sites)
        return self._org.leader_sites(await self._auth.granted_by(user_id, Role.LEADERS))

    async def visit_staff_groups(self, user_id: str) -> list[StaffGroup]:
        """The staff groups `user_id` may announce a visit for: every one for an executive, a leader's own otherwise."""
        if await self._auth.has(user_id, Role.EXECUTIVES):
            return list(self._org.staff_groups)
        return self._org.leader_staff_groups(await self._auth.granted_by(user_id, Role.LEADERS))

    async def place_problems(self, *, user_id: str, site: str | None, other_place: str | None,
                             leader: str | None = None, staff_group: str | None = None) -> dict[str, str]:
        """Refuse anyone without either role; for a leader, name the sites they may use when they chose another, and
        keep the visit their own. Keys: "site_choice" (the site list), "site" (the "somewhere else" box), "leader"."""
        await self._auth.require_any(user_id, ANNOUNCES, action="Announcing a visit")
        if await self._auth.has(user_id, Role.EXECUTIVES):
            return {}
        if leader and leader != user_id:
            return {"leader": "As a leader you announce your own visits: choose yourself. An executive can announce "
                              "a visit for someone else."}
        if staff_group and staff_group not in {g.name for g in await self.visit_staff_groups(user_id)}:
            return {"staff_group": f"{staff_group} is not one of your staff groups. As a leader you announce visits "
                                   "for your own places; an executive can announce a visit for any staff group."}
        own = await self.visit_sites(user_id)
        names = ", ".join(s.name for s in own) or "none yet"
        if site and site not in {s.name for s in own}:
            return {"site_choice": f"{site} is not one of your sites. As a leader you announce visits at your own "
                                   f"sites: {names}. An executive can announce a visit anywhere."}
        if not site and (other_place or "").strip():
            return {"site": f"As a leader you announce visits at your own sites: {names}. Choose one of them "
                            "above; an executive can announce a visit anywhere else."}
        return {}

    # -- the directory -----------------------------------------------------------------------------------------
    def _area(self, entries: list[str]) -> str:
        """A leader's area as people read it ("Essex, Bedford Ambulance Station")."""
        places = [self._org.leaders[m] for m in entries if m in self._org.leaders]
        return ", ".join(dict.fromkeys([a for p in places for a in p.areas] + [s for p in places for s in p.sites]))

    async def directory(self, *, session: AsyncSession, query: str | None = None,
                        limit: int = LISTED) -> Directory:
        """Every leader (executives first), or those whose name, title, area or sites match `query`.

        Two statements whatever the number of leaders: their stored profiles, then their next engagements."""
        executives = await self._auth.members(Role.EXECUTIVES)
        grants = await self._auth.grants(Role.LEADERS)  # group membership expanded once, not per leader
        ids = sorted(executives | grants.keys())
        if not ids:
            return Directory([], 0, query)
        profiles = {p.user_id: p for p in (await session.scalars(
            select(LeaderProfile).where(col(LeaderProfile.user_id).in_(ids)))).all()}
        wanted = (query or "").strip().lower()
        matched: list[tuple[tuple[bool, str, str], LeaderCard]] = []
        for user_id in ids:
            profile = profiles.get(user_id)
            area = TRUST_WIDE if user_id in executives else self._area(grants[user_id])
            name, title = (profile.name, profile.title) if profile else ("", "")
            title = title or ("Executive" if user_id in executives else "Leader")
            if wanted and not any(wanted in text.lower() for text in _searchable(
                    name, title, area, [] if user_id in executives else self._org.leader_sites(grants[user_id]))):
                continue
            card = LeaderCard(user_id=user_id, name=name, title=title, area=area,
                              image_url=profile.image_url if profile else "",
                              statement=profile.statement if profile else None, upcoming=())
            matched.append(((user_id not in executives, area.lower(), (name or user_id).lower()), card))
        matched.sort(key=lambda pair: pair[0])
        shown = [card for _, card in matched[:limit]]
        upcoming = await self._upcoming(session, [c.user_id for c in shown])
        cards = [LeaderCard(**{**vars(c), "upcoming": tuple(upcoming.get(c.user_id, ()))}) for c in shown]
        return Directory(cards, max(0, len(matched) - limit), query)

    async def _upcoming(self, session: AsyncSession, user_ids: list[str]) -> dict[str, list[str]]:
        """Each leader's next few engagements, in one statement (numbered per leader by a window function)."""
        if not user_ids:
            return {}
        now = self._clock.now()
        number = func.row_number().over(partition_by=col(Engagement.leader_user_id),
                                        order_by=(col(Engagement.starts_at), col(Engagement.id))).label("n")
        ranked = select(col(Engagement.id).label("id"), number).where(
            col(Engagement.leader_user_id).in_(user_ids), col(Engagement.status) == EngagementStatus.SCHEDULED,
            col(Engagement.ends_at) > now).subquery()
        rows = (await session.scalars(select(Engagement).join(ranked, ranked.c.id == col(Engagement.id))
                                      .where(ranked.c.n <= UPCOMING)
                                      .order_by(col(Engagement.starts_at), col(Engagement.id)))).all()
        found: dict[str, list[str]] = {}
        for engagement in rows:
            span = when.span(engagement.starts_at, engagement.ends_at, self._org.tz, all_day=engagement.all_day)
            place = engagement.site or engagement.location or "a place to be confirmed"
            found.setdefault(engagement.leader_user_id or "", []).append(f"{span} at {place}")
        return found

    async def count(self) -> int:
        """How many leaders the directory lists (from role membership in memory: no database, no Slack)."""
        return len(await self._auth.members(Role.EXECUTIVES) | await self._auth.members(Role.LEADERS))

    async def may_write(self, user_id: str) -> bool:
        return bool((await self._auth.roles_of(user_id)).intersection(ANNOUNCES))

    # -- the leader's own words ------------------------------------------------------------------------------
    async def statement_of(self, *, session: AsyncSession, user_id: str) -> str | None:
        await self._auth.require_any(user_id, ANNOUNCES, action="Writing a leadership commitment")
        profile = await session.get(LeaderProfile, user_id)
        return profile.statement if profile else None

    async def set_statement(self, *, session: AsyncSession, user_id: str, text: str) -> str | None:
        """Store the leader's commitment (empty: remove it); over the limit is refused with the limit named."""
        await self._auth.require_any(user_id, ANNOUNCES, action="Writing a leadership commitment")
        statement = text.strip()
        if len(statement) > STATEMENT_LIMIT:
            raise InvalidInput(f"Keep your commitment to {STATEMENT_LIMIT} characters; this is {len(statement)}. "
                               f"Shorten it by {len(statement) - STATEMENT_LIMIT}.")
        now = self._clock.now()
        profile = await self._row(session, user_id)
        profile.statement, profile.statement_at = statement or None, now
        session.add(profile)
        await self._audit.record(session=session, actor=user_id, action="leader.statement",
                                 subject=f"leader:{user_id}", details={"length": len(statement)})
        return profile.statement

    @staticmethod
    async def _row(session: AsyncSession, user_id: str) -> LeaderProfile:
        # Inserted if missing without a unique-key race against the profile copy; then read back to change.
        await insert_ignoring_duplicates(session, LeaderProfile, {"user_id": user_id, "name": "", "title": "",
                                                                  "image_url": ""})
        profile = await session.get(LeaderProfile, user_id, populate_existing=True)
        assert profile is not None
        return profile

    # -- profiles copied from Slack, off the request path -------------------------------------------------------
    async def profiles_from_slack(self) -> dict[str, Colleague]:
        """Every leader's Slack profile (the people cache first, Slack for the rest); call outside a transaction."""
        ids = await self._auth.members(Role.EXECUTIVES) | await self._auth.members(Role.LEADERS)
        return await self._people.colleagues(sorted(ids))

    async def store_profiles(self, *, session: AsyncSession, people: Iterable[Colleague]) -> int:
        now, stored = self._clock.now(), 0
        for person in people:
            profile = await self._row(session, person.id)
            profile.name, profile.title = person.name[:200], person.title[:200]
            profile.image_url = person.image[:500] if person.image.startswith("https://") else ""
            profile.profile_at = now
            session.add(profile)
            stored += 1
        return stored


def _searchable(name: str, title: str, area: str, sites: list[Site]) -> list[str]:
    return [name, title, area] + [s.name for s in sites] + [a for s in sites for a in s.aliases] + [
        s.area for s in sites]

