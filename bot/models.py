"""The tables. Rules that must never break live here as constraints, not only in code."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Index, String, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel, col

from beacon.bot.db import UTCDateTime


class ProcessedEvent(SQLModel, table=True):
    """Events API deliveries already handled: Slack retries the same event_id, maybe to another replica."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)


class OutboxStatus(StrEnum):
    HELD = "held"            # written, but waiting (e.g. for a second comms member's approval)
    PENDING = "pending"      # waiting for its time
    SENDING = "sending"      # claimed by a dispatcher under a lease
    SENT = "sent"
    FAILED = "failed"        # Slack refused it for good (e.g. channel archived)
    MISSED = "missed"        # its time passed by more than the grace period before it could go
    CANCELLED = "cancelled"


OUTBOX_FINAL = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.MISSED, OutboxStatus.CANCELLED)


class OutboxMessage(SQLModel, table=True):
    """Everything Beacon posts on a schedule or in bulk, written before anyone is told it is scheduled."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_claimable", "status", "available_at"),
        Index("ix_outbox_message_source", "source", "source_id"),
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in OutboxStatus)})",
                        name="ck_outbox_message_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)  # one row per promise, whichever replica writes it
    source: str = Field(max_length=40)                    # what asked for it: scheduled_post, notice, ...
    source_id: int | None = None
    channel: str = Field(max_length=32)                   # a channel ID, or a user ID for a direct message
    content: dict[str, Any] = Field(sa_type=JSON)         # {"text", "blocks"} or {"template", "params"}
    thread_ts: str | None = Field(default=None, max_length=32)
    update_ts: str | None = Field(default=None, max_length=32)  # set: edit that message (chat.update) instead
    status: str = Field(max_length=12)
    due_at: datetime = Field(sa_type=UTCDateTime)
    available_at: datetime = Field(sa_type=UTCDateTime)   # not claimed before this (retry backoff)
    expires_at: datetime = Field(sa_type=UTCDateTime)     # not sent after this: marked missed instead
    attempts: int = 0                                     # claims so far
    failures: int = 0                                     # claims that ended in a recorded temporary failure
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_ts: str | None = Field(default=None, max_length=32)
    sent_channel: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PostStatus(StrEnum):
    DRAFT = "draft"                        # written in the modal, not yet confirmed
    PENDING_APPROVAL = "pending_approval"  # confirmed, waiting for a second comms member
    SCHEDULED = "scheduled"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    COMPLETED = "completed"                # no more runs
    FAILED = "failed"                      # Slack refused it for good; the author was told


class ScheduledPost(SQLModel, table=True):
    """A post the communications team scheduled: once or repeating, in the trust's wall-clock time."""

    __tablename__ = "scheduled_post"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in PostStatus)})",
                        name="ck_scheduled_post_status"),
        CheckConstraint("repeat IN ('none', 'daily', 'weekdays', 'weekly', 'monthly')",
                        name="ck_scheduled_post_repeat"),
        CheckConstraint("approved_by IS NULL OR approved_by != author_id", name="ck_scheduled_post_second_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    author_id: str = Field(max_length=32, index=True)
    channels: list[str] = Field(sa_type=JSON)
    message: dict[str, Any] = Field(sa_type=JSON)         # the rich_text block, kept as Block Kit
    fallback_text: str = Field(sa_type=Text)              # notification text, mrkdwn-safe
    starts_local: datetime = Field(sa_type=DateTime)      # wall-clock start in `timezone`, no offset
    timezone: str = Field(max_length=64)
    repeat: str = Field(max_length=10)
    until_local: date | None = None
    status: str = Field(max_length=20, index=True)
    revision: int = 1
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    audience: dict[str, int] | None = Field(default=None, sa_type=JSON)  # channel -> members, at preview
    audience_confirmed: bool = False
    approved_by: str | None = Field(default=None, max_length=32)
    decided_by: str | None = Field(default=None, max_length=32)
    edit_of: int | None = Field(default=None, foreign_key="scheduled_post.id")  # a draft that changes a post
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """A periodic job's run for one period (e.g. the digest for a week): at most once, across replicas."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_job_period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=60)
    period: str = Field(max_length=60)
    claimed_by: str = Field(max_length=64)
    started_at: datetime = Field(sa_type=UTCDateTime)


class Award(StrEnum):
    """Award keys as content/awards.yaml names them; `thanks` enters no award."""

    VALUES = "values"
    LEADERSHIP = "leadership"
    THANKS = "thanks"


class NominationStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Consent(StrEnum):
    PENDING = "pending"      # asked, not yet answered
    GIVEN = "given"
    DECLINED = "declined"
    NOT_ASKED = "not_asked"  # the nominator did not wish it public, or the nominee is not on Slack


class Nomination(SQLModel, table=True):
    """A colleague's recognition of one or more colleagues, tagged to values and leadership behaviours."""

    __tablename__ = "nomination"
    __table_args__ = (
        CheckConstraint("award IN ('values', 'leadership', 'thanks')", name="ck_nomination_award"),
        CheckConstraint("status IN ('active', 'withdrawn')", name="ck_nomination_status"),
        CheckConstraint("nominator_id IS NOT NULL OR nominator_name IS NOT NULL", name="ck_nomination_nominator"),
        Index("ix_nomination_nominator_created", "nominator_id", "created_at"),
        Index("ix_nomination_created", "created_at"),
        Index("ix_nomination_celebrated", "celebrated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    nominator_id: str | None = Field(default=None, max_length=32)   # None for a paper or email nomination
    nominator_name: str | None = Field(default=None, max_length=120)  # who wrote it, when entered for them
    entered_by: str | None = Field(default=None, max_length=32)     # the comms member who entered it for them
    award: str = Field(max_length=20)
    round_id: int | None = Field(default=None, foreign_key="award_round.id", index=True)
    story: str = Field(sa_type=Text)
    values: list[str] = Field(sa_type=JSON)
    framework: str | None = Field(default=None, max_length=60)
    behaviours: list[str] = Field(sa_type=JSON)
    share_publicly: bool = False
    hide_nominator: bool = False
    status: str = Field(default=NominationStatus.ACTIVE, max_length=12)
    # One award nomination per nominator, colleague(s), award and round: a second one updates the first.
    duplicate_key: str | None = Field(default=None, max_length=400, unique=True)
    public_channel: str | None = Field(default=None, max_length=32)
    public_ts: str | None = Field(default=None, max_length=32)
    celebrated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # when the public post went out
    # Consent is to exact words: every change to what a public post would show makes a new version, and the
    # nominees are asked again. A public post is only ever built from `consented_snapshot`, the content (at
    # `consented_version`, hashed as `consented_hash`) that every person it names said yes to.
    content_version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})
    content_hash: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    consented_version: int | None = Field(default=None)
    consented_hash: str | None = Field(default=None, max_length=64)
    consented_snapshot: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Nominee(SQLModel, table=True):
    """A person a nomination recognises: a Slack user, or someone not on Slack named by name, role and site."""

    __tablename__ = "nominee"
    __table_args__ = (
        UniqueConstraint("nomination_id", "user_id", name="uq_nominee_user"),
        CheckConstraint("user_id IS NOT NULL OR name IS NOT NULL", name="ck_nominee_identified"),
        CheckConstraint("consent IN ('pending', 'given', 'declined', 'not_asked')", name="ck_nominee_consent"),
        Index("ix_nominee_user_nomination", "user_id", "nomination_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    user_id: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=120)
    role: str | None = Field(default=None, max_length=120)
    site: str | None = Field(default=None, max_length=120)
    consent: str = Field(default=Consent.NOT_ASKED, max_length=12)
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consented_version: int | None = Field(default=None)  # the nomination's content version they said yes to


class Endorsement(SQLModel, table=True):
    """A colleague backing a public recognition instead of writing a duplicate."""

    __tablename__ = "endorsement"
    __table_args__ = (UniqueConstraint("nomination_id", "user_id", name="uq_endorsement_once"),)

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    user_id: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RoundStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"        # closed to nominations; the panel reviews
    DECIDED = "decided"      # winners chosen, not yet announced
    ANNOUNCED = "announced"
    ARCHIVED = "archived"


class AwardRound(SQLModel, table=True):
    """One round of the Trust's awards: both awards open for nominations together, then reviewed."""

    __tablename__ = "award_round"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in RoundStatus)})", name="ck_award_round_status"),
        # At most one round takes nominations at a time.
        Index("uq_award_round_one_open", "status", unique=True, sqlite_where=text("status = 'open'"),
              postgresql_where=text("status = 'open'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    status: str = Field(max_length=12)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=32)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Score(SQLModel, table=True):
    """One panel member's score of one nomination, against the award's rubric."""

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("nomination_id", "panel_member", name="uq_score_once"),
        CheckConstraint("score BETWEEN 1 AND 5", name="ck_score_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    panel_member: str = Field(max_length=32)
    score: int
    level: str | None = Field(default=None, max_length=40)  # for the Leadership award: Essential ... Exemplary
    note: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class CandidateDecision(SQLModel, table=True):
    """The panel's view of one candidate (a person, or a team, for one award in one round)."""

    __tablename__ = "candidate_decision"
    __table_args__ = (UniqueConstraint("round_id", "award", "candidate", name="uq_candidate_decision"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="award_round.id", index=True)
    award: str = Field(max_length=20)
    candidate: str = Field(max_length=400)  # the nominee keys, sorted: U123 or name:sam jones
    shortlisted: bool = False
    winner: bool = False
    winner_consents: dict[str, str] = Field(default_factory=dict, sa_type=JSON)  # user -> given / declined
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ConflictDeclaration(SQLModel, table=True):
    """A panel member stepping back from a candidate for a reason Beacon cannot see (a relative, a manager)."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (UniqueConstraint("round_id", "award", "candidate", "panel_member", name="uq_conflict_once"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="award_round.id", index=True)
    award: str = Field(max_length=20)
    candidate: str = Field(max_length=400)
    panel_member: str = Field(max_length=32)
    declared_at: datetime = Field(sa_type=UTCDateTime)


# The candidate column sorts as Python sorts strings (by code point), which PostgreSQL does only in the C collation.
CANDIDATE_KEY = String(400).with_variant(String(400, collation="C"), "postgresql")


class ReviewCandidate(SQLModel, table=True):
    """The panel's running totals for one candidate (a person or team, for one award in one round), kept in the
    transaction that changes any of its nominations, endorsements or scores (`bot/services/review_totals.py`), so
    a review page reads only its own rows instead of rebuilding the round. A candidate with no nominations left
    has no row."""

    __tablename__ = "review_candidate"
    __table_args__ = (
        UniqueConstraint("round_id", "award", "candidate", name="uq_review_candidate"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="award_round.id")
    award: str = Field(max_length=20)
    candidate: str = Field(sa_type=CANDIDATE_KEY)  # the nominee keys, as CandidateDecision.candidate
    people: list[dict[str, Any]] = Field(sa_type=JSON)  # from its first nomination: user_id, name, role, site
    nominations: int = 0
    endorsements: int = 0
    scores: int = 0
    score_total: int = 0
    values: dict[str, int] = Field(sa_type=JSON)      # value key -> nominations naming it
    behaviours: dict[str, int] = Field(sa_type=JSON)  # behaviour key -> nominations naming it


# The review's order: most nominations, then most endorsements, then the key (a page is read straight from it).
Index("ix_review_candidate_rank", col(ReviewCandidate.round_id), col(ReviewCandidate.award),
      col(ReviewCandidate.nominations).desc(), col(ReviewCandidate.endorsements).desc(),
      col(ReviewCandidate.candidate))


class ReviewNomination(SQLModel, table=True):
    """Which candidate each active nomination in a round counts towards."""

    __tablename__ = "review_nomination"
    __table_args__ = (Index("ix_review_nomination_candidate", "candidate_id", "nomination_id"),)

    nomination_id: int = Field(foreign_key="nomination.id", primary_key=True)
    candidate_id: int = Field(foreign_key="review_candidate.id")


class ReviewPerson(SQLModel, table=True):
    """Someone other than its nominees involved with a candidate: how many of its nominations they made or entered
    (a conflict, if they sit on the panel) and how many they have scored ("you scored 2 of 5")."""

    __tablename__ = "review_person"

    candidate_id: int = Field(foreign_key="review_candidate.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    nominated: int = 0
    scored: int = 0


class ReviewTally(SQLModel, table=True):
    """Per round and award: nominations, candidates, and nominations naming each value and behaviour."""

    __tablename__ = "review_tally"

    round_id: int = Field(foreign_key="award_round.id", primary_key=True)
    award: str = Field(max_length=20, primary_key=True)
    kind: str = Field(max_length=12, primary_key=True)  # nominations, candidates, value, behaviour
    label: str = Field(default="", max_length=200, primary_key=True)  # the value or behaviour; "" for the counts
    count: int = 0


class RoundExport(SQLModel, table=True):
    """Who took a copy of a round's nominations, and when."""

    __tablename__ = "round_export"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="award_round.id", index=True)
    user_id: str = Field(max_length=32)
    rows: int
    exported_at: datetime = Field(sa_type=UTCDateTime)


class CalendarSource(SQLModel, table=True):
    """What Beacon remembers about each calendar source between syncs."""

    __tablename__ = "calendar_source"

    key: str = Field(primary_key=True, max_length=400)  # graph:mailbox or ics:url
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    consecutive_failures: int = 0
    failure_reported: bool = False
    empty_answers: int = 0  # an empty answer must repeat before it empties the calendar
    skipped_events: int = 0  # events the last sync could not read: skipped, the rest kept (migration 0015)
    facts_digest: str | None = Field(default=None, max_length=64)  # the answer the stored rows match (0015)


class EngagementStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class EngagementMode(StrEnum):
    """Where staff take part: at the place, online (a join link), or both."""

    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class Engagement(SQLModel, table=True):
    """A leader out and about: from Microsoft 365, an ICS feed, or a visit announced in Slack.

    Only what staff should see is kept: who, what, where, when and who it is open to. An event's body,
    attendees and meeting links are never stored.
    """

    __tablename__ = "engagement"
    __table_args__ = (
        UniqueConstraint("source_key", "external_id", "occurrence", name="uq_engagement_occurrence"),
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="ck_engagement_status"),
        Index("ix_engagement_starts", "starts_at", "status"),
        Index("ix_engagement_leader", "leader_user_id", "starts_at"),  # the leader directory's next few
        CheckConstraint("mode IN ('in_person', 'online', 'hybrid')", name="ck_engagement_mode"),
        CheckConstraint("join_link IS NULL OR join_link LIKE 'https://%'", name="ck_engagement_join_link_https"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_key: str = Field(max_length=400)
    external_id: str = Field(max_length=400)
    occurrence: str = Field(max_length=40)  # the occurrence's original start, for recurring events
    title: str = Field(max_length=300)
    leader: str = Field(max_length=200)
    leader_user_id: str | None = Field(default=None, max_length=32)
    site: str | None = Field(default=None, max_length=120)      # a site from beacon.yaml, when recognised
    location: str | None = Field(default=None, max_length=300)  # the location as the source gave it
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    all_day: bool = False
    open_to: str | None = Field(default=None, max_length=200)
    status: str = Field(default=EngagementStatus.SCHEDULED, max_length=12)
    announcement_queued: bool = False  # its announcement is in the outbox (and then in `announced_ts`)
    announced_channel: str | None = Field(default=None, max_length=32)
    announced_ts: str | None = Field(default=None, max_length=32)
    created_by: str | None = Field(default=None, max_length=32)  # for visits announced in Slack
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # Online or hybrid (visits announced in Slack): the join link is given only to staff who say they'll be
    # there (never in a channel's post, and not at all for an event by invitation), and to the leader.
    mode: str = Field(default=EngagementMode.IN_PERSON, max_length=12)
    join_link: str | None = Field(default=None, max_length=500)
    staff_group: str | None = Field(default=None, max_length=120)  # a staff group from beacon.yaml it is for


class VisitRequestStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class VisitRequest(SQLModel, table=True):
    """Staff asking a leader to come ("see our night shift at Bedford"), tracked to a decision."""

    __tablename__ = "visit_request"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'declined')", name="ck_visit_request_status"),
        CheckConstraint("status = 'open' OR decided_by IS NOT NULL", name="ck_visit_request_decided_by"),
    )

    id: int | None = Field(default=None, primary_key=True)
    requester_id: str = Field(max_length=32)
    place: str = Field(max_length=120)  # a site or staff group from beacon.yaml
    kind: str = Field(max_length=40)
    what: str = Field(max_length=1000)
    when_suits: str | None = Field(default=None, max_length=200)
    status: str = Field(default=VisitRequestStatus.OPEN, max_length=12)
    decided_by: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    posted_channel: str | None = Field(default=None, max_length=32)
    posted_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EngagementAttendee(SQLModel, table=True):
    """Someone who said "I'll be there"."""

    __tablename__ = "engagement_attendee"
    __table_args__ = (UniqueConstraint("engagement_id", "user_id", name="uq_engagement_attendee"),)

    id: int | None = Field(default=None, primary_key=True)
    engagement_id: int = Field(foreign_key="engagement.id", index=True)
    user_id: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class QuestionDelivery(StrEnum):
    BRIEFING = "briefing"  # in the leader's day-before briefing
    LATE = "late"  # asked after the briefing went (or when there was none): a DM of its own, within minutes
    FOLLOW_UP = "follow_up"  # asked in the last minutes before the day-after follow-up, which lists it


class EngagementQuestion(SQLModel, table=True):
    """A question for the leader, asked in advance. Asked without a name, it keeps nobody's: no asker, and only the
    day it was asked (a time would join it to request logs); the asker holds a token (its hash is here) to read
    the answer later, as with anonymous pulses."""

    __tablename__ = "engagement_question"
    __table_args__ = (CheckConstraint("(hide_name AND asker_id IS NULL) OR (NOT hide_name AND asker_id IS NOT NULL)",
                                      name="ck_engagement_question_anonymous_has_no_asker"),
                      UniqueConstraint("token_hash", name="uq_engagement_question_token_hash"))

    id: int | None = Field(default=None, primary_key=True)
    engagement_id: int = Field(foreign_key="engagement.id", index=True)
    asker_id: str | None = Field(default=None, max_length=32)
    hide_name: bool = True
    question: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)  # the start of the day it was asked (trust's timezone)
    token_hash: str | None = Field(default=None, max_length=64)
    delivered: str | None = Field(default=None, max_length=12)  # a QuestionDelivery
    answer: str | None = Field(default=None, sa_type=Text)
    answered_by: str | None = Field(default=None, max_length=32)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)  # the log, the digest


