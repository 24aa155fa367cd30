"""The whole SOP through the pages: triage, assessment, plan, approval, actions, monitoring, closure."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from casemgmt.cases.models import Case, CaseEvent
from casemgmt.extensions import db
from casemgmt.workflow.models import Approval, PlanAction
from tests.factories import OrganisationFactory, make_case


def version_of(case_id):
    db.session.expire_all()
    return db.session.get(Case, case_id).version


def reload(case_id):
    db.session.expire_all()
    return db.session.get(Case, case_id)


def test_a_case_through_every_stage(make_web, users):
    school = OrganisationFactory(name="SMP Negeri 1 Bontonompo", kind="school", area_code="73.06.01",
                                 services=["education"], covers=["73.06.01"])
    dukcapil_id = users["agency_officer"].organisation_id
    case = make_case(users["village_worker"])
    coordinator, worker = make_web(), make_web()
    coordinator.login("koordinator")
    worker.login("peksos")

    # Triage: the coordinator sees the accept and dismiss steps, and accepts.
    page = coordinator.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'action="/cases/%d/transitions/accept"' % case.id in page
    assert 'action="/cases/%d/transitions/dismiss"' % case.id in page
    response = coordinator.post(f"/cases/{case.id}/transitions/accept", {
        "accept-version": version_of(case.id), "accept-risk_level": "medium",
        "accept-assigned_worker_id": str(users["social_worker"].id), "accept-comment": "Tangani minggu ini."})
    assert response.status_code == 302
    c = reload(case.id)
    assert (c.stage, c.risk_level, c.assigned_worker_id) == ("assessment", "medium", users["social_worker"].id)
    assert abs((c.due_at - c.stage_entered_at) - timedelta(days=7)) < timedelta(seconds=1)

    # The worker cannot submit before the assessment is saved: the page says what is missing.
    page = worker.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "missing-submit_assessment" in page and "disabled" in page
    response = worker.post(f"/cases/{case.id}/transitions/submit_assessment",
                           {"submit_assessment-version": version_of(case.id)})
    assert response.status_code == 422
    response = worker.post(f"/cases/{case.id}/assessment", {
        "assessment-risk_level": "high", "assessment-needs": ["birth_certificate", "education"],
        "assessment-summary": "Tidak punya akta; putus sekolah sejak kelas 4."})
    assert response.status_code == 302
    response = worker.post(f"/cases/{case.id}/transitions/submit_assessment",
                           {"submit_assessment-version": version_of(case.id)})
    assert response.status_code == 302
    c = reload(case.id)
    assert c.stage == "intervention_plan" and c.risk_level == "high"
    assert abs((c.due_at - c.stage_entered_at) - timedelta(days=7)) < timedelta(seconds=1)  # plan, high risk

    # The plan: two goals, actions for Dukcapil and the school.
    due = (date.today() + timedelta(days=30)).isoformat()
    response = worker.post(f"/cases/{case.id}/plan", {
        "action": "save",
        "goals-0-description": "Anak memiliki akta kelahiran",
        "goals-0-actions-0-description": "Urus akta kelahiran", "goals-0-actions-0-service": "birth_certificate",
        "goals-0-actions-0-organisation_id": str(dukcapil_id), "goals-0-actions-0-due_date": due,
        "goals-1-description": "Anak kembali bersekolah",
        "goals-1-actions-0-description": "Daftar ulang ke SMP", "goals-1-actions-0-service": "education",
        "goals-1-actions-0-organisation_id": str(school.id), "goals-1-actions-0-due_date": due,
    })
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    response = worker.post(f"/cases/{case.id}/transitions/submit_plan",
                           {"submit_plan-version": version_of(case.id), "submit_plan-comment": "Mohon disetujui."})
    assert response.status_code == 302
    c = reload(case.id)
    assert c.stage == "intervention_plan"  # binding: it waits for the coordinator
    approval = db.session.scalars(select(Approval)).one()
    assert approval.status == "pending"

    # The worker cannot approve; the coordinator approves.
    assert worker.post(f"/approvals/{approval.id}", {"decision-decision": "approve"}).status_code == 403
    page = coordinator.get("/approvals").get_data(as_text=True)
    assert case.number in page
    assert coordinator.post(f"/approvals/{approval.id}", {"decision-decision": "approve"}).status_code == 302
    c = reload(case.id)
    assert c.stage == "intervention"

    # Actions done; then monitoring.
    actions = db.session.scalars(select(PlanAction).order_by(PlanAction.id)).all()
    response = worker.post(f"/cases/{case.id}/transitions/start_monitoring",
                           {"start_monitoring-version": version_of(case.id)})
    assert response.status_code == 422  # actions still open
    for action in actions:
        assert worker.post(f"/cases/{case.id}/actions/{action.id}",
                           {"action-status": "done", "action-note": "Selesai"}).status_code == 302
    assert worker.post(f"/cases/{case.id}/transitions/start_monitoring",
                       {"start_monitoring-version": version_of(case.id)}).status_code == 302
    assert reload(case.id).stage == "monitoring"

    # Termination needs a visit first, then the coordinator's approval.
    terminate = {"terminate-reason": "goals_met", "terminate-summary": "Akta terbit; anak kembali sekolah.",
                 "terminate-goals_met": "y"}
    response = worker.post(f"/cases/{case.id}/transitions/terminate",
                           {**terminate, "terminate-version": version_of(case.id)})
    assert response.status_code == 422
    assert worker.post(f"/cases/{case.id}/visits", {"visit-visited_on": date.today().isoformat(),
                                                   "visit-progress": "improved",
                                                   "visit-notes": "Anak rajin sekolah."}).status_code == 302
    assert worker.post(f"/cases/{case.id}/transitions/terminate",
                       {**terminate, "terminate-version": version_of(case.id)}).status_code == 302
    approval = db.session.scalars(select(Approval).where(Approval.status == "pending")).one()
    assert coordinator.post(f"/approvals/{approval.id}", {"decision-decision": "approve"}).status_code == 302
    c = reload(case.id)
    assert (c.stage, c.status, c.closure_reason, c.goals_met) == ("termination", "closed", "goals_met", True)
    assert c.due_at is None

    # The history is complete and in order.
    moves = [(e.from_stage, e.to_stage) for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "transition")
        .order_by(CaseEvent.at, CaseEvent.id))]
    assert moves == [("report", "assessment"), ("assessment", "intervention_plan"),
                     ("intervention_plan", "intervention"), ("intervention", "monitoring"),
                     ("monitoring", "termination")]
    page = coordinator.get(f"/cases/{case.id}").get_data(as_text=True)
    assert re.search(r'action="/cases/\d+/transitions/reopen"', page)


def test_a_failed_step_keeps_what_was_typed(make_web, users):
    case = make_case(users["village_worker"])
    coordinator = make_web()
    coordinator.login("koordinator")
    response = coordinator.post(f"/cases/{case.id}/transitions/dismiss", {
        "dismiss-version": version_of(case.id), "dismiss-reason": "flying", "dismiss-comment": "Komentar saya"})
    assert response.status_code == 422
    assert "Komentar saya" in response.get_data(as_text=True)
    assert reload(case.id).stage == "report"


def test_stale_version_is_a_conflict(make_web, users):
    case = make_case(users["village_worker"])
    coordinator = make_web()
    coordinator.login("koordinator")
    response = coordinator.post(f"/cases/{case.id}/transitions/dismiss", {
        "dismiss-version": "0", "dismiss-reason": "duplicate", "dismiss-comment": "Sudah dilaporkan"})
    assert response.status_code == 409 and reload(case.id).stage == "report"
    page = response.get_data(as_text=True)
    # What was typed is kept, the page says where the case is now, and the form carries its
    # version: sending it again (Try again) applies the step to the case as it is.
    assert "Sudah dilaporkan" in page and "Pengaduan" in page
    carried = re.search(r'name="dismiss-version" type="hidden" value="(\d+)"', page).group(1)
    assert int(carried) == version_of(case.id)
    again = coordinator.post(f"/cases/{case.id}/transitions/dismiss", {
        "dismiss-version": carried, "dismiss-reason": "duplicate", "dismiss-comment": "Sudah dilaporkan"})
    assert again.status_code == 302 and reload(case.id).stage == "termination"
    # Sent once more, the step is refused for the stage the case is in now: no button to send it
    # again (it would be refused again), a way back to the case instead.
    third = coordinator.post(f"/cases/{case.id}/transitions/dismiss", {
        "dismiss-version": str(version_of(case.id)), "dismiss-reason": "duplicate"})
    assert third.status_code == 409
    page = third.get_data(as_text=True)
    assert "Coba lagi" not in page and f'href="/cases/{case.id}#next-step">Buka kasus</a>' in page


def test_sop_help_page_and_diagram(make_web, users):
    web = make_web()
    web.login("peksos")
    assert web.get("/help/sop").status_code == 200
    svg = web.get("/help/sop.svg")
    assert svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert text.count("<rect") == 6 and "marker-end" in text


def test_a_refused_triage_does_not_preselect_a_worker(make_web, users):
    case = make_case(users["village_worker"])
    coordinator = make_web()
    coordinator.login("koordinator")
    response = coordinator.post(f"/cases/{case.id}/transitions/accept", {
        "accept-version": version_of(case.id), "accept-risk_level": "medium", "accept-assigned_worker_id": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    select = page.split('id="accept-assigned_worker_id"')[1].split("</select>")[0]
    assert '<option selected value="">' in select or 'value="" selected' in select  # nobody chosen
    assert page.count("pekerja sosial kabupaten/kota yang akan ditugaskan") == 1  # said once
    assert reload(case.id).assigned_worker_id is None


def test_approve_after_a_refused_send_back_approves(make_web, users):
    """A send-back refused for want of a comment shows the decision again; its buttons carry the
    decision, and the page holds no hidden copy of the first one, which a browser would send first."""
    from tests.test_workflow_engine import at_stage
    from casemgmt.workflow import services

    case = at_stage(users, "intervention_plan")
    services.save_plan(case, users["social_worker"], [{"description": "Akta", "actions": [
        {"description": "Urus akta", "service": "birth_certificate",
         "organisation_id": users["agency_officer"].organisation.id, "due_date": date.today() + timedelta(days=20)}]}])
    approval = services.apply_transition(case, "submit_plan", users["social_worker"]).approval
    coordinator = make_web()
    coordinator.login("koordinator")
    refused = coordinator.post(f"/approvals/{approval.id}", {"decision-decision": "reject", "decision-comment": ""})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    sent = re.findall(r'<(?:input|button)[^>]*name="decision-decision"[^>]*>', page)
    assert sent and all("<button" in tag for tag in sent)  # only the two buttons
    # What a browser sends on Approve: the page's fields in order, then the button clicked.
    fields = [(m[0], m[1]) for m in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)]
    approved = coordinator.post(f"/approvals/{approval.id}", {
        **{k: v for k, v in fields if k != "decision-decision"}, "decision-comment": "Lanjutkan.",
        "decision-decision": [v for k, v in fields if k == "decision-decision"] + ["approve"]})
    assert approved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Approval, approval.id).status == "approved"


def test_refusals_that_sending_again_cannot_mend_offer_the_case(make_web, users):
    """An action already recorded (Locked), and a stale post of a step the case has since left
    (its stage is told, not a version conflict): a link to the case, no Try again."""
    from tests.test_workflow_engine import at_stage
    from casemgmt.workflow import services

    case = at_stage(users, "intervention")
    action = db.session.scalars(select(PlanAction).where(PlanAction.case_id == case.id)).one()
    services.update_action(case, action, users["social_worker"], "done")
    worker = make_web()
    worker.login("peksos")
    response = worker.post(f"/cases/{case.id}/actions/{action.id}", {"action-status": "done"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Coba lagi" not in page and ">Buka kasus</a>" in page

    report = make_case(users["village_worker"])
    stale = report.version
    services.apply_transition(report, "dismiss", users["coordinator"], {"reason": "duplicate"})
    coordinator = make_web()
    coordinator.login("koordinator")
    response = coordinator.post(f"/cases/{report.id}/transitions/accept", {
        "accept-version": str(stale), "accept-risk_level": "medium",
        "accept-assigned_worker_id": str(users["social_worker"].id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Coba lagi" not in page and ">Buka kasus</a>" in page
    assert "Kasus tidak berada pada tahap yang memungkinkan tindakan ini." in page


def test_two_tabs_saving_the_assessment_conflict_instead_of_overwriting(make_web, users):
    """The assessment form carries the assessment's version (0 before one is saved): the second
    of two saves made from the same page is refused, what it typed kept; sent again, it is saved."""
    from tests.test_workflow_engine import at_stage

    case = at_stage(users, "assessment")
    worker = make_web()
    worker.login("peksos")
    page = worker.get(f"/cases/{case.id}").get_data(as_text=True)
    opened = re.search(r'name="assessment-version" type="hidden" value="(\d+)"', page).group(1)
    first = worker.post(f"/cases/{case.id}/assessment", {"assessment-version": opened, "assessment-risk_level": "high",
                                                         "assessment-summary": "Dari tab pertama."})
    assert first.status_code == 302
    second = worker.post(f"/cases/{case.id}/assessment", {"assessment-version": opened, "assessment-risk_level": "low",
                                                          "assessment-summary": "Dari tab kedua."})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Dari tab kedua." in page and "Coba lagi" in page
    from casemgmt.workflow.services import get_assessment
    db.session.expire_all()
    assert get_assessment(case).summary == "Dari tab pertama."
    carried = re.search(r'name="assessment-version" type="hidden" value="(\d+)"', page).group(1)
    again = worker.post(f"/cases/{case.id}/assessment", {"assessment-version": carried, "assessment-risk_level": "low",
                                                         "assessment-summary": "Dari tab kedua."})
    assert again.status_code == 302
    db.session.expire_all()
    assert get_assessment(case).summary == "Dari tab kedua."


def test_a_plan_saved_from_an_older_page_is_a_conflict(make_web, users):
    """The plan page carries the case's version: a plan saved from a page opened before another
    save is refused (409) with what was typed kept, not written over it; saved again, it goes."""
    from tests.test_workflow_engine import at_stage
    from casemgmt.workflow.services import plan_goals

    case = at_stage(users, "intervention_plan")
    worker = make_web()
    worker.login("peksos")
    page = worker.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    opened = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    due = (date.today() + timedelta(days=30)).isoformat()

    def plan(goal, version):
        return worker.post(f"/cases/{case.id}/plan", {
            "action": "save", "version": version, "goals-0-description": goal,
            "goals-0-actions-0-description": "Urus akta", "goals-0-actions-0-service": "birth_certificate",
            "goals-0-actions-0-organisation_id": str(users["agency_officer"].organisation.id),
            "goals-0-actions-0-due_date": due})

    assert plan("Dari tab pertama", opened).status_code == 302
    second = plan("Dari tab kedua", opened)
    assert second.status_code == 409 and "Dari tab kedua" in second.get_data(as_text=True)
    db.session.expire_all()
    assert [g.description for g in plan_goals(case)] == ["Dari tab pertama"]
    carried = re.search(r'name="version" type="hidden" value="(\d+)"', second.get_data(as_text=True)).group(1)
    assert plan("Dari tab kedua", carried).status_code == 302
    db.session.expire_all()
    assert [g.description for g in plan_goals(case)] == ["Dari tab kedua"]


def test_a_step_not_the_users_to_take_leads_back_to_the_case(make_web, users):
    """A refusal (403: the village worker who registered the case may not accept it) is not
    offered "Try again", which would only be refused again: a way back to the case instead.
    What the user typed is kept on the page."""
    case = make_case(users["village_worker"])
    desa = make_web()
    desa.login("desa")
    response = desa.post(f"/cases/{case.id}/transitions/accept", {
        "accept-version": "1", "accept-risk_level": "low", "accept-comment": "Mohon segera."})
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "Mohon segera." in page
    assert "Coba lagi" not in page and f'href="/cases/{case.id}#next-step">Buka kasus</a>' in page


def test_a_change_to_the_case_is_no_conflict_for_the_plan_page(make_web, users):
    """The plan page carries the plan's own version: the case record moving on meanwhile (here
    the overdue sweep noting the case, and a note) does not refuse the plan's save, which the
    case's version did."""
    from casemgmt.workflow.services import plan_goals
    from casemgmt.workflow.sweep import sweep_overdue
    from tests.test_workflow_engine import at_stage

    case = at_stage(users, "intervention_plan")
    worker = make_web()
    worker.login("peksos")
    page = worker.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    opened = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    before = version_of(case.id)
    assert sweep_overdue(reload(case.id).due_at + timedelta(minutes=1))["cases"] == 1
    assert version_of(case.id) > before  # the case record moved on
    saved = worker.post(f"/cases/{case.id}/plan", {
        "action": "save", "version": opened, "goals-0-description": "Akta terbit",
        "goals-0-actions-0-description": "Urus akta", "goals-0-actions-0-service": "birth_certificate",
        "goals-0-actions-0-organisation_id": str(users["agency_officer"].organisation.id),
        "goals-0-actions-0-due_date": (date.today() + timedelta(days=30)).isoformat()})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    db.session.expire_all()
    assert [g.description for g in plan_goals(reload(case.id))] == ["Akta terbit"]


