"""Direct messages the outbox sends from a template: services say what to tell, these say how."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.digests import personal_digest, weekly_digest
from beacon.bot.blocks.limits import SECTION_TEXT, TEXT_OBJECT
from beacon.bot.blocks.mrkdwn import listing, mention, quote, quoted, quoted_sections, shorten, truncate
from beacon.bot.blocks.nominations import who
from beacon.bot.blocks.pulse_chart import render_chart
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId

Rendered = tuple[str, list[dict[str, Any]]]

# Why Slack refused a post, and what the author can do about it.
_REFUSALS = {
    "channel_not_found": ("the channel no longer exists, or it is private and Beacon is not in it",
                          "Check the channel and invite Beacon with `/invite @Beacon`, then edit the post "
                          "(`/schedule list`) to schedule it again."),
    "not_in_channel": ("Beacon is not a member of the channel",
                       "Type `/invite @Beacon` in {channel}, then edit the post (`/schedule list`) to schedule "
                       "it again."),
    "is_archived": ("the channel is archived",
                    "Unarchive the channel, or edit the post (`/schedule list`) and choose another channel."),
    "restricted_action": ("only some people may post in that channel",
                          "Ask the channel's managers to let Beacon post, then edit the post to schedule it again."),
    "invalid_blocks": ("Slack could not display the message",
                       "Edit the post (`/schedule list`) and simplify its formatting."),
    "msg_too_long": ("the message is too long for Slack", "Edit the post (`/schedule list`) and shorten it."),
    "could_not_build": ("Beacon could not put the message together (a fault in Beacon)",
                        "Tell your Beacon administrator; editing the post (`/schedule list`) may get round it."),
}


def _channels(params: dict[str, Any]) -> str:
    return listing([f"<#{c}>" for c in params.get("channels") or []])


STORY_SECTIONS = 2  # a 3,000-character story needs two sections only when escaping and quoting lengthen it
STORY_SHORTENED = "\n… _(shortened: Slack cannot show all of this story in one message)_"


def _section(text: str) -> SectionBlock:
    """A section within Slack's 3,000 characters, whatever the user text in it (already escaped)."""
    return SectionBlock(text=MarkdownTextObject(text=shorten(text, SECTION_TEXT)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=shorten(text, TEXT_OBJECT))])


def _summary(params: dict[str, Any]) -> SectionBlock:
    return _section(quoted(str(params.get("summary") or ""), SECTION_TEXT))


def _story(params: dict[str, Any]) -> list[Block]:
    """The story as a quote, escaped and quoted first and then split over up to two sections; only a story that
    still does not fit is shortened, and says so. The nominee's DM and the public post show the same words."""
    return [_section(piece) for piece in quoted_sections(str(params.get("story") or ""), SECTION_TEXT,
                                                         count=STORY_SECTIONS, note=STORY_SHORTENED)]


def post_failed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    channel = f"<#{params['channel']}>"
    code = str(params.get("error") or "")
    reason, fix = _REFUSALS.get(code.split(":", 1)[0], (f"Slack refused it (`{escape_mrkdwn(code)}`)",
                                       "Edit the post (`/schedule list`) to fix it, or ask your Beacon administrator."))
    text = f":warning: Your scheduled post to {channel} for {params['when']} could not be sent: {reason}."
    return text, [_section(text), _summary(params), _section(fix.format(channel=channel)),
                  ContextBlock(elements=[MarkdownTextObject(
                      text="The post is marked failed and will not run again until you edit it.")])]


def post_missed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    channel = f"<#{params['channel']}>"
    if params.get("error") == "not approved in time":
        why = "nobody from the communications team approved it before its time"
    else:
        why = (f"Beacon could not post it within {params.get('grace_hours')} hours of its time "
               "(Beacon or Slack was unavailable)")
    text = f":hourglass: Your scheduled post to {channel} for {params['when']} was not sent: {why}."
    return text, [_section(text), _summary(params)]


def post_runs_skipped(params: dict[str, Any]) -> tuple[str, list[Block]]:
    count = int(params.get("skipped") or 0)
    runs = "1 run" if count == 1 else f"{count} runs"
    next_run = f" Its next run is {params['when']}." if params.get("when") else " It has no more runs."
    text = (f":hourglass: Beacon was not running for a while, so {runs} of your scheduled post to "
            f"{_channels(params)} did not go out (more than {params.get('grace_hours')} hours late).{next_run}")
    return text, [_section(text), _summary(params)]