class UnmatchedLocation(SQLModel, table=True):
    """Locations that matched no site, reported to the administrators once each."""

    __tablename__ = "unmatched_location"

    location: str = Field(primary_key=True, max_length=300)
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    reported: bool = False


class UserPreference(SQLModel, table=True):
    """What a person told Beacon about themselves: their site (so it comes first), and whether they want a
    personal digest each week."""

    __tablename__ = "user_preference"

    user_id: str = Field(primary_key=True, max_length=32)
    site: str | None = Field(default=None, max_length=120)
    personal_digest: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    updated_at: datetime = Field(sa_type=UTCDateTime)


class PulseStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class Pulse(SQLModel, table=True):
    """A pulse poll for the staff forum: up to five questions, anonymous unless its creator says otherwise."""

    __tablename__ = "pulse"
    __table_args__ = (CheckConstraint("status IN ('scheduled', 'open', 'closed')", name="ck_pulse_status"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=150)
    questions: list[dict[str, Any]] = Field(sa_type=JSON)  # [{key, type, text, options, theme}]
    channel: str = Field(max_length=32)
    created_by: str = Field(max_length=32)
    anonymous: bool = True
    live_results: bool = False
    remind_hours_before: int | None = None
    status: str = Field(max_length=12, index=True)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime, index=True)
    series_id: int | None = Field(default=None, foreign_key="pulse_series.id")
    message_channel: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    responses: int = 0        # how many have answered (shown on the message)
    responses_shown: int = 0  # the count the message last showed (updates are batched)
    created_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class PulseSeries(SQLModel, table=True):
    """A pulse that runs itself again on a timetable (e.g. the first Monday of each month)."""

    __tablename__ = "pulse_series"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=150)
    template: dict[str, Any] = Field(sa_type=JSON)  # what each run is made from
    rule: str = Field(max_length=40)                # first_monday_monthly, weekly_monday, ...
    at: str = Field(max_length=5)                   # HH:MM in the trust's time zone
    created_by: str = Field(max_length=32)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class PulseParticipation(SQLModel, table=True):
    """Who has answered a pulse: for one answer each and for reminders. Holds nothing about the answer, and
    no time; on SQLite it is stored in key order, so the order of rows says nothing about when."""

    __tablename__ = "pulse_participation"
    __table_args__ = (
        Index("ix_pulse_participation_user", "user_id"),  # a person's pulses: personal digest, export, erasure
        {"sqlite_with_rowid": False},
    )

    pulse_id: int = Field(foreign_key="pulse.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)


class PulseAnswer(SQLModel, table=True):
    """An anonymous pulse's answers: no user, no hash of one, only the day, and a random id (stored in id
    order), so nothing here leads back to a person. `change_hash` lets the holder of a change token, and only
    them, change it."""

    __tablename__ = "pulse_answer"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=32)
    pulse_id: int = Field(foreign_key="pulse.id", index=True)
    answers: dict[str, Any] = Field(sa_type=JSON)
    answered_on: date
    change_hash: str = Field(max_length=64, unique=True)


