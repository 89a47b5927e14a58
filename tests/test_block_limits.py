"""Every Block Kit builder, fed what the forms accept (and what feeds and Slack can send), stays within Slack's
limits after escaping, quoting and shortening: Hypothesis draws arbitrary Unicode, maximum lengths and text dense
with `&<>*_~`, mentions and line breaks; each output must pass slack_sdk's own models and Slack's documented limits
(`bot/blocks/limits.py`, the checker the local Slack enforces).

Builders are found by name (`build_*` in `bot/blocks/*.py`, and every notice template), so a new builder without a
strategy here fails `test_every_builder_has_a_strategy`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block, HeaderBlock
from slack_sdk.models.views import View

import beacon.bot.blocks
from beacon.bot.blocks import limits
from beacon.bot.blocks.limits import message_problems, text_too_long, view_problems
from beacon.bot.blocks.mrkdwn import quote, quoted, safe_cut, sections, shorten
from beacon.bot.blocks.notices import TEMPLATES
from beacon.bot.content import NoticeSection, PrivacyNotice, load_content
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.local_slack.forms import rich_text
from beacon.bot.models import (
    AwardRound,
    Engagement,
    Nomination,
    Nominee,
    OutboxMessage,
    OutboxStatus,
    Pulse,
    RoundStatus,
    ScheduledPost,
    Score,
)
from beacon.bot.organisation import Role, Site, StaffGroup
from beacon.bot.services.authorisation import RoleHolders, RoleRequired
from beacon.bot.services.award_rounds import RoundReport
from beacon.bot.services.nominations import STORY_MAX, Recognition
from beacon.bot.services.panel_review import (
    CandidateDetail,
    CandidateSummary,
    Insight,
    InsightCell,
    PanelNomination,
    ReviewPage,
    WinnerNaming,
)
from beacon.bot.services.scheduled_posts import LISTED, ListedPost
from beacon.bot.services.visit_requests import KINDS

CONTENT = load_content()
FRAMEWORK = next(iter(CONTENT.frameworks))
LONDON = ZoneInfo("Europe/London")
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)

# ---- text as people type it -------------------------------------------------------------------------------
DENSE = ["&", "<", ">", "*", "_", "~", "`", "\n", "\n\n", "<!channel>", "<!here>", "<@U123>", "<#C123>",
         "&amp;", "&lt;", "> ", ":tada:", "é", "😀", "\u202e", "\u2028", " "]
piece = st.one_of(st.sampled_from(DENSE), st.text(max_size=12))


def text(max_size: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    """Arbitrary text up to `max_size`, often dense with markup, often exactly at the maximum (long strings are
    built by repeating a drawn piece, which keeps generation quick)."""
    def repeat(drawn: tuple[str, int]) -> str:
        chunk, size = drawn
        return (chunk * (size // max(len(chunk), 1) + 1))[:size]

    sizes = st.one_of(st.just(max_size), st.integers(min_size, max_size))
    dense = st.tuples(st.lists(piece, min_size=1, max_size=30).map("".join), sizes).map(repeat)
    unicode = st.tuples(st.text(min_size=1, max_size=40), sizes).map(repeat)
    return st.one_of(dense, unicode, st.text(min_size=min_size, max_size=min(max_size, 60))).filter(
        lambda s: len(s) >= min_size and len(s.strip()) >= min(min_size, 1))


def line(max_size: int) -> st.SearchStrategy[str]:
    return text(max_size, min_size=1).map(lambda s: s.replace("\n", " ")).filter(lambda s: s.strip() != "")


user_ids = st.sampled_from(["U0ALICE", "U0BOB", "W0CAROL", "U0" + "X" * 9])
channels = st.sampled_from(["C0GENERAL", "C0RECOG", "G0PRIVATE"])
counts = st.integers(min_value=0, max_value=100_000)
stories = text(STORY_MAX, min_size=50)
VALUE_KEYS = [v.key for v in CONTENT.active_values()]
BEHAVIOURS = [b.key for b in CONTENT.frameworks[FRAMEWORK].behaviours]
AWARDS = [a.key for a in CONTENT.awards] + [CONTENT.thank_you.key]


# ---- domain objects ------------------------------------------------------------------------------------------
def nominations(**fixed: Any) -> st.SearchStrategy[Nomination]:
    return st.builds(lambda story, values, behaviours, award, name, hide, share, public: Nomination(
        id=3, nominator_id=None if name else "U0BOB", nominator_name=name, award=award, story=story, values=values,
        framework=FRAMEWORK, behaviours=behaviours, share_publicly=share, hide_nominator=hide,
        public_ts="1700000000.000100" if public else None, created_at=WHEN, updated_at=WHEN, **fixed),
        stories, st.lists(st.sampled_from(VALUE_KEYS), unique=True), st.lists(st.sampled_from(BEHAVIOURS), unique=True),
        st.sampled_from(AWARDS), st.none() | line(120), st.booleans(), st.booleans(), st.booleans())


nominee_dicts = st.one_of(
    st.builds(lambda u: {"user_id": u}, user_ids),
    st.builds(lambda n, r, s: {"user_id": None, "name": n, "role": r, "site": s},
              line(300), st.none() | line(300), st.none() | line(300)))
people = st.lists(nominee_dicts, min_size=1, max_size=20)


def nominee_rows(draw_people: list[dict[str, Any]]) -> list[Nominee]:
    return [Nominee(nomination_id=3, user_id=p.get("user_id"), name=p.get("name"), role=p.get("role"),
                    site=p.get("site")) for p in draw_people]


def not_on_slack(typed: str) -> list[Nominee]:
    """The "Not on Slack?" field (1,000 characters) read as the nomination handler reads it."""
    rows = []
    for typed_line in typed.splitlines():
        parts = [p.strip() for p in typed_line.split(",")]
        if parts and parts[0]:
            role = (parts[1] if len(parts) > 1 else None) or None
            site = ", ".join(parts[2:])[:120] or None
            rows.append(Nominee(nomination_id=3, name=parts[0][:120], role=role, site=site))
    return rows


recognitions = st.builds(lambda n, p, shown, e: Recognition(n, nominee_rows(p), nominator="U0BOB" if shown else None,
                                                             endorsements=e),
                         nominations(), people, st.booleans(), counts)
rounds = st.builds(lambda name, status: AwardRound(id=1, name=name, status=status, closes_at=WHEN, created_by="U0DAVE"),
                   line(120), st.sampled_from(list(RoundStatus)))
scores = st.builds(lambda s, level, note: Score(nomination_id=3, panel_member="U0DAVE", score=s, level=level, note=note,
                                                created_at=WHEN, updated_at=WHEN),
                   st.integers(1, 5), st.none() | st.sampled_from(CONTENT.frameworks[FRAMEWORK].levels or ["x"]),
                   text(3000))
summaries = st.builds(
    lambda award, key, ppl, ids, e, sl, win, conflicts, mine: CandidateSummary(
        award=award, key=key, people=ppl, nomination_ids=ids, endorsements=e, shortlisted=sl, winner=win,
        conflicts=conflicts, scored_by_me=mine,
        values=Counter({v: 1 for v in VALUE_KEYS}), behaviours=Counter({b: 1 for b in BEHAVIOURS})),
    st.sampled_from([a.key for a in CONTENT.awards]), st.text(max_size=120), people,
    st.lists(st.integers(1, 10_000), min_size=1, max_size=40), counts, st.booleans(), st.booleans(),
    st.dictionaries(user_ids, st.sampled_from(["nominee", "nominator", "declared"]), max_size=4), counts)
insight_cells = st.lists(st.builds(InsightCell, line(300), st.none() | counts, st.none() | counts), max_size=60)
engagements = st.builds(
    lambda title, leader, uid, place, open_to: Engagement(
        id=5, source_key="ics", external_id="x", occurrence="o", title=title, leader=leader, leader_user_id=uid,
        location=place, starts_at=WHEN, ends_at=WHEN, open_to=open_to, first_seen_at=WHEN, updated_at=WHEN),
    text(1000, min_size=1), line(300), st.none() | user_ids, st.none() | line(300), st.none() | line(300))
describe = st.builds(lambda place, area, mode, group: {"when": "Tue 24 Nov, 10:00–12:00", "place": place,
                                                      "area": area, "mode": mode, "staff_group": group},
                     st.none() | line(300), st.none() | line(300), st.sampled_from(["in_person", "online", "hybrid"]),
                     st.none() | line(120))
# Sites come from beacon.yaml; a site's name is an option's value, which Slack caps at 150.
sites = st.lists(st.builds(lambda n, a: Site(name=n, area=a), line(120), line(120)), min_size=1, max_size=120)
request_params = st.fixed_dictionaries({
    "id": st.integers(1, 10**9), "requester_id": user_ids, "place": line(120),
    "kind": st.sampled_from(["A visit", "Back to the floor"]), "what": text(1000, min_size=10),
    "when_suits": st.none() | line(200), "status": st.sampled_from(["open", "accepted", "declined"]),
    "decided_by": user_ids, "reason": st.none() | text(500, min_size=5)})
staff_groups = st.lists(st.builds(lambda n: StaffGroup(name=n), line(120)), max_size=120)
posts = st.builds(
    lambda message, chans, status, repeat, audience: ScheduledPost(
        id=7, author_id="U0GRACE", channels=chans, message=rich_text(message), fallback_text=escape_mrkdwn(message),
        starts_local=datetime(2026, 11, 24, 9, 0), timezone="Europe/London", repeat=repeat, status=status,
        next_run_at=WHEN, audience=audience, created_at=WHEN, updated_at=WHEN),
    text(4000, min_size=1), st.lists(channels, min_size=1, max_size=10, unique=True),
    st.sampled_from(LISTED), st.sampled_from(["none", "daily", "weekdays", "weekly", "monthly"]),
    st.none() | st.dictionaries(channels, st.integers(-1, 100_000)))
outbox_rows = st.builds(lambda status, error: OutboxMessage(
    dedupe_key="k", source="scheduled_post", channel="C0GENERAL", content={}, status=status, due_at=WHEN,
    available_at=WHEN, expires_at=WHEN, created_at=WHEN, sent_at=WHEN, last_error=error),
    st.sampled_from(list(OutboxStatus)), st.none() | text(200))
privacy_notices = st.builds(lambda title, intro, parts: PrivacyNotice(
    title=title, intro=intro, sections=[NoticeSection(heading=h, text=t) for h, t in parts]),
    line(144), text(2500, min_size=1), st.lists(st.tuples(line(150), text(2500, min_size=1)), min_size=1,
                                                max_size=20))


def pulses(question_types: list[str] | None = None) -> st.SearchStrategy[Pulse]:
    kinds = st.sampled_from(question_types or ["single", "multiple", "agreement", "frequency", "scale", "text"])
    question = st.builds(lambda i, kind, q, options: {
        "key": f"q{i}", "type": kind, "text": q, "options": options if kind in ("single", "multiple") else
        ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]},
        st.integers(0, 9), kinds, text(150, min_size=5), st.lists(line(1000), min_size=2, max_size=10, unique=True))
    return st.builds(lambda title, questions, anonymous, status, responses: Pulse(
        id=9, title=title, questions=[{**q, "key": f"q{i}"} for i, q in enumerate(questions)], channel="C0FORUM",
        created_by="U0ERIN", anonymous=anonymous, status=status, opens_at=WHEN, closes_at=WHEN, created_at=WHEN,
        responses=responses), line(150), st.lists(question, min_size=1, max_size=5), st.booleans(),
        st.sampled_from(["scheduled", "open", "closed"]), counts)


# ---- notice parameters, as the services write them -------------------------------------------------------------
values_params = st.lists(st.sampled_from([{"name": v.name, "emoji": v.emoji} for v in CONTENT.values]), unique_by=str)
nomination_params = st.fixed_dictionaries({
    "nomination_id": st.integers(1, 10**9), "award": st.sampled_from(AWARDS), "award_name": line(200),
    "nominees": people, "values": values_params,
    "behaviours": st.lists(st.sampled_from([b.name for b in CONTENT.frameworks[FRAMEWORK].behaviours])),
    "story": stories, "nominator": st.none() | user_ids, "nominator_name": st.none() | line(120),
    "share_publicly": st.booleans(), "recognition_channel": channels, "replaced": st.booleans(),
    "ask_consent": st.booleans(), "endorsements": counts, "no_round": st.booleans(), "changed": st.booleans(),
    "cannot_share": st.booleans(), "asked_again": st.booleans()})
post_params = st.fixed_dictionaries({
    "post_id": st.integers(1, 10**9), "channels": st.lists(channels, min_size=1, max_size=10),
    "channel": channels, "summary": text(300), "when": st.just("Tue 24 Nov 2026, 09:00 GMT"),
    "repeat": text(60), "author": user_ids, "decided_by": user_ids, "grace_hours": st.integers(0, 48),
    "skipped": st.integers(0, 10_000), "error": st.sampled_from(["is_archived", "not approved in time", "weird <&>",
                                                                 "msg_too_long", ""])})
engagement_params = st.fixed_dictionaries({
    "engagement_id": st.integers(1, 10**9), "leader": line(300), "leader_user_id": st.none() | user_ids,
    "place": st.none() | line(300), "area": st.none() | line(300), "when": st.just("Tue 24 Nov, 10:00–12:00"),
    "title": text(1000, min_size=1), "open_to": st.none() | line(300), "attending": counts,
    "cancelled": st.booleans(), "change": st.sampled_from(["cancelled", "moved"]), "was": st.none() | line(60),
    "folded": st.booleans(),
    "mode": st.sampled_from(["in_person", "online", "hybrid"]), "staff_group": st.none() | line(120),
    "site": st.none() | line(120),
    "attendees": st.lists(user_ids, max_size=400), "day": st.just("2026-11-24"),
    "questions": st.lists(st.fixed_dictionaries({"id": st.integers(1, 10**9), "question": text(1000, min_size=1),
                                                 "asker": st.none() | user_ids}), max_size=60)})
answer_item = st.builds(lambda e, extra: {**e, **extra}, engagement_params, st.fixed_dictionaries({
    "question": text(1000, min_size=1), "answer": text(2000, min_size=1), "answered_by": user_ids,
    "answered_on": st.just("Tue 24 Nov 2026")}))
pulse_question_params = st.fixed_dictionaries({
    "key": st.sampled_from(["q0", "q1"]), "text": text(150, min_size=5),
    "type": st.sampled_from(["single", "multiple", "agreement", "frequency", "scale", "text"]),
    "options": st.lists(line(1000), min_size=2, max_size=10)})
question_results = st.fixed_dictionaries({
    "text": text(150, min_size=5), "type": st.sampled_from(["single", "scale", "text"]), "suppressed": st.booleans(),
    "responses": counts, "options": st.lists(st.tuples(line(1000), counts, st.floats(0, 100)), max_size=11),
    "mean": st.none() | st.floats(0, 10), "net_score": st.none() | st.floats(-100, 100),
    "change": st.none() | st.floats(-100, 100)})
results_params = st.fixed_dictionaries({
    "total": counts, "minimum": st.integers(1, 10), "questions": st.lists(question_results, max_size=5),
    "themes": st.lists(st.fixed_dictionaries({"label": line(200), "score": st.none() | st.floats(0, 10)}),
                       max_size=20),
    "breakdown": st.dictionaries(line(40), st.lists(st.tuples(line(200), st.none() | counts,
                                                              st.none() | st.floats(0, 10)), max_size=60),
                                 max_size=5)})
pulse_params = st.fixed_dictionaries({
    "pulse_id": st.integers(1, 10**9), "title": line(150), "questions": st.lists(pulse_question_params, min_size=1,
                                                                                  max_size=5),
    "status": st.sampled_from(["open", "closed"]), "anonymous": st.booleans(), "live_results": st.booleans(),
    "minimum": st.integers(1, 10), "responses": counts, "closes": st.just("Fri 27 Nov, 17:00"),
    "results": st.none() | results_params})
leader_items = st.lists(st.fixed_dictionaries({
    "day": st.sampled_from(["2026-11-23", "2026-11-24", "2026-11-25"]), "area": st.none() | line(300),
    "when": st.just("Tue 24 Nov, 10:00–12:00"), "leader": st.none() | line(300),
    "leader_user_id": st.just("U0CAROL"), "place": st.none() | line(300), "title": text(1000, min_size=1)},
    optional={"mode": st.sampled_from(["in_person", "online", "hybrid"]), "staff_group": line(120)}),
    max_size=60)
weekly_params = st.fixed_dictionaries({
    "organisation": line(200), "week_of": st.just("30 November 2026"), "quiet": st.booleans(),
    "you_said": st.lists(st.fixed_dictionaries({
        "leader": line(200), "title": line(300), "place": st.none() | line(300), "question": line(120),
        "answer": line(300)}), max_size=25), "you_said_total": counts,
    "leaders": leader_items, "leaders_total": st.integers(0, 500), "home_url": st.none() | st.just("https://x/"),
    "workspace_url": st.none() | st.just("https://trust.slack.com/"),
    "recognition": st.fixed_dictionaries({
        "nominations": counts, "colleagues": counts,
        "by_value": st.lists(st.tuples(line(100), st.just(":heart:"), counts), max_size=10),
        "shout_outs": st.lists(st.fixed_dictionaries({
            "nominees": st.lists(line(300), max_size=20), "award": st.none() | line(200),
            "values": st.lists(line(100), max_size=10), "channel": channels, "ts": st.just("1700000000.000100")}),
            max_size=25),
        "shout_outs_total": counts,
        "round": st.none() | st.fixed_dictionaries({"name": line(120), "status": st.sampled_from(["open", "closed"]),
                                                    "closes": st.just("Friday 4 December at 23:59")})}),
    "forum": st.fixed_dictionaries({
        "open": st.lists(st.fixed_dictionaries({"title": line(150), "closes": st.just("Fri"),
                                                "closing_soon": st.booleans(), "channel": channels,
                                                "ts": st.none() | st.just("1.2")}), max_size=25),
        "open_total": counts,
        "results": st.lists(st.fixed_dictionaries({
            "title": line(150), "responses": counts, "channel": channels, "ts": st.none() | st.just("1.2"),
            "questions": st.lists(st.fixed_dictionaries({
                "text": text(150, min_size=5), "suppressed": st.booleans(),
                "top": st.lists(st.tuples(line(1000), st.floats(0, 100)), max_size=3),
                "net_score": st.none() | st.floats(-100, 100), "mean": st.none() | st.floats(0, 10)}), max_size=5)}),
            max_size=25)}, optional={"ask_overdue": counts, "ask_days": st.integers(1, 365),
                                     "ask_channel": st.none() | channels}),
    "scheduled": st.lists(st.fixed_dictionaries({
        "when": st.just("Tue 1 Dec, 09:00"), "channels": st.lists(channels, min_size=1, max_size=10),
        "summary": text(300).map(escape_mrkdwn)}), max_size=25),
    "scheduled_total": counts}).map(lambda p: {**p, "leaders_total": max(p["leaders_total"], len(p["leaders"])),
                                               "scheduled_total": max(p["scheduled_total"], len(p["scheduled"]))})
personal_params = st.fixed_dictionaries({
    "week_of": st.just("30 November 2026"), "site": st.none() | line(200),
    "visits": st.lists(st.fixed_dictionaries({"when": st.just("Tue"), "leader": st.none() | line(300),
                                              "leader_user_id": st.just("U0CAROL"), "title": text(1000, min_size=1)}),
                       max_size=20),
    "recognised": st.integers(0, 500), "values": st.lists(line(100), max_size=10),
    "unanswered": st.lists(st.fixed_dictionaries({"title": line(150), "closes": st.just("Fri"), "channel": channels,
                                                  "ts": st.none() | st.just("1.2")}), max_size=10),
    "home_url": st.none() | st.just("https://x/"), "workspace_url": st.none() | st.just("https://x/")}).map(
    lambda p: p if p["site"] else {**p, "visits": []})  # visits are those at the person's site
round_params = st.fixed_dictionaries({
    "round": line(120), "awards": st.lists(line(200), max_size=5), "closes": st.just("Friday 4 December"),
    "days": st.sampled_from([1, 7]), "award_name": line(200), "decision_id": st.integers(1, 10**9),
    "winners": st.lists(st.fixed_dictionaries({"award_name": line(200), "people": people}), max_size=10),
    "unnamed": st.integers(0, 50), "outcome": st.sampled_from(["won", "shortlisted", "not_selected"]),
    "nominees": people})
calendar_source_params = st.fixed_dictionaries({
    "source": line(300), "failures": st.integers(1, 10**6), "error": text(5000),
    "locations": st.lists(line(1000), max_size=50)})
failure_params = st.fixed_dictionaries({
    "status": st.sampled_from(["failed", "missed"]), "error": text(200), "source": line(60),
    "template": st.none() | st.sampled_from(sorted(TEMPLATES)), "channel": st.one_of(user_ids, channels),
    "thread": st.booleans(), "outbox_id": st.integers(1, 10**12), "for_admins": st.booleans(),
    "author": st.none() | user_ids, "told_author_failed": st.none() | text(200)})

TEMPLATE_PARAMS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    **{name: post_params for name in ("post_failed", "post_missed", "post_runs_skipped", "post_approval_request",
                                      "post_approved", "post_rejected")},
    **{name: nomination_params for name in ("nomination_receipt", "nominee_recognised", "recognition_post",
                                            "recognition_removed")},
    **{name: round_params for name in ("round_opened", "round_reminder", "round_closed", "winner_consent_request",
                                       "awards_announcement", "nomination_outcome")},
    **{name: engagement_params for name in ("engagement_announcement", "engagement_changed", "visit_reminder",
                                            "leader_briefing", "leader_follow_up", "leader_questions")},
    **{name: answer_item for name in ("you_said_we_did", "question_answered")},
    "leaders_this_week": st.fixed_dictionaries({"week_of": st.just("30 November 2026"), "engagements": leader_items}),
    "engagements_added": st.fixed_dictionaries({"count": st.integers(0, 10**6), "days": st.integers(0, 90),
                                                "first": leader_items.map(lambda items: items[:5])}),
    **{name: calendar_source_params for name in ("calendar_source_failing", "calendar_source_recovered",
                                                 "calendar_unmatched")},
    **{name: pulse_params for name in ("pulse_message", "pulse_reminder")},
    "pulse_results": st.builds(lambda p, r: {**p, "results": r}, pulse_params, results_params),
    "weekly_digest": weekly_params, "personal_digest": personal_params, "delivery_failed": failure_params,
    "work_failed": st.fixed_dictionaries({"what": line(200), "reference": line(200), "attempts": st.integers(1, 100)},
                                         optional={"scheduled": st.booleans(), "error": line(200)}),
}


# Ask the leaders (/ask): a question is at most 1,000 characters, an answer 2,500, a reason 500.
ask_question_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
TEMPLATE_PARAMS.update({
    "forum_question": st.fixed_dictionaries({
        "question_id": ask_question_ids, "question": text(1000, min_size=1), "asker": st.none() | user_ids,
        "supporters": counts, "leader": st.none() | user_ids, "answered": st.booleans()}),
    "forum_answer": st.fixed_dictionaries({"question": text(1000, min_size=1), "answer": text(2500, min_size=1),
                                           "leader": user_ids}),
    "forum_outcome": st.fixed_dictionaries({
        "outcome": st.sampled_from(["published", "declined", "merged", "answered"]),
        "question": text(1000, min_size=1)}, optional={
        "channel": channels, "reason": text(500, min_size=1), "into": text(1000, min_size=1),
        "answer": st.none() | text(2500, min_size=1), "leader": user_ids}),
    "forum_leader_asked": st.fixed_dictionaries({"question_id": ask_question_ids,
                                                 "question": text(1000, min_size=1), "supporters": counts}),
    # staff asking for a visit: the post in the coordinator channel, the receipt and the outcome
    "visit_request_post": request_params,
    "visit_request_received": st.tuples(request_params, channels).map(lambda p: p[0] | {"channel": p[1]}),
    "visit_request_outcome": request_params,
})


# ---- every builder ----------------------------------------------------------------------------------------------
def _call(fn: Callable[..., Any], **kwargs: st.SearchStrategy[Any]) -> st.SearchStrategy[Callable[[], Any]]:
    """A call of `fn` with drawn arguments, made later by the test (so a failure is the builder's, not the draw's)."""
    return st.fixed_dictionaries(kwargs).map(lambda drawn: partial(fn, **drawn))


def _module(name: str) -> Any:
    return importlib.import_module(f"beacon.bot.blocks.{name}")


def visibility_reports() -> st.SearchStrategy[Any]:
    """Reports as the organisation file allows them: names of sites, areas and leaders up to their column widths."""
    from beacon.bot.services.visibility import Period, Tally, Unvisited, VisibilityReport

    tallies = st.lists(st.builds(Tally, line(200), counts, counts, line(120)), max_size=120)
    unvisited = st.lists(st.builds(Unvisited, line(120), line(120), st.none() | st.dates()), max_size=120)
    period = st.builds(Period, st.dates(), st.dates(), line(60))
    return st.builds(lambda p, leaders, sites, areas, kinds, missing, people: VisibilityReport(
        period=p, held=people or 0, planned=3, by_leader=leaders, by_site=sites, by_area=areas, by_kind=kinds,
        by_group=areas, groups_unvisited=[u.site for u in missing],
        elsewhere=people or 0, unvisited=missing, sites=len(sites) + len(missing), attending=people, questions=people,
        answered=people, median_days_to_answer=None if people is None else people / 7, minimum=11),
        period, tallies, tallies, tallies, tallies, unvisited, st.none() | counts)


def builder_strategies() -> dict[str, st.SearchStrategy[Any]]:
    about, awards, calendar, digest_home, errors, home, noms, privacy, pulses_, schedule = (
        _module(m) for m in ("about", "awards", "calendar", "digest_home", "errors", "home", "nominations",
                             "privacy", "pulses", "schedule"))
    visit_requests = _module("visit_requests")
    commands = list(CONTENT.commands.values())
    roles = st.frozensets(st.sampled_from(list(Role)))
    report = st.builds(lambda r, n: RoundReport(round=r, nominations=n, closes="Friday 4 December"), rounds,
                       st.dictionaries(st.sampled_from([a.key for a in CONTENT.awards]), counts))
    page = st.builds(lambda r, cands, page_no, pages: ReviewPage(
        round=r, award=CONTENT.awards[0].key, candidates=cands, total_candidates=len(cands), page=page_no,
        pages=max(pages, page_no + 1), nominations=99, values=Counter({v: 3 for v in VALUE_KEYS}),
        behaviours=Counter({b: 1 for b in BEHAVIOURS})),
        rounds, st.lists(summaries, max_size=8), st.integers(0, 5), st.integers(1, 6))
    detail = st.builds(lambda r, s, items, conflict: CandidateDetail(round=r, summary=s, nominations=items,
                                                                     my_conflict=conflict),
                       rounds, summaries, st.lists(st.builds(PanelNomination, nominations(), counts,
                                                             st.none() | scores, st.lists(scores, max_size=8)),
                                                   max_size=25),
                       st.none() | st.sampled_from(["nominee", "nominator", "declared"]))
    insight = st.builds(lambda r, by_value, by_behaviour, by_site, by_area, share: Insight(
        round=r, nominations=100, colleagues=40, top_tenth_share=share, by_value=by_value, by_behaviour=by_behaviour,
        by_site=by_site, by_area=by_area, unknown_site=3),
        rounds, insight_cells, insight_cells, insight_cells, insight_cells, st.none() | st.floats(0, 1))
    block_lists = st.lists(st.sampled_from([noms.build_nominate_button(), schedule.build_new_post_button(),
                                            HeaderBlock(text="Heading")]), max_size=45)
    consent_blocks = nomination_params.map(lambda p: TEMPLATES["nominee_recognised"]({**p, "ask_consent": True})[1]
                                           ).map(lambda blocks: [b.to_dict() for b in blocks])
    held_pulse = pulses()
    return {
        "about.build_actions_list": st.just(lambda: about.build_actions_list(
            about.available_actions(commands, frozenset(Role)))),
        "about.build_about_blocks": _call(about.build_about_blocks, user_id=user_ids, roles=roles,
                                          commands=st.just(commands), messages=st.just(CONTENT.messages),
                                          organisation_name=line(200)),
        "about.build_usage_blocks": _call(about.build_usage_blocks, command=st.sampled_from(list(CONTENT.commands)),
                                          text=text(4000), spec=st.sampled_from(commands), roles=roles,
                                          messages=st.just(CONTENT.messages)),
        "awards.build_status_blocks": _call(awards.build_status_blocks, report=report, content=st.just(CONTENT)),
        "awards.build_panel_home_section": _call(awards.build_panel_home_section, report=st.none() | report,
                                                 content=st.just(CONTENT)),
        "awards.build_open_round_modal": _call(awards.build_open_round_modal, today=st.just(TODAY)),
        "awards.build_review_modal": _call(awards.build_review_modal, page=page, content=st.just(CONTENT),
                                           framework=st.just(FRAMEWORK), viewer=user_ids),
        "awards.build_candidate_modal": _call(awards.build_candidate_modal, detail=detail, content=st.just(CONTENT),
                                              tz=st.just(LONDON)),
        "awards.build_score_modal": _call(awards.build_score_modal, nomination=nominations(), content=st.just(CONTENT),
                                          framework=st.just(FRAMEWORK), existing=st.none() | scores,
                                          candidate_view=st.just("V0123456789")),
        "awards.build_insight_blocks": _call(awards.build_insight_blocks, insight=insight),
        "awards.build_round_line": _call(awards.build_round_line, round_=rounds),
        "awards.build_winner_naming": st.builds(lambda named, a, b, c: partial(awards.build_winner_naming, WinnerNaming(
            named=named, not_named=len(a) + len(b) + len(c), not_answered=a, said_no=b, not_on_slack=c)),
            st.integers(0, 50), st.lists(user_ids, max_size=20), st.lists(user_ids, max_size=20),
            st.lists(line(300), max_size=20)),
        "calendar.build_calendar_blocks": _call(calendar.build_calendar_blocks,
                                                items=st.lists(st.tuples(engagements, describe), max_size=40),
                                                more=counts, heading=line(300), my_site=st.none() | line(200)),
        "visibility.build_report_blocks": _call(_module("visibility").build_report_blocks, report=visibility_reports(),
                                                files_note=st.none() | line(300)),
        "calendar.build_my_site_picker": _call(calendar.build_my_site_picker, sites=sites,
                                               current=st.none() | line(200)),
        "calendar.build_visit_modal": _call(calendar.build_visit_modal, leader=user_ids, sites=sites,
                                            today=st.just(TODAY), tz=st.just(LONDON), staff_groups=staff_groups),
        "visit_requests.build_request_modal": _call(visit_requests.build_request_modal,
                                                    places=st.lists(line(120), min_size=1, max_size=200),
                                                    kinds=st.just(KINDS)),
        "visit_requests.build_request_post": _call(visit_requests.build_request_post, params=request_params),
        "visit_requests.build_decline_modal": _call(visit_requests.build_decline_modal,
                                                    request_id=st.integers(1, 10**9)),
        "visit_requests.build_request_outcome": _call(visit_requests.build_request_outcome, params=request_params),
        "visit_requests.build_request_received": _call(visit_requests.build_request_received, params=st.tuples(
            request_params, channels).map(lambda p: p[0] | {"channel": p[1]})),
        "visit_requests.build_request_decided": _call(visit_requests.build_request_decided, params=request_params),
        "calendar.build_unknown_place": _call(calendar.build_unknown_place, where=line(3000),
                                              nearest=st.lists(line(120), max_size=3)),
        "calendar.build_question_modal": _call(calendar.build_question_modal, engagement=engagements,
                                               when=st.just("Tue 24 Nov, 10:00")),
        "calendar.build_follow_up_modal": _call(calendar.build_follow_up_modal, engagement=engagements),
        "calendar.build_follow_up_post": _call(calendar.build_follow_up_post, leader_user_id=user_ids,
                                               text=text(2500, min_size=1)),
        "calendar.build_answer_modal": _call(calendar.build_answer_modal, question_id=st.integers(1, 10**9),
                                             question=text(1000, min_size=1), title=text(300, min_size=1)),
        "calendar.build_answers_log": _call(calendar.build_answers_log, items=st.lists(answer_item, max_size=60),
                                            heading=line(300), search=st.none() | text(3000)),
        "calendar.build_question_receipt": _call(
            calendar.build_question_receipt, leader=line(300), token=st.none() | st.just("t" * 32),
            briefing_at=st.none() | st.just("Tue 24 Nov at 16:00 GMT"), batch_minutes=st.just(5)),
        "calendar.build_question_status": _call(
            calendar.build_question_status, question=text(1000, min_size=1), answer=st.none() | text(2000),
            answered_by=st.none() | user_ids, answered_on=st.none() | st.just("Wed 25 Nov 2026")),
        "digest_home.build_digest_choice": _call(digest_home.build_digest_choice, wanted=st.booleans()),
        "errors.build_not_permitted_text": _call(
            errors.build_not_permitted_text, messages=st.just(CONTENT.messages),
            error=st.builds(lambda action, users, groups: RoleRequired(action=action, holders=RoleHolders(
                Role.COMMS, user_ids=tuple(users), group_handles=tuple(groups))),
                line(200), st.lists(user_ids, max_size=20), st.lists(line(80), max_size=5))),
        "errors.build_went_wrong_text": _call(errors.build_went_wrong_text, what=st.just("Saving your nomination"),
                                              reference=line(40), messages=st.just(CONTENT.messages)),
        "errors.build_slack_refused_text": _call(errors.build_slack_refused_text, error_code=line(200),
                                                 what=st.just("Opening the form"), messages=st.just(CONTENT.messages)),
        "home.build_home": _call(home.build_home, sections=st.lists(block_lists, max_size=12).map(
            lambda parts: [[noms.build_nominate_button()], *parts])),
        "nominations.build_nominate_modal": _call(
            noms.build_nominate_modal, content=st.just(CONTENT), framework=st.just(FRAMEWORK),
            award=st.none() | st.sampled_from(AWARDS), colleagues=st.none() | st.lists(user_ids, max_size=20),
            can_enter_for_others=st.booleans(),
            editing=st.none() | st.tuples(nominations(), text(1000).map(not_on_slack))),
        "nominations.build_received_section": _call(noms.build_received_section,
                                                    items=st.lists(recognitions, max_size=20),
                                                    content=st.just(CONTENT), tz=st.just(LONDON)),
        "nominations.build_made_section": _call(noms.build_made_section, items=st.lists(recognitions, max_size=20),
                                                content=st.just(CONTENT), tz=st.just(LONDON)),
        "nominations.build_nominate_button": st.just(lambda: noms.build_nominate_button()),
        "nominations.build_consent_answered": _call(noms.build_consent_answered, blocks=consent_blocks,
                                                    given=st.booleans()),
        "nominations.build_consent_out_of_date": _call(noms.build_consent_out_of_date, blocks=consent_blocks),
        "privacy.build_privacy_link": _call(privacy.build_privacy_link, notice=privacy_notices),
        "privacy.build_privacy_modal": _call(privacy.build_privacy_modal, notice=privacy_notices),
        "pulses.build_pulse_builder": _call(pulses_.build_pulse_builder, bank=st.just(CONTENT.pulse),
                                            slots=st.integers(1, 5), forum=st.just("C0FORUM"), today=st.just(TODAY),
                                            tz=st.just("Europe/London")),
        "pulses.build_answer_modal": st.builds(
            lambda pulse, token: partial(pulses_.build_answer_modal, pulse=pulse, current={}, token=token),
            pulses(), st.none() | st.just("t" * 43)),
        "pulses.build_confirmation": st.builds(
            lambda pulse, token, changed: partial(pulses_.build_confirmation,
                pulse=pulse, answers={q["key"]: (q.get("options") or ["x"])[0] for q in pulse.questions}, token=token,
                changed=changed), pulses(), st.none() | st.just("t" * 43), st.booleans()),
        "pulses.build_held": st.builds(lambda pulse, batch, by_message: partial(pulses_.build_held,
            pulse=pulse, batch=batch, closes="Fri 27 Nov, 17:00", by_message=by_message),
            held_pulse, st.integers(2, 50), st.booleans()),
        "pulses.build_outcome": st.builds(lambda title, receipt, refusal: partial(pulses_.build_outcome,
            pulse_title=title, receipt_blocks=receipt, refusal=refusal),
            line(150), st.none() | st.just([]), st.none() | text(2500)),
        "pulses.build_moderator_section": _call(pulses_.build_moderator_section, pulses=st.lists(pulses(), max_size=20),
                                                when=st.just(lambda at: "Fri 27 Nov, 17:00")),
        "pulses.build_comments_blocks": st.builds(lambda pulse, comments, minimum: partial(
            pulses_.build_comments_blocks, pulse, {q["key"]: comments for q in pulse.questions}, minimum),
            pulses(["text"]), st.lists(text(2000, min_size=1), max_size=200), st.integers(1, 10)),
        "schedule.build_compose_modal": _call(schedule.build_compose_modal, tz=st.just(LONDON), today=st.just(TODAY),
                                              post=st.none() | posts, channel=st.none() | channels),
        "schedule.build_preview_loading": _call(schedule.build_preview_loading, external_id=st.just("preview-1")),
        "schedule.build_preview_modal": _call(schedule.build_preview_modal, post=posts, external_id=st.just("p-1"),
                                              runs=st.lists(st.just(WHEN), max_size=5), tz=st.just(LONDON),
                                              large=st.dictionaries(channels, st.none() | counts, max_size=10),
                                              approval=st.booleans()),
        "schedule.build_problem_modal": _call(schedule.build_problem_modal, message=st.sampled_from([
            "Choose at least one channel.", "That time has passed."])),
        "schedule.build_posts_list": _call(schedule.build_posts_list,
                                           items=st.lists(st.builds(ListedPost, posts, st.none() | outbox_rows),
                                                          max_size=20),
                                           tz=st.just(LONDON), heading=st.booleans()),
        "schedule.build_new_post_button": st.just(lambda: schedule.build_new_post_button()),
        "schedule.build_scheduled_text": _call(schedule.build_scheduled_text, post=posts,
                                               first_run=st.none() | st.just(WHEN), awaiting_approval=st.booleans(),
                                               edited=st.booleans(), tz=st.just(LONDON)),
        "schedule.build_decision_blocks": _call(schedule.build_decision_blocks, approve=st.booleans(),
                                                decided_by=user_ids, summary=text(300)),
        **{f"notices.{name}": TEMPLATE_PARAMS[name].map(partial(partial, TEMPLATES[name])) for name in TEMPLATE_PARAMS},
        **leader_strategies(),
    }


def leader_strategies() -> dict[str, st.SearchStrategy[Any]]:
    from beacon.bot.blocks import leaders
    from beacon.bot.services.leaders import LISTED as LEADERS_LISTED
    from beacon.bot.services.leaders import STATEMENT_LIMIT, UPCOMING, Directory, LeaderCard
    photo = st.just("") | st.just("https://avatars.slack-edge.com/2026-12-01/123_abc_72.jpg")
    card = st.builds(LeaderCard, user_id=user_ids, name=line(200), title=line(200), area=text(600), image_url=photo,
                     statement=st.none() | text(STATEMENT_LIMIT, min_size=1),
                     upcoming=st.lists(line(400), max_size=UPCOMING).map(tuple))
    directory = st.builds(Directory, leaders=st.lists(card, max_size=LEADERS_LISTED), more=counts,
                          query=st.none() | line(300))
    return {
        "leaders.build_directory_blocks": _call(leaders.build_directory_blocks, directory=directory,
                                                may_write=st.booleans()),
        "leaders.build_directory_modal": st.builds(
            lambda d, w: partial(leaders.build_directory_modal, leaders.build_directory_blocks(d, may_write=w)),
            directory, st.booleans()),
        "leaders.build_leaders_home": _call(leaders.build_leaders_home, count=counts, may_write=st.booleans()),
        "leaders.build_statement_modal": _call(leaders.build_statement_modal,
                                               current=st.none() | text(STATEMENT_LIMIT),
                                               limit=st.just(STATEMENT_LIMIT)),
    }


STRATEGIES = builder_strategies()


def ask_builder_strategies() -> dict[str, st.SearchStrategy[Any]]:
    from beacon.bot.services.forum_questions import QuestionView

    ask = _module("ask")
    views = st.builds(
        QuestionView, id=ask_question_ids, text=text(1000, min_size=1), asker_id=st.none() | user_ids,
        anonymous=st.booleans(), status=st.sampled_from(["pending", "published", "answered", "merged", "declined"]),
        asked_on=st.just(TODAY), supporters=counts, reason=st.none() | text(500, min_size=1),
        leader_id=st.none() | user_ids, answer=st.none() | text(2500, min_size=1),
        published_on=st.none() | st.just(TODAY), overdue=st.booleans())
    tokens = st.none() | st.just("ask-" + "A" * 24)
    return {
        "ask.build_ask_modal": _call(ask.build_ask_modal, intro=text(600, min_size=1)),
        "ask.build_ask_receipt": _call(ask.build_ask_receipt, token=tokens, text=text(1000, min_size=1)),
        "ask.build_receipt_blocks": _call(ask.build_receipt_blocks, token=tokens, text=text(1000, min_size=1)),
        "ask.build_status_blocks": views.map(lambda v: partial(ask.build_status_blocks, v)),
        "ask.build_ask_button": st.just(lambda: ask.build_ask_button()),
        "ask.build_moderator_queue": _call(ask.build_moderator_queue, pending=st.lists(views, max_size=15),
                                           waiting=st.lists(views, max_size=15), unanswered_days=st.integers(1, 365)),
        "ask.build_decline_modal": _call(ask.build_decline_modal, question=views),
        "ask.build_merge_modal": _call(ask.build_merge_modal, question=views,
                                       candidates=st.lists(views, max_size=110)),
        "ask.build_assign_modal": _call(ask.build_assign_modal, question=views),
        "ask.build_answer_modal": _call(ask.build_answer_modal, question=views),
    }


STRATEGIES.update(ask_builder_strategies())
VIEWS = {"home.build_home"}  # outputs that are views although they are not modals


def discovered_builders() -> set[str]:
    found = set()
    for module_info in pkgutil.iter_modules(beacon.bot.blocks.__path__):
        module = _module(module_info.name)
        for name, value in vars(module).items():
            if name.startswith("build_") and inspect.isfunction(value) and value.__module__ == module.__name__:
                found.add(f"{module_info.name}.{name}")
    return found | {f"notices.{name}" for name in TEMPLATES}


def test_every_builder_has_a_strategy() -> None:
    missing = discovered_builders() - set(STRATEGIES)
    assert not missing, f"add a Hypothesis strategy for {sorted(missing)} to tests/test_block_limits.py"


# ---- checking an output --------------------------------------------------------------------------------------
def _as_dicts(blocks: list[Any]) -> list[dict[str, Any]]:
    dicts = [b.to_dict() if isinstance(b, Block) else b for b in blocks]  # to_dict() runs slack_sdk's validation
    for block in dicts:
        parsed = Block.parse(block)
        assert parsed is not None, f"slack_sdk does not know this block: {block.get('type')}"
        parsed.to_dict()
    return dicts


def check_output(output: Any) -> None:
    """Raise if Slack would refuse this output: slack_sdk's models first, then the documented limits."""
    if isinstance(output, str):
        assert output.strip(), "an empty text"
        assert len(output) <= limits.SECTION_TEXT, f"text of {len(output)} characters"
        return
    if isinstance(output, tuple):
        message_text, blocks = output
        dicts = _as_dicts(blocks)
        assert not text_too_long(message_text), "msg_too_long"
        problems = message_problems(text=message_text, blocks=dicts)
    elif isinstance(output, dict) and output.get("type") in ("modal", "home"):
        View(**output).to_dict()
        problems = view_problems(output)
    else:
        blocks = output if isinstance(output, list) else [output]
        dicts = _as_dicts(blocks)
        problems = message_problems(text=None, blocks=dicts)
        if len(dicts) > limits.MESSAGE_BLOCKS:  # a Home tab section: the tab holds 100
            problems = [p for p in problems if p.pointer != "/blocks"] + (
                view_problems({"type": "home", "blocks": dicts})[:1] if len(dicts) > limits.VIEW_BLOCKS else [])
    assert not problems, "Slack would refuse it: " + "; ".join(map(str, problems[:5]))


