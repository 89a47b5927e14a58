"""Block Kit for award rounds and the panel's review: status, review list, candidate, score sheet, insight."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject, PlainTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.limits import SECTION_TEXT, TEXT_OBJECT
from beacon.bot.blocks.mrkdwn import listing, mention, quoted, shorten, truncate
from beacon.bot.blocks.nominations import who
from beacon.bot.content import Content
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.models import AwardRound, Nomination, RoundStatus, Score
from beacon.bot.services.award_rounds import RoundReport
from beacon.bot.services.panel_review import (
    CandidateDetail,
    CandidateSummary,
    Insight,
    InsightCell,
    ReviewPage,
    WinnerNaming,
)

_STATUS = {RoundStatus.DRAFT: "being prepared", RoundStatus.OPEN: "open for nominations",
           RoundStatus.CLOSED: "closed: the panel is reviewing", RoundStatus.DECIDED: "decided, not yet announced",
           RoundStatus.ANNOUNCED: "announced", RoundStatus.ARCHIVED: "archived"}
_CONFLICT = {"nominee": "is a nominee", "nominator": "nominated", "declared": "declared a conflict"}


STORY_SHORTENED = "\n… _(shortened to fit Slack; `/awards export` has the full story)_"


def _md(text: str) -> SectionBlock:
    """A section within Slack's 3,000 characters, however many people or cells it lists (text already escaped)."""
    return SectionBlock(text=MarkdownTextObject(text=shorten(text, SECTION_TEXT)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=shorten(text, TEXT_OBJECT))])


def _story(story: str) -> str:
    """A story for the panel: escaped and quoted, then shortened only if it must be, saying where the rest is."""
    return quoted(story, SECTION_TEXT, note=STORY_SHORTENED)


def _candidate_ref(award: str, key: str) -> str:
    return json.dumps({"a": award, "k": key}, separators=(",", ":"))


def build_status_blocks(report: RoundReport, *, content: Content) -> list[Block]:
    round_ = report.round
    counts = " · ".join(f"{escape_mrkdwn(a.name)}: *{report.nominations.get(a.key, 0)}*" for a in content.awards)
    closing = f"Closes {report.closes}." if round_.status == RoundStatus.OPEN else ""
    return [_md(f":trophy: *{escape_mrkdwn(round_.name)}* is {_STATUS[RoundStatus(round_.status)]}. {closing}"),
            _md(f"Nominations so far: {counts}")]


def build_panel_home_section(report: RoundReport | None, *, content: Content) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Awards panel")]
    new_round = ButtonElement(text="Open a round", action_id=ActionId.AWARDS_ROUND_NEW, value="new")
    if report is None:
        blocks.append(_md("No round yet."))
        blocks.append(ActionsBlock(elements=[new_round]))
        return blocks
    blocks += build_status_blocks(report, content=content)
    buttons = [ButtonElement(text="Review nominations", action_id=ActionId.AWARDS_REVIEW_OPEN, value="review",
                             style="primary")]
    if report.round.status in (RoundStatus.ANNOUNCED, RoundStatus.ARCHIVED):
        buttons.append(new_round)
    blocks.append(ActionsBlock(elements=buttons))
    return blocks


def build_open_round_modal(*, today: date) -> dict[str, Any]:
    return View(type="modal", callback_id=CallbackId.AWARDS_OPEN, title="Open an award round", submit="Open",
                close="Cancel", blocks=[
                    InputBlock(block_id=BlockId.AWARDS_ROUND_NAME, label="Name",
                               element=PlainTextInputElement(action_id=BlockId.AWARDS_ROUND_NAME, max_length=120,
                                                             placeholder=f"{today.year + 1} Staff Awards")),
                    InputBlock(block_id=BlockId.AWARDS_ROUND_CLOSES, label="Nominations close at the end of",
                               element=DatePickerElement(action_id=BlockId.AWARDS_ROUND_CLOSES)),
                    _context("Both awards open together. The recognition channel is told now, reminded 7 days and 1 "
                             "day before the close, and told when it closes.")]).to_dict()


def _counts(counter: Any, names: dict[str, str]) -> str:
    return ", ".join(f"{escape_mrkdwn(names.get(k, k))} {n}" for k, n in counter.most_common()) or "none"


def _summary_line(candidate: CandidateSummary, viewer: str) -> str:
    flags = []
    if candidate.winner:
        flags.append(":trophy: winner")
    elif candidate.shortlisted:
        flags.append(":star: shortlisted")
    if candidate.conflicts:
        flags.append("conflict: " + ", ".join(f"{mention(m)} {_CONFLICT[w]}" for m, w in
                                              sorted(candidate.conflicts.items())))
    scored = "you have a conflict" if viewer in candidate.conflicts else (
        f"you scored {candidate.scored_by_me} of {candidate.nominations}")
    return (f"{candidate.nominations} nomination{'s' if candidate.nominations != 1 else ''} · "
            f"{candidate.endorsements} endorsement{'s' if candidate.endorsements != 1 else ''} · {scored}"
            + (" · " + " · ".join(flags) if flags else ""))


