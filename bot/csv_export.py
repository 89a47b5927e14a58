"""The one way Beacon writes CSV: every cell, headers included, made inert for spreadsheets.

Spreadsheet programs run a cell as a formula (or a DDE command) when its text starts with `=`, `+`, `-` or `@`,
and some also after a tab, a carriage return or leading spaces. OWASP's guidance on CSV injection: put a single
quote before such a cell, so it is shown as text. Every export goes through `write_csv`, so no column can forget.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, Any

# OWASP CSV injection: these start a formula (tab and carriage return can hide one from the eye).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """`value` as the text of one CSV cell that no spreadsheet will run.

    Lists become `a; b`; `None` is empty. A cell whose first character, or whose first character after leading
    whitespace, starts a formula gets a leading `'`. Numbers go through the same rule, so `-2` is `'-2`: an export
    is for reading, and a negative number shown as text is better than a formula run."""
    if value is None:
        text = ""
    elif isinstance(value, (list, tuple)):
        text = "; ".join("" if v is None else str(v) for v in value)
    else:
        text = str(value)
    stripped = text.lstrip(" \t\r\n\v\f\u00a0")
    if text[:1] in FORMULA_STARTS or stripped[:1] in FORMULA_STARTS:
        return "'" + text
    return text


class CsvStream:
    """The same file written a part at a time to a binary file, for exports too large to build in memory: the
    byte-order mark and the header first, then each part's rows as they come, every cell guarded."""

    def __init__(self, out: IO[bytes], header: Iterable[Any]):
        self._out = out
        out.write("\ufeff".encode())  # what "utf-8-sig" writes first
        self.rows([header])

    def rows(self, rows: Iterable[Iterable[Any]]) -> None:
        text = io.StringIO()
        writer = csv.writer(text)
        for row in rows:
            writer.writerow([safe_cell(cell) for cell in row])
        self._out.write(text.getvalue().encode("utf-8"))


def write_csv(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """A whole CSV file (UTF-8 with a byte-order mark, which Excel needs to read accents), every cell guarded."""
    out = io.BytesIO()
    CsvStream(out, header).rows(rows)
    return out.getvalue()
