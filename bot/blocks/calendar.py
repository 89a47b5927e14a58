"""Block Kit for the leader engagement calendar: the list, the visit form, questions and follow-ups."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.limits import SECTION_TEXT
from beacon.bot.blocks.mrkdwn import escaped, mention, quoted, sections, shorten, truncate
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.models import Engagement
from beacon.bot.organisation import Site, StaffGroup

LINE = 1000  # one engagement in the list
FOLLOW_UP_SECTIONS = 5
OPEN_TO = ["All staff", "Staff at the site", "Managers and team leaders", "Clinical staff", "By invitation"]
MODES = [("in_person", "In person"), ("online", "Online"), ("hybrid", "Hybrid: in person and online")]
MODE_LABELS = {"online": "Online", "hybrid": "Hybrid"}
ANONYMOUS = "anonymous"


def _line(engagement: Engagement, describe: dict[str, Any]) -> str:
    who = mention(engagement.leader_user_id) if engagement.leader_user_id else f"*{escape_mrkdwn(engagement.leader)}*"
    place = escape_mrkdwn(describe["place"] or "a place to be confirmed")
    area = f" ({escape_mrkdwn(describe['area'])})" if describe.get("area") else ""
    if describe.get("staff_group") and describe["staff_group"] != describe["place"]:
        area += f" for *{escape_mrkdwn(describe['staff_group'])}*"
    if describe.get("mode") in MODE_LABELS:
        area += f" · {MODE_LABELS[describe['mode']]}"
    # A calendar feed's title has no length limit: one engagement's line never outgrows its section.
    return shorten(f"• {describe['when']} · {who} at *{place}*{area}: {escape_mrkdwn(engagement.title)}", LINE)


def build_calendar_blocks(items: list[tuple[Engagement, dict[str, Any]]], *, more: int, heading: str,
                          my_site: str | None = None) -> list[Block]:
    """The next fortnight of leaders out and about, within Block Kit's limits."""
    blocks: list[Block] = [HeaderBlock(text=truncate(heading, 150))]
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No leader engagements in the calendar for then.")))
        return blocks
    lines = [_line(e, d) + (" :house:" if my_site and e.site == my_site else "") for e, d in items]
    chunk: list[str] = []
    for line in lines:
        if sum(len(c) + 1 for c in chunk) + len(line) > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    if more:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {more} more: `/calendar <site or area>` "
                                                                     "narrows it down.")]))
    return blocks


def build_unknown_place(where: str, nearest: list[str]) -> str:
    """`/calendar <place>` for a place Beacon does not know: say so, and the nearest names it does."""
    text = f"Beacon knows no site, area or staff group called “{escape_mrkdwn(truncate(where, 100))}”."
    if nearest:
        text += " Did you mean " + " or ".join(f"`/calendar {escape_mrkdwn(n)}`" for n in nearest) + "?"
    return text + " `/calendar` on its own lists every leader engagement for the next 14 days."


def build_my_site_picker(sites: list[Site], current: str | None) -> ActionsBlock:
    options = [Option(value=s.name, label=truncate(s.name, 75)) for s in sites[:100]]
    return ActionsBlock(block_id="my_site", elements=[StaticSelectElement(
        action_id=ActionId.CALENDAR_MY_SITE, placeholder="Your site (shown first)", options=options,
        initial_option=next((o for o in options if o.value == current), None))])