def build_review_modal(page: ReviewPage, *, content: Content, framework: str, viewer: str) -> dict[str, Any]:
    values = {v.key: v.name for v in content.values}
    behaviours = {b.key: b.name for b in content.frameworks[framework].behaviours}
    award_options = [Option(value=a.key, label=a.name) for a in content.awards]
    current = next(o for o in award_options if o.value == page.award)
    blocks: list[Block] = [
        ActionsBlock(block_id="award_filter", elements=[StaticSelectElement(
            action_id=ActionId.AWARDS_AWARD, options=award_options, initial_option=current)]),
        _md(f"*{escape_mrkdwn(page.round.name)}* · {page.nominations} nominations for "
            f"{page.total_candidates} candidates"),
        _context(f"*Values:* {_counts(page.values, values)}"),
    ]
    if page.behaviours:
        blocks.append(_context(f"*Behaviours:* {_counts(page.behaviours, behaviours)}"))
    blocks.append(DividerBlock())
    if not page.candidates:
        blocks.append(_md("No nominations for this award in this round."))
    for candidate in page.candidates:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=shorten(f"*{who(candidate.people)}*", SECTION_TEXT)),
                                   accessory=ButtonElement(text="Open", action_id=ActionId.AWARDS_CANDIDATE_OPEN,
                                                           value=_candidate_ref(candidate.award, candidate.key))))
        blocks.append(_context(_summary_line(candidate, viewer)))
    navigation = []
    if page.page > 0:
        navigation.append(ButtonElement(text="Previous", action_id=ActionId.AWARDS_PAGE, value=str(page.page - 1)))
    if page.page + 1 < page.pages:
        navigation.append(ButtonElement(text="Next", action_id=ActionId.AWARDS_PAGE, value=str(page.page + 1)))
    if navigation:
        blocks.append(ActionsBlock(block_id="pages", elements=navigation))
    blocks.append(_context(f"Page {page.page + 1} of {page.pages}"))
    return View(type="modal", callback_id=CallbackId.AWARDS_REVIEW, title="Review nominations", close="Done",
                private_metadata=json.dumps({"award": page.award, "page": page.page}), blocks=blocks).to_dict()


def _scores_line(mine: Score | None, others: list[Score]) -> str:
    if mine is None:
        return "Not scored by you yet; others' scores show once you have scored it."
    line = f"Your score: *{mine.score}*" + (f" ({escape_mrkdwn(mine.level)})" if mine.level else "")
    if others:
        line += " · Others: " + ", ".join(f"{mention(s.panel_member)} {s.score}" for s in others)
    return line


def build_candidate_modal(detail: CandidateDetail, *, content: Content, tz: ZoneInfo) -> dict[str, Any]:
    summary = detail.summary
    award = content.award(summary.award)
    award_name = escape_mrkdwn(award.name if award else summary.award)
    blocks: list[Block] = [_md(f"*{who(summary.people)}* for *{award_name}*"), _context(_summary_line(summary, ""))]
    ref = _candidate_ref(summary.award, summary.key)
    if detail.my_conflict:
        blocks.append(_md(f":no_entry: You have a conflict of interest here (you {_CONFLICT[detail.my_conflict]}), "
                          "so its nominations and score sheet are hidden from you. The rest of the panel decides it."))
    else:
        blocks.append(ActionsBlock(block_id="decide", elements=[
            ButtonElement(text="Remove from shortlist" if summary.shortlisted else "Shortlist",
                          action_id=ActionId.AWARDS_SHORTLIST, value=json.dumps(
                              {"a": summary.award, "k": summary.key, "on": not summary.shortlisted})),
            ButtonElement(text="Not a winner" if summary.winner else "Mark as winner", action_id=ActionId.AWARDS_WINNER,
                          value=json.dumps({"a": summary.award, "k": summary.key, "on": not summary.winner}),
                          style=None if summary.winner else "primary"),
            ButtonElement(text="Declare a conflict", action_id=ActionId.AWARDS_CONFLICT, value=ref)]))
    for item in detail.nominations:
        n: Nomination = item.nomination
        blocks.append(DividerBlock())
        tags = ", ".join(escape_mrkdwn(v.name) for v in (content.value(k) for k in n.values) if v)
        behaviours = [content.behaviour(n.framework or "", b) for b in n.behaviours]
        if any(behaviours):
            tags += " · " + ", ".join(escape_mrkdwn(b.name) for b in behaviours if b)
        source = mention(n.nominator_id) if n.nominator_id else escape_mrkdwn(n.nominator_name or "")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_story(n.story)),
                                   accessory=ButtonElement(text="Score", action_id=ActionId.AWARDS_SCORE_OPEN,
                                                           value=str(n.id))))
        blocks.append(_context(f"From {source}, {n.created_at.astimezone(tz):%-d %b} · {tags} · "
                               f"{item.endorsements} endorsement(s)\n{_scores_line(item.my_score, item.others)}"))
    if detail.not_shown:
        blocks.append(_context(f"…and {detail.not_shown} more: `/awards export` has them all."))
    return View(type="modal", callback_id=CallbackId.AWARDS_CANDIDATE, title="Candidate", close="Back",
                private_metadata=ref, blocks=blocks).to_dict()