def _params(name: str) -> Any:
    return pytest.param(name, id=name)


@pytest.mark.parametrize("name", [_params(name) for name in sorted(STRATEGIES)])
@given(data=st.data())
def test_builders_fit_slack_limits_for_every_input_the_forms_accept(name: str, data: st.DataObject) -> None:
    build = data.draw(STRATEGIES[name], label=name)
    check_output(build())


# ---- the one function that fits user text --------------------------------------------------------------------
@given(raw=text(3000), limit=st.integers(20, 3000))
def test_quoting_then_shortening_never_splits_an_entity_or_exceeds_the_limit(raw: str, limit: int) -> None:
    fitted = quoted(raw, limit, note="… (shortened)")
    assert len(fitted) <= limit
    body = fitted.removesuffix("… (shortened)")
    assert quote(raw).startswith(body.rstrip()) or quote(raw) == fitted
    tail = body[-6:]
    assert "&" not in tail or tail[tail.rindex("&"):].startswith(("&amp;", "&lt;", "&gt;")) or ";" in tail[
        tail.rindex("&"):], f"an entity was cut: {tail!r}"


@given(raw=text(3000, min_size=1))
def test_a_story_split_over_sections_keeps_every_character_it_can(raw: str) -> None:
    pieces = sections(quote(raw), 3000, count=2, note="…")
    assert all(0 < len(p) <= 3000 for p in pieces) and len(pieces) <= 2
    if len(quote(raw)) <= 2900:
        assert pieces == [quote(raw)]


