"""Random, malformed, oversized and odd input against the API and the forms: never a 500,
never a partial write."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from casemgmt.cases.models import Case, Child, Complaint
from casemgmt.extensions import db
from tests.factories import OrganisationFactory, bearer_for

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


# ---- bodies and query strings read safely at the door ----------------------------------------

DEEP = 50_000


def assert_refused(response, status):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"] and isinstance(body["error"]["details"], dict)
    return body["error"]


@pytest.mark.parametrize("raw", [b"[" * DEEP + b"]" * DEEP, b"[" * DEEP, b'{"a":' * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP,
                                 b'{"a":' * 33 + b"1" + b"}" * 33],
                         ids=["deep-array", "deep-unterminated", "deep-object-unterminated", "deep-object", "33-levels"])
def test_deep_bodies_are_400_even_before_authentication(api, raw):
    client, headers = api
    for path, sent in (("/api/v1/auth/token", {}), ("/api/v1/cases", headers), ("/api/v1/cases", {}),
                       ("/login", {})):
        response = client.post(path, data=raw, headers={**sent, "Content-Type": "application/json"})
        if path.startswith("/api/"):
            error = assert_refused(response, 400)
            assert error["code"] == "bad_request" and error["details"] == {"max_depth": 32}
        else:
            assert response.status_code == 400


def test_32_levels_are_read(api):
    client, headers = api
    nested = {"description": "x"}
    for _ in range(30):
        nested = {"a": nested}
    response = client.post("/api/v1/cases", json={"child": {"x": [nested]}}, headers=headers)  # 33 with the child
    assert_refused(response, 400)
    response = client.post("/api/v1/cases", json={"child": nested}, headers=headers)  # 32: read, then refused
    assert_refused(response, 422)


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"1", b"null", b"true", b'{"a": NaN}', b'{"a": Infinity}',
                                 b'{"a": 1e99999}', b'{"a": ' + b"9" * 5000 + b"}", b"\xff\xfe{}", b'{"a": "b"'])
def test_bodies_that_are_not_a_json_object_are_400(api, raw):
    client, headers = api
    before = counts()
    for path, sent in (("/api/v1/cases", headers), ("/api/v1/auth/token", {})):
        response = client.post(path, data=raw, headers={**sent, "Content-Type": "application/json"})
        if raw == b'{"a": 1e99999}':  # a float too large is infinity: read, then refused by the schema
            assert response.status_code in (400, 422)
        else:
            assert assert_refused(response, 400)["code"] == "bad_request"
    assert counts() == before


def test_a_number_of_5000_digits_is_400(api):
    client, headers = api
    raw = ('{"channel": "walk_in", "received_at": "2026-01-05T10:00:00+08:00", "concerns": ["out_of_school"],'
           ' "description": "x", "child": {"name": "Nurul", "sex": "F", "area_code": "73.06.01.2006", "age_years": '
           + "9" * 5000 + "}}")
    response = client.post("/api/v1/cases", data=raw, headers={**headers, "Content-Type": "application/json"})
    assert assert_refused(response, 400)["code"] == "bad_request"
    response = client.post("/api/v1/cases", data=raw.replace("9" * 5000, "9" * 4000),
                           headers={**headers, "Content-Type": "application/json"})
    assert_refused(response, 422)


def test_a_json_body_over_the_limit_is_413(app, api):
    client, headers = api
    most = app.config["MAX_JSON_BYTES"]
    for raw in (b'{"description": "' + b"x" * most + b'"}', b" " * (most + 1)):
        response = client.post("/api/v1/cases", data=raw, headers={**headers, "Content-Type": "application/json"})
        assert assert_refused(response, 413)["code"] == "too_large"
        response = client.post("/api/v1/auth/token", data=raw, headers={"Content-Type": "application/json"})
        assert_refused(response, 413)


def test_indicator_periods_at_the_ends_of_the_calendar(app, users, make_web):
    client = app.test_client()
    headers = bearer_for(client, "koordinator")
    for query in ("from=0001-01-01&to=9999-12-31", "to=0001-01-01&from=0001-01-01", "from=9999-12-31&to=9999-12-31"):
        response = client.get(f"/api/v1/indicators?{query}", headers=headers)
        assert response.status_code == 200, (query, response.get_data(as_text=True)[:300])
    assert_refused(client.get("/api/v1/indicators?from=9999-12-31", headers=headers), 422)  # after today
    body = client.get("/api/v1/indicators?from=0001-01-01&to=9999-12-31", headers=headers).get_json()
    assert (body["from"], body["to"]) == ("1900-01-01", "9998-12-31")  # what was counted
    web = make_web()
    web.login("koordinator")
    for query in ("from=0001-01-01&to=9999-12-31", "year=9999&quarter=4", "year=1&quarter=1", "year=99999&quarter=4"):
        response = web.get(f"/reports/indicators?{query}")
        assert response.status_code in (200, 302), (query, response.status_code)
        assert web.get(f"/reports/quarterly.pdf?{query}").status_code in (200, 302, 422), query


# Values at the ends of what JSON, dates and the database columns hold, put in each field in turn.
HUGE_INT = int("9" * 4000)
EXTREMES = [HUGE_INT, -HUGE_INT, 2**70, -(2**63) - 1, 2**31, -1, 0, 1e308, -1e308, 5e-324, "9" * 4000, "x" * 100_000,
            "0001-01-01", "9999-12-31", "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59+23:59", "\u202e\ufeff\U0001f600",
            [], {}, [0] * 5000, True, None]
QUERY_EXTREMES = ["9" * 5000, "-" + "9" * 30, "0001-01-01", "9999-12-31", "x" * 10_000, "-1", "0", "1e999", "nan", "[]",
                  "{}", "%", "'", "73.", ".", "\u202e"]
DEEP_RAW = b'{"a":' * DEEP
STRUCTURAL = {"deep": b"[" * DEEP + b"]" * DEEP, "deep-unterminated": DEEP_RAW, "array": b"[1]", "string": b'"x"',
              "nan": b'{"a": NaN}', "long-number": b'{"a": ' + b"9" * 5000 + b"}"}


def _leaves(value, path=()):
    """Every place in a body where a value sits: (path, value) for each field, in lists their first item."""
    if isinstance(value, dict):
        yield from ((p, v) for key, inner in value.items() for p, v in [(path + (key,), inner)] + list(_leaves(inner, path + (key,))))
    elif isinstance(value, list) and value:
        yield from _leaves(value[0], path + (0,))


def _put(body, path, value):
    import copy

    body = copy.deepcopy(body)
    place = body
    for step in path[:-1]:
        place = place[step]
    place[path[-1]] = value
    return body


@pytest.fixture
def world(app, users, org):
    """A case in assessment with its worker, a referral, a conference, an action: something behind every id."""
    from tests.factories import make_case

    client = app.test_client()
    tokens = {name: bearer_for(client, name) for name in ("koordinator", "peksos")}
    case = make_case(users["village_worker"])
    moved = client.post(f"/api/v1/cases/{case.id}/transitions", headers=tokens["koordinator"], json={
        "name": "accept", "version": case.version,
        "data": {"risk_level": "high", "assigned_worker_id": users["social_worker"].id}})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    dukcapil = users["agency_officer"].organisation_id
    referral = client.post(f"/api/v1/cases/{case.id}/referrals", headers=tokens["koordinator"], json={
        "to_organisation_id": dukcapil, "service": "birth_certificate", "reason": "Akta",
        "consent": {"given_by": "caregiver", "recorded_on": "2026-01-05"}})
    assert referral.status_code == 201, referral.get_data(as_text=True)
    conference = client.post("/api/v1/conferences", headers=tokens["koordinator"], json={
        "title": "Rapat", "scheduled_at": "2026-12-01T10:00:00+08:00", "area_code": "73.06", "case_ids": [case.id]})
    assert conference.status_code == 201, conference.get_data(as_text=True)
    assessed = client.put(f"/api/v1/cases/{case.id}/assessment", headers=tokens["peksos"], json={
        "risk_level": "high", "needs": ["education"], "summary": "Tidak sekolah"})
    assert assessed.status_code == 200, assessed.get_data(as_text=True)
    version = client.get(f"/api/v1/cases/{case.id}", headers=tokens["peksos"]).get_json()["version"]
    moved = client.post(f"/api/v1/cases/{case.id}/transitions", headers=tokens["peksos"], json={
        "name": "submit_assessment", "version": version})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    plan = client.put(f"/api/v1/cases/{case.id}/plan", headers=tokens["peksos"], json={"goals": [
        {"description": "Sekolah", "actions": [{"description": "Daftar", "service": "education",
                                                "organisation_id": org.id, "due_date": "2026-12-01"}]}]})
    assert plan.status_code == 200, plan.get_data(as_text=True)
    action = plan.get_json()["goals"][0]["actions"][0]["id"]
    makassar = OrganisationFactory(name="PKSAI Kota Makassar", kind="pksai", area_code="73.71").id
    transfer = client.post(f"/api/v1/cases/{case.id}/transfers", headers=tokens["koordinator"], json={
        "to_organisation_id": makassar, "reason": "Pindah"})
    assert transfer.status_code == 201, transfer.get_data(as_text=True)
    from tests.test_authorization_matrix import extract_of
    from casemgmt.transactions import commit

    import_id, item_id, _letter_id = extract_of("73.06", "73.06.01.2006", users["agency_officer"].organisation_id)
    commit()
    ids = {"case_id": case.id, "referral_id": referral.get_json()["id"], "conference_id": conference.get_json()["id"],
           "action_id": action, "approval_id": 1, "transfer_id": transfer.get_json()["id"], "import_id": import_id,
           "notification_id": 1,
           "item_id": item_id}
    return client, tokens, ids, {"org": org.id, "worker": users["social_worker"].id, "dukcapil": dukcapil,
                                 "makassar": makassar}


def _bodies(ids, refs):
    """A body each call with one takes, valid as far as the caller's role allows."""
    case_body = {"channel": "walk_in", "received_at": "2026-01-05T10:00:00+08:00", "description": "x", "urgent": False,
                 "concerns": ["out_of_school"], "reporter": {"name": "Ibu", "phone": "0812", "relationship": "x",
                                                               "anonymous": False},
                 "child": {"name": "Nurul", "sex": "F", "birth_date": "2014-03-09", "age_years": 11,
                           "nik": "7306014903140001", "area_code": "73.06.01.2006", "address": "x",
                           "caregiver_name": "x", "caregiver_relationship": "ibu", "caregiver_phone": "0812"}}
    return {
        ("post", "/api/v1/auth/token"): {"username": "koordinator", "password": "wrong-password", "totp": "123456"},
        ("post", "/api/v1/cases"): case_body,
        ("patch", "/api/v1/cases/{case_id}"): {"version": 2, "description": "y", "urgent": True,
                                               "concerns": ["out_of_school"], "child": case_body["child"],
                                               "reporter": case_body["reporter"]},
        ("post", "/api/v1/cases/{case_id}/notes"): {"text": "catatan", "recorded_at": "2026-01-05T10:00:00+08:00"},
        ("post", "/api/v1/cases/{case_id}/transitions"): {"name": "submit_assessment", "version": 2, "comment": "x",
                                                          "data": {"risk_level": "low", "assigned_worker_id": refs["worker"],
                                                                   "reason": "goals_met", "summary": "x"}},
        ("put", "/api/v1/cases/{case_id}/assessment"): {"risk_level": "low", "needs": ["education"], "summary": "x",
                                                        "version": 0},
        ("put", "/api/v1/cases/{case_id}/plan"): {"version": 1, "goals": [{"description": "x", "actions": [
            {"description": "x", "service": "education", "organisation_id": refs["org"], "due_date": "2026-12-01"}]}]},
        ("post", "/api/v1/cases/{case_id}/actions/{action_id}"): {"status": "done", "note": "x", "done_on": "2026-01-05"},
        ("post", "/api/v1/cases/{case_id}/monitoring"): {"visited_on": "2026-01-05", "progress": "same", "notes": "x",
                                                         "recorded_at": "2026-01-05T10:00:00+08:00"},
        ("post", "/api/v1/approvals/{approval_id}"): {"decision": "approve", "comment": "x"},
        ("post", "/api/v1/cases/{case_id}/referrals"): {
            "to_organisation_id": refs["dukcapil"], "service": "birth_certificate", "reason": "x", "urgency": "urgent",
            "consent": {"given_by": "child", "recorded_on": "2026-01-05"}, "plan_action_id": ids["action_id"]},
        ("post", "/api/v1/referrals/{referral_id}/accept"): {"version": 1},
        ("post", "/api/v1/referrals/{referral_id}/decline"): {"version": 1, "reason": "x"},
        ("post", "/api/v1/referrals/{referral_id}/complete"): {"version": 1, "outcome": "x", "delivered_on": "2026-01-05"},
        ("post", "/api/v1/referrals/{referral_id}/cancel"): {"version": 1, "reason": "x"},
        ("post", "/api/v1/conferences"): {"title": "x", "scheduled_at": "2026-12-01T10:00:00+08:00", "area_code": "73.06",
                                          "location": "x", "case_ids": [ids["case_id"]], "organisation_ids": [refs["org"]]},
        ("post", "/api/v1/outreach/{item_id}/status"): {"status": "not_applicable", "note": "Pindah"},
        ("post", "/api/v1/outreach/{item_id}/case"): {"concerns": ["no_birth_certificate"], "description": "x"},
        ("post", "/api/v1/conferences/{conference_id}/attendance"): {
            "attendees": [{"name": "x", "organisation_id": refs["org"], "sex": "F"}]},
        ("post", "/api/v1/conferences/{conference_id}/decisions"): {
            "case_id": ids["case_id"], "summary": "x", "approve_approval_id": 1,
            "actions": [{"description": "x", "owner_organisation_id": refs["org"], "owner_user_id": refs["worker"],
                         "due_date": "2026-12-01"}]},
        ("post", "/api/v1/cases/reassign"): {"from_worker_id": refs["worker"], "to_worker_id": refs["worker"],
                                             "case_ids": [ids["case_id"]], "reason": "x"},
        ("post", "/api/v1/cases/{case_id}/transfers"): {"to_organisation_id": refs["makassar"], "reason": "x",
                                                        "version": 1},
        ("post", "/api/v1/transfers/{transfer_id}/accept"): {"assigned_worker_id": refs["worker"], "version": 1,
                                                             "cancel_referral_ids": [ids["referral_id"]]},
        ("post", "/api/v1/transfers/{transfer_id}/decline"): {"reason": "x", "version": 1},
        ("post", "/api/v1/transfers/{transfer_id}/cancel"): {"reason": "x", "version": 1},
        ("patch", "/api/v1/me"): {"email": "x@example.org", "phone": "0812 3456 7890", "language": "en"},
        ("put", "/api/v1/me/notification-preferences"): {"email": "daily", "push": "off", "sms": "immediate"},
        ("post", "/api/v1/me/push-subscriptions"): {
            "endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": "x", "auth": "x"}},
        ("delete", "/api/v1/me/push-subscriptions"): {"endpoint": "https://fcm.googleapis.com/fcm/send/x"},
    }