def build_visit_modal(*, leader: str, sites: list[Site], today: date, tz: ZoneInfo,
                      staff_groups: list[StaffGroup] | None = None) -> dict[str, Any]:
    site_options = [Option(value=s.name, label=truncate(s.name, 75)) for s in sites[:100]]
    group_options = [Option(value=g.name, label=truncate(g.name, 75)) for g in (staff_groups or [])[:100]]
    mode_options = [Option(value=v, label=label) for v, label in MODES]
    open_options = [Option(value=o, label=o) for o in OPEN_TO]
    blocks: list[Block] = [
        InputBlock(block_id=BlockId.VISIT_LEADER, label="Leader",
                   element=UserSelectElement(action_id=BlockId.VISIT_LEADER, initial_user=leader)),
    ]
    if site_options:
        blocks.append(InputBlock(block_id=BlockId.VISIT_SITE, label="Site", optional=True,
                                 element=StaticSelectElement(action_id=BlockId.VISIT_SITE, options=site_options,
                                                             placeholder="Choose a station or office")))
    if group_options:
        blocks.append(InputBlock(block_id=BlockId.VISIT_STAFF_GROUP, label="Staff group", optional=True,
                                 hint="For staff not at one site; announced in the group's channel too.",
                                 element=StaticSelectElement(action_id=BlockId.VISIT_STAFF_GROUP,
                                                             options=group_options,
                                                             placeholder="Control room, 111, patient transport…")))
    blocks += [
        InputBlock(block_id=BlockId.VISIT_OTHER_PLACE, label="Somewhere else", optional=True,
                   hint="When it is not one of the sites above.",
                   element=PlainTextInputElement(action_id=BlockId.VISIT_OTHER_PLACE, max_length=200)),
        InputBlock(block_id=BlockId.VISIT_MODE, label="How",
                   element=StaticSelectElement(action_id=BlockId.VISIT_MODE, options=mode_options,
                                               initial_option=mode_options[0])),
        InputBlock(block_id=BlockId.VISIT_JOIN_LINK, label="Join link", optional=True,
                   hint="Online or hybrid: the https:// link. Only staff who say they'll be there get it.",
                   element=PlainTextInputElement(action_id=BlockId.VISIT_JOIN_LINK, max_length=500,
                                                 placeholder="https://teams.microsoft.com/…")),
        InputBlock(block_id=BlockId.VISIT_DAY, label="Day",
                   element=DatePickerElement(action_id=BlockId.VISIT_DAY, initial_date=today.isoformat())),
        InputBlock(block_id=BlockId.VISIT_STARTS, label=f"From ({tz.key})",
                   element=TimePickerElement(action_id=BlockId.VISIT_STARTS, timezone=tz.key, initial_time="10:00")),
        InputBlock(block_id=BlockId.VISIT_ENDS, label=f"Until ({tz.key})",
                   hint="Earlier than the start is the next day (a night shift); 24 hours at most.",
                   element=TimePickerElement(action_id=BlockId.VISIT_ENDS, timezone=tz.key, initial_time="12:00")),
        InputBlock(block_id=BlockId.VISIT_PURPOSE, label="What it is for", hint="As staff should read it.",
                   element=PlainTextInputElement(action_id=BlockId.VISIT_PURPOSE, max_length=300,
                                                 placeholder="Listening session with the day shift")),
        InputBlock(block_id=BlockId.VISIT_OPEN_TO, label="Open to",
                   element=StaticSelectElement(action_id=BlockId.VISIT_OPEN_TO, options=open_options,
                                               initial_option=open_options[0])),
    ]
    return View(type="modal", callback_id=CallbackId.VISIT, title="Announce a visit", submit="Announce",
                close="Cancel", blocks=blocks).to_dict()


def build_question_modal(*, engagement: Engagement, when: str) -> dict[str, Any]:
    return View(type="modal", callback_id=CallbackId.CALENDAR_QUESTION, title="Ask in advance", submit="Send",
                close="Cancel", private_metadata=json.dumps({"engagement": engagement.id}), blocks=[
                    SectionBlock(text=MarkdownTextObject(text=shorten(
                        f"For *{escape_mrkdwn(engagement.leader)}*: {escape_mrkdwn(engagement.title)}, {when}.",
                        SECTION_TEXT))),
                    InputBlock(block_id=BlockId.QUESTION_TEXT, label="Your question",
                               element=PlainTextInputElement(action_id=BlockId.QUESTION_TEXT, multiline=True,
                                                             max_length=1000)),
                    InputBlock(block_id=BlockId.QUESTION_ANONYMOUS, label="Your name", optional=True,
                               element=CheckboxesElement(action_id=BlockId.QUESTION_ANONYMOUS, options=[
                                   Option(value=ANONYMOUS, label="Don't show my name to the leader")])),
                    ContextBlock(elements=[MarkdownTextObject(
                        text="The leader gets questions in their briefing the day before the visit; asked after "
                             "it, within minutes. Without your name, Beacon keeps no record that it was you.")])]
                ).to_dict()


