"""Workflow calls of the API contract."""
from __future__ import annotations

from datetime import date, timedelta


from tests.factories import make_case
from tests.test_api import assert_error




def test_the_sop_through_the_api(api, users):
    case = make_case(users["village_worker"])
    base = f"/api/v1/cases/{case.id}"
    items = api("get", f"{base}/transitions", "koordinator").get_json()["items"]
    accept = next(i for i in items if i["name"] == "accept")
    assert accept == {"name": "accept", "to_stage": "assessment", "allowed": True,
                      "missing": ["risk_level", "assigned_worker_id"], "needs_approval": False}
    assert all(not i["allowed"] for i in api("get", f"{base}/transitions", "desa").get_json()["items"])

    error = assert_error(api("post", f"{base}/transitions", "koordinator", json={
        "name": "accept", "version": 1, "data": {"risk_level": "high"}}), 422, "guard_failed")
    assert error["details"]["missing"] == ["assigned_worker_id"]
    assert_error(api("post", f"{base}/transitions", "peksos", json={"name": "accept", "version": 1}), 404, "not_found")
    assert_error(api("post", f"{base}/transitions", "koordinator", json={"name": "reopen", "version": 1}),
                 409, "wrong_stage")
    assert_error(api("post", f"{base}/transitions", "koordinator", json={
        "name": "accept", "version": 0, "data": {}}), 409, "stale_version")
    moved = api("post", f"{base}/transitions", "koordinator", json={
        "name": "accept", "version": 1, "comment": "OK",
        "data": {"risk_level": "high", "assigned_worker_id": users["social_worker"].id}})
    assert moved.status_code == 200 and moved.get_json()["stage"] == "assessment"
    version = moved.get_json()["version"]

    saved = api("put", f"{base}/assessment", "peksos", json={"risk_level": "high", "needs": ["birth_certificate"],
                                                             "summary": "Ringkasan."})
    assert saved.status_code == 200 and saved.get_json()["version"] == 1
    # A client that sends the version it read gets a conflict, not an overwrite, when it is old;
    # one that sends none (the contract's body) saves as before.
    stale = assert_error(api("put", f"{base}/assessment", "peksos", json={"needs": ["education"], "summary": "Lama.",
                                                                          "version": 0}), 409, "stale_version")
    assert stale["details"]["current_version"] == 1
    assert api("put", f"{base}/assessment", "peksos", json={"risk_level": "high", "needs": ["birth_certificate"],
                                                            "summary": "Ringkasan.", "version": 1}).status_code == 200
    assert_error(api("put", f"{base}/assessment", "peksos", json={"needs": ["flying"]}), 422, "validation_error")
    version = api("get", base, "peksos").get_json()["version"]
    assert api("post", f"{base}/transitions", "peksos", json={
        "name": "submit_assessment", "version": version}).status_code == 200

    due = (date.today() + timedelta(days=10)).isoformat()
    plan = api("put", f"{base}/plan", "peksos", json={"goals": [{"description": "Akta kelahiran", "actions": [
        {"description": "Urus akta", "service": "birth_certificate",
         "organisation_id": users["agency_officer"].organisation_id, "due_date": due}]}]})
    assert plan.status_code == 200
    action_id = plan.get_json()["goals"][0]["actions"][0]["id"]
    # The answer carries the plan's version: a client sending it back saves again; one sending an
    # older one is told of the conflict. The case's own version moving on is no conflict.
    goals = [{"description": "Akta kelahiran", "actions": [
        {"description": "Urus akta", "service": "birth_certificate",
         "organisation_id": users["agency_officer"].organisation_id, "due_date": due}]}]
    saved = plan.get_json()["version"]
    # The plan, its action ids and version, read back as the PUT answered it; only by those who
    # see the case's details (the registering Puskesos sees the outcome, not the plan).
    read = api("get", f"{base}/plan", "peksos")
    assert read.status_code == 200 and read.get_json() == plan.get_json()
    assert_error(api("get", f"{base}/plan", "desa"), 403, "forbidden")
    assert api("post", f"{base}/notes", "peksos", json={"text": "Catatan."}).status_code in (200, 201)
    again = api("put", f"{base}/plan", "peksos", json={"goals": goals, "version": saved})
    assert again.status_code == 200 and again.get_json()["version"] == saved + 1
    stale = assert_error(api("put", f"{base}/plan", "peksos", json={"goals": goals, "version": saved}),
                         409, "stale_version")
    assert stale["details"]["current_version"] == saved + 1
    action_id = again.get_json()["goals"][0]["actions"][0]["id"]
    version = api("get", base, "peksos").get_json()["version"]
    waiting = api("post", f"{base}/transitions", "peksos", json={"name": "submit_plan", "version": version})
    assert waiting.status_code == 202
    approval = waiting.get_json()["approval"]
    assert approval["status"] == "pending" and approval["transition"] == "submit_plan"
    assert api("get", base, "peksos").get_json()["stage"] == "intervention_plan"

    pending = api("get", "/api/v1/approvals?status=pending", "koordinator").get_json()["items"]
    assert [p["id"] for p in pending] == [approval["id"]]
    assert_error(api("post", f"/api/v1/approvals/{approval['id']}", "peksos", json={"decision": "approve"}),
                 403, "forbidden")
    decided = api("post", f"/api/v1/approvals/{approval['id']}", "koordinator", json={"decision": "approve"})
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    # Deciding it again is a conflict with its state (409), not a malformed request.
    assert_error(api("post", f"/api/v1/approvals/{approval['id']}", "koordinator", json={"decision": "reject",
                                                                                        "comment": "Ulang."}),
                 409, "record_locked")
    assert api("get", base, "peksos").get_json()["stage"] == "intervention"

    done = api("post", f"{base}/actions/{action_id}", "peksos", json={"status": "done", "note": "Akta terbit"})
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    assert_error(api("post", f"{base}/actions/{action_id}", "peksos", json={"status": "done"}), 409, "record_locked")
    version = api("get", base, "peksos").get_json()["version"]
    assert api("post", f"{base}/transitions", "peksos", json={"name": "start_monitoring",
                                                              "version": version}).status_code == 200
    visit = api("post", f"{base}/monitoring", "peksos", json={"visited_on": date.today().isoformat(),
                                                               "progress": "improved", "notes": "Baik."})
    assert visit.status_code == 201
    # A visit recorded offline is sent with its Idempotency-Key until an answer arrives: one visit.
    offline = {"visited_on": date.today().isoformat(), "progress": "same", "notes": "Di rumah keluarga.",
               "recorded_at": "2026-01-05T09:30:00+08:00"}
    key = {"Idempotency-Key": "7b1f0c8e-visit"}
    first = api("post", f"{base}/monitoring", "peksos", json=offline, headers=key)
    again = api("post", f"{base}/monitoring", "peksos", json=offline, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"] != visit.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    from casemgmt.cases.models import CaseEvent
    from casemgmt.extensions import db
    from sqlalchemy import select

    recorded = [e.data.get("recorded_at") for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "monitoring_visit"))]
    assert sorted(recorded, key=str) == sorted([None, "2026-01-05T01:30:00+00:00"], key=str)
    assert_error(api("post", f"{base}/monitoring", "peksos", json={"visited_on": "2999-01-01", "progress": "same"}),
                 422, "validation_error")
    history = api("get", f"{base}/history", "koordinator").get_json()["items"]
    assert [h["to_stage"] for h in history if h["action"] == "transition"] == [
        "assessment", "intervention_plan", "intervention", "monitoring"]


