"""The patient-confidentiality guard: spot what looks like patient-identifiable details in a story.

Stories about jobs can identify patients. This finds what most often does: an NHS number, a date of
birth, a postcode, a phone number or an email address. It errs towards asking; a nominator can always
reword (a date in words, "a town in Essex").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_NHS_NUMBER = re.compile(r"(?<![\d-])(\d{3}[ -]?\d{3}[ -]?\d{4})(?![\d-])")
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?!\d)")
_WORDED_DATE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b",
    re.IGNORECASE)
_BIRTH_WORDS = re.compile(r"\b(d\.?o\.?b\.?|date of birth|born on|born in \d{4}|birthday)\b", re.IGNORECASE)
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\d+])((?:\+44\s?\(?0?\)?|\(?0)(?:[\s-]?\d){9,10})(?!\d)")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
OLD_ENOUGH_TO_BE_A_BIRTH_YEAR = 10  # years before now; a job story's own dates are recent


@dataclass(frozen=True)
class Finding:
    kind: str     # what it looks like, as a person would say it
    excerpt: str  # the text that looks like it


def _year(raw: str, today: date) -> int:
    year = int(raw)
    if year < 100:
        year += 2000 if year <= today.year % 100 else 1900
    return year


def find_patient_details(story: str, *, today: date) -> list[Finding]:
    """Everything in `story` that looks like patient-identifiable information, in order of appearance."""
    found: list[tuple[int, Finding]] = []
    phones = {m.start(): m for m in _PHONE.finditer(story)}
    for m in _NHS_NUMBER.finditer(story):
        if not any(p.start() <= m.start() < p.end() for p in phones.values()):
            found.append((m.start(), Finding("an NHS number", m.group(1))))
    for m in phones.values():
        found.append((m.start(), Finding("a phone number", m.group(1).strip())))
    birth_words = _BIRTH_WORDS.search(story)
    for pattern in (_NUMERIC_DATE, _WORDED_DATE):
        for m in pattern.finditer(story):
            if birth_words or _year(m.group(3), today) <= today.year - OLD_ENOUGH_TO_BE_A_BIRTH_YEAR:
                found.append((m.start(), Finding("a date of birth", m.group(0))))
    if birth_words and not any(f.kind == "a date of birth" for _, f in found):
        found.append((birth_words.start(), Finding("a date of birth", birth_words.group(0))))
    for m in _POSTCODE.finditer(story):
        found.append((m.start(), Finding("a postcode", m.group(1))))
    for m in _EMAIL.finditer(story):
        found.append((m.start(), Finding("an email address", m.group(0))))
    return [finding for _, finding in sorted(found, key=lambda pair: pair[0])]