def build_question_receipt(*, leader: str, briefing_at: str | None, token: str | None,
                           batch_minutes: int) -> tuple[str, list[dict[str, Any]]]:
    """What the asker is told: truthfully when the leader gets it and, without a name, what Beacon keeps."""
    when = (f"in their briefing on {briefing_at}" if briefing_at else
            f"within {batch_minutes} minutes (their briefing has gone, so it goes to them on its own)")
    text = f"Your question for *{escape_mrkdwn(leader)}* is in: they get it {when}"
    if token is None:
        return text + ".", [SectionBlock(text=MarkdownTextObject(text=text + ".")).to_dict()]
    text += ", without your name."
    return text, [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
        ContextBlock(elements=[MarkdownTextObject(text=(
            "Beacon stored the question without your name or the time you asked, so nobody, not even Beacon's "
            "administrators, can tell it was you. Keep this message: its button is the only way back to your "
            "question and its answer."))]).to_dict(),
        ActionsBlock(elements=[ButtonElement(text="See the answer", action_id=ActionId.CALENDAR_QUESTION_CHECK,
                                             value=token)]).to_dict()]


def build_question_status(*, question: str, answer: str | None, answered_by: str | None,
                          answered_on: str | None) -> tuple[str, list[dict[str, Any]]]:
    if not answer:
        text = "No answer yet to your question:"
        body = f"{text}\n{quoted(question, SECTION_TEXT - 100)}\nAsk again here once the visit has happened."
    else:
        text = f"{mention(answered_by) if answered_by else 'The leader'} answered your question on {answered_on}:"
        body = shorten(f"{text}\n{quoted(question, 1200)}\n{escape_mrkdwn(answer)}", SECTION_TEXT)
    return text, [SectionBlock(text=MarkdownTextObject(text=body)).to_dict()]


def build_follow_up_modal(*, engagement: Engagement) -> dict[str, Any]:
    return View(type="modal", callback_id=CallbackId.CALENDAR_FOLLOW_UP, title="You said, we did", submit="Post",
                close="Cancel", private_metadata=json.dumps({"engagement": engagement.id}), blocks=[
                    InputBlock(block_id=BlockId.FOLLOW_UP_TEXT, label="What you heard and what happens next",
                               element=PlainTextInputElement(action_id=BlockId.FOLLOW_UP_TEXT, multiline=True,
                                                             max_length=2500)),
                    ContextBlock(elements=[MarkdownTextObject(
                        text="Posted in the thread of the visit's announcement.")])]).to_dict()


def build_follow_up_post(*, leader_user_id: str, text: str) -> tuple[str, list[dict[str, Any]]]:
    heading = f":speech_balloon: You said, we did, from {mention(leader_user_id)}"
    # The form takes 2,500 characters; escaped, that can be five times as long: split it, lose none of it.
    pieces = sections(f"{heading}\n{escape_mrkdwn(text)}", SECTION_TEXT, count=FOLLOW_UP_SECTIONS)
    return heading, [SectionBlock(text=MarkdownTextObject(text=piece)).to_dict() for piece in pieces]


def build_answer_modal(*, question_id: int, question: str, title: str) -> dict[str, Any]:
    return View(type="modal", callback_id=CallbackId.CALENDAR_ANSWER, title="You said, we did", submit="Answer",
                close="Cancel", private_metadata=json.dumps({"question": question_id}), blocks=[
                    SectionBlock(text=MarkdownTextObject(text=shorten(
                        f"Asked before *{escape_mrkdwn(title)}*:\n{quoted(question, SECTION_TEXT - 400)}",
                        SECTION_TEXT))),
                    InputBlock(block_id=BlockId.ANSWER_TEXT, label="Your answer: what you heard and what happens",
                               element=PlainTextInputElement(action_id=BlockId.ANSWER_TEXT, multiline=True,
                                                             max_length=2000)),
                    ContextBlock(elements=[MarkdownTextObject(
                        text="Posted in the engagement's thread and its site's channel; the asker is told (one who "
                             "asked without their name finds it with their own link).")])]).to_dict()


ANSWER_LINE = 900


def build_answers_log(items: list[dict[str, Any]], *, heading: str, search: str | None = None) -> list[Block]:
    """The log of "you said, we did": each answer with its question, when and who answered, latest first."""
    blocks: list[Block] = [HeaderBlock(text=truncate(heading, 150))]
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=(
            f"No answers match “{escaped(search, 200)}”." if search else "No questions have been answered yet."))))
        return blocks
    for item in items[:45]:
        place = escape_mrkdwn(item.get("place") or "a place to be confirmed")
        line = (f"*{escape_mrkdwn(item['answered_on'])}* · {mention(item['answered_by'])} at {place} "
                f"({escape_mrkdwn(item['title'])})\n{quoted(item['question'], 300)}\n"
                f"{escape_mrkdwn(item['answer'] or '')}")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=shorten(line, ANSWER_LINE))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Search them with `/calendar answers <words>`.")]))
    return blocks
