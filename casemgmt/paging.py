"""Keyset pages: the cursor a list hands out for its next page (opaque to clients: the sort keys
of the page's last row), and reading it back."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date, datetime, timezone

from flask import flash
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_

from casemgmt.dbtypes import MAX_ID
from casemgmt.errors import ValidationFailed

NOT_A_CURSOR = _l("This page link is not valid; start from the first page.")
MAX_LENGTH = 400  # with room above the longest cursor a list makes, my tasks' (home.tasks)


def cursor_of(*keys) -> str:
    """The cursor of a row with these sort keys (datetimes, dates, ints, strings)."""
    raw = json.dumps([key.isoformat() if isinstance(key, date) else key for key in keys]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(cursor: str, *kinds: type) -> tuple:
    """The keys of a cursor made by cursor_of, as ``kinds``: datetime (with its zone, as the
    columns hold them), date, int (a record's id) or str. Anything else (edited, truncated, from another
    list) is a ValidationFailed on "cursor", never a value the database refuses: an id beyond its
    integers, a time without a zone."""
    try:
        if len(cursor) > MAX_LENGTH:  # and so no JSON nested deeper than the parser goes (RecursionError)
            raise ValueError(cursor[:20])
        keys = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(keys, list) or len(keys) != len(kinds):
            raise ValueError(cursor)
        return tuple(_key(kind, key) for kind, key in zip(kinds, keys))
    except (ValueError, TypeError, OverflowError) as exc:  # json's and base64's errors are ValueErrors
        raise ValidationFailed({"cursor": str(NOT_A_CURSOR)}) from exc


def _key(kind: type, key):
    if kind is date:
        if not isinstance(key, str) or len(key) != 10:  # a day, not a time
            raise ValueError(key)
        return date.fromisoformat(key)
    if kind is datetime:
        at = datetime.fromisoformat(key)
        if at.tzinfo is None:
            raise ValueError(key)
        return at.astimezone(timezone.utc)  # as the columns store it (year 1 at +14:00 would not be)
    if kind is int:
        if isinstance(key, bool) or not isinstance(key, int) or not 1 <= key <= MAX_ID:
            raise ValueError(key)
        return key
    if not isinstance(key, kind):
        raise TypeError(key)
    return key


def after(column, id_column, at, row_id) -> tuple:
    """The rows after (at, row_id) in (column, id) ascending order. The first condition is a range
    an index on (..., column) serves, so a late page costs what the first does."""
    return column >= at, or_(column > at, and_(column == at, id_column > row_id))


def before(column, id_column, at, row_id) -> tuple:
    """The rows after (at, row_id) in (column, id) descending order (newest first)."""
    return column <= at, or_(column < at, and_(column == at, id_column < row_id))


def page_size(limit) -> int:
    """A list's page size: what the caller asked for, 1 to 100 (../shared/API.md, Lists)."""
    return max(1, min(int(limit), 100))


def page(rows: list, limit: int, keys) -> tuple[list, str | None]:
    """A page of ``rows`` (read with ``limit`` + 1, the extra row telling there is more) and the
    cursor of the next page: the sort keys of its last row (``keys(row)``); None when the rows
    were all there is."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], cursor_of(*keys(rows[limit - 1]))


def in_parts(parts: list[tuple[str, Callable]], cursor: str | None, limit: int, keys) -> tuple[list, str | None]:
    """A page of a list read in parts, each through its own index in its own order (a box's
    unanswered referrals then the rest; the triage queue's urgent complaints then the others),
    and the next page's cursor: the part its last row is of, and that row's (time, id) in it.
    ``parts``: (name, read) in the order they are listed; ``read(after, room)`` answers at most
    ``room`` rows of its part after ``after`` ((time, id), or None: from its start). ``keys(row)``:
    (part, time, id). A row that moves to an earlier part while a client pages is not listed
    again on the later pages; one that moves to a later part may be."""
    names = [name for name, _read in parts]
    part, at, row_id = read_cursor(cursor, str, datetime, int) if cursor else (names[0], None, None)
    if part not in names:
        raise ValidationFailed({"cursor": str(NOT_A_CURSOR)})
    rows: list = []
    for name, read in parts[names.index(part):]:
        rows += read((at, row_id) if name == part and at is not None else None, limit + 1 - len(rows))
        if len(rows) > limit:
            break
    return page(rows, limit, keys)


def or_first_page(read: Callable, cursor: str | None) -> tuple:
    """A list page's ``read(cursor)``, and the cursor it was read from (None: the first page);
    for a spoiled page link (a cursor refused, nothing else) the first page, ``read(None)``, with
    the refusal's message shown above it, as every paged list answers one (case list, referral
    box, triage, my tasks). Any other refusal is raised."""
    try:
        return read(cursor), cursor or None
    except ValidationFailed as exc:
        if not cursor or set(exc.errors) != {"cursor"}:
            raise
        flash(exc.said, "warning")
        return read(None), None