def post_approval_request(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f"{mention(params['author'])} scheduled a post to {_channels(params)} for {params['when']} "
            f"({escape_mrkdwn(str(params['repeat']))}). It needs a second member of the communications "
            "team to approve it.")
    post_id = str(params["post_id"])
    buttons = ActionsBlock(block_id="approval", elements=[
        ButtonElement(text="Approve", action_id=ActionId.SCHEDULE_APPROVE, value=post_id, style="primary"),
        ButtonElement(text="Reject", action_id=ActionId.SCHEDULE_REJECT, value=post_id, style="danger",
                      confirm=ConfirmObject(title="Reject this post?", text="It will not be posted. "
                                            "The author is told who rejected it.", confirm="Reject", deny="Back")),
    ])
    return text, [_section(text), _summary(params), buttons]


def post_approved(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":white_check_mark: {mention(params['decided_by'])} approved your post to {_channels(params)}. "
            f"It will go out {params['when']}.")
    return text, [_section(text), _summary(params)]


def post_rejected(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":no_entry: {mention(params['decided_by'])} rejected your post to {_channels(params)}; "
            "it will not be posted. Talk to them, then schedule it again if needed.")
    return text, [_section(text), _summary(params)]


def _nominees(params: dict[str, Any]) -> str:
    return who(params.get("nominees") or [])


def _tags(params: dict[str, Any]) -> str:
    values = " ".join(f"{v['emoji']} {escape_mrkdwn(v['name'])}" for v in params.get("values") or [])
    behaviours = ", ".join(escape_mrkdwn(b) for b in params.get("behaviours") or [])
    return values + (f"\n*Leadership:* {behaviours}" if behaviours else "")


def _tags_section(params: dict[str, Any]) -> list[Block]:
    """The values and behaviours seen, when any were chosen (Slack refuses an empty section)."""
    tags = _tags(params)
    return [_section(tags)] if tags.strip() else []


def _award_phrase(params: dict[str, Any]) -> str:
    if params.get("award") == "thanks":
        return "a thank-you"
    return f"the *{escape_mrkdwn(str(params.get('award_name')))}* award"


def nomination_receipt(params: dict[str, Any]) -> tuple[str, list[Block]]:
    verb = "updated your earlier nomination of" if params.get("replaced") else "received your nomination of"
    if params.get("award") == "thanks":
        verb = "passed on your thank-you to"
    text = f":sparkles: Thank you: Beacon has {verb} {_nominees(params)}"
    text += "." if params.get("award") == "thanks" else f" for {_award_phrase(params)}."
    follow = "They have been told privately."
    if params.get("cannot_share"):
        follow += (" It will not be shared publicly: a colleague named is not on Slack, so Beacon cannot ask "
                   "them, and nobody is celebrated without their yes.")
    elif params.get("asked_again"):
        follow += (" They have been asked again about the new words; until everyone named says yes, only words "
                   "they agreed to can be shared.")
    elif params.get("share_publicly"):
        follow += f" If they agree, it will be celebrated in <#{params['recognition_channel']}>."
    if params.get("nominator_name"):
        follow = f"Entered on behalf of {escape_mrkdwn(params['nominator_name'])}. " + follow
    if params.get("no_round"):
        follow = ("No award round is open just now, so this is kept as recognition: it will not be judged for "
                  "the award. " + follow)
    return text, [_section(text), *_tags_section(params), *_story(params),
                  ContextBlock(elements=[MarkdownTextObject(text=follow + " See it in Beacon's Home tab.")])]