def test_the_issue_story_fits_and_says_nothing_is_lost() -> None:
    """The reported case: 2,901 characters with `&` and line breaks, under the 3,000 the form states."""
    story = ("Tom & Jerry & the crew\n" * 200)[:2901]
    assert len(story) == 2901
    assert len(quote(story)) > 3000, "the escaped, quoted story is over Slack's section limit"
    text_, blocks = TEMPLATES["nominee_recognised"]({"nomination_id": 1, "award": "values", "award_name": "Values",
                                                     "story": story, "ask_consent": True, "nominator": "U0BOB",
                                                     "recognition_channel": "C0RECOG", "values": []})
    check_output((text_, blocks))
    shown = "\n".join(b.to_dict()["text"]["text"] for b in blocks if b.type == "section")
    assert shown.count("&amp;") == story.count("&"), "all of the story is there, over two sections"
    assert any(b.block_id == "consent" for b in blocks), "the nominee is asked"


def test_safe_cut_backs_off_an_entity_and_a_mention() -> None:
    assert safe_cut("ab&amp;cd", 4) == 2
    assert safe_cut("hi <@U123> there", 6) == 3
    assert safe_cut("plain", 3) == 3
    assert shorten("x" * 10 + "&amp;", 12) == "x" * 10 + "…"
    assert escape_mrkdwn("&") == "&amp;"