def test_two_saves_at_once_are_a_conflict_not_a_500(make_web, app, users, monkeypatch):
    """When two requests pass the version check together, the database refuses the second's write
    (the version column: SQLAlchemy's StaleDataError). That is answered as the conflict it is,
    on the API and on a page, with nothing written; not as a server error. (The race itself is
    stood in for: the service raises what the flush would.)"""
    from sqlalchemy.orm.exc import StaleDataError

    from casemgmt.workflow import services as workflow
    from tests.factories import bearer_for

    case = make_case(users["village_worker"])

    def raced(*args, **kwargs):
        reload(case.id).urgent = True  # written, then refused: must not stay
        db.session.flush()
        raise StaleDataError("UPDATE statement on table 'case_record' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(workflow, "apply_transition", raced)
    client = app.test_client()
    response = client.post(f"/api/v1/cases/{case.id}/transitions", headers=bearer_for(client, "koordinator"),
                           json={"name": "dismiss", "version": 1, "data": {"reason": "duplicate"}})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "stale_version"
    coordinator = make_web()
    coordinator.login("koordinator")
    page = coordinator.post(f"/cases/{case.id}/transitions/dismiss", {"dismiss-version": "1",
                                                                    "dismiss-reason": "duplicate"})
    assert page.status_code == 409 and "Pengguna lain telah mengubah data ini" in page.get_data(as_text=True)
    db.session.expire_all()
    assert reload(case.id).urgent is False
