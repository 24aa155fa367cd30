"""What the installable offline app needs of the API: the page's session as credentials, the
offline bundle, and creates recorded on a phone (recorded_at, several children) sent exactly once."""
from __future__ import annotations

import re
import time

from sqlalchemy import func, select

from casemgmt.cases.models import Case, CaseEvent, Complaint
from casemgmt.extensions import db
from casemgmt.workflow import services as workflow
from tests.factories import make_case
from tests.test_api import assert_error

GIRL = {"name": "Sitti Hardianti", "sex": "F", "age_years": 12, "area_code": "73.06.01.2006"}


def complaint(**overrides) -> dict:
    body = {"channel": "walk_in", "reporter": {"name": "Ibu Rahma", "anonymous": False},
            "concerns": ["out_of_school"], "description": "Anak tidak sekolah."}
    body.update(overrides)
    return body


def session_csrf(web) -> str:
    """The session's CSRF token, as the app's script reads it."""
    response = web.get("/app/session")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_json()["csrf_token"]


# ---- the page's session as the app's credentials -------------------------------------------------

def test_the_session_with_its_csrf_token_is_an_api_caller(web, users):
    web.login("desa")
    token = session_csrf(web)
    me = web.get("/api/v1/me", headers={"X-CSRFToken": token})
    assert me.status_code == 200 and me.get_json()["username"] == "desa"
    # The cookie alone is not enough (a page of another site can make the browser send it), nor a
    # token of another session.
    assert_error(web.get("/api/v1/me"), 401, "unauthorized")
    assert_error(web.get("/api/v1/me", headers={"X-CSRFToken": "not-the-token"}), 401, "unauthorized")
    created = web.client.post("/api/v1/cases", headers={"X-CSRFToken": token}, json=complaint(child=GIRL))
    assert created.status_code == 201, created.get_data(as_text=True)
    # Logging out ends the API access with the pages'.
    web.logout()
    assert_error(web.get("/api/v1/me", headers={"X-CSRFToken": token}), 401, "unauthorized")


def test_an_idle_session_is_no_api_caller(web, users):
    web.login("desa")
    token = session_csrf(web)
    with web.client.session_transaction() as session:
        session["seen"] = time.time() - 31 * 60
    assert_error(web.get("/api/v1/me", headers={"X-CSRFToken": token}), 401, "unauthorized")


def test_the_session_cannot_revoke_a_token_it_does_not_have(web, users):
    web.login("desa")
    assert_error(web.client.delete("/api/v1/auth/token", headers={"X-CSRFToken": session_csrf(web)}),
                 401, "unauthorized")


# ---- the offline bundle -----------------------------------------------------------------------------

def _assigned_case(users, **child):
    case = make_case(users["village_worker"], **child)
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "medium", "assigned_worker_id": users["social_worker"].id},
                              case.version)
    return case


def test_a_social_worker_takes_their_open_assigned_cases_without_sensitive_details(api, users):
    mine = _assigned_case(users, name="Sitti Hardianti", nik=None)
    make_case(users["village_worker"], name="Andi Baso")  # in triage: not the worker's
    bundle = api("get", "/api/v1/me/offline-bundle", "peksos")
    assert bundle.status_code == 200
    body = bundle.get_json()
    assert {c["id"] for c in body["cases"]} == {mine.id}
    case = body["cases"][0]
    assert case["child"]["name"] == "Sitti Hardianti" and case["child"]["caregiver_name"] == "Daeng Ngai"
    assert case["version"] == db.session.get(Case, mine.id).version and case["stage"] == "assessment"
    text = bundle.get_data(as_text=True)
    for secret in ("Ibu Rahma", "tidak bersekolah", "sensitive", "description", "reporter"):
        assert secret not in text
    codes = {a["code"] for a in body["areas"]}
    assert {"73.06.01", "73.06.01.2006"} <= codes  # the worker's kecamatan and its villages
    assert all(a["code"].startswith("73.06") for a in body["areas"])
    assert {"code": "out_of_school", "label": "Putus sekolah", "group": "welfare"} in body["concerns"]


