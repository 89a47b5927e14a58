"""Pulse results: counts, means, net scores and theme scores, with every figure that could single out a
person suppressed. Pure functions over answers; no database, no Slack."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from beacon.bot.services.suppression import hidden_groups

CHOICE_TYPES = ("single", "agreement", "frequency")
FIVE_POINT = ("agreement", "frequency")
THEME_POINTS = (0.0, 2.5, 5.0, 7.5, 10.0)


@dataclass(frozen=True)
class OptionFigure:
    label: str
    count: int
    percent: float


@dataclass
class QuestionResult:
    key: str
    text: str
    type: str
    responses: int
    suppressed: bool
    options: list[OptionFigure] = field(default_factory=list)
    mean: float | None = None
    net_score: float | None = None       # 0 to 10 questions: % scoring 9-10 minus % scoring 0-6
    comments: list[str] | None = None    # free text, for moderators only, never in channels
    change: float | None = None          # against the previous run of the same series (mean or top option %)


@dataclass(frozen=True)
class ThemeScore:
    theme: str
    label: str
    score: float | None  # None: not enough answers


@dataclass(frozen=True)
class BreakdownCell:
    group: str
    responses: int | None  # None: suppressed
    mean: float | None


@dataclass
class PulseResults:
    total: int
    minimum: int
    questions: list[QuestionResult]
    themes: list[ThemeScore]
    breakdown: dict[str, list[BreakdownCell]] = field(default_factory=dict)  # question key -> cells by area


def _labels(question: dict[str, Any]) -> list[str]:
    if question["type"] == "scale":
        return [str(n) for n in range(11)]
    return list(question.get("options") or [])


def question_result(question: dict[str, Any], answers: list[Any], *, minimum: int,
                    with_comments: bool) -> QuestionResult:
    given = [a for a in answers if a not in (None, "", [])]
    result = QuestionResult(key=question["key"], text=question["text"], type=question["type"],
                            responses=len(given), suppressed=len(given) < minimum)
    if question["type"] == "text":
        result.suppressed = len(given) < minimum
        if with_comments and not result.suppressed:
            result.comments = [str(a) for a in given]
        return result
    if result.suppressed:
        return result
    labels = _labels(question)
    counts: Counter[str] = Counter()
    for answer in given:
        counts.update(str(x) for x in (answer if isinstance(answer, list) else [answer]))
    result.options = [OptionFigure(label=label, count=counts[label], percent=round(100 * counts[label] / len(given), 1))
                      for label in labels]
    if question["type"] in FIVE_POINT or question["type"] == "scale":
        values = [labels.index(str(a)) + (0 if question["type"] == "scale" else 1) for a in given if str(a) in labels]
        result.mean = round(sum(values) / len(values), 2) if values else None
    if question["type"] == "scale":
        scores = [int(a) for a in given]
        promoters, detractors = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
        result.net_score = round(100 * (promoters - detractors) / len(scores), 1)
    return result


def theme_scores(questions: list[dict[str, Any]], answers: list[dict[str, Any]], *, labels: dict[str, str],
                 minimum: int) -> list[ThemeScore]:
    """Each theme's score from 0 to 10 (five-point answers count 0, 2.5, 5, 7.5, 10), per respondent first."""
    by_theme: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in questions:
        if q.get("theme") and q["type"] in FIVE_POINT:
            by_theme[q["theme"]].append(q)
    scores = []
    for theme, items in by_theme.items():
        per_person = []
        for answer in answers:
            points = [THEME_POINTS[q["options"].index(answer[q["key"]])] for q in items
                      if answer.get(q["key"]) in q["options"]]
            if points:
                per_person.append(sum(points) / len(points))
        score = round(sum(per_person) / len(per_person), 2) if len(per_person) >= minimum else None
        scores.append(ThemeScore(theme=theme, label=labels.get(theme, theme), score=score))
    return scores


def breakdown(question: dict[str, Any], rows: Iterable[tuple[str | None, Any]], *,
              minimum: int) -> list[BreakdownCell]:
    """Answers by group (area): every cell under the minimum suppressed, and more cells beside them
    (`hidden_groups`) so that the total minus the shown cells, in counts or in means, never describes one hidden
    group or fewer than `minimum` people."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for group, answer in rows:
        if answer not in (None, "", []):
            groups[group or "Unknown"].append(answer)
    labels = _labels(question)
    cells = []
    for group, given in sorted(groups.items()):
        values = [labels.index(str(a)) + (0 if question["type"] == "scale" else 1) for a in given
                  if str(a) in labels] if question["type"] in (*FIVE_POINT, "scale") else []
        cells.append(BreakdownCell(group=group, responses=len(given),
                                   mean=round(sum(values) / len(values), 2) if values else None))
    hidden, _ = hidden_groups({c.group: c.responses or 0 for c in cells}, minimum=minimum)
    return [BreakdownCell(group=c.group, responses=None, mean=None) if c.group in hidden else c for c in cells]
