"""Ask the leaders: the published question (support count and button), the leader's answer in its thread, what a
named asker is told, and the leader's request to answer."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from beacon.bot.blocks.mrkdwn import escaped, mention, quoted, quoted_sections
from beacon.bot.blocks.notices.common import context, section
from beacon.bot.ids import ActionId

_QUOTE = 2900  # a question is 1,000 characters; escaped and quoted it may be several times that


def _supporters(count: int) -> str:
    return f"{count} colleague{'s' if count != 1 else ''} support{'s' if count == 1 else ''} this"


def forum_question(params: dict[str, Any]) -> tuple[str, list[Block]]:
    asker = params.get("asker")
    who = f"{mention(asker)} asks" if asker else "A colleague asks (anonymously)"
    count = int(params.get("supporters") or 0)
    heading = f":raising_hand: *Ask the leaders.* {who}:"
    blocks: list[Block] = [section(heading), section(quoted(str(params.get("question") or ""), _QUOTE))]
    state = "Answered in the thread." if params.get("answered") else (
        f"{mention(params['leader'])} will answer in the thread." if params.get("leader") else
        "A leader will answer in the thread.")
    blocks.append(context(f"{_supporters(count)}. {state}"))
    blocks.append(ActionsBlock(elements=[ButtonElement(text="Support this", action_id=ActionId.ASK_SUPPORT,
                                                       value=str(params.get("question_id") or ""))]))
    return f"Ask the leaders: a question for the leadership team ({_supporters(count)})", blocks


def forum_answer(params: dict[str, Any]) -> tuple[str, list[Block]]:
    heading = f":speech_balloon: *Answer from {mention(str(params.get('leader') or ''))}*"
    pieces = quoted_sections(str(params.get("answer") or ""), 2900, count=3)
    return "An answer from the leadership team", [section(heading), *(section(p) for p in pieces)]


def forum_outcome(params: dict[str, Any]) -> tuple[str, list[Block]]:
    outcome = params.get("outcome")
    question = section(quoted(str(params.get("question") or ""), 1500))
    channel = f"<#{params['channel']}>" if params.get("channel") else "the staff forum"
    if outcome == "published":
        text = f":white_check_mark: Your question for the leaders is published in {channel}; colleagues can support it."
        return text, [section(text), question]
    if outcome == "declined":
        text = ":information_source: The forum moderators did not publish your question for the leaders."
        return text, [section(text), question,
                      section(f"Their reason: {escaped(str(params.get('reason') or ''), 2500)}")]
    if outcome == "merged":
        text = (":link: Your question for the leaders was merged into one a colleague already asked; your support "
                "is counted there.")
        joined = quoted(str(params.get("into") or ""), 1400)
        blocks: list[Block] = [section(text), question, section(f"*The question it joined*\n{joined}")]
        if params.get("answer"):
            blocks.append(section(f"*Its answer*\n{quoted(str(params['answer']), 1400)}"))
        return text, blocks
    text = f":speech_balloon: {mention(str(params.get('leader') or ''))} answered your question in {channel}."
    return text, [section(text), question, section(quoted(str(params.get("answer") or ""), 2900))]


def forum_leader_asked(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (":raising_hand: The forum moderators ask you to answer a colleague's question for the leaders "
            f"({_supporters(int(params.get('supporters') or 0))}).")
    return text, [section(text), section(quoted(str(params.get("question") or ""), _QUOTE)),
                  context("Your answer is posted in the question's thread in the staff forum."),
                  ActionsBlock(elements=[ButtonElement(text="Answer", action_id=ActionId.ASK_ANSWER, style="primary",
                                                       value=str(params.get("question_id") or ""))])]