def test_a_village_worker_takes_only_the_status_of_their_own_complaints(api, users):
    own = make_case(users["village_worker"], name="Sitti Hardianti")
    make_case(users["coordinator"], name="Andi Baso")
    body = api("get", "/api/v1/me/offline-bundle", "desa").get_json()
    assert [(c["id"], c["stage"], c["status"]) for c in body["cases"]] == [(own.id, "report", "open")]
    assert "child" not in body["cases"][0]
    assert "73.06.01.2006" in {a["code"] for a in body["areas"]}


def test_other_roles_take_no_cases(api, users):
    make_case(users["village_worker"])
    for username in ("koordinator", "dukcapil", "analis", "admin"):
        body = api("get", "/api/v1/me/offline-bundle", username).get_json()
        assert body["cases"] == [], username


# ---- recorded offline, sent exactly once ------------------------------------------------------------

def test_a_complaint_about_siblings_recorded_offline_is_created_once(api, users):
    body = complaint(channel="outreach", recorded_at="2026-01-05T09:30:00+08:00",
                     children=[GIRL, {"name": "Muh. Fadli", "sex": "M", "age_years": 9, "area_code": "73.06.01.2006"}],
                     description="Dua anak tidak sekolah.")
    key = {"Idempotency-Key": "0c6d2a4e-5b7f-4c1a-9e3d-2f8b6a1c7d90"}
    first = api("post", "/api/v1/cases", "desa", json=body, headers=key)
    assert first.status_code == 201, first.get_data(as_text=True)
    again = api("post", "/api/v1/cases", "desa", json=body, headers=key)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert db.session.scalar(select(func.count(Complaint.id))) == 1
    assert db.session.scalar(select(func.count(Case.id))) == 2
    created = first.get_json()
    assert [c["number"] for c in created["cases"]][0] == created["number"] and len(created["cases"]) == 2
    registered = db.session.scalar(select(Complaint))
    # Received no later than written down; the time it was written down is on each timeline.
    assert registered.received_at.isoformat() == "2026-01-05T01:30:00+00:00"
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "registered")).all()
    assert [e.data["recorded_at"] for e in events] == ["2026-01-05T01:30:00+00:00"] * 2


def test_a_refused_offline_complaint_can_be_corrected_and_sent_with_its_key(api, users):
    key = {"Idempotency-Key": "5d1e0a7c-refused-then-corrected"}
    body = complaint(recorded_at="2026-01-05T09:30:00+08:00", children=[{**GIRL, "nik": "123"}])
    refused = assert_error(api("post", "/api/v1/cases", "desa", json=body, headers=key), 422, "validation_error")
    assert list(refused["details"]["fields"]) == ["children.0.nik"]
    body["children"][0]["nik"] = None
    assert api("post", "/api/v1/cases", "desa", json=body, headers=key).status_code == 201
    assert db.session.scalar(select(func.count(Case.id))) == 1


def test_a_phone_clock_running_ahead_is_taken_as_now(api, users):
    response = api("post", "/api/v1/cases", "desa", json=complaint(recorded_at="2099-01-01T00:00:00+00:00",
                                                                   child=GIRL))
    assert response.status_code == 201, response.get_data(as_text=True)
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "registered"))
    assert event.data["recorded_at"] < "2099"


def test_child_and_children_are_one_or_the_other(api, users):
    assert_error(api("post", "/api/v1/cases", "desa", json=complaint()), 422, "validation_error")
    assert_error(api("post", "/api/v1/cases", "desa", json=complaint(child=GIRL, children=[GIRL])),
                 422, "validation_error")
    assert_error(api("post", "/api/v1/cases", "desa", json=complaint(children=[])), 422, "validation_error")
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_a_note_recorded_offline_is_added_once(api, users):
    case = _assigned_case(users)
    key = {"Idempotency-Key": "note-0001"}
    body = {"text": "Kunjungan rumah: ibu hadir.", "recorded_at": "2026-01-05T10:00:00+08:00"}
    first = api("post", f"/api/v1/cases/{case.id}/notes", "peksos", json=body, headers=key)
    again = api("post", f"/api/v1/cases/{case.id}/notes", "peksos", json=body, headers=key)
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    notes = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "note")).all()
    assert [n.data for n in notes] == [{"recorded_at": "2026-01-05T02:00:00+00:00"}]


