"""Caseloads that move and transfers between districts: reassigning a worker's open cases, the
transfer's life (asked, accepted with a worker, declined, withdrawn), every refusal, and the
sending district's view narrowed to what happened before the transfer, on the page, the list,
search and the API."""
from __future__ import annotations

import io
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from casemgmt.cases.attachments import add_attachment
from casemgmt.cases.models import Attachment, Case, CaseEvent
from casemgmt.extensions import db
from casemgmt.referrals import services as referrals
from casemgmt.referrals.models import Referral
from casemgmt.transactions import commit
from casemgmt.transfers.models import Transfer
from tests.factories import OrganisationFactory, UserFactory, bearer_for
from tests.test_workflow_engine import at_stage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def gowa(users):
    org = users["coordinator"].organisation
    return {"coordinator": users["coordinator"], "worker": users["social_worker"],
            "worker2": UserFactory(username="peksos2", full_name="Andi Pratama", role="social_worker",
                                   organisation=org),
            "disabled": UserFactory(username="peksos3", full_name="Sitti Disabled", role="social_worker",
                                    organisation=org, active=False)}


@pytest.fixture
def makassar():
    pksai = OrganisationFactory(name="PKSAI Kota Makassar", kind="pksai", area_code="73.71",
                                services=["case_management"], covers=["73.71"])
    return {"org": pksai,
            "coordinator": UserFactory(username="koor.mks", role="coordinator", organisation=pksai),
            "worker": UserFactory(username="peksos.mks", full_name="Rina Makassar", role="social_worker",
                                  organisation=pksai)}


def open_cases_of(worker) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(Case.id).where(Case.assigned_worker_id == worker.id,
                                                        Case.status == "open")))


def error(response, status, code):
    assert response.status_code == status, response.get_json()
    body = response.get_json()["error"]
    assert body["code"] == code, body
    return body


# ---- reassigning a caseload ------------------------------------------------------------------------

def test_all_open_cases_move_each_with_the_reason_on_its_timeline(api, users, gowa):
    cases = [at_stage(users, "assessment").id for _ in range(3)]
    unassigned = at_stage(users, "report").id
    response = api("post", "/api/v1/cases/reassign", "koordinator", json={
        "from_worker_id": gowa["worker"].id, "to_worker_id": gowa["worker2"].id, "reason": "Cuti melahirkan."})
    assert response.status_code == 200 and response.get_json() == {"moved": 3}
    assert open_cases_of(gowa["worker2"]) == set(cases) and open_cases_of(gowa["worker"]) == set()
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "reassigned")).all()
    assert sorted(e.case_id for e in events) == sorted(cases)
    assert {e.comment for e in events} == {"Cuti melahirkan."}
    assert {e.data["to_worker_id"] for e in events} == {gowa["worker2"].id}
    assert db.session.get(Case, unassigned).assigned_worker_id is None


def test_chosen_cases_move_alone(api, users, gowa):
    first, second = at_stage(users, "assessment").id, at_stage(users, "assessment").id
    response = api("post", "/api/v1/cases/reassign", "koordinator", json={
        "from_worker_id": gowa["worker"].id, "to_worker_id": gowa["worker2"].id, "case_ids": [first],
        "reason": "Beban kerja."})
    assert response.get_json() == {"moved": 1}
    assert open_cases_of(gowa["worker2"]) == {first} and open_cases_of(gowa["worker"]) == {second}


@pytest.mark.parametrize("target, field", [("makassar", "to_worker_id"), ("disabled", "to_worker_id"),
                                           ("worker", "to_worker_id"), ("none", "reason")])
def test_reassignment_refusals_move_nothing(api, users, gowa, makassar, target, field):
    cases = {at_stage(users, "assessment").id, at_stage(users, "assessment").id}
    to = {"makassar": makassar["worker"], "disabled": gowa["disabled"], "worker": gowa["worker"],
          "none": gowa["worker2"]}[target]
    response = api("post", "/api/v1/cases/reassign", "koordinator", json={
        "from_worker_id": gowa["worker"].id, "to_worker_id": to.id, "reason": " " if target == "none" else "Pindah."})
    body = error(response, 422, "validation_error")
    assert field in body["details"]["fields"] and body["message"]
    assert open_cases_of(gowa["worker"]) == cases