def test_no_route_of_the_openapi_document_fails_badly(world):
    """Every documented call, as the coordinator and as the case's worker, with bodies too deep,
    unterminated, not objects, over the limit, and each field of a valid body (nested ones too)
    in turn set to a value at the end of what JSON, dates and the columns hold; every query
    parameter likewise. Never a 5xx; a refusal is in the contract's error format."""
    client, tokens, ids, refs = world
    doc = client.get("/api/v1/openapi.json").get_json()
    bodies = _bodies(ids, refs)
    problems, tried = [], {"structural": 0, "values": 0, "queries": 0}
    operations = [(method, path, op) for path, ops in doc["paths"].items() for method, op in ops.items()
                  if method in ("get", "post", "put", "patch", "delete")]
    with_body = {(method, path) for method, path, op in operations if "requestBody" in op}
    assert with_body <= set(bodies), with_body - set(bodies)  # a new call with a body needs one here

    def send(method, path, who, **kw):
        url = path.format(**ids)
        try:
            response = getattr(client, method)(url, headers={**tokens[who], **kw.pop("headers", {})}, **kw)
        except Exception as exc:  # noqa: BLE001 - an exception in a test is the 500 a server would answer
            problems.append((method, path, who, repr(exc)[:200], str(kw)[:120]))
            return None
        if response.status_code >= 500 or (response.status_code >= 400 and not (
                response.is_json and set(response.get_json()) == {"error"})):
            problems.append((method, path, who, response.status_code, str(kw)[:120]))
        return response

    for method, path, op in operations:
        if (method, path) == ("delete", "/api/v1/auth/token"):
            continue  # revoking the token would make the rest 401s
        for who in ("koordinator", "peksos"):
            if method != "get":
                for name, raw in list(STRUCTURAL.items()) + [("oversized", b" " * (client.application.config["MAX_JSON_BYTES"] + 1))]:
                    response = send(method, path, who, data=raw, headers={"Content-Type": "application/json"})
                    tried["structural"] += 1
                    if response is not None and response.status_code not in (400, 413):
                        problems.append((method, path, who, name, response.status_code))
            if (method, path) in bodies:
                base = bodies[(method, path)]
                for place, _value in _leaves(base):
                    for value in EXTREMES:
                        send(method, path, who, json=_put(base, place, value))
                        tried["values"] += 1
            parameters = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            for name in parameters:
                for value in QUERY_EXTREMES:
                    send(method, path, who, query_string={name: value})
                    tried["queries"] += 1
            for value in QUERY_EXTREMES:
                if parameters:
                    send(method, path, who, query_string={name: value for name in parameters})
                    tried["queries"] += 1
    print(f"\n{len(operations)} operations; requests tried: {tried}")
    assert sum(tried.values()) > 3000
    assert problems == []