class PulseHeld(SQLModel, table=True):
    """Someone whose anonymous answer is held in one Beacon process's memory, waiting to be stored with others'.

    Holds who and until when, never what: it stops a second answer while the first waits (on any replica), and
    if the holding process dies its lease runs out and the person is told to answer again. Deleted in the
    transaction that stores their answer among at least `pulse.answer_batch` others."""

    __tablename__ = "pulse_held"
    __table_args__ = (Index("ix_pulse_held_lease", "held_until"), {"sqlite_with_rowid": False})

    pulse_id: int = Field(foreign_key="pulse.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    holder: str = Field(max_length=64)                   # the process holding the answer (its worker name)
    held_until: datetime = Field(sa_type=UTCDateTime)   # renewed by the holder; past it, the answer is lost


class PulseNamedAnswer(SQLModel, table=True):
    """A named pulse's answers: the pulse said plainly that answers carry names."""

    __tablename__ = "pulse_named_answer"
    __table_args__ = (UniqueConstraint("pulse_id", "user_id", name="uq_pulse_named_answer"),)

    id: int | None = Field(default=None, primary_key=True)
    pulse_id: int = Field(foreign_key="pulse.id", index=True)
    user_id: str = Field(max_length=32)
    answers: dict[str, Any] = Field(sa_type=JSON)
    site: str | None = Field(default=None, max_length=120)
    area: str | None = Field(default=None, max_length=120)
    answered_at: datetime = Field(sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """One privileged action: who, what, when. Append-only (the database refuses updates), and chained: each
    entry's `hash` is an HMAC, under BEACON_SECRET_KEY, of its content and the previous entry's hash, so an
    entry changed or removed is found by `beacon audit --verify`."""

    __tablename__ = "audit_entry"

    seq: int = Field(primary_key=True)                 # 1, 2, 3...: the chain's order, given under a lock
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64, index=True)      # a Slack user ID, "system", or "cli:<login>"
    action: str = Field(max_length=60)                 # e.g. "round.opened", "pulse.exported"
    subject: str = Field(max_length=120)               # e.g. "round:3", "pulse:12", "user:U0123"
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    key_id: str = Field(max_length=16)                 # which secret key signed it (a short hash of the key)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's end: its one row is locked to append, so entries from replicas never fork the chain, and
    removing the newest entries is detected because the head still names them."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="", max_length=64)


class SlackRequestSeen(SQLModel, table=True):
    """Signed Slack requests already let in, by the SHA-256 of their signature: the same signed request sent again
    within Slack's five-minute window is a replay, whichever replica it reaches. Holds no user ID, only the hash."""

    __tablename__ = "slack_request_seen"

    signature_sha256: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(sa_type=UTCDateTime, index=True)


class WorkStatus(StrEnum):
    PENDING = "pending"  # waiting for a worker (or for its retry time)
    RUNNING = "running"  # claimed under a lease; claimed again by another worker once the lease lapses
    DONE = "done"
    FAILED = "failed"    # failed for good; whoever asked was told through the outbox


class WorkItem(SQLModel, table=True):
    """Heavy work (an export, a calendar sync, a digest) queued by the serving process for `beacon worker`, so the
    event loop that answers Slack never runs it. `requested_by` is cleared once the work is done."""

    __tablename__ = "work_item"
    __table_args__ = (
        Index("ix_work_item_claimable", "status", "available_at"),
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in WorkStatus)})", name="ck_work_item_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)                          # which job: awards.export, calendar.sync, ...
    params: dict[str, Any] = Field(sa_type=JSON)
    requested_by: str | None = Field(default=None, max_length=32)  # the person told if it fails for good
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)  # one per period for timed jobs
    status: str = Field(max_length=12)
    available_at: datetime = Field(sa_type=UTCDateTime)       # not claimed before this (retry backoff)
    attempts: int = 0                                         # claims so far, including ones whose worker died
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LeaderProfile(SQLModel, table=True):
    """A leader as the directory shows them: their Slack profile, copied by a background job so that listing the
    leaders needs no Slack call, and the commitment they wrote themselves (the strategy's Leadership Charter)."""

    __tablename__ = "leader_profile"

    user_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=200)
    image_url: str = Field(default="", max_length=500)  # the profile's image_72, https only
    profile_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    statement: str | None = Field(default=None, sa_type=Text)
    statement_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
