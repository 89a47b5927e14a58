"""Nominations and award rounds: receipts, the nominee's recognition, public posts, round notices."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.mrkdwn import listing, mention
from beacon.bot.blocks.nominations import who
from beacon.bot.blocks.notices.common import section, story
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId


def _nominees(params: dict[str, Any]) -> str:
    return who(params.get("nominees") or [])


def _tags(params: dict[str, Any]) -> str:
    values = " ".join(f"{v['emoji']} {escape_mrkdwn(v['name'])}" for v in params.get("values") or [])
    behaviours = ", ".join(escape_mrkdwn(b) for b in params.get("behaviours") or [])
    return values + (f"\n*Leadership:* {behaviours}" if behaviours else "")


def _tags_section(params: dict[str, Any]) -> list[Block]:
    """The values and behaviours seen, when any were chosen (Slack refuses an empty section)."""
    tags = _tags(params)
    return [section(tags)] if tags.strip() else []


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
    return text, [section(text), *_tags_section(params), *story(params),
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
    blocks: list[Block] = [section(text), *_tags_section(params), *story(params)]
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
        section(text), *_tags_section(params), *story(params),
        ActionsBlock(block_id="endorse", elements=[ButtonElement(
            text=":raised_hands: Endorse", action_id=ActionId.ENDORSE, value=str(params["nomination_id"]))]),
        ContextBlock(elements=[MarkdownTextObject(text=f"{backing} Shared with their agreement.")]),
    ]


def recognition_removed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """A celebration that went out just as someone it names said no (a send under way cannot be recalled): its
    words and names are replaced at once."""
    text = ":leaves: This recognition is no longer shared."
    return text, [section(text)]


def _awards(params: dict[str, Any]) -> str:
    return listing([f"*{escape_mrkdwn(a)}*" for a in params.get("awards") or []])


def round_opened(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":trophy: Nominations are open for *{escape_mrkdwn(params['round'])}*: {_awards(params)}. "
            f"They close {params['closes']}.")
    return text, [section(text), section("Recognise a colleague who lives the Trust values or leads well, at "
                                           "any level, with `/nominate`. Every nomination is read by the awards "
                                           "panel, and nobody is celebrated publicly without their agreement.")]


def round_reminder(params: dict[str, Any]) -> tuple[str, list[Block]]:
    when = "tomorrow" if str(params.get("days")) == "1" else f"in {params.get('days')} days"
    text = (f":hourglass_flowing_sand: Nominations for *{escape_mrkdwn(params['round'])}* close {when}, "
            f"{params['closes']}. Is there someone whose work deserves to be seen? `/nominate`")
    return text, [section(text)]


def round_closed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":lock: Nominations for *{escape_mrkdwn(params['round'])}* are now closed. Thank you to everyone "
            "who took the time to recognise a colleague. The awards panel will now review every nomination.")
    return text, [section(text)]


def winner_consent_request(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":trophy: Congratulations! The awards panel has chosen you as a winner of the "
            f"*{escape_mrkdwn(params['award_name'])}* award in {escape_mrkdwn(params['round'])}.")
    decision = str(params["decision_id"])
    if params.get("cannot_be_named"):  # someone in it is not on Slack: they can never say yes, so nobody is named
        return text, [section(text), section("Someone who shares this award is not on Slack, so Beacon cannot ask "
                                               "them, and the announcement will not name this award's winners. The "
                                               "award is yours all the same.")]
    return text, [section(text), section("May Beacon name you when the winners are announced in the recognition "
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
    blocks: list[Block] = [section(text + "\n" + "\n".join(lines or ["The panel's winners are not named here."]))]
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
    return text, [section(text), ContextBlock(elements=[MarkdownTextObject(text=follow)])]