# ---- the pages the app keeps -------------------------------------------------------------------------

def test_only_a_page_as_get_answers_it_may_be_kept_on_the_phone(web, users):
    web.login("desa")
    page = web.get("/cases/new").get_data(as_text=True)
    assert re.search(r'<meta name="app-user"[^>]*data-copyable', page)
    # Sent back with its errors, the form holds what was typed: never copied into the phone's cache.
    sent = web.post("/cases/new", {"children-0-name": "Sitti Hardianti", "action": "save"})
    assert sent.status_code == 422 and "Sitti Hardianti" in sent.get_data(as_text=True)
    assert "data-copyable" not in sent.get_data(as_text=True)


def test_the_worker_and_manifest_are_served_from_our_origin(web, users):
    worker = web.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-store"  # a new worker is seen on the next visit
    text = worker.get_data(as_text=True)
    assert "/cases/new" in text and "/static/js/offline.js?v=" in text and "http" not in text
    manifest = web.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["display"] == "standalone" and body["start_url"] == "/"
    assert {i["sizes"] for i in body["icons"]} == {"192x192", "512x512"}
    for icon in body["icons"]:
        assert web.get(icon["src"]).status_code == 200


def test_each_user_keeps_only_the_pages_they_may_open(web, make_web, users):
    web.login("desa")
    kept = re.search(r'data-kept="([^"]+)"', web.get("/").get_data(as_text=True)).group(1)
    assert "/cases/new" in kept and "/app/outbox" in kept and "/app/cases" not in kept
    social = make_web()
    social.login("peksos")
    kept = re.search(r'data-kept="([^"]+)"', social.get("/").get_data(as_text=True)).group(1)
    assert "/app/cases" in kept and "fieldwork.js" in kept
    analyst = make_web()
    analyst.login("analis")
    assert 'name="app-user"' not in analyst.get("/").get_data(as_text=True)


def test_a_client_that_asks_creates_nothing_for_a_likely_duplicate_until_told(api, users):
    existing = make_case(users["village_worker"], name="Sitti Hardianti", nik="7306014903140002")
    key = {"Idempotency-Key": "dup-0001"}
    body = complaint(duplicates="ask", children=[{**GIRL, "nik": "7306014903140002"}])
    asked = assert_error(api("post", "/api/v1/cases", "desa", json=body, headers=key), 422, "possible_duplicate")
    assert asked["message"] == "Anak ini mungkin sudah memiliki kasus: jawab apakah ini anak yang sama."
    assert [c["number"] for c in asked["details"]["children"]["0"]] == [existing.number]
    assert db.session.scalar(select(func.count(Case.id))) == 1
    # Told it is the same child: linked to the existing case, nothing new opened.
    body["decisions"] = {"0": str(existing.id)}
    linked = api("post", "/api/v1/cases", "desa", json=body, headers=key)
    assert linked.status_code == 201 and db.session.scalar(select(func.count(Case.id))) == 1
    assert linked.get_json()["cases"] == [] and linked.get_json()["linked"] == [existing.number]
    assert db.session.scalar(select(func.count(Complaint.id))) == 2  # the new complaint, linked


def test_a_client_that_asks_may_open_a_new_case_for_another_child(api, users):
    make_case(users["village_worker"], name="Sitti Hardianti", nik="7306014903140002")
    body = complaint(duplicates="ask", decisions={"0": "new"}, children=[{**GIRL, "nik": "7306014903140002"}])
    assert api("post", "/api/v1/cases", "desa", json=body).status_code == 201
    assert db.session.scalar(select(func.count(Case.id))) == 2
