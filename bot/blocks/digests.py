"""The weekly digest and the personal digest, as Block Kit: every section within Slack's 3,000 characters and
the whole within 50 blocks, a long section ending with "…and N more"."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from beacon.bot.blocks.mrkdwn import listing, mention, truncate
from beacon.bot.escaping import escape_mrkdwn

SECTION_LIMIT = 3000
MAX_BLOCKS = 50

Line = tuple[str, bool]  # (mrkdwn, counts as one of the section's items)


def fit(heading: str, lines: list[Line], *, total: int | None = None, limit: int = SECTION_LIMIT) -> str:
    """The heading and as many lines as fit in `limit`, then "…and N more" for the items left out (of
    `total` items, when more exist than were given)."""
    given = sum(1 for _, item in lines if item)
    total = max(total or 0, given)
    kept: list[str] = [heading]
    shown = 0
    for index, (text, item) in enumerate(lines):
        left = total - shown - (1 if item else 0)
        tail = f"\n…and {left} more" if left and index < len(lines) - 1 else ""
        if len("\n".join([*kept, text])) + len(tail) + 20 > limit:
            break
        kept.append(text)
        shown += 1 if item else 0
    body = "\n".join(kept)
    if total > shown:
        body += f"\n…and {total - shown} more"
    return body


def _link(params: dict[str, Any], channel: str | None, ts: str | None, label: str) -> str:
    base = params.get("workspace_url")
    if base and channel and ts:
        return f"<{base}archives/{channel}/p{ts.replace('.', '')}|{label}>"
    return label


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))


def _leader(item: dict[str, Any]) -> str:
    """By name: a digest that @-mentioned every leader each week would notify them all for nothing."""
    return f"*{escape_mrkdwn(item['leader'])}*" if item.get("leader") else mention(item["leader_user_id"])


def _place(item: dict[str, Any]) -> str:
    """Where, as staff need it: the place, the staff group it is for, online or hybrid (never the join link)."""
    where = f"*{escape_mrkdwn(item['place'])}*" if item.get("place") else ""
    if item.get("staff_group"):
        where = f"{where} for *{escape_mrkdwn(item['staff_group'])}*" if where else \
            f"*{escape_mrkdwn(item['staff_group'])}*"
    mode = {"online": "online", "hybrid": "hybrid"}.get(str(item.get("mode") or ""))
    if mode:
        return f"{where} ({mode})" if where else mode
    return where or "a place to be confirmed"


def leader_lines(items: list[dict[str, Any]]) -> list[Line]:
    """By day, then area: the shape of the printed "leaders out and about" sheet."""
    lines: list[Line] = []
    by_day: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for item in items:
        by_day.setdefault(item["day"], {}).setdefault(item.get("area") or "Other places", []).append(item)
    for day, areas in sorted(by_day.items()):
        lines.append((f"*{date.fromisoformat(day):%A %-d %B}*", False))
        for area, entries in sorted(areas.items()):
            lines.append((f"_{escape_mrkdwn(area)}_", False))
            lines += [(f"• {e['when'].split(', ', 1)[-1]} · {_leader(e)} at {_place(e)}: {escape_mrkdwn(e['title'])}",
                       True) for e in entries]
    return lines


def _recognition(params: dict[str, Any]) -> str | None:
    r = params["recognition"]
    if not (r["nominations"] or r["shout_outs"] or r["round"]):
        return None
    lines: list[Line] = []
    if r["nominations"]:
        people = "colleague" if r["colleagues"] == 1 else "colleagues"
        lines.append((f"{r['nominations']} recognition{'s' if r['nominations'] != 1 else ''} for "
                      f"{r['colleagues']} {people}.", False))
        if r["by_value"]:
            lines.append((" · ".join(f"{emoji} {escape_mrkdwn(name)} {count}" for name, emoji, count in r["by_value"]),
                          False))
    round_ = r.get("round")
    if round_ and round_["status"] == "open":
        lines.append((f":trophy: *{escape_mrkdwn(round_['name'])}* is open for nominations until {round_['closes']}: "
                      "use `/nominate`.", False))
    elif round_:
        lines.append((f":trophy: Nominations for *{escape_mrkdwn(round_['name'])}* have closed; the panel is "
                      "reviewing them.", False))
    for shout in r["shout_outs"]:
        who = listing([f"*{escape_mrkdwn(n)}*" for n in shout["nominees"]]) or "A colleague"
        award = f" ({escape_mrkdwn(shout['award'])})" if shout.get("award") else ""
        values = f": {escape_mrkdwn(', '.join(shout['values']))}" if shout["values"] else ""
        lines.append((f"• {who}{award}{values} · {_link(params, shout['channel'], shout['ts'], 'read it')}", True))
    return fit(":star2: *Recognition last week*", lines, total=r["shout_outs_total"])


def _question(q: dict[str, Any]) -> str:
    if q["suppressed"]:
        return f"   _{escape_mrkdwn(truncate(q['text'], 150))}_: not enough responses to report"
    figures = [f"{escape_mrkdwn(str(label))} {percent:.0f}%" for label, percent in q.get("top") or []]
    if q.get("net_score") is not None:
        figures.append(f"net score {q['net_score']:+.0f}")
    elif q.get("mean") is not None:
        figures.append(f"mean {q['mean']:.1f}")
    return f"   _{escape_mrkdwn(truncate(q['text'], 150))}_: " + " · ".join(figures)


def _forum(params: dict[str, Any]) -> str | None:
    f = params["forum"]
    overdue = f.get("ask_overdue") or 0
    if not (f["open"] or f["results"] or overdue):
        return None
    lines: list[Line] = []
    if overdue:
        where = f" in <#{f['ask_channel']}>" if f.get("ask_channel") else ""
        lines.append((f":hourglass: {overdue} question{'s' if overdue != 1 else ''} to the leaders "
                      f"{'have' if overdue != 1 else 'has'} waited more than {f.get('ask_days') or 14} days for an "
                      f"answer{where}.", False))
    for pulse in f["open"]:
        soon = " · *closing soon*" if pulse["closing_soon"] else ""
        title = _link(params, pulse["channel"], pulse["ts"], escape_mrkdwn(pulse["title"]))
        lines.append((f"• Open: {title}, closes {pulse['closes']}{soon}", True))
    for pulse in f["results"]:
        title = _link(params, pulse["channel"], pulse["ts"], escape_mrkdwn(pulse["title"]))
        lines.append((f"• Results: {title} ({pulse['responses']} responses)", True))
        lines += [(_question(q), False) for q in pulse["questions"][:5]]
    return fit(":speech_balloon: *The staff forum*", lines, total=f["open_total"] + len(f["results"]))


def _scheduled(params: dict[str, Any]) -> str | None:
    if not params["scheduled"]:
        return None
    lines: list[Line] = [(f"• {p['when']} in {listing(f'<#{c}>' for c in p['channels'])}: {p['summary']}", True)
                         for p in params["scheduled"]]
    return fit(":loudspeaker: *Coming up from the communications team*", lines, total=params["scheduled_total"])


def _you_said(params: dict[str, Any]) -> str | None:
    """Leaders' answers to staff questions last week: the question, then what they said (a digest written before
    this section existed has none)."""
    items = params.get("you_said") or []
    if not items:
        return None
    lines: list[Line] = []
    for a in items:
        lines.append((f"• _{escape_mrkdwn(a['question'])}_ ({_leader(a)}, {escape_mrkdwn(a['title'])} at "
                      f"{_place(a)})", True))
        lines.append((f"   {escape_mrkdwn(a['answer'])}", False))
    return fit(":speech_balloon: *You said, we did*", lines, total=params.get("you_said_total") or len(items))


def weekly_digest(params: dict[str, Any]) -> tuple[str, list[Block]]:
    title = f"Beacon weekly digest: week of {params['week_of']}"
    text = f":newspaper: {escape_mrkdwn(title)}"
    blocks: list[Block] = [HeaderBlock(text=truncate(title, 150)),
                           ContextBlock(elements=[MarkdownTextObject(text=escape_mrkdwn(params["organisation"]))])]
    if params["quiet"]:
        blocks.append(_section("A quiet week: no leader visits, recognition, staff forum pulses or scheduled posts "
                               "to report."))
    else:
        sections = []
        if params["leaders"]:
            sections.append(fit(":world_map: *Leaders out and about this week*", leader_lines(params["leaders"]),
                                total=params["leaders_total"]))
        sections += [s for s in (_recognition(params), _you_said(params), _forum(params), _scheduled(params)) if s]
        for body in sections:
            blocks += [DividerBlock(), _section(body)]
    footer = ("Recognise a colleague with `/nominate`; see the calendar with `/calendar`, and every answer to staff "
              "questions with `/calendar answers`.")
    if params.get("home_url"):
        footer = (f"<{params['home_url']}|Open Beacon's Home tab> for your own recognition, the calendar and a "
                  "personal weekly digest. " + footer)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return text, blocks[:MAX_BLOCKS]


def personal_digest(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = f":wave: Your week with Beacon, {params['week_of']}"
    blocks: list[Block] = [_section(f"*{text}*")]
    if params["visits"]:
        lines: list[Line] = [(f"• {v['when']} · {_leader(v)}: {escape_mrkdwn(v['title'])}", True)
                             for v in params["visits"]]
        blocks.append(_section(fit(f":round_pushpin: *Leaders visiting {escape_mrkdwn(params['site'])} this week*",
                                   lines)))
    if params["recognised"]:
        times = "once" if params["recognised"] == 1 else f"{params['recognised']} times"
        values = f" for {escape_mrkdwn(listing(params['values']))}" if params["values"] else ""
        blocks.append(_section(f":star2: Colleagues recognised you {times} last week{values}. Thank you. "
                               "Read what they said in Beacon's Home tab."))
    if params["unanswered"]:
        lines = [(f"• {_link(params, p['channel'], p['ts'], escape_mrkdwn(p['title']))}, closes {p['closes']}", True)
                 for p in params["unanswered"]]
        blocks.append(_section(fit(":speech_balloon: *Pulses you have not answered yet*", lines)))
    footer = "You asked for this weekly message; turn it off in Beacon's Home tab."
    if params.get("home_url"):
        footer = f"You asked for this weekly message; turn it off in <{params['home_url']}|Beacon's Home tab>."
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return text, blocks
