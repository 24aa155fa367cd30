"""Keyset cursors (casemgmt.paging): whatever a client sends as a cursor is read back or refused
with a clear message, on every paged list, never handed to the database to fail on."""
from __future__ import annotations

import base64
import json

import pytest

from tests.factories import bearer_for, make_case
from tests.test_api import assert_error

MESSAGE = "Tautan halaman ini tidak valid; mulailah dari halaman pertama."


def cursor(*keys) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(keys)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path,keys", [
    ("/api/v1/cases", ("2026-01-01T00:00:00+00:00", 10 ** 20)),  # an id beyond the database's integers
    ("/api/v1/cases", ("2026-01-01T00:00:00+00:00", -5)),
    ("/api/v1/cases", ("2026-01-01T00:00:00", 5)),  # a time without its zone
    ("/api/v1/cases?q=nurul", ("2026-01-01T00:00:00+00:00", 2 ** 63)),
    ("/api/v1/cases", ("2026-01-01T00:00:00+00:00", True)),
    ("/api/v1/approvals", ("2026-01-01T00:00:00+00:00", 10 ** 20)),
    ("/api/v1/approvals", ("2026-01-01", 3)),
    ("/api/v1/approvals", ("0001-01-01T00:00:00+14:00", 3)),  # before the first year in UTC
    ("/api/v1/referrals", ("answered", "2026-01-01T00:00:00+00:00", -10 ** 30)),
    ("/api/v1/referrals", ("waiting", "2026-01-01T00:00:00", 1)),
    ("/api/v1/referrals", ("elsewhere", "2026-01-01T00:00:00+00:00", 1)),
    # My tasks: which kinds have started, then each kind's place (a conference action's a day).
    ("/api/v1/tasks", ("1121", *["2026-01-01T00:00:00+00:00", 1, "2026-01-01", 1, "2026-01-01T00:00:00+00:00", 1,
                                 "2026-01-01T00:00:00+00:00", 1])),
    ("/api/v1/tasks", ("0100", *["2026-01-01T00:00:00+00:00", 1] * 4)),  # a time where a day goes
    ("/api/v1/tasks", ("0100", "2026-01-01T00:00:00+00:00", 1, "2026-13-01", 1)),
])
def test_a_cursor_the_list_did_not_make_is_refused_in_the_callers_language(app, users, path, keys):
    make_case(users["village_worker"])
    client = app.test_client()
    headers = bearer_for(client, "koordinator")
    joiner = "&" if "?" in path else "?"
    error = assert_error(client.get(f"{path}{joiner}cursor={cursor(*keys)}", headers=headers), 422, "validation_error")
    assert error["details"]["fields"]["cursor"] == [MESSAGE]


def test_a_cursor_the_list_made_is_read_back(app, users):
    made = [make_case(users["village_worker"], name=f"Anak Halaman {i}").id for i in range(3)]
    client = app.test_client()
    headers = bearer_for(client, "koordinator")
    first = client.get("/api/v1/cases?limit=2", headers=headers).get_json()
    second = client.get(f"/api/v1/cases?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [c["id"] for c in first["items"] + second["items"]] == made[::-1]
    assert second["next_cursor"] is None


def test_a_cursor_too_long_for_any_list_is_refused_before_it_is_read(app, users):
    """JSON nested past the parser's depth was a RecursionError, a 500; no list makes a cursor
    longer than paging.MAX_LENGTH."""
    from casemgmt import paging

    client = app.test_client()
    headers = bearer_for(client, "koordinator")
    nested = base64.urlsafe_b64encode(b"[" * 3000).decode()
    for path in ("/api/v1/cases", "/api/v1/referrals", "/api/v1/approvals", "/api/v1/tasks"):
        assert_error(client.get(f"{path}?cursor={nested}", headers=headers), 422, "validation_error")
    with pytest.raises(Exception) as refused:
        paging.read_cursor(nested, str)
    assert type(refused.value).__name__ == "ValidationFailed"


def test_a_spoiled_cursor_is_answered_with_the_first_page_and_nothing_else_is(app):
    """paging.or_first_page: the first page and the cursor's message for a refused cursor; a
    refusal of anything else (a filter), or of the first page itself, is the caller's to answer."""
    from flask import get_flashed_messages

    from casemgmt import paging
    from casemgmt.errors import ValidationFailed

    def read(cursor):
        if cursor == "filter":
            raise ValidationFailed({"stage": "Tahap tidak dikenal.", "cursor": MESSAGE})
        return ["first"] if cursor is None else paging.read_cursor(cursor, int)

    with app.test_request_context():
        assert paging.or_first_page(read, "rusak") == (["first"], None)  # the first page, read from no cursor
        assert get_flashed_messages(with_categories=True) == [("warning", MESSAGE)]
        assert paging.or_first_page(read, paging.cursor_of(7)) == ((7,), paging.cursor_of(7))
        with pytest.raises(ValidationFailed):
            paging.or_first_page(read, "filter")
        with pytest.raises(ValidationFailed):
            paging.or_first_page(lambda cursor: paging.read_cursor("rusak", int), None)


@pytest.mark.parametrize("path,empty", [("/referrals?box=outbox", "Tidak ada rujukan di sini."),
                                        ("/tasks", "Tidak ada tugas yang menunggu Anda.")])
def test_a_spoiled_link_to_an_empty_list_is_its_first_page_not_a_later_one(make_web, users, path, empty):
    """The first page a spoiled link falls back to is the first: the list's own empty message, no
    "first page" link (not the message of a later page emptied while the user paged)."""
    web = make_web()
    web.login("dukcapil")
    joiner = "&" if "?" in path else "?"
    page = web.get(f"{path}{joiner}cursor=rusak").get_data(as_text=True)
    assert MESSAGE in page and empty in page
    assert "Halaman pertama" not in page and "Tidak ada lagi di halaman ini" not in page
