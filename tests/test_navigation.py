"""Each role's home page links only to what that role may use; pages refuse the others."""
from __future__ import annotations

import pytest

from casemgmt.access import ROLE_PERMISSIONS, area_contains, can
from hypothesis import given
from hypothesis import strategies as st

LINKS = {
    "/admin/users": {"admin"},
    "/directory/organisations": {"village_worker", "social_worker", "coordinator", "agency_officer",
                                 "analyst", "admin"},
    "/directory/organisations/new": {"admin"},
    "/cases/new": {"village_worker", "social_worker", "coordinator"},
    "/complaints/mine": {"village_worker"},
    "/cases": {"social_worker", "coordinator"},
}


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_home_links_only_to_permitted_pages(web, users, role):
    web.login(users[role].username)
    page = web.get("/").get_data(as_text=True)
    for path, roles in LINKS.items():
        if path.endswith("/new"):
            continue
        assert (f'href="{path}"' in page) == (role in roles), (role, path)


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
@pytest.mark.parametrize("path", list(LINKS))
def test_pages_answer_by_role(web, users, role, path):
    web.login(users[role].username)
    expected = 200 if role in LINKS[path] else 403
    assert web.get(path).status_code == expected


def test_admin_home_says_no_case_contents(web, users):
    web.login("admin")
    page = web.get("/").get_data(as_text=True)
    assert "Pengguna" in page


def test_disabled_user_has_no_permission(users):
    user = users["admin"]
    assert can(user, "users.manage")
    user.active = False
    assert not can(user, "users.manage")


def test_unknown_permission_is_a_programming_error(users):
    with pytest.raises(KeyError):
        can(users["admin"], "cases.fly")


@given(st.from_regex(r"\A73(\.\d{2}(\.\d{2}(\.\d{4})?)?)?\Z"))
def test_area_contains_its_own_descendants(code):
    parts = code.split(".")
    for depth in range(1, len(parts) + 1):
        assert area_contains(".".join(parts[:depth]), code)
    assert not area_contains("74", code)
    assert not area_contains(code + "9", code) or code + "9" == code


def test_area_prefix_is_by_segment_not_by_character():
    assert area_contains("73.06", "73.06.01.2006")
    assert not area_contains("73.0", "73.06")
    assert not area_contains("73.06.1", "73.06.10")
    assert not area_contains(None, "73")