class ForumQuestionStatus(StrEnum):
    PENDING = "pending"      # waiting for a forum moderator
    PUBLISHED = "published"  # posted to the forum channel, waiting for its leader's answer
    ANSWERED = "answered"
    MERGED = "merged"        # folded into another published question (`merged_into`)
    DECLINED = "declined"    # not published; `reason` says why


class ForumQuestion(SQLModel, table=True):
    """A question or suggestion for the leadership team ("Ask the leaders"). A named one keeps its asker; an
    anonymous one keeps no user, no hash of one, only the day it was asked, a random id (no rowid, so no insertion
    order) and the hash of the status token its asker alone was given (docs/ARCHITECTURE.md, "Threat model")."""

    __tablename__ = "forum_question"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in ForumQuestionStatus)})",
                        name="ck_forum_question_status"),
        CheckConstraint("(asker_id IS NULL) <> (status_hash IS NULL)", name="ck_forum_question_named_or_token"),
        {"sqlite_with_rowid": False},
    )

    id: str = Field(primary_key=True, max_length=32)
    text: str = Field(sa_type=Text)
    asker_id: str | None = Field(default=None, max_length=32)  # named questions only
    status_hash: str | None = Field(default=None, max_length=64, unique=True)  # anonymous only: sha256 of the token
    asked_on: date                                             # the day, never the moment
    status: str = Field(default=ForumQuestionStatus.PENDING, max_length=12, index=True)
    reason: str | None = Field(default=None, max_length=500)   # why it was declined
    merged_into: str | None = Field(default=None, max_length=32)
    published_on: date | None = None
    leader_id: str | None = Field(default=None, max_length=32)  # who is to answer
    answer: str | None = Field(default=None, sa_type=Text)
    answered_by: str | None = Field(default=None, max_length=32)
    answered_on: date | None = None
    supporters: int = 0                                         # shown; who supported never is


class ForumSupport(SQLModel, table=True):
    """Who supported a published question: kept only so each person counts once; never shown."""

    __tablename__ = "forum_support"
    __table_args__ = ({"sqlite_with_rowid": False},)

    question_id: str = Field(foreign_key="forum_question.id", primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