def nominee_recognised(params: dict[str, Any]) -> tuple[str, list[Block]]:
    if params.get("nominator"):
        source = mention(params["nominator"])
    elif params.get("nominator_name"):
        source = escape_mrkdwn(params["nominator_name"])
    else:
        source = "A colleague"
    what = "thanked you" if params.get("award") == "thanks" else f"nominated you for {_award_phrase(params)}"
    text = f":tada: {source} {what}."
    if params.get("changed"):
        text = f":pencil2: {source} changed what they wrote when they {what}."
    blocks: list[Block] = [_section(text), *_tags_section(params), *_story(params)]
    if params.get("ask_consent"):
        # The buttons carry the version of the words shown here, so a yes can only ever be to these words.
        nomination = str(params.get("consent_value") or params["nomination_id"])
        question = (f"They would like to celebrate this in <#{params['recognition_channel']}>. Is that all right "
                    "with you? Saying no is fine, and needs no reason.")
        if params.get("changed"):
            question = (f"They would like these new words to be what <#{params['recognition_channel']}> shows. "
                        "Is that all right with you? Nothing with these words is shared until everyone named "
                        "says yes. Saying no is fine, and needs no reason.")
        blocks += [
            SectionBlock(block_id="consent_question", text=MarkdownTextObject(text=question)),
            ActionsBlock(block_id="consent", elements=[
                ButtonElement(text="Yes, share it", action_id=ActionId.CONSENT_GIVE, value=nomination,
                              style="primary"),
                ButtonElement(text="No, keep it private", action_id=ActionId.CONSENT_DECLINE, value=nomination)]),
        ]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="This is kept in your Beacon Home tab as a private record of your recognition.")]))
    return text, blocks


def recognition_post(params: dict[str, Any]) -> tuple[str, list[Block]]:
    source = mention(params["nominator"]) if params.get("nominator") else "A colleague"
    if params.get("award") == "thanks":
        text = f":clap: {source} says thank you to {_nominees(params)}"
    else:
        text = f":trophy: {source} nominated {_nominees(params)} for {_award_phrase(params)}"
    count = int(params.get("endorsements") or 0)
    backing = ("Be the first to add your voice." if count == 0 else
               f"{count} colleague{'s have' if count != 1 else ' has'} endorsed this.")
    return text, [
        _section(text), *_tags_section(params), *_story(params),
        ActionsBlock(block_id="endorse", elements=[ButtonElement(
            text=":raised_hands: Endorse", action_id=ActionId.ENDORSE, value=str(params["nomination_id"]))]),
        ContextBlock(elements=[MarkdownTextObject(text=f"{backing} Shared with their agreement.")]),
    ]


def recognition_removed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """A celebration that went out just as someone it names said no (a send under way cannot be recalled): its
    words and names are replaced at once."""
    text = ":leaves: This recognition is no longer shared."
    return text, [_section(text)]


def _awards(params: dict[str, Any]) -> str:
    return listing([f"*{escape_mrkdwn(a)}*" for a in params.get("awards") or []])


def round_opened(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":trophy: Nominations are open for *{escape_mrkdwn(params['round'])}*: {_awards(params)}. "
            f"They close {params['closes']}.")
    return text, [_section(text), _section("Recognise a colleague who lives the Trust values or leads well, at "
                                           "any level, with `/nominate`. Every nomination is read by the awards "
                                           "panel, and nobody is celebrated publicly without their agreement.")]


def round_reminder(params: dict[str, Any]) -> tuple[str, list[Block]]:
    when = "tomorrow" if str(params.get("days")) == "1" else f"in {params.get('days')} days"
    text = (f":hourglass_flowing_sand: Nominations for *{escape_mrkdwn(params['round'])}* close {when}, "
            f"{params['closes']}. Is there someone whose work deserves to be seen? `/nominate`")
    return text, [_section(text)]


def round_closed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":lock: Nominations for *{escape_mrkdwn(params['round'])}* are now closed. Thank you to everyone "
            "who took the time to recognise a colleague. The awards panel will now review every nomination.")
    return text, [_section(text)]


def winner_consent_request(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":trophy: Congratulations! The awards panel has chosen you as a winner of the "
            f"*{escape_mrkdwn(params['award_name'])}* award in {escape_mrkdwn(params['round'])}.")
    decision = str(params["decision_id"])
    if params.get("cannot_be_named"):  # someone in it is not on Slack: they can never say yes, so nobody is named
        return text, [_section(text), _section("Someone who shares this award is not on Slack, so Beacon cannot ask "
                                               "them, and the announcement will not name this award's winners. The "
                                               "award is yours all the same.")]
    return text, [_section(text), _section("May Beacon name you when the winners are announced in the recognition "
                                           "channel? Saying no is fine; you keep the award either way."),
                  ActionsBlock(block_id="winner_consent", elements=[
                      ButtonElement(text="Yes, name me", action_id=ActionId.WINNER_CONSENT_GIVE, value=decision,
                                    style="primary"),
                      ButtonElement(text="Please don't", action_id=ActionId.WINNER_CONSENT_DECLINE,
                                    value=decision)])]