def test_cases_not_open_or_not_the_workers_are_refused_and_nothing_moves(api, users, gowa):
    mine = at_stage(users, "assessment")
    closed = at_stage(users, "assessment")
    closed.status = "closed"
    others = at_stage(users, "report")
    commit()
    for wrong in (closed.id, others.id):
        response = api("post", "/api/v1/cases/reassign", "koordinator", json={
            "from_worker_id": gowa["worker"].id, "to_worker_id": gowa["worker2"].id,
            "case_ids": [mine.id, wrong], "reason": "Pindah."})
        assert "case_ids" in error(response, 422, "validation_error")["details"]["fields"]
    assert open_cases_of(gowa["worker"]) == {mine.id}


def test_a_worker_with_nothing_open_and_callers_not_the_coordinator_are_refused(api, users, gowa, makassar):
    case = at_stage(users, "assessment").id
    body = {"from_worker_id": gowa["worker2"].id, "to_worker_id": gowa["worker"].id, "reason": "Pindah."}
    error(api("post", "/api/v1/cases/reassign", "koordinator", json=body), 409, "nothing_open")
    body = {"from_worker_id": gowa["worker"].id, "to_worker_id": gowa["worker2"].id, "reason": "Pindah."}
    error(api("post", "/api/v1/cases/reassign", "peksos", json=body), 403, "forbidden")
    error(api("post", "/api/v1/cases/reassign", "koor.mks", json=body), 403, "forbidden")
    assert open_cases_of(gowa["worker"]) == {case}


def test_the_caseload_page_moves_ticked_cases_then_all(make_web, users, gowa):
    first, second, third = (at_stage(users, "assessment") for _ in range(3))
    web = make_web()
    web.login("koordinator")
    page = web.get(f"/workers/{gowa['worker'].id}/caseload").get_data(as_text=True)
    assert first.number in page and third.number in page and "Sitti Disabled" not in page
    refused = web.post(f"/workers/{gowa['worker'].id}/caseload", {
        "case_ids": [str(first.id)], "to_worker_id": str(gowa["disabled"].id), "reason": "Cuti."})
    assert refused.status_code == 422 and open_cases_of(gowa["worker"]) == {first.id, second.id, third.id}
    moved = web.post(f"/workers/{gowa['worker'].id}/caseload", {
        "case_ids": [str(first.id)], "to_worker_id": str(gowa["worker2"].id), "reason": "Cuti."})
    assert moved.status_code == 302 and open_cases_of(gowa["worker2"]) == {first.id}
    web.post(f"/workers/{gowa['worker'].id}/caseload", {
        "all_cases": "y", "to_worker_id": str(gowa["worker2"].id), "reason": "Berhenti bekerja."})
    assert open_cases_of(gowa["worker2"]) == {first.id, second.id, third.id}


def test_a_worker_holding_open_cases_is_disabled_only_once_they_are_reassigned(admin_web, api, users, gowa):
    at_stage(users, "assessment")
    worker = gowa["worker"]
    page = admin_web.get(f"/admin/users/{worker.id}").get_data(as_text=True)
    assert f"/workers/{worker.id}/caseload" in page
    admin_web.post(f"/admin/users/{worker.id}/active", {"version": str(worker.version)})
    db.session.expire_all()
    assert db.session.get(type(worker), worker.id).active is True
    api("post", "/api/v1/cases/reassign", "koordinator", json={
        "from_worker_id": worker.id, "to_worker_id": gowa["worker2"].id, "reason": "Berhenti bekerja."})
    db.session.expire_all()
    worker = db.session.get(type(worker), worker.id)
    admin_web.post(f"/admin/users/{worker.id}/active", {"version": str(worker.version)})
    db.session.expire_all()
    assert db.session.get(type(worker), worker.id).active is False


# ---- transfers: the whole journey and the sender's narrowed view -------------------------------------

def _transfer(api, case_id, org_id, who="koordinator", **extra):
    return api("post", f"/api/v1/cases/{case_id}/transfers", who,
               json={"to_organisation_id": org_id, "reason": "Keluarga pindah ke Makassar.", **extra})


