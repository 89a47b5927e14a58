"""The leader engagement calendar: announcements, reminders, briefings, calendar source alerts."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.limits import SECTION_TEXT
from beacon.bot.blocks.mrkdwn import listing, mention, quoted, sections, truncate
from beacon.bot.blocks.notices.common import context, section
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId


def _leader(params: dict[str, Any]) -> str:
    return mention(params["leader_user_id"]) if params.get("leader_user_id") else f"*{escape_mrkdwn(params['leader'])}*"


def _place(params: dict[str, Any]) -> str:
    place = params.get("place")
    if not place:
        return "a place to be confirmed"
    area = f" ({escape_mrkdwn(params['area'])})" if params.get("area") else ""
    return f"*{escape_mrkdwn(place)}*{area}"


def _for_group(params: dict[str, Any]) -> str:
    group = params.get("staff_group")
    return f" for *{escape_mrkdwn(group)}*" if group and group != params.get("place") else ""


def _being_there(params: dict[str, Any]) -> str:
    """Where, said for an engagement in person, online or both (the post names "Online" or "Hybrid")."""
    mode = params.get("mode")
    if mode == "online":
        group = params.get("staff_group") or (params.get("site") and params.get("place"))
        return "Online: " + _leader(params) + " will be online" + (
            f" with *{escape_mrkdwn(group)}*" if group else "")
    prefix = "Hybrid: " if mode == "hybrid" else ""
    return f"{prefix}{_leader(params)} will be at {_place(params)}{_for_group(params)}" + (
        " and online" if mode == "hybrid" else "")


def _mode(params: dict[str, Any]) -> str:
    return {"online": " (online)", "hybrid": " (hybrid)"}.get(str(params.get("mode")), "")


def engagement_announcement(params: dict[str, Any]) -> tuple[str, list[Block]]:
    engagement = str(params["engagement_id"])
    if params.get("cancelled"):
        text = f":no_entry_sign: Cancelled: {_leader(params)} at {_place(params)}, {params['when']}"
        return text, [section(text + f"\n~{escape_mrkdwn(params['title'])}~")]
    emoji = ":computer:" if params.get("mode") == "online" else ":round_pushpin:"
    text = f"{emoji} {_being_there(params)}, {params['when']}"
    blocks: list[Block] = [section(f"{text}\n{escape_mrkdwn(params['title'])}")]
    if params.get("open_to"):
        blocks.append(context(f"Open to: {escape_mrkdwn(params['open_to'])}"))
    if params.get("mode") in ("online", "hybrid"):
        blocks.append(context("The leader sends the join link to those invited." if
                              str(params.get("open_to") or "").lower() == "by invitation" else
                              "Online: say you'll be there and Beacon gives you the join link."))
    going = int(params.get("attending") or 0)
    blocks += [
        ActionsBlock(block_id="engagement", elements=[
            ButtonElement(text="I'll be there", action_id=ActionId.CALENDAR_ATTEND, value=engagement, style="primary"),
            ButtonElement(text="Ask a question in advance", action_id=ActionId.CALENDAR_ASK, value=engagement)]),
        ContextBlock(elements=[MarkdownTextObject(
            text="Be the first to say you'll be there." if going == 0 else
            f"{going} colleague{'s are' if going != 1 else ' is'} going.")]),
    ]
    return text, blocks


def engagements_added(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """Many engagements in announcement reach at once (a leader's calendar imported, a new source): one post
    with the count and the first few, rather than a post each."""
    count, days = int(params["count"]), int(params.get("days") or 0)
    text = (f":calendar: {count} leader engagement{'s are' if count != 1 else ' is'} newly in the calendar"
            + (f" for the next {days} days" if days else ""))
    lines = [f"• {e['when']} · {_leader(e)} at {_place(e)}: {escape_mrkdwn(e['title'])}"
             for e in (params.get("first") or [])]
    more = count - len(lines)
    body = "\n".join([text, "*Coming up first*", *lines] if lines else [text])
    blocks: list[Block] = [section(body + (f"\n…and {more} more" if more > 0 else ""))]
    blocks.append(context("See them all, and say you'll be there or ask a question, with `/calendar` or in "
                          "Beacon's App Home."))
    return text, blocks


def engagement_changed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    if params.get("change") == "cancelled":
        text = f":no_entry_sign: This has been cancelled: {_leader(params)} will not be at {_place(params)}."
    else:
        was = f" (it was {params['was']})" if params.get("was") else ""
        text = (f":arrows_counterclockwise: Change: {_leader(params)} will now be at {_place(params)}, "
                f"{params['when']}{was}.")
    if params.get("folded"):  # a note in the thread of a post announcing many: which one this is
        return text, [section(f"{text}\n{escape_mrkdwn(params['title'])}, {params['when']}")]
    return text, [section(text)]


def visit_reminder(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text, blocks = engagement_announcement(params)
    text = f":wave: Tomorrow: {text.split(' ', 1)[1]}"
    return text, [section(f"{text}\n{escape_mrkdwn(params['title'])}"), *blocks[1:]]


def leaders_this_week(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = f":calendar: Leaders out and about, week of {params['week_of']}"
    items = params.get("engagements") or []
    if not items:
        return text, [section(text + "\nNo leader visits are in the calendar this week.")]
    by_day: dict[str, dict[str, list[str]]] = {}
    for e in items:
        line = (f"• {e['when'].split(', ', 1)[-1]} · {_leader(e)} at {_place(e)}{_for_group(e)}"
                f"{_mode(e)}: {escape_mrkdwn(e['title'])}")
        by_day.setdefault(e["day"], {}).setdefault(e.get("area") or "Other places", []).append(line)
    blocks: list[Block] = [HeaderBlock(text=text[len(":calendar: "):])]
    for day, areas in sorted(by_day.items()):
        lines: list[str] = [f"*{date.fromisoformat(day):%A %-d %B}*"]
        for area, entries in sorted(areas.items()):
            lines.append(f"_{escape_mrkdwn(area)}_")
            lines.extend(entries)
        body, more = "\n".join(lines), 0
        while len(body) > 2900:
            lines.pop()
            more += 1
            body = "\n".join(lines) + f"\n…and {more} more"
        blocks.append(section(body))
    blocks = blocks[:49]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="See any day with `/calendar`.")]))
    return text, blocks


QUESTIONS_SHOWN = 40  # a section each, within a message's 50 blocks


def _questions(questions: list[dict[str, Any]], heading: str) -> list[Block]:
    """Each question in a section of its own (every word kept, as far as a section holds), the asker named only
    where they allowed it."""
    blocks: list[Block] = [section(heading)]
    for q in questions[:QUESTIONS_SHOWN]:
        by = f"_from {mention(q['asker']) if q.get('asker') else 'a colleague'}_"
        block = section(f"{quoted(q['question'], SECTION_TEXT - len(by) - 1)}\n{by}")
        if q.get("id"):
            block.accessory = ButtonElement(text="Answer", action_id=ActionId.CALENDAR_ANSWER, value=str(q["id"]))
        blocks.append(block)
    if len(questions) > QUESTIONS_SHOWN:
        blocks.append(context(f"…and {len(questions) - QUESTIONS_SHOWN} more."))
    return blocks


def leader_briefing(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = f":spiral_calendar_pad: Tomorrow: {escape_mrkdwn(params['title'])} at {_place(params)}, {params['when']}."
    attendees = params.get("attendees") or []
    going = (f"{len(attendees)} said they'll be there: " + listing([mention(u) for u in attendees[:40]])
             if attendees else "Nobody has said they'll be there yet.")
    blocks: list[Block] = [section(text), section(going)]
    questions = params.get("questions") or []
    if questions:
        blocks += _questions(questions, "*Questions asked in advance*")
    blocks.append(context("Questions asked from now until the visit come to you within minutes."))
    return text, blocks


def leader_questions(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """Questions asked after the briefing went, sent within minutes, those of a few minutes together."""
    questions = params.get("questions") or []
    count = len(questions)
    text = (f":raising_hand: {count} new question{'s' if count != 1 else ''} for {escape_mrkdwn(params['title'])} "
            f"at {_place(params)}, {params['when']}")
    return text, [section(text), *_questions(questions, "*Asked since your briefing*")[1:]]


def leader_follow_up(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f"How did {escape_mrkdwn(params['title'])} at {_place(params)} go? Staff value hearing back: post a "
            "short “you said, we did” in the announcement's thread.")
    blocks: list[Block] = [section(text)]
    questions = params.get("questions") or []
    if questions:
        count = len(questions)
        blocks += _questions(questions, f"*{count} question{'s' if count != 1 else ''} still to answer*")
    blocks.append(ActionsBlock(elements=[ButtonElement(
        text="Write the follow-up", action_id=ActionId.CALENDAR_FOLLOW_UP, value=str(params["engagement_id"]),
        style="primary")]))
    return text, blocks


ANSWER_SECTIONS = 3  # a 2,000-character answer, escaped, may need more than one section


def you_said_we_did(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """A leader's answer to a question asked before their engagement, where the askers are."""
    text = (f":speech_balloon: You said, we did: {mention(params['answered_by'])} answered a question asked before "
            f"{escape_mrkdwn(params['title'])} at {_place(params)}")
    return text, _answer_blocks(text, params)


def question_answered(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":speech_balloon: {mention(params['answered_by'])} answered your question about "
            f"{escape_mrkdwn(params['title'])} at {_place(params)}")
    return text, _answer_blocks(text, params)


def _answer_blocks(text: str, params: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = [section(text), section(quoted(params["question"], SECTION_TEXT))]
    blocks += [section(piece) for piece in sections(escape_mrkdwn(params["answer"]), SECTION_TEXT,
                                                       count=ANSWER_SECTIONS)]
    blocks.append(context(f"Answered {escape_mrkdwn(params['answered_on'])}. Every answer: `/calendar answers`."))
    return blocks


def calendar_source_failing(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":warning: The calendar source *{escape_mrkdwn(params['source'])}* has failed {params['failures']} "
            f"times in a row (`{escape_mrkdwn(str(params['error'])[:200])}`). Beacon keeps showing its last good "
            "data, and will say when it works again.")
    return text, [section(text)]


def calendar_source_recovered(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = f":white_check_mark: The calendar source *{escape_mrkdwn(params['source'])}* is working again."
    return text, [section(text)]


def calendar_unmatched(params: dict[str, Any]) -> tuple[str, list[Block]]:
    places = "\n".join(f"• {escape_mrkdwn(p)}" for p in params.get("locations") or [])
    text = ("These calendar locations match no site in beacon.yaml, so their engagements are listed under "
            "“other places”. Add them as a site, or as an alias of one:")
    return text, [section(truncate(f"{text}\n{places}", 3000))]


