"""Random, malformed, oversized and odd input against the API and the forms: never a 500,
never a partial write."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from casemgmt.cases.models import Case, Child, Complaint
from casemgmt.extensions import db
from tests.factories import bearer_for

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=5), max_leaves=12)
FIELD = st.sampled_from(["channel", "received_at", "reporter", "child", "concerns", "description", "urgent"])
ODD_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Case, Child, Complaint))


@pytest.fixture
def api(app, users):
    client = app.test_client()
    return client, bearer_for(client, "desa")


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(body=st.dictionaries(FIELD, JSON, max_size=7))
def test_create_case_never_fails_badly(api, body):
    client, headers = api
    before = counts()
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code in (201, 400, 422), response.get_data(as_text=True)[:300]
    if response.status_code != 201:
        assert counts() == before


@FUZZ
@given(raw=st.binary(max_size=400))
def test_unreadable_bodies_are_400_or_422(api, raw):
    client, headers = api
    response = client.post("/api/v1/cases", data=raw, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (400, 422)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["stage", "status", "risk_level", "area_code", "concern", "assigned",
                                               "overdue", "q", "limit", "cursor"]), ODD_TEXT, max_size=6))
def test_case_list_query_never_fails_badly(api, params):
    client, headers = api
    response = client.get("/api/v1/cases", query_string=params, headers=headers)
    assert response.status_code in (200, 400, 422)  # 400: a NUL character


@pytest.fixture
def desa(make_web, users):
    web = make_web()
    web.login("desa")  # once: the examples below share the session, as a person filling forms would
    return web


@FUZZ
@given(name=ODD_TEXT, nik=ODD_TEXT, description=ODD_TEXT, age=ODD_TEXT, area=ODD_TEXT, when=ODD_TEXT)
def test_complaint_form_never_fails_badly(desa, name, nik, description, age, area, when):
    web = desa
    before = counts()
    response = web.post("/cases/new", {
        "channel": "walk_in", "received_at": when, "reporter_anonymous": "y", "children-0-name": name,
        "children-0-sex": "F", "children-0-age_years": age, "children-0-nik": nik, "children-0-area_code": area,
        "concerns_welfare": ["out_of_school"], "description": description, "action": "save"})
    assert response.status_code in (200, 302, 400, 422)  # 400: a NUL character
    if response.status_code != 302:
        assert counts() == before


def test_oversized_body_is_refused(api):
    client, headers = api
    response = client.post("/api/v1/cases", data=b"x" * (17 * 1024 * 1024),
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413


FORMS = [  # (who, path template, fields)
    ("koordinator", "/cases/{case}/edit", ["name", "sex", "birth_date", "nik", "area_code", "address",
                                           "description", "version"]),
    ("koordinator", "/cases/{case}/notes", ["text"]),
    ("koordinator", "/cases/{case}/sensitive", ["sensitive-alleged_perpetrator", "sensitive-hiv_status"]),
    ("koordinator", "/cases/{case}/transitions/accept", ["accept-risk_level", "accept-assigned_worker_id",
                                                          "accept-version", "accept-comment"]),
    ("koordinator", "/cases/{case}/referrals/new", ["service", "to_organisation_id", "reason", "urgency",
                                                    "consent_given_by", "consent_recorded_on", "step"]),
    ("koordinator", "/conferences/new", ["title", "scheduled_at", "location", "case_ids", "organisation_ids"]),
    ("admin", "/admin/users/new", ["username", "full_name", "sex", "role", "organisation_id", "area_code",
                                   "password", "confirm"]),
    ("admin", "/directory/organisations/new", ["name", "kind", "area_code", "services", "covers"]),
    ("admin", "/admin/deadlines", ["district", "triage.urgent", "assessment.high"]),
    ("peksos", "/account/password", ["current_password", "password", "confirm"]),
]


@pytest.fixture
def form_world(make_web, users):
    from tests.factories import make_case

    case = make_case(users["village_worker"])
    sessions = {}
    for username in ("koordinator", "admin", "peksos"):
        web = make_web()
        web.login(username)
        sessions[username] = web
    return sessions, {"case": case.id}


@pytest.mark.parametrize("who, template, fields", FORMS, ids=[f[1] for f in FORMS])
def test_forms_never_fail_badly(form_world, who, template, fields):
    sessions, ids = form_world
    web = sessions[who]
    path = template.format(**ids)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(values=st.fixed_dictionaries({f: ODD_TEXT for f in fields}))
    def run(values):
        response = web.post(path, values)
        assert response.status_code in (200, 302, 303, 400, 403, 409, 422), (path, response.status_code)

    run()