def awards_announcement(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = f":trophy: The winners of *{escape_mrkdwn(params['round'])}*"
    lines = [f"*{escape_mrkdwn(w['award_name'])}*: {who(w['people'])}" for w in params.get("winners") or []]
    # Winners are named only with their yes; why one is not (a no, or no answer yet) is said to nobody.
    unnamed = int(params.get("unnamed") or 0)
    if unnamed:
        lines.append(f"…and {unnamed} more winner{'s' if unnamed != 1 else ''}, not named here.")
    blocks: list[Block] = [_section(text + "\n" + "\n".join(lines or ["The panel's winners are not named here."]))]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Congratulations, and thank you to everyone who nominated a colleague.")]))
    return text, blocks


def nomination_outcome(params: dict[str, Any]) -> tuple[str, list[Block]]:
    outcome = {"won": "won", "shortlisted": "was shortlisted", "not_selected": "was not chosen this time"}[
        str(params["outcome"])]
    text = (f"The awards panel has finished {escape_mrkdwn(params['round'])}: your nomination of "
            f"{who(params.get('nominees') or [])} for *{escape_mrkdwn(params['award_name'])}* {outcome}.")
    follow = "Thank you for taking the time to recognise a colleague."
    if params["outcome"] != "won":
        follow += " Your nomination stays in their private record of recognition."
    return text, [_section(text), ContextBlock(elements=[MarkdownTextObject(text=follow)])]


def _leader(params: dict[str, Any]) -> str:
    return mention(params["leader_user_id"]) if params.get("leader_user_id") else f"*{escape_mrkdwn(params['leader'])}*"


def _place(params: dict[str, Any]) -> str:
    place = params.get("place")
    if not place:
        return "a place to be confirmed"
    area = f" ({escape_mrkdwn(params['area'])})" if params.get("area") else ""
    return f"*{escape_mrkdwn(place)}*{area}"


def engagement_announcement(params: dict[str, Any]) -> tuple[str, list[Block]]:
    engagement = str(params["engagement_id"])
    if params.get("cancelled"):
        text = f":no_entry_sign: Cancelled: {_leader(params)} at {_place(params)}, {params['when']}"
        return text, [_section(text + f"\n~{escape_mrkdwn(params['title'])}~")]
    text = f":round_pushpin: {_leader(params)} will be at {_place(params)}, {params['when']}"
    blocks: list[Block] = [_section(f"{text}\n{escape_mrkdwn(params['title'])}")]
    if params.get("open_to"):
        blocks.append(_context(f"Open to: {escape_mrkdwn(params['open_to'])}"))
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


def engagement_changed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    if params.get("change") == "cancelled":
        text = f":no_entry_sign: This has been cancelled: {_leader(params)} will not be at {_place(params)}."
    else:
        was = f" (it was {params['was']})" if params.get("was") else ""
        text = (f":arrows_counterclockwise: Change: {_leader(params)} will now be at {_place(params)}, "
                f"{params['when']}{was}.")
    return text, [_section(text)]


def visit_reminder(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text, blocks = engagement_announcement(params)
    text = f":wave: Tomorrow: {text.split(' ', 1)[1]}"
    return text, [_section(f"{text}\n{escape_mrkdwn(params['title'])}"), *blocks[1:]]


def leaders_this_week(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = f":calendar: Leaders out and about, week of {params['week_of']}"
    items = params.get("engagements") or []
    if not items:
        return text, [_section(text + "\nNo leader visits are in the calendar this week.")]
    by_day: dict[str, dict[str, list[str]]] = {}
    for e in items:
        line = f"• {e['when'].split(', ', 1)[-1]} · {_leader(e)} at {_place(e)}: {escape_mrkdwn(e['title'])}"
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
        blocks.append(_section(body))
    blocks = blocks[:49]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="See any day with `/calendar`.")]))
    return text, blocks


