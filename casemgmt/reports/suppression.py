"""Small counts hidden from analysts, with the cells hidden beside them (complementary
suppression) so that no hidden count can be worked out from the totals shown.

A table is given as cells (key -> count) and the sums that hold between them (a total and its
parts: a row, a column, a breakdown of the same children). Some cells are shown, others are
only implied (the children without a birth certificate: those counted minus those with one);
an implied cell is as good as shown once the others of its sum are. A count of 1 to 4 is hidden
("<5"); then, while the shown cells and the sums still determine a hidden or implied small
count exactly, the smallest shown count of a sum it is in is hidden too ("x"). Whether a cell is
determined is answered by linear algebra over the sums (its unit vector lies in the row space
of the sums restricted to the unknown cells), so chains of sums are caught as well as one.

What this does not promise: that a hidden cell's range cannot be narrowed by bounds (a count is
never negative, "<5" is 1 to 4), nor that two tables asked for different areas cannot be set
against each other; each table is protected with the totals it shows.
"""
from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

SMALL = 5
PRIMARY = "<5"
SECONDARY = "x"


def is_small(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALL


def protect(values: dict, sums: list[tuple[object, list]], shown=None) -> dict:
    """The shown cells as an analyst sees them: the count, PRIMARY for a small one, SECONDARY
    for one hidden so that a small one cannot be derived. ``sums``: (total, parts) with
    values[total] == sum(values[p] for p in parts). ``shown``: the keys displayed (default all);
    the others are implied."""
    shown = set(values) if shown is None else set(shown)
    sums = [(total, list(parts)) for total, parts in sums]
    sums_of = defaultdict(list)
    for i, (total, parts) in enumerate(sums):
        for key in (total, *parts):
            sums_of[key].append(i)
    sensitive = {key for key, value in values.items() if is_small(value)}
    primary = {key for key in shown if key in sensitive}
    secondary: set = set()
    while True:
        implied = set(values) - shown
        exposed = sorted(determined(sums, primary | secondary | implied) & sensitive, key=_order)
        if not exposed:
            break
        extra = _complement(exposed[0], sums, sums_of, values, primary | secondary, implied, shown)
        if extra is None:
            break  # every shown cell of its sums is hidden already: nothing more can hide it
        secondary.add(extra)
    return {key: PRIMARY if key in primary else SECONDARY if key in secondary else values[key] for key in shown}


def any_secondary(value) -> bool:
    """Whether a result (nested dicts and lists) holds a cell hidden beside a small one."""
    if isinstance(value, dict):
        return any(any_secondary(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(any_secondary(v) for v in value)
    return value == SECONDARY


def _order(key) -> str:
    return repr(key)


def _complement(exposed, sums, sums_of, values, hidden: set, implied: set, shown: set):
    """The shown cell to hide next for an exposed (determined) small cell: the smallest non-zero
    count whose hiding alone leaves it undetermined, looked for in the sums of every unknown
    cell; else the smallest of the exposed cell's own sums (a zero only when no other is left)."""
    unknown = hidden | implied

    def by_size(cells):
        return sorted(cells, key=lambda cell: (values[cell] == 0, values[cell], _order(cell)))

    def visible_in(indexes):
        return {cell for i in indexes for cell in (sums[i][0], *sums[i][1]) if cell in shown and cell not in hidden}

    nearby = visible_in({i for key in unknown for i in sums_of[key]})
    for cell in by_size(nearby)[:TRIES]:
        if exposed not in determined(sums, unknown | {cell}):
            return cell
    own = by_size(visible_in(sums_of[exposed])) or by_size(nearby)
    return own[0] if own else None


TRIES = 40


def determined(sums, unknown: set) -> set:
    """The unknown cells whose value the sums fix, given every other cell."""
    columns = {key: i for i, key in enumerate(sorted(unknown, key=_order))}
    rows = []
    for total, parts in sums:
        row: dict[int, Fraction] = {}
        for key, sign in ((total, 1), *((part, -1) for part in parts)):
            if key in columns:
                column = columns[key]
                row[column] = row.get(column, 0) + sign
        row = {c: Fraction(v) for c, v in row.items() if v}
        if row:
            rows.append(row)
    pivots: dict[int, dict] = {}  # pivot column -> its row, reduced (Gauss-Jordan)
    for row in rows:
        for column, pivot_row in pivots.items():
            if column in row:
                factor = row[column]
                for c, v in pivot_row.items():
                    row[c] = row.get(c, 0) - factor * v
                row = {c: v for c, v in row.items() if v}
        if not row:
            continue
        column = min(row)
        factor = row[column]
        row = {c: v / factor for c, v in row.items()}
        for other in pivots.values():
            if column in other:
                f = other[column]
                for c, v in row.items():
                    other[c] = other.get(c, 0) - f * v
                for c in [c for c, v in other.items() if not v]:
                    del other[c]
        pivots[column] = row
    keys = {i: key for key, i in columns.items()}
    return {keys[column] for column, row in pivots.items() if len(row) == 1}
