"""CSV a spreadsheet opens safely: no cell starts a formula (CSV injection)."""
from __future__ import annotations

import csv
import io

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value):
    """Text starting like a formula gets a leading quote (OWASP's advice against CSV injection;
    a name like =HYPERLINK(...) stays a name)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def inert_row(values) -> list:
    return [inert_cell(v) for v in values]


def csv_bytes(header: list[str], rows) -> bytes:
    """A whole small CSV file, UTF-8 with the mark Excel needs to read it as such."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(inert_row(header))
    writer.writerows(inert_row(row) for row in rows)
    return buffer.getvalue().encode("utf-8-sig")