def test_unknown_transition_name_is_422(api, users):
    case = make_case(users["village_worker"])
    assert_error(api("post", f"/api/v1/cases/{case.id}/transitions", "koordinator",
                     json={"name": "teleport", "version": 1}), 422, "validation_error")


def test_approvals_are_read_a_page_at_a_time(api, users):
    """GET /api/v1/approvals pages as the contract's lists do (limit, cursor), oldest request
    first: a district's decided approvals grow with every case (all were one answer)."""
    from casemgmt.dbtypes import utcnow
    from casemgmt.extensions import db
    from casemgmt.workflow import services as workflow
    from casemgmt.workflow.models import Approval

    cases = []
    for i in range(5):
        case = make_case(users["village_worker"], name=f"Anak Tutup {i}")
        workflow.apply_transition(case, "accept", users["coordinator"],
                                  {"risk_level": "low", "assigned_worker_id": users["social_worker"].id})
        workflow.apply_transition(case, "terminate", users["social_worker"],
                                  {"reason": "moved_away", "summary": f"Pindah {i}."})
        cases.append(case.id)
    approvals = {a.case_id: a for a in db.session.query(Approval)}
    start = utcnow() - timedelta(hours=1)
    for i, case_id in enumerate(cases):  # two requests made in the same second: the id decides
        approvals[case_id].requested_at = start + timedelta(minutes=min(i, 3))
    db.session.commit()

    def walk(query, user="koordinator"):
        from tests.factories import api_pages

        return api_pages(lambda url: api("get", url, user), f"/api/v1/approvals?{query}", lambda item: item["case_id"])

    assert walk("status=pending&limit=2") == [cases[0:2], cases[2:4], cases[4:]]
    assert walk("limit=5") == [cases]
    assert walk("limit=2", "peksos") == [cases[0:2], cases[2:4], cases[4:]]  # the worker's own requests
    assert api("post", f"/api/v1/approvals/{approvals[cases[1]].id}", "koordinator",
               json={"decision": "approve"}).status_code == 200
    assert walk("status=pending&limit=3") == [[cases[0]] + cases[2:4], cases[4:]]
    assert walk("status=approved&limit=3") == [[cases[1]]]
    error = assert_error(api("get", "/api/v1/approvals?cursor=WzEsIDJd", "koordinator"), 422, "validation_error")
    assert error["details"]["fields"]["cursor"] == ["Tautan halaman ini tidak valid; mulailah dari halaman pertama."]