def test_a_transfer_moves_the_case_and_leaves_the_sender_what_came_before(api, make_web, users, gowa, makassar):
    case = at_stage(users, "assessment")
    case_id, number = case.id, case.number
    add_attachment(case, io.BytesIO(PNG), "sebelum.png", users["social_worker"])
    commit()
    api("post", f"/api/v1/cases/{case_id}/notes", "koordinator", json={"text": "Catatan sebelum pindah"})
    asked = _transfer(api, case_id, makassar["org"].id)
    assert asked.status_code == 201 and asked.get_json()["status"] == "requested"
    transfer_id = asked.get_json()["id"]

    # Until accepted the sender holds the case; the receiver sees the request, not the case.
    assert api("get", f"/api/v1/cases/{case_id}", "koor.mks").status_code == 404
    assert api("get", f"/api/v1/cases/{case_id}", "peksos").status_code == 200
    assert [t["id"] for t in api("get", "/api/v1/transfers", "koor.mks").get_json()["items"]] == [transfer_id]
    accepted = api("post", f"/api/v1/transfers/{transfer_id}/accept", "koor.mks",
                   json={"assigned_worker_id": makassar["worker"].id, "version": 1})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted" and accepted.get_json()["transferred_at"]

    # The receiving district holds it now, number and history unchanged.
    theirs = api("get", f"/api/v1/cases/{case_id}", "koor.mks").get_json()
    assert theirs["number"] == number and theirs["assigned_worker"]["id"] == makassar["worker"].id
    assert api("get", f"/api/v1/cases/{case_id}", "peksos").status_code == 404
    api("post", f"/api/v1/cases/{case_id}/notes", "peksos.mks", json={"text": "Catatan sesudah pindah"})
    case = db.session.get(Case, case_id)
    add_attachment(case, io.BytesIO(PNG), "sesudah.png", makassar["worker"])
    commit()
    full = [i["comment"] for i in api("get", f"/api/v1/cases/{case_id}/history", "koor.mks").get_json()["items"]]
    assert "Catatan sebelum pindah" in full and "Catatan sesudah pindah" in full

    # The sender: before the transfer only, in the API ...
    ours = api("get", f"/api/v1/cases/{case_id}", "koordinator").get_json()
    assert ours["number"] == number and ours["assigned_worker"] is None and ours["transferred_out_at"]
    history = [i["comment"] for i in api("get", f"/api/v1/cases/{case_id}/history", "koordinator").get_json()["items"]]
    assert "Catatan sebelum pindah" in history and "Catatan sesudah pindah" not in history
    error(api("post", f"/api/v1/cases/{case_id}/notes", "koordinator", json={"text": "x"}), 403, "forbidden")
    listed = api("get", "/api/v1/cases?transferred=out", "koordinator").get_json()["items"]
    assert [c["id"] for c in listed] == [case_id] and listed[0]["assigned_worker"] is None
    assert case_id not in [c["id"] for c in api("get", "/api/v1/cases", "koordinator").get_json()["items"]]
    for q in (number, "Nurul"):
        found = api("get", f"/api/v1/cases?transferred=out&q={q}", "koordinator").get_json()["items"]
        assert [c["id"] for c in found] == [case_id], q
    assert api("get", "/api/v1/cases?transferred=out", "koor.mks").get_json()["items"] == []

    # ... and on the pages.
    web = make_web()
    web.login("koordinator")
    page = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Catatan sebelum pindah" in page and "sebelum.png" in page
    assert "Catatan sesudah pindah" not in page and "sesudah.png" not in page and "Rina Makassar" not in page
    assert f"/cases/{case_id}/edit" not in page and "summary.pdf" not in page
    files = {a.filename: a.id for a in db.session.scalars(select(Attachment))}
    assert web.get(f"/cases/{case_id}/attachments/{files['sebelum.png']}").status_code == 200
    assert web.get(f"/cases/{case_id}/attachments/{files['sesudah.png']}").status_code == 404
    assert web.get(f"/cases/{case_id}/summary.pdf").status_code == 404
    listing = web.get("/cases?transferred=out&q=Nurul").get_data(as_text=True)
    assert number in listing and "Rina Makassar" not in listing
    assert number not in web.get("/cases").get_data(as_text=True)


