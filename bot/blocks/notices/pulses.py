"""Pulse polls: the message people answer in, its reminder and its results."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.mrkdwn import truncate
from beacon.bot.blocks.notices.common import context, section
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId


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
    blocks.append(section(listed if len(questions) > 1 else f"*{escape_mrkdwn(questions[0]['text'])}*"))
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
    blocks: list[Block] = [section(truncate(_question_lines(q), 3000)) for q in results.get("questions") or []]
    themes = [t for t in results.get("themes") or []]
    if themes:
        scored = " · ".join(f"{escape_mrkdwn(t['label'])} {t['score']:.1f}" if t["score"] is not None
                            else f"{escape_mrkdwn(t['label'])}: not enough responses" for t in themes)
        blocks.append(context(f"*Theme scores (0 to 10):* {scored}"))
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
    return text, [section(text), *_results_blocks(results)[:46],
                  ContextBlock(elements=[MarkdownTextObject(text=note)])]


def pulse_reminder(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":hourglass_flowing_sand: “{escape_mrkdwn(params['title'])}” closes {params['closes']}, and you have "
            "not answered yet. It takes a minute; the forum reads every answer.")
    return text, [section(text), ContextBlock(elements=[MarkdownTextObject(text=_pulse_privacy(params))])]


