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


ENCODING = "utf-8-sig"  # UTF-8 with the mark Excel needs to read it as such


class CsvFile:
    """A CSV file written a row at a time (large exports), as SheetWriter writes an .xlsx."""

    def __init__(self, path, header: list[str]):
        self._file = open(path, "w", newline="", encoding=ENCODING)
        self._writer = csv.writer(self._file)
        self.append(header)

    def append(self, values) -> None:
        self._writer.writerow(inert_row(values))

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


def csv_bytes(header: list[str], rows) -> bytes:
    """A whole small CSV file, UTF-8 with the mark Excel needs to read it as such."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(inert_row(header))
    writer.writerows(inert_row(row) for row in rows)
    return buffer.getvalue().encode(ENCODING)