def test_referrals_open_at_the_transfer_are_kept_or_cancelled_by_the_receiver(api, users, makassar):
    kept_case, cancelled_case = at_stage(users, "assessment"), at_stage(users, "assessment")
    agency = users["agency_officer"].organisation
    made = {}
    for case in (kept_case, cancelled_case):
        made[case.id] = referrals.make_referral(case, users["social_worker"], to_organisation_id=agency.id,
                                                service="birth_certificate", reason="Akta kelahiran.",
                                                consent={"given_by": "caregiver", "recorded_on": date.today()}).id
    commit()
    for case, cancel in ((kept_case, []), (cancelled_case, [made[cancelled_case.id]])):
        transfer = _transfer(api, case.id, makassar["org"].id).get_json()
        shown = api("get", f"/api/v1/transfers/{transfer['id']}", "koor.mks").get_json()
        assert [r["id"] for r in shown["open_referrals"]] == [made[case.id]]
        assert api("post", f"/api/v1/transfers/{transfer['id']}/accept", "koor.mks", json={
            "assigned_worker_id": makassar["worker"].id, "cancel_referral_ids": cancel}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Referral, made[kept_case.id]).status == "sent"
    assert db.session.get(Referral, made[cancelled_case.id]).status == "cancelled"
    # The sender reads the referrals made before the transfer, not those made after.
    later = referrals.make_referral(db.session.get(Case, kept_case.id), makassar["worker"],
                                    to_organisation_id=agency.id, service="birth_certificate", reason="Akta.",
                                    consent={"given_by": "caregiver", "recorded_on": date.today()}).id
    commit()
    assert api("get", f"/api/v1/referrals/{made[kept_case.id]}", "koordinator").status_code == 200
    assert api("get", f"/api/v1/referrals/{later}", "koordinator").status_code == 404
    assert api("get", f"/api/v1/referrals/{later}", "koor.mks").status_code == 200


# ---- transfers: refusals --------------------------------------------------------------------------