def test_the_checker_words_problems_as_slack_does() -> None:
    [problem] = message_problems(text=None, blocks=[{"type": "section", "text": {"type": "mrkdwn",
                                                                                 "text": "x" * 3001}}])
    assert str(problem) == "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": [],
            "private_metadata": json.dumps({"a": "b" * 3000})}
    assert [p.pointer for p in view_problems(view)] == ["/view/title/text", "/view/private_metadata"]
    buttons = [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "a", "value": "v"}]
    assert [p.pointer for p in message_problems(text=None, blocks=[{"type": "actions", "elements": buttons}])] == [
        "/blocks/0/elements/0/text/text"]


def test_a_full_home_tab_keeps_every_section_and_says_what_it_left_out() -> None:
    from beacon.bot.blocks.home import MORE, build_home
    from beacon.bot.blocks.nominations import build_nominate_button
    long = [HeaderBlock(text="Nominations you have made"), *[HeaderBlock(text=f"item {i}") for i in range(120)],
            build_nominate_button()]
    view = build_home(sections=[[HeaderBlock(text="Beacon")], long, [HeaderBlock(text="Privacy")]])
    check_output(view)
    texts = [b.get("text", {}).get("text") if b["type"] != "context" else b["elements"][0]["text"]
             for b in view["blocks"]]
    assert len(view["blocks"]) == 100 and texts[0] == "Beacon" and texts[-1] == "Privacy", "no section is lost"
    assert MORE in texts and view["blocks"][-3]["type"] == "actions", "it says so, and the button stays"