def leader_briefing(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = f":spiral_calendar_pad: Tomorrow: {escape_mrkdwn(params['title'])} at {_place(params)}, {params['when']}."
    attendees = params.get("attendees") or []
    going = (f"{len(attendees)} said they'll be there: " + listing([mention(u) for u in attendees[:40]])
             if attendees else "Nobody has said they'll be there yet.")
    blocks: list[Block] = [_section(text), _section(going)]
    questions = params.get("questions") or []
    if questions:
        asked = "\n".join(f"{quote(q['question'])}\n_from {mention(q['asker']) if q.get('asker') else 'a colleague'}_"
                          for q in questions[:20])
        blocks.append(_section(truncate(f"*Questions asked in advance*\n{asked}", 3000)))
    return text, blocks


def leader_follow_up(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f"How did {escape_mrkdwn(params['title'])} at {_place(params)} go? Staff value hearing back: post a "
            "short “you said, we did” in the announcement's thread.")
    return text, [_section(text), ActionsBlock(elements=[ButtonElement(
        text="Write the follow-up", action_id=ActionId.CALENDAR_FOLLOW_UP, value=str(params["engagement_id"]),
        style="primary")])]


def calendar_source_failing(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":warning: The calendar source *{escape_mrkdwn(params['source'])}* has failed {params['failures']} "
            f"times in a row (`{escape_mrkdwn(str(params['error'])[:200])}`). Beacon keeps showing its last good "
            "data, and will say when it works again.")
    return text, [_section(text)]


def calendar_source_recovered(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = f":white_check_mark: The calendar source *{escape_mrkdwn(params['source'])}* is working again."
    return text, [_section(text)]


def calendar_unmatched(params: dict[str, Any]) -> tuple[str, list[Block]]:
    places = "\n".join(f"• {escape_mrkdwn(p)}" for p in params.get("locations") or [])
    text = ("These calendar locations match no site in beacon.yaml, so their engagements are listed under "
            "“other places”. Add them as a site, or as an alias of one:")
    return text, [_section(truncate(f"{text}\n{places}", 3000))]


def _pulse_privacy(params: dict[str, Any]) -> str:
    if params.get("anonymous"):
        when = ("as answers come in, in groups (never one at a time)" if params.get("live_results")
                else "once it closes")
        return (":lock: *Anonymous.* Nobody, not its creator and not Beacon's administrators, can see who answered "
                f"what. Results are shown {when}, and only for questions at least {params.get('minimum')} people "
                "answered; comments go to the forum moderators alone.")
    return (":bust_in_silhouette: *Named.* Your answers are recorded with your name, and the forum moderators can "
            "see them.")


def _answer_controls(params: dict[str, Any]) -> list[Block]:
    """Answer in the message when the pulse is one simple question; otherwise an Answer button."""
    questions = params.get("questions") or []
    pulse = params["pulse_id"]
    if len(questions) == 1 and questions[0]["type"] in ("single", "agreement", "frequency", "scale"):
        q = questions[0]
        labels = [str(n) for n in range(11)] if q["type"] == "scale" else q["options"]
        if len(labels) <= 11:
            return [ActionsBlock(block_id=f"pulse_{pulse}_{q['key']}", elements=[
                ButtonElement(text=truncate(label, 75), action_id=f"{ActionId.PULSE_CHOOSE}_{i}",
                              value=f"{pulse}:{q['key']}:{i}") for i, label in enumerate(labels)])]
    return [ActionsBlock(block_id=f"pulse_{pulse}", elements=[ButtonElement(
        text="Answer", action_id=ActionId.PULSE_ANSWER, value=str(pulse), style="primary")])]


def pulse_message(params: dict[str, Any]) -> tuple[str, list[Block]]:
    questions = params.get("questions") or []
    closed = params.get("status") == "closed"
    text = f":bar_chart: {escape_mrkdwn(params['title'])}"
    blocks: list[Block] = [HeaderBlock(text=truncate(f"{params['title']}", 150))]
    listed = "\n".join(f"{i}. {escape_mrkdwn(q['text'])}" for i, q in enumerate(questions, start=1))
    blocks.append(_section(listed if len(questions) > 1 else f"*{escape_mrkdwn(questions[0]['text'])}*"))
    if not closed:
        blocks += _answer_controls(params)
    if params.get("results") and not closed:
        blocks += _results_blocks(params["results"])[:10]
    count = int(params.get("responses") or 0)
    state = (f"Closed · {count} responses · results in the thread" if closed else
             f"{count} response{'s' if count != 1 else ''} · closes {params['closes']}")
    blocks += [ContextBlock(elements=[MarkdownTextObject(text=_pulse_privacy(params))]),
               ContextBlock(elements=[MarkdownTextObject(text=state)])]
    return text, blocks


def _question_lines(q: dict[str, Any]) -> str:
    title = f"*{escape_mrkdwn(q['text'])}*"
    if q["type"] == "text":
        return f"{title}\nComments are shared with the forum moderators only."
    if q["suppressed"]:
        return f"{title}\nNot enough responses to report ({q['responses']})."
    lines = [f"• {escape_mrkdwn(str(label))}: {count} ({percent:.0f}%)" for label, count, percent in q["options"]]
    extra = []
    if q.get("mean") is not None:
        extra.append(f"mean {q['mean']:.2f}")
    if q.get("net_score") is not None:
        extra.append(f"net score {q['net_score']:+.0f}")
    if q.get("change") is not None:
        extra.append(f"{q['change']:+g} on last time")
    return "\n".join([f"{title} ({q['responses']} responses)", *lines] + ([" · ".join(extra)] if extra else []))


def _results_blocks(results: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = [_section(truncate(_question_lines(q), 3000)) for q in results.get("questions") or []]
    themes = [t for t in results.get("themes") or []]
    if themes:
        scored = " · ".join(f"{escape_mrkdwn(t['label'])} {t['score']:.1f}" if t["score"] is not None
                            else f"{escape_mrkdwn(t['label'])}: not enough responses" for t in themes)
        blocks.append(_context(f"*Theme scores (0 to 10):* {scored}"))
    for key, cells in (results.get("breakdown") or {}).items():
        shown = ", ".join(f"{escape_mrkdwn(g)}: {n}" + (f" (mean {m:.2f})" if m is not None else "")
                          if n is not None else f"{escape_mrkdwn(g)}: not shown" for g, n, m in cells)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(f"By area, {key}: {shown}", 2000))]))
    return blocks


