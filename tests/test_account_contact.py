"""The user's own e-mail, phone and language: PATCH /api/v1/me, the account page, the UI language."""
from __future__ import annotations

from sqlalchemy import select

from casemgmt.audit.models import AuditEntry
from casemgmt.extensions import db


def test_patch_me_sets_and_normalises_each_field(api, users):
    response = api("patch", "/api/v1/me", "dukcapil",
                   json={"email": " Petugas@Dukcapil.Example.ORG ", "phone": "0812-3456-7890", "language": "en"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["id"] == users["agency_officer"].id and body["username"] == "dukcapil"
    assert (body["email"], body["phone"], body["language"]) == ("Petugas@dukcapil.example.org", "+6281234567890", "en")
    assert api("get", "/api/v1/me", "dukcapil").get_json()["phone"] == "+6281234567890"
    db.session.expire_all()
    user = users["agency_officer"]
    assert (user.email, user.phone, user.language) == ("Petugas@dukcapil.example.org", "+6281234567890", "en")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user_updated")).one()
    assert entry.object_id == str(user.id) and entry.after == {"email": user.email, "phone": user.phone, "language": "en"}


def test_patch_me_changes_only_the_fields_sent_and_clears_with_null(api, users):
    api("patch", "/api/v1/me", "peksos", json={"email": "a@example.org", "phone": "+62 811 222 333"})
    body = api("patch", "/api/v1/me", "peksos", json={"language": "id"}).get_json()
    assert (body["email"], body["phone"], body["language"]) == ("a@example.org", "+62811222333", "id")
    body = api("patch", "/api/v1/me", "peksos", json={"phone": None, "language": None}).get_json()
    assert (body["email"], body["phone"], body["language"]) == ("a@example.org", None, None)


def test_patch_me_refuses_bad_fields_with_details_and_changes_nothing(api, users):
    api("patch", "/api/v1/me", "desa", json={"email": "ok@example.org"})
    response = api("patch", "/api/v1/me", "desa", json={"email": "not an address", "phone": "12345",
                                                        "language": "fr"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]["fields"]) == {"email", "phone", "language"}
    # One good field beside a bad one: nothing is saved.
    response = api("patch", "/api/v1/me", "desa", json={"email": "new@example.org", "phone": "0000"})
    assert response.status_code == 422 and set(response.get_json()["error"]["details"]["fields"]) == {"phone"}
    assert api("get", "/api/v1/me", "desa").get_json()["email"] == "ok@example.org"
    # A value of the wrong type is a 422 in the same shape, not a 500.
    response = api("patch", "/api/v1/me", "desa", json={"phone": 812345})
    assert response.status_code == 422 and "phone" in response.get_json()["error"]["details"]["fields"]


def test_patch_me_messages_follow_the_callers_language_without_accept_language(api, users):
    api("patch", "/api/v1/me", "desa", json={"language": "en"})
    response = api("patch", "/api/v1/me", "desa", json={"phone": "12"})
    assert response.get_json()["error"]["details"]["fields"]["phone"] == [
        "Enter an Indonesian phone number like 0812 3456 7890."]
    api("patch", "/api/v1/me", "desa", json={"language": "id"})
    response = api("patch", "/api/v1/me", "desa", json={"phone": "12"})
    assert "Indonesia" in response.get_json()["error"]["details"]["fields"]["phone"][0]
    assert response.get_json()["error"]["details"]["fields"]["phone"][0] != (
        "Enter an Indonesian phone number like 0812 3456 7890.")


def test_account_page_saves_contact_and_switches_the_language(web, users):
    web.login("koordinator")
    page = web.get("/account")
    assert page.status_code == 200
    response = web.post("/account", {"email": "koor@example.org", "phone": "0811 4455 667", "language": "en"})
    assert response.status_code == 302
    page = web.get("/account").get_data(as_text=True)
    assert 'value="+628114455667"' in page and 'value="koor@example.org"' in page
    assert "My account" in page  # the page now speaks English
    user = users["coordinator"]
    db.session.expire_all()
    assert user.language == "en"


def test_account_page_shows_field_errors_and_saves_nothing(web, users):
    web.login("koordinator")
    response = web.post("/account", {"email": "nope", "phone": "0811 4455 667", "language": ""})
    assert response.status_code == 422
    assert "name@example.org" in response.get_data(as_text=True) or "nama@" in response.get_data(as_text=True)
    db.session.expire_all()
    assert users["coordinator"].phone is None


def test_log_in_starts_in_the_users_own_language(web, users):
    users["analyst"].language = "en"
    db.session.commit()
    web.get("/lang/id")
    web.login("analis")
    assert 'lang="en"' in web.get("/").get_data(as_text=True)