def test_a_transfer_to_a_non_pksai_or_to_the_same_district_is_refused(api, users, makassar):
    case = at_stage(users, "assessment")
    same = OrganisationFactory(name="PKSAI Gowa Kedua", kind="pksai", area_code="73.06.01")
    for org in (users["agency_officer"].organisation, same):
        body = error(_transfer(api, case.id, org.id), 422, "validation_error")
        assert "to_organisation_id" in body["details"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0


def test_a_closed_case_a_second_request_and_the_wrong_callers_are_refused(api, users, makassar):
    closed = at_stage(users, "termination")
    error(_transfer(api, closed.id, makassar["org"].id), 409, "case_closed")
    case = at_stage(users, "assessment")
    error(_transfer(api, case.id, makassar["org"].id, who="peksos"), 403, "forbidden")
    assert _transfer(api, case.id, makassar["org"].id, who="koor.mks").status_code == 404
    assert _transfer(api, case.id, makassar["org"].id).status_code == 201
    error(_transfer(api, case.id, makassar["org"].id), 409, "transfer_open")
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 1


def test_answers_refused_from_the_wrong_side_status_or_version(api, users, gowa, makassar):
    case = at_stage(users, "assessment")
    transfer = _transfer(api, case.id, makassar["org"].id).get_json()
    url = f"/api/v1/transfers/{transfer['id']}"
    error(api("post", f"{url}/accept", "koordinator", json={"assigned_worker_id": gowa["worker2"].id}),
          403, "forbidden")
    body = error(api("post", f"{url}/accept", "koor.mks", json={"assigned_worker_id": gowa["worker2"].id}),
                 422, "validation_error")
    assert "assigned_worker_id" in body["details"]["fields"]
    error(api("post", f"{url}/decline", "koor.mks", json={"reason": ""}), 422, "validation_error")
    stale = error(api("post", f"{url}/decline", "koor.mks", json={"reason": "Bukan wilayah kami.", "version": 7}),
                  409, "stale_version")
    assert stale["details"]["current"]["status"] == "requested"
    declined = api("post", f"{url}/decline", "koor.mks", json={"reason": "Bukan wilayah kami.", "version": 1})
    assert declined.status_code == 200 and declined.get_json()["decline_reason"] == "Bukan wilayah kami."
    body = error(api("post", f"{url}/accept", "koor.mks", json={"assigned_worker_id": makassar["worker"].id}),
                 409, "wrong_status")
    assert body["message"]
    db.session.expire_all()
    assert db.session.get(Case, case.id).district_code == "73.06"
    assert api("get", f"/api/v1/cases/{case.id}", "koor.mks").status_code == 404
    # Declined, the case may be asked of someone again; withdrawn by the sender likewise.
    again = _transfer(api, case.id, makassar["org"].id).get_json()
    assert api("post", f"/api/v1/transfers/{again['id']}/cancel", "koor.mks", json={}).status_code == 403
    assert api("post", f"/api/v1/transfers/{again['id']}/cancel", "koordinator", json={}).get_json()["status"] \
        == "cancelled"
    assert api("get", f"/api/v1/transfers/{again['id']}", "peksos").status_code == 404


def test_two_requests_at_once_make_one_transfer(app, users, makassar):
    """Both pass the check for an open request before either is written: the one-open-request
    index refuses the second (on SQLite the second waits for the first's write instead)."""
    case = at_stage(users, "assessment")
    client = app.test_client()
    headers = bearer_for(client, "koordinator")
    url, org_id = f"/api/v1/cases/{case.id}/transfers", makassar["org"].id
    commit()
    barrier = threading.Barrier(2)
    answers = []

    def send(reason):
        barrier.wait()
        for _attempt in range(20):
            response = app.test_client().post(url, headers=headers, json={"to_organisation_id": org_id,
                                                                          "reason": reason})
            if response.status_code != 503:
                answers.append(response)
                return

    threads = [threading.Thread(target=send, args=(f"Alasan {i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert [a.get_json()["error"]["code"] for a in answers if a.status_code == 409] == ["transfer_open"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 1


def test_the_web_journey_request_accept(make_web, users, makassar):
    case = at_stage(users, "assessment")
    sender = make_web()
    sender.login("koordinator")
    assert "/transfer" in sender.get(f"/cases/{case.id}").get_data(as_text=True)
    form = sender.get(f"/cases/{case.id}/transfer").get_data(as_text=True)
    assert "PKSAI Kota Makassar" in form and "PKSAI Kabupaten Gowa" not in form
    refused = sender.post(f"/cases/{case.id}/transfer", {"to_organisation_id": str(makassar["org"].id),
                                                         "reason": "", "version": str(case.version)})
    assert refused.status_code == 422
    assert sender.post(f"/cases/{case.id}/transfer", {"to_organisation_id": str(makassar["org"].id),
                                                      "reason": "Pindah.", "version": str(case.version)}
                       ).status_code == 302
    transfer = db.session.scalar(select(Transfer))
    receiver = make_web()
    receiver.login("koor.mks")
    assert f"/transfers/{transfer.id}" in receiver.get("/tasks").get_data(as_text=True)
    page = receiver.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert "Rina Makassar" in page and case.number in page
    done = receiver.post(f"/transfers/{transfer.id}/accept", {"assigned_worker_id": str(makassar["worker"].id),
                                                             "version": "1"})
    assert done.status_code == 302
    assert receiver.get(f"/cases/{case.id}").status_code == 200
    assert "transferred-out" in sender.get(f"/cases/{case.id}").get_data(as_text=True)


def test_an_export_of_the_cases_transferred_out_says_nothing_of_who_holds_them_now(tmp_path, users, makassar):
    import csv

    from casemgmt.cases.records import CaseFilters
    from casemgmt.reports import exports
    from casemgmt.transfers import services as transfers

    case = at_stage(users, "assessment")
    transfer = transfers.request_transfer(case, users["coordinator"], makassar["org"].id, "Pindah.")
    transfers.accept_transfer(transfer, makassar["coordinator"], makassar["worker"].id)
    commit()
    path = tmp_path / "out.csv"
    assert exports.write(path, "csv", users["coordinator"], CaseFilters(transferred_out=True)) == 1
    header, row = list(csv.reader(path.open(encoding="utf-8-sig")))
    cells = dict(zip(header, row))
    assert row[0] == case.number and "Rina Makassar" not in row
    assert cells[exports.columns()[11]] == "" and cells[exports.columns()[12]] == ""
    path = tmp_path / "theirs.csv"
    assert exports.write(path, "csv", makassar["coordinator"], CaseFilters()) == 1
    assert "Rina Makassar" in path.read_text(encoding="utf-8-sig")


def test_the_web_pages_show_each_refusal_and_keep_what_was_typed(make_web, users, gowa, makassar):
    case = at_stage(users, "assessment")
    closed = at_stage(users, "termination")
    sender = make_web()
    sender.login("koordinator")
    same = OrganisationFactory(name="PKSAI Gowa Kedua", kind="pksai", area_code="73.06.01")
    page = sender.post(f"/cases/{case.id}/transfer", {"to_organisation_id": str(same.id), "reason": "Pindah rumah.",
                                                      "version": str(case.version)})
    assert page.status_code == 422 and "Pindah rumah." in page.get_data(as_text=True)
    assert sender.get(f"/cases/{closed.id}/transfer").status_code == 404
    sender.post(f"/cases/{case.id}/transfer", {"to_organisation_id": str(makassar["org"].id), "reason": "Pindah.",
                                               "version": str(case.version)})
    transfer = db.session.scalar(select(Transfer))
    receiver = make_web()
    receiver.login("koor.mks")
    wrong = receiver.post(f"/transfers/{transfer.id}/accept", {"assigned_worker_id": str(gowa["worker2"].id),
                                                               "version": "1"})
    assert wrong.status_code == 422
    assert receiver.post(f"/transfers/{transfer.id}/decline", {"reason": "", "version": "1"}).status_code == 422
    assert receiver.post(f"/transfers/{transfer.id}/decline", {"reason": "Bukan wilayah kami.", "version": "1"}
                         ).status_code == 302
    late = receiver.post(f"/transfers/{transfer.id}/accept", {"assigned_worker_id": str(makassar["worker"].id),
                                                              "version": "2"})
    assert late.status_code == 409
    db.session.expire_all()
    assert db.session.get(Case, case.id).district_code == "73.06"
    assert "Bukan wilayah kami." in sender.get(f"/cases/{case.id}").get_data(as_text=True)


def test_the_receiving_districts_clock_lengths_apply_from_the_transfer(users, makassar):
    from datetime import timedelta

    from casemgmt.transfers import services as transfers
    from casemgmt.workflow.deadlines import hours_for, save_district_hours

    case = at_stage(users, "assessment")
    save_district_hours("73.71", {("assessment", case.risk_level): hours_for("assessment", case.risk_level, "73.06")
                                  + 48}, users["coordinator"])
    entered = case.stage_entered_at
    transfer = transfers.request_transfer(case, users["coordinator"], makassar["org"].id, "Pindah.")
    transfers.accept_transfer(transfer, makassar["coordinator"], makassar["worker"].id)
    commit()
    assert case.due_at == entered + timedelta(hours=hours_for("assessment", case.risk_level, "73.71"))


# ---- who is told --------------------------------------------------------------------------------------

def test_the_people_a_move_concerns_are_told_once(api, users, gowa, makassar):
    """A transfer asked: the receiving PKSAI's coordinator; accepted: the worker given the case; a
    caseload moved: one message to each worker, whatever the number of cases."""
    from casemgmt.notify.models import Notification

    def told(kind):
        db.session.expire_all()
        return sorted((n.user_id, n.data.get("count"), n.data.get("number")) for n in
                      db.session.scalars(select(Notification).where(Notification.kind == kind)))

    moved = [at_stage(users, "assessment") for _ in range(2)]
    assert api("post", "/api/v1/cases/reassign", "koordinator", json={
        "from_worker_id": gowa["worker"].id, "to_worker_id": gowa["worker2"].id,
        "reason": "Cuti."}).status_code == 200
    assert told("case_assigned")[-1:] == [(gowa["worker2"].id, 2, None)]
    assert told("caseload_moved") == [(gowa["worker"].id, 2, None)]

    case = moved[0]
    transfer_id = _transfer(api, case.id, makassar["org"].id).get_json()["id"]
    assert told("transfer_requested") == [(makassar["coordinator"].id, None, case.number)]
    assert api("post", f"/api/v1/transfers/{transfer_id}/accept", "koor.mks",
               json={"assigned_worker_id": makassar["worker"].id}).status_code == 200
    assert (makassar["worker"].id, None, case.number) in told("case_assigned")