def pulse_results(params: dict[str, Any]) -> tuple[str, list[Block]]:
    results = params["results"]
    text = f":bar_chart: Results: {escape_mrkdwn(params['title'])} ({results['total']} responses)"
    note = (f"Figures are shown only where at least {results['minimum']} people answered a question."
            + (" Answers were anonymous." if params.get("anonymous") else ""))
    return text, [_section(text), *_results_blocks(results)[:46],
                  ContextBlock(elements=[MarkdownTextObject(text=note)])]


def pulse_reminder(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":hourglass_flowing_sand: “{escape_mrkdwn(params['title'])}” closes {params['closes']}, and you have "
            "not answered yet. It takes a minute; the forum reads every answer.")
    return text, [_section(text), ContextBlock(elements=[MarkdownTextObject(text=_pulse_privacy(params))])]


# Why a message could not be delivered, in plain words (Slack's error codes are kept for the admins).
_UNDELIVERED = {
    "could_not_build": "Beacon could not put the message together (a fault in Beacon)",
    "invalid_blocks": "Slack could not display it",
    "msg_too_long": "it was too long for Slack",
    "msg_blocks_too_long": "it was too long for Slack",
    "invalid_arguments": "Slack refused it as it was written",
    "channel_not_found": "the conversation no longer exists, or Beacon is not in it",
    "not_in_channel": "Beacon is not a member of the channel",
    "is_archived": "the channel is archived",
    "user_disabled": "the person's Slack account has been deactivated",
    "user_not_found": "the person is no longer in Slack",
    "cannot_dm_bot": "it was addressed to a bot",
    "restricted_action": "only some people may post in that channel",
}
_WHAT = {
    "nomination_receipt": "the receipt for your nomination",
    "nominee_recognised": "your recognition to {to}, so they have not seen it or been asked about sharing it",
    "recognition_post": "the public celebration of your nomination",
    "post_approval_request": "the request to approve your scheduled post, to {to}",
}


def _where(channel: str) -> str:
    return mention(channel) if channel[:1] in ("U", "W") else f"<#{channel}>"