def build_score_modal(*, nomination: Nomination, content: Content, framework: str, existing: Score | None,
                      candidate_view: str) -> dict[str, Any]:
    award = content.award(nomination.award)
    rubric = award.rubric if award else []
    options = [Option(value=str(i + 1), text=PlainTextObject(text=f"{i + 1}"),
                      description=PlainTextObject(text=truncate(text, 75))) for i, text in enumerate(rubric)]
    blocks: list[Block] = [
        _md(_story(nomination.story)),
        InputBlock(block_id=BlockId.AWARDS_SCORE_VALUE, label="Score",
                   element=RadioButtonsElement(action_id=BlockId.AWARDS_SCORE_VALUE, options=options,
                                               initial_option=options[existing.score - 1] if existing else None)),
    ]
    if nomination.award == "leadership":
        levels = [Option(value=level, label=level) for level in content.frameworks[framework].levels]
        blocks.append(InputBlock(
            block_id=BlockId.AWARDS_SCORE_LEVEL, label="Healthcare Leadership Model level shown", optional=True,
            element=StaticSelectElement(action_id=BlockId.AWARDS_SCORE_LEVEL, options=levels,
                                        initial_option=next((o for o in levels if existing and o.value ==
                                                             existing.level), None))))
    blocks.append(InputBlock(block_id=BlockId.AWARDS_SCORE_NOTE, label="Notes for the panel", optional=True,
                             element=PlainTextInputElement(action_id=BlockId.AWARDS_SCORE_NOTE, multiline=True,
                                                           max_length=3000,
                                                           initial_value=existing.note if existing else None)))
    return View(type="modal", callback_id=CallbackId.AWARDS_SCORE, title="Score", submit="Save", close="Back",
                private_metadata=json.dumps({"nomination": nomination.id, "candidate_view": candidate_view}),
                blocks=blocks).to_dict()


def _cells(title: str, cells: list[InsightCell]) -> str:
    if not cells:
        return f"*{title}:* none"
    lines = [f"• {escape_mrkdwn(c.label)}: " + (f"{c.nominations} nominations, {c.people} people"
                                               if c.nominations is not None else "not shown")
             for c in cells]
    return f"*{title}*\n" + "\n".join(lines)


def build_insight_blocks(insight: Insight) -> list[Block]:
    share = (f"{insight.top_tenth_share:.0%} of mentions went to the most-nominated tenth of colleagues"
             if insight.top_tenth_share is not None else "Too few colleagues to show how concentrated it is")
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Insight: {insight.round.name}", 150)),
        _md(f"*{insight.nominations}* nominations recognised *{insight.colleagues}* colleagues. {share}."),
        _md(_cells("By value", insight.by_value)),
    ]
    if insight.by_behaviour:
        blocks.append(_md(_cells("By leadership behaviour", insight.by_behaviour)))
    blocks.append(_md(_cells("By area", insight.by_area)))
    blocks.append(_md(_cells("By site", insight.by_site)))
    blocks.append(_context(f"Site not known for {insight.unknown_site} colleague(s). Any group of fewer than five "
                           "people is not shown, nor any group that would let it be worked out by subtraction, so "
                           "that nobody can be picked out."))
    return blocks


def build_round_line(round_: AwardRound) -> str:
    return f"*{escape_mrkdwn(round_.name)}* is {_STATUS[RoundStatus(round_.status)]}."


def build_winner_naming(naming: WinnerNaming) -> str:
    """For the panel only: who the announcement names, and why the others are not named. Someone who has not
    answered is "not yet answered", never "declined": silence is neither a yes nor a no."""
    parts = [f"{naming.named} winner{'s' if naming.named != 1 else ''} named"]
    reasons = []
    if naming.not_answered:
        reasons.append("not yet answered: " + listing([mention(u) for u in naming.not_answered]))
    if naming.said_no:
        reasons.append("asked not to be named: " + listing([mention(u) for u in naming.said_no]))
    if naming.not_on_slack:
        reasons.append("not on Slack, so they cannot be asked: " + listing(
            [escape_mrkdwn(n) for n in naming.not_on_slack]))
    if naming.not_named:
        parts.append(f"{naming.not_named} not named (" + "; ".join(reasons) + ")" if reasons else
                     f"{naming.not_named} not named")
    return truncate(", ".join(parts) + ".", 2000)
