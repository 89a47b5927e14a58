"""A pulse's results as a bar chart (PNG), for the thread; the text version always goes with it."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WIDTH, ROW, MARGIN = 900, 26, 24
NHS_BLUE, GREY, DARK = (0, 94, 184), (216, 221, 224), (33, 43, 50)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    while text and draw.textlength(text, font=font) > width:
        text = text[:-2] + "…"
    return text


def render_chart(params: dict[str, Any]) -> bytes:
    """One block of bars per question: percentages for options, or 'not enough responses'."""
    questions = params.get("questions") or []
    rows = sum(2 + (0 if q["suppressed"] or q["type"] == "text" else len(q["options"])) for q in questions)
    height = MARGIN * 2 + 40 + rows * ROW
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    title, body, small = _font(22), _font(16), _font(14)
    draw.text((MARGIN, MARGIN), _fit(draw, str(params.get("title", "")), title, WIDTH - 2 * MARGIN), fill=DARK,
              font=title)
    y = MARGIN + 40
    label_width, bar_left = 300, MARGIN + 310
    bar_width = WIDTH - bar_left - 90
    for q in questions:
        draw.text((MARGIN, y), _fit(draw, q["text"], body, WIDTH - 2 * MARGIN), fill=DARK, font=body)
        y += ROW
        if q["type"] == "text":
            draw.text((MARGIN + 10, y), "Comments go to the forum moderators only.", fill=DARK, font=small)
        elif q["suppressed"]:
            draw.text((MARGIN + 10, y), f"Not enough responses to report ({q['responses']}).", fill=DARK,
                      font=small)
        else:
            for label, _count, percent in q["options"]:
                draw.text((MARGIN + 10, y + 4), _fit(draw, str(label), small, label_width), fill=DARK, font=small)
                draw.rectangle((bar_left, y + 4, bar_left + bar_width, y + ROW - 6), fill=GREY)
                draw.rectangle((bar_left, y + 4, bar_left + int(bar_width * percent / 100), y + ROW - 6),
                               fill=NHS_BLUE)
                draw.text((bar_left + bar_width + 8, y + 4), f"{percent:.0f}%", fill=DARK, font=small)
                y += ROW
            y -= ROW
        y += ROW * 2
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