def delivery_failed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """A message Beacon accepted will never be delivered: told to its author, or to the admins channel."""
    error = str(params.get("error") or "")
    code = error.split(":", 1)[0].strip()
    if params.get("status") == "missed":
        reason = "it could not be sent in time (Beacon or Slack was unavailable)"
    else:
        reason = _UNDELIVERED.get(code, "Slack refused it")
    channel = str(params.get("channel") or "")
    reference = f"outbox #{params.get('outbox_id')}"
    if params.get("for_admins"):
        kind = escape_mrkdwn(str(params.get("template") or params.get("source") or "message"))
        # A direct message's recipient is not named to the admins: a failed pulse reminder would say who had
        # not answered yet. The outbox id finds it in the log for whoever must look.
        where = "one person's direct messages" if channel[:1] in ("U", "W", "D") else _where(channel)
        text = (f":warning: Beacon could not deliver a message ({kind}) to {where}: {reason} "
                f"(`{escape_mrkdwn(error[:200]) or 'no error'}`, {reference}).")
        extra = []
        if params.get("told_author_failed"):
            told = escape_mrkdwn(str(params["told_author_failed"])[:200])
            extra.append(f"Its author could not be told either (`{told}`).")
        extra.append("It will not be retried. Other failures of the same kind within the hour are only in the log.")
        return text, [_section(text), _context(" ".join(extra))]
    what = _WHAT.get(str(params.get("template") or ""), "a message from Beacon").format(to=_where(channel))
    text = f":warning: Beacon could not deliver {what}: {reason}."
    follow = (f"It will not be retried. If you need help, ask your Beacon administrator and mention {reference}.")
    return text, [_section(text), _context(follow)]


TEMPLATES: dict[str, Callable[[dict[str, Any]], tuple[str, list[Block]]]] = {
    "post_failed": post_failed, "post_missed": post_missed, "post_runs_skipped": post_runs_skipped,
    "post_approval_request": post_approval_request, "post_approved": post_approved, "post_rejected": post_rejected,
    "nomination_receipt": nomination_receipt, "nominee_recognised": nominee_recognised,
    "recognition_post": recognition_post, "recognition_removed": recognition_removed,
    "round_opened": round_opened, "round_reminder": round_reminder,
    "round_closed": round_closed, "winner_consent_request": winner_consent_request,
    "awards_announcement": awards_announcement, "nomination_outcome": nomination_outcome,
    "engagement_announcement": engagement_announcement, "engagement_changed": engagement_changed,
    "visit_reminder": visit_reminder, "leaders_this_week": leaders_this_week, "leader_briefing": leader_briefing,
    "leader_follow_up": leader_follow_up, "calendar_source_failing": calendar_source_failing,
    "calendar_source_recovered": calendar_source_recovered, "calendar_unmatched": calendar_unmatched,
    "pulse_message": pulse_message, "pulse_results": pulse_results, "pulse_reminder": pulse_reminder,
    "weekly_digest": weekly_digest, "personal_digest": personal_digest, "delivery_failed": delivery_failed,
}


def render(content: dict[str, Any]) -> Rendered:
    """The text and blocks of an outbox row: given as they are, or made from their template."""
    if "template" in content:
        text, blocks = TEMPLATES[content["template"]](content.get("params") or {})
        return text, [b.to_dict() for b in blocks]
    return str(content.get("text") or ""), list(content.get("blocks") or [])


@dataclass(frozen=True)
class Outgoing:
    """Everything the sender needs for one outbox row."""

    text: str
    blocks: list[dict[str, Any]]
    broadcast: bool = False                      # a thread reply also shown in the channel
    file: tuple[str, str, bytes] | None = None   # (filename, title, content): uploaded instead of posted


def outgoing(content: dict[str, Any]) -> Outgoing:
    if content.get("template") == "pulse_chart":
        params = content.get("params") or {}
        return Outgoing(text=f"Results of {params.get('title', 'the pulse')} as a chart", blocks=[],
                        file=("pulse-results.png", f"Results: {params.get('title', '')}", render_chart(params)))
    text, blocks = render(content)
    return Outgoing(text=text, blocks=blocks, broadcast=bool(content.get("broadcast")))
