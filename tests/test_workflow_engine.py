"""The engine: every transition for every role, guards, binding approvals, deadlines, the definition."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from casemgmt.transactions import commit
from casemgmt.cases.models import Case, CaseEvent
from casemgmt.errors import Forbidden, StaleVersion
from casemgmt.extensions import db
from casemgmt.workflow import definition, notices, services, sweep, triage
from casemgmt.workflow.deadlines import compute_due, hours_for, save_district_hours
from casemgmt.workflow.models import Approval, PlanAction
from casemgmt.workflow.stages import STAGES
from tests.factories import OrganisationFactory, UserFactory, make_case

ROLES = ["village_worker", "social_worker", "coordinator", "agency_officer", "analyst", "admin"]


def at_stage(users, stage: str) -> Case:
    """A case driven by the real engine to ``stage``, committed."""
    case = _drive(users, stage)
    commit()
    return case


def _drive(users, stage: str) -> Case:
    case = make_case(users["village_worker"])
    coordinator, worker = users["coordinator"], users["social_worker"]
    if stage == "report":
        return case
    if stage == "termination":
        services.apply_transition(case, "dismiss", coordinator, {"reason": "duplicate"})
        return case
    services.apply_transition(case, "accept", coordinator, {"risk_level": "medium",
                                                            "assigned_worker_id": worker.id})
    if stage == "assessment":
        return case
    services.save_assessment(case, worker, "medium", ["birth_certificate"], "Ringkasan asesmen.")
    services.apply_transition(case, "submit_assessment", worker)
    if stage == "intervention_plan":
        return case
    org = users["agency_officer"].organisation
    services.save_plan(case, worker, [{"description": "Akta", "actions": [
        {"description": "Urus akta", "service": "birth_certificate", "organisation_id": org.id,
         "due_date": date.today() + timedelta(days=20)}]}])
    outcome = services.apply_transition(case, "submit_plan", worker)
    services.decide_approval(outcome.approval, coordinator, "approve")
    if stage == "intervention":
        return case
    for action in db.session.scalars(select(PlanAction).where(PlanAction.case_id == case.id)):
        services.update_action(case, action, worker, "done")
    services.apply_transition(case, "start_monitoring", worker)
    assert case.stage == "monitoring"
    return case


def valid_data(name, users):
    return {
        "accept": {"risk_level": "high", "assigned_worker_id": users["social_worker"].id},
        "dismiss": {"reason": "not_child_protection"},
        "revise_plan": {"comment": "Rencana perlu diubah."},
        "reopen": {"comment": "Ada laporan baru."},
        "terminate": {"reason": "moved_away", "summary": "Keluarga pindah ke Kalimantan."},
    }.get(name, {})


# Who may take each transition (in the right stage, guard satisfied).
ALLOWED = {
    "accept": {"coordinator"}, "dismiss": {"coordinator"}, "submit_assessment": {"social_worker"},
    "submit_plan": {"social_worker"}, "start_monitoring": {"social_worker"},
    "revise_plan": {"social_worker", "coordinator"}, "terminate": {"social_worker"}, "reopen": {"coordinator"},
}
READY = {  # a stage from which the transition's guard can be met by valid_data alone
    "accept": "report", "dismiss": "report", "submit_assessment": None, "submit_plan": None,
    "start_monitoring": None, "revise_plan": "monitoring", "terminate": "assessment", "reopen": "termination",
}


@pytest.mark.parametrize("name", list(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_every_transition_for_every_role(users, name, role):
    stage = READY[name] or definition.BY_NAME[name].from_stages[0]
    case = at_stage(users, stage)
    if name == "submit_assessment":
        services.save_assessment(case, users["social_worker"], "low", ["education"], "Ringkasan.")
    if name == "submit_plan":
        services.save_plan(case, users["social_worker"], [{"description": "Tujuan", "actions": [
            {"description": "Aksi", "service": "education", "organisation_id": users["agency_officer"].organisation_id,
             "due_date": date.today() + timedelta(days=5)}]}])
    if name == "start_monitoring":
        for action in db.session.scalars(select(PlanAction).where(PlanAction.case_id == case.id)):
            services.update_action(case, action, users["social_worker"], "cancelled", "Tidak perlu lagi.")
    actor = users[role]
    if role in ALLOWED[name]:
        outcome = services.apply_transition(case, name, actor, valid_data(name, users), case.version)
        transition = definition.BY_NAME[name]
        assert outcome.moved != transition.needs_approval
        assert case.stage == (stage if transition.needs_approval else transition.to_stage)
    else:
        with pytest.raises(Forbidden):
            services.apply_transition(case, name, actor, valid_data(name, users), case.version)
        assert case.stage == stage


def test_the_district_matters(users):
    org = OrganisationFactory(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09")
    maros = UserFactory(username="koordinator.maros", role="coordinator", organisation=org)
    other_worker = UserFactory(username="peksos.lain", role="social_worker", organisation=users["coordinator"].organisation)
    case = at_stage(users, "report")
    with pytest.raises(Forbidden):
        services.apply_transition(case, "accept", maros, valid_data("accept", users))
    services.apply_transition(case, "accept", users["coordinator"], valid_data("accept", users))
    with pytest.raises(Forbidden):  # not the assigned worker
        services.apply_transition(case, "terminate", other_worker, valid_data("terminate", users))


def test_wrong_stage_and_stale_version(users):
    case = at_stage(users, "report")
    with pytest.raises(services.WrongStage):
        services.apply_transition(case, "reopen", users["coordinator"], {"comment": "x"})
    with pytest.raises(StaleVersion):
        services.apply_transition(case, "dismiss", users["coordinator"], {"reason": "duplicate"}, case.version - 1)
    assert case.stage == "report"


@pytest.mark.parametrize("name, stage, data, missing", [
    ("accept", "report", {}, ["risk_level", "assigned_worker_id"]),
    ("accept", "report", {"risk_level": "extreme", "assigned_worker_id": -1}, ["risk_level", "assigned_worker_id"]),
    ("dismiss", "report", {"reason": "bored"}, ["reason"]),
    ("submit_assessment", "assessment", {}, ["assessment"]),
    ("submit_plan", "intervention_plan", {}, ["plan.goal"]),
    ("start_monitoring", "intervention", {}, ["plan.actions_settled"]),
    ("revise_plan", "monitoring", {"comment": "  "}, ["comment"]),
    ("terminate", "monitoring", {"reason": "goals_met"}, ["summary", "monitoring_visit"]),
    ("terminate", "assessment", {"reason": "goals_met", "summary": "x"}, ["reason"]),
    ("reopen", "termination", {}, ["comment"]),
])
def test_guards_list_what_is_missing(users, name, stage, data, missing):
    case = at_stage(users, stage)
    actor = users["coordinator"] if "coordinator" in ALLOWED[name] else users["social_worker"]
    with pytest.raises(services.GuardFailed) as exc:
        services.apply_transition(case, name, actor, data)
    assert exc.value.missing == missing
    assert case.stage == stage


def test_incomplete_assessment_and_plan_are_listed(users):
    case = at_stage(users, "assessment")
    worker = users["social_worker"]
    services.save_assessment(case, worker, None, [], "")
    with pytest.raises(services.GuardFailed) as exc:
        services.apply_transition(case, "submit_assessment", worker)
    assert exc.value.missing == ["assessment.risk_level", "assessment.needs", "assessment.summary"]
    case = at_stage(users, "intervention_plan")
    services.save_plan(case, worker, [{"description": "Tujuan tanpa aksi", "actions": []},
                                      {"description": "Tujuan", "actions": [{"description": "Aksi"}]}])
    with pytest.raises(services.GuardFailed) as exc:
        services.apply_transition(case, "submit_plan", worker)
    assert exc.value.missing == ["plan.goal_actions", "plan.action_service", "plan.action_organisation",
                                 "plan.action_due_date"]


def test_accept_refuses_a_worker_of_another_district(users):
    org = OrganisationFactory(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09")
    maros_worker = UserFactory(username="peksos.maros", role="social_worker", organisation=org)
    case = at_stage(users, "report")
    with pytest.raises(services.GuardFailed) as exc:
        services.apply_transition(case, "accept", users["coordinator"],
                                  {"risk_level": "low", "assigned_worker_id": maros_worker.id})
    assert exc.value.missing == ["assigned_worker_id"]


# ---- approvals ------------------------------------------------------------------------------------

def test_approval_is_binding_and_rejection_sends_back(users):
    case = at_stage(users, "assessment")
    worker, coordinator = users["social_worker"], users["coordinator"]
    outcome = services.apply_transition(case, "terminate", worker, valid_data("terminate", users))
    assert not outcome.moved and case.stage == "assessment" and case.status == "open"
    with pytest.raises(services.ApprovalPending):
        services.apply_transition(case, "terminate", worker, valid_data("terminate", users))
    with pytest.raises(Exception):
        services.decide_approval(outcome.approval, coordinator, "reject", "")  # a reason is required
    services.decide_approval(outcome.approval, coordinator, "reject", "Lanjutkan asesmen dulu.")
    assert case.stage == "assessment" and outcome.approval.status == "rejected"
    events = [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert "approval_rejected" in events
    again = services.apply_transition(case, "terminate", worker, valid_data("terminate", users))
    services.decide_approval(again.approval, coordinator, "approve")
    assert case.stage == "termination" and case.status == "closed" and case.closure_reason == "moved_away"


def test_nobody_approves_their_own_request(users):
    case = at_stage(users, "monitoring")
    coordinator = users["coordinator"]
    services.apply_transition(case, "revise_plan", coordinator, {"comment": "Ubah rencana."})
    services.save_plan(case, coordinator, [{"description": "Baru", "actions": [
        {"description": "Aksi", "service": "education", "organisation_id": users["agency_officer"].organisation_id,
         "due_date": date.today() + timedelta(days=3)}]}])
    # A coordinator may not submit a plan (only the assigned worker), so build a request by the worker...
    outcome = services.apply_transition(case, "submit_plan", users["social_worker"])
    # ...and show that the requester cannot decide, nor anyone outside the district.
    with pytest.raises(Forbidden):
        services.decide_approval(outcome.approval, users["social_worker"], "approve")
    second = UserFactory(username="koordinator2", role="coordinator", organisation=coordinator.organisation)
    outcome.approval.requested_by_id = second.id  # as if the second coordinator had asked
    db.session.commit()
    with pytest.raises(Forbidden):
        services.decide_approval(outcome.approval, second, "approve")
    services.decide_approval(outcome.approval, coordinator, "approve")
    assert case.stage == "intervention"


def test_approval_rechecks_the_guard(users):
    case = at_stage(users, "intervention_plan")
    worker = users["social_worker"]
    services.save_plan(case, worker, [{"description": "Tujuan", "actions": [
        {"description": "Aksi", "service": "education", "organisation_id": users["agency_officer"].organisation_id,
         "due_date": date.today()}]}])
    outcome = services.apply_transition(case, "submit_plan", worker)
    services.save_plan(case, worker, [])  # the plan was emptied after the request
    with pytest.raises(services.GuardFailed):
        services.decide_approval(outcome.approval, users["coordinator"], "approve")
    db.session.rollback()
    assert db.session.get(Case, case.id).stage == "intervention_plan"


# ---- deadlines ------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("risk, days", [("high", 3), ("medium", 7), ("low", 14)])
def test_assessment_deadline_by_risk(users, risk, days):
    case = make_case(users["village_worker"])
    services.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": risk, "assigned_worker_id": users["social_worker"].id}, now=NOW)
    assert case.due_at == NOW + timedelta(days=days)


@pytest.mark.parametrize("risk, days", [("high", 7), ("medium", 14), ("low", 30)])
def test_plan_deadline_by_risk(users, risk, days):
    case = at_stage(users, "assessment")
    services.save_assessment(case, users["social_worker"], risk, ["education"], "Ringkasan.")
    services.apply_transition(case, "submit_assessment", users["social_worker"], now=NOW)
    assert case.due_at == NOW + timedelta(days=days)


@pytest.mark.parametrize("risk, days", [("high", 14), ("medium", 30), ("low", 90)])
def test_monitoring_visits_are_due_at_the_interval_of_the_risk(users, risk, days):
    case = at_stage(users, "monitoring")
    case.risk_level = risk
    case.stage_entered_at = NOW - timedelta(days=10)  # monitoring began before the visit
    db.session.commit()
    visit_day = date(2026, 11, 1)
    services.record_visit(case, users["social_worker"], visit_day, "same", "", now=NOW)
    # From the end of the visit's day in WITA (UTC+8): 2026-11-01 23:59 WITA = 15:59 UTC.
    assert case.due_at == datetime(2026, 11, 1, 15, 59, tzinfo=timezone.utc) + timedelta(days=days)


def test_in_intervention_the_earliest_open_action_is_due(users):
    case = at_stage(users, "intervention")
    action = db.session.scalars(select(PlanAction).where(PlanAction.case_id == case.id)).one()
    assert case.due_at.date() in (action.due_date, action.due_date - timedelta(days=1))


def test_a_district_can_set_its_own_deadlines(users):
    save_district_hours("73.06", {("assessment", "high"): 48}, users["admin"])
    assert hours_for("assessment", "high", "73.06") == 48
    assert hours_for("assessment", "high", "73.09") == 72
    case = make_case(users["village_worker"])
    services.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "high", "assigned_worker_id": users["social_worker"].id}, now=NOW)
    assert case.due_at == NOW + timedelta(hours=48)
    assert compute_due(case, NOW) == case.due_at


def test_admin_deadlines_page(make_web, users):
    admin = make_web()
    admin.login("admin")
    assert admin.get("/admin/deadlines?district=73.06").status_code == 200
    response = admin.post("/admin/deadlines", {"district": "73.06", "triage.urgent": "12", "triage.normal": "abc"})
    assert response.status_code == 200 and hours_for("triage", "urgent", "73.06") == 24  # nothing saved
    response = admin.post("/admin/deadlines", {"district": "73.06", "triage.urgent": "12"})
    assert response.status_code == 302 and hours_for("triage", "urgent", "73.06") == 12
    # A district that is not a kabupaten/kota (found by the form fuzzer as a 500): a message, nothing saved.
    for district in ("0", "73", "73.06.01"):
        response = admin.post("/admin/deadlines", {"district": district, "triage.urgent": "5"})
        assert response.status_code == 200 and "Kode wilayah tidak dikenal." in response.get_data(as_text=True)
        assert hours_for("triage", "urgent", district) != 5


def test_sweep_tells_worker_and_coordinator_once(users):
    from casemgmt.workflow.models import Notification

    case = at_stage(users, "assessment")
    later = case.due_at + timedelta(minutes=1)
    assert sweep.sweep_overdue(later) == {"cases": 1, "notifications": 2}
    assert sweep.sweep_overdue(later + timedelta(hours=1)) == {"cases": 0, "notifications": 0}
    who = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "deadline_overdue"))}
    assert who == {users["social_worker"].id, users["coordinator"].id}


def test_sweep_command(runner, users):
    result = runner.invoke(args=["workflow", "sweep"])
    assert result.exit_code == 0 and "0 cases newly overdue" in result.output
    assert "0 unanswered referrals escalated" in result.output
    assert runner.invoke(args=["workflow", "check"]).exit_code == 0


# ---- the definition ------------------------------------------------------------------------------

def test_the_shipped_definition_is_valid():
    definition.validate()


@pytest.mark.parametrize("change, words", [
    ({"to_stage": "limbo"}, "unknown stage 'limbo'"),
    ({"guard": "vibes"}, "guard 'vibes'"),
    ({"roles": frozenset({"wizard"})}, "unknown role 'wizard'"),
    ({"clock": "sundial"}, "unknown clock 'sundial'"),
    ({"actor": "anyone"}, "unknown actor rule 'anyone'"),
])
def test_a_broken_definition_is_refused(change, words):
    from dataclasses import replace

    broken = tuple(replace(t, **change) if t.name == "accept" else t for t in definition.TRANSITIONS)
    with pytest.raises(definition.DefinitionError, match=words):
        definition.validate(transitions=broken)


def test_an_unreachable_stage_is_refused():
    broken = tuple(t for t in definition.TRANSITIONS if t.to_stage != "monitoring")
    with pytest.raises(definition.DefinitionError, match="'monitoring' cannot be reached"):
        definition.validate(transitions=broken)


def test_the_app_does_not_start_with_a_broken_definition(monkeypatch, tmp_path):
    from dataclasses import replace

    from casemgmt import create_app

    broken = tuple(replace(t, guard="missing_guard") if t.name == "reopen" else t for t in definition.TRANSITIONS)
    monkeypatch.setattr(definition, "TRANSITIONS", broken)
    with pytest.raises(definition.DefinitionError, match="missing_guard"):
        create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})


# ---- random walks ------------------------------------------------------------------------------------

STAGE_CODES = [s.code for s in STAGES]


@pytest.fixture
def machine_users(users):
    return users


def test_random_walks_keep_the_case_consistent(machine_users):
    users = machine_users
    actors = [users[r] for r in ROLES]
    org_id = users["agency_officer"].organisation_id

    class Walk(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.case = make_case(users["village_worker"], name="Anak Acak")
            self.moves = 0

        @rule(name=st.sampled_from(list(ALLOWED)), actor=st.sampled_from(actors), full=st.booleans())
        def try_transition(self, name, actor, full):
            before = self.case.stage
            data = valid_data(name, users) if full else {}
            try:
                outcome = services.apply_transition(self.case, name, actor, data, self.case.version)
            except Exception as exc:  # a refusal must leave the case where it was
                db.session.rollback()
                assert type(exc).__name__ in ("Forbidden", "WrongStage", "GuardFailed", "ApprovalPending",
                                              "ValidationFailed"), repr(exc)
                assert db.session.get(Case, self.case.id).stage == before
                return
            commit()  # each rule is one request
            transition = definition.BY_NAME[name]
            assert before in transition.from_stages
            assert actor.role in transition.roles
            assert not services.GUARDS[transition.guard](self.case, data) or not outcome.moved
            if outcome.moved:
                self.moves += 1

        @rule(actor=st.sampled_from(actors), approve=st.booleans())
        def decide(self, actor, approve):
            approval = services.pending_approval(self.case)
            if approval is None:
                return
            try:
                services.decide_approval(approval, actor, "approve" if approve else "reject", "Alasan.")
                commit()
            except Exception as exc:
                db.session.rollback()
                assert type(exc).__name__ in ("Forbidden", "GuardFailed", "WrongStage"), repr(exc)

        @rule()
        def do_the_work(self):
            worker = users["social_worker"]
            case = self.case
            try:
                if case.stage == "assessment":
                    services.save_assessment(case, worker, "low", ["education"], "Ringkasan.")
                elif case.stage == "intervention_plan" and services.pending_approval(case) is None:
                    services.save_plan(case, worker, [{"description": "T", "actions": [
                        {"description": "A", "service": "education", "organisation_id": org_id,
                         "due_date": date.today()}]}])
                elif case.stage in ("intervention", "monitoring"):
                    for action in db.session.scalars(select(PlanAction).where(PlanAction.case_id == case.id,
                                                                              PlanAction.status == "open")):
                        services.update_action(case, action, worker, "done")
                    if case.stage == "monitoring":
                        services.record_visit(case, worker, date.today(), "improved", "")
                commit()
            except Forbidden:
                db.session.rollback()  # not assigned (yet) to this worker

        @invariant()
        def consistent(self):
            case = db.session.get(Case, self.case.id)
            assert case.stage in STAGE_CODES
            assert (case.status == "closed") == (case.stage == "termination")
            moves = list(db.session.scalars(select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == "transition").order_by(CaseEvent.at, CaseEvent.id)))
            assert len(moves) == self.moves
            stage = "report"
            for event in moves:  # the history chains from report to where the case is now
                assert event.from_stage == stage
                transition = definition.BY_NAME[event.data["transition"]]
                assert event.from_stage in transition.from_stages and event.to_stage == transition.to_stage
                stage = event.to_stage
            assert stage == case.stage
            pending = db.session.scalars(select(Approval).where(Approval.case_id == case.id,
                                                                Approval.status == "pending")).all()
            assert len(pending) <= 1

    Walk.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None,
                                      suppress_health_check=list(HealthCheck))
    Walk.TestCase().runTest()


def test_overdue_is_shown_on_the_home_page_until_read(make_web, users):
    case = at_stage(users, "assessment")
    sweep.sweep_overdue(case.due_at + timedelta(minutes=1))
    worker = make_web()
    worker.login("peksos")
    page = worker.get("/").get_data(as_text=True)
    assert case.number in page and "notifications/read" in page
    assert worker.post("/notifications/read").status_code == 302
    assert case.number not in worker.get("/").get_data(as_text=True)


def test_the_background_job_runs_the_sweep(app, users):
    from casemgmt import jobs

    case = at_stage(users, "assessment")
    case.due_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    db.session.commit()
    jobs.use_app(app)
    result = jobs.overdue_sweep.call_local()
    assert result == {"cases": {"cases": 1, "notifications": 2}, "referrals": {"referrals": 0, "notifications": 0},
                      "juvenile_clocks": {"clocks": 0, "notifications": 0}}
    # Scheduled every 15 minutes by the consumer (the indicator recount runs every minute).
    due = {type(t).__name__ for t in jobs.huey.read_periodic(datetime(2026, 1, 1, 10, 15))}
    every_minute = {type(jobs.refresh_indicators.s()).__name__, type(jobs.requeue_exports.s()).__name__,
                    type(jobs.deliver_notifications.s()).__name__, type(jobs.requeue_population_imports.s()).__name__}
    assert due == {type(jobs.overdue_sweep.s()).__name__, type(jobs.due_soon_sweep.s()).__name__} | every_minute
    due = {type(t).__name__ for t in jobs.huey.read_periodic(datetime(2026, 1, 1, 10, 7))}
    assert due == every_minute


def test_the_sweep_works_through_overdue_cases_a_batch_at_a_time(app, users, monkeypatch):
    monkeypatch.setattr(sweep, "SWEEP_BATCH", 1)
    cases = [at_stage(users, "assessment") for _ in range(3)]
    for case in cases:
        case.due_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    db.session.commit()
    assert sweep.sweep_overdue() == {"cases": 3, "notifications": 6}
    assert sweep.sweep_overdue() == {"cases": 0, "notifications": 0}


def test_triage_board_counts_the_coordinators_own_overdue_cases(users):
    from casemgmt.dbtypes import utcnow
    from tests.factories import OrganisationFactory, UserFactory, make_case

    waiting = make_case(users["village_worker"], name="Andi Baso", sex="M")
    held = make_case(users["village_worker"], name="Nurul Aisyah")
    services.apply_transition(held, "accept", users["coordinator"],
                              {"risk_level": "high", "assigned_worker_id": users["social_worker"].id})
    now = utcnow()
    for case in (waiting, held):
        case.due_at = now - timedelta(hours=2)
    db.session.commit()
    board = triage.triage_board(users["coordinator"], now)
    assert [c.id for c in board.queue] == [waiting.id]
    assert {c.id for c in board.overdue} == {waiting.id, held.id}
    assert board.by_stage == {"report": 1, held.stage: 1}
    assert sorted(board.by_worker, key=str) == sorted([(None, 1), (users["social_worker"].full_name, 1)], key=str)
    # A second worker of the same name is counted apart, not merged into the first.
    worker = users["social_worker"]
    namesake = UserFactory(username="peksos.kembar", role="social_worker", full_name=worker.full_name,
                           organisation=users["coordinator"].organisation, area_code=worker.area_code)
    other = make_case(users["village_worker"], name="Sitti Rahma")
    services.apply_transition(other, "accept", users["coordinator"],
                              {"risk_level": "high", "assigned_worker_id": namesake.id})
    other.due_at = now - timedelta(hours=1)
    db.session.commit()
    assert dict(triage.triage_board(users["coordinator"], now).by_worker) == {
        None: 1, f"{worker.full_name} ({worker.username})": 1, f"{worker.full_name} (peksos.kembar)": 1}
    maros = UserFactory(username="koordinator.maros", role="coordinator",
                        organisation=OrganisationFactory(name="PKSAI Maros", kind="pksai", area_code="73.09"))
    elsewhere = triage.triage_board(maros, now)
    assert elsewhere.queue == [] and elsewhere.overdue == [] and elsewhere.by_worker == []


def test_the_triage_queue_pages_urgent_first_and_the_board_counts_beyond_what_it_lists(users, monkeypatch):
    from casemgmt.dbtypes import utcnow
    from casemgmt.errors import ValidationFailed

    now = utcnow()
    cases = [make_case(users["village_worker"], name=name) for name in ("Andi Baso", "Nurul Aisyah", "Sitti Rahma")]
    for age, case in zip((3, 2, 1), cases):  # Andi's is the oldest
        case.created_at = now - timedelta(days=age)
        case.due_at = now - timedelta(hours=age)
    cases[2].urgent = True
    db.session.commit()
    pages, cursor = [], None
    while True:
        page, cursor = triage.triage_queue(users["coordinator"], cursor, limit=1)
        pages.append([c.id for c in page])
        if cursor is None:
            break
    assert pages == [[cases[2].id], [cases[0].id], [cases[1].id]]  # the urgent one, then the oldest first
    with pytest.raises(ValidationFailed):
        triage.triage_queue(users["coordinator"], "bm90IGEgY3Vyc29y")

    monkeypatch.setattr(triage, "OVERDUE_SHOWN", 2)
    board = triage.triage_board(users["coordinator"], now)
    assert board.waiting == 3 and board.overdue_total == 3 and board.by_stage == {"report": 3}
    assert [c.id for c in board.overdue] == [cases[0].id, cases[1].id]  # the most overdue first, two shown


def test_the_triage_page_links_its_next_page_and_answers_a_spoiled_link_with_the_first(web, users, monkeypatch):
    from casemgmt.dbtypes import utcnow

    monkeypatch.setattr(triage, "TRIAGE_PAGE", 1)
    first, second = (make_case(users["village_worker"], name=name) for name in ("Andi Baso", "Nurul Aisyah"))
    first.created_at = utcnow() - timedelta(days=1)
    db.session.commit()
    web.login("koordinator")
    page = web.get("/triage").get_data(as_text=True)
    assert first.number in page and second.number not in page
    link = re.search(r'href="(/triage\?cursor=[^"]+)"', page).group(1)
    page = web.get(link).get_data(as_text=True)
    assert second.number in page and first.number not in page
    assert 'href="/triage">Halaman pertama</a>' in page and "/triage?cursor=" not in page  # back, no further
    # The second complaint triaged while the first page was open: the link to the second page
    # finds it empty, and says so, with the way back (not "no new complaint waits").
    services.apply_transition(second, "dismiss", users["coordinator"], {"reason": "duplicate"})
    page = web.get(link).get_data(as_text=True)
    assert "Tidak ada lagi di halaman ini" in page and "Tidak ada pengaduan baru" not in page
    assert 'href="/triage">Halaman pertama</a>' in page
    response = web.get("/triage?cursor=rusak")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert first.number in page and "Tautan halaman ini tidak valid" in page


# ---- handing a case to another worker -------------------------------------------------------------

def test_the_coordinator_hands_a_case_to_another_worker_and_access_follows(users):
    from casemgmt.access import case_access
    from casemgmt.audit.models import AuditEntry

    case = at_stage(users, "intervention_plan")
    old, coordinator = users["social_worker"], users["coordinator"]
    new = UserFactory(username="peksos.baru", role="social_worker", organisation=coordinator.organisation,
                      area_code=old.area_code)
    version = case.version
    services.reassign(case, coordinator, new.id, "Peksos lama cuti melahirkan.", version)
    assert case.assigned_worker_id == new.id and case.version > version and case.stage == "intervention_plan"
    assert case_access(new, case).edit and not case_access(old, case).view
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                               .order_by(CaseEvent.id.desc())).first()
    assert (event.kind, event.comment, event.data["from_worker_id"], event.data["to_worker_id"]) == \
        ("reassigned", "Peksos lama cuti melahirkan.", old.id, new.id)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case_reassigned")).one()
    assert entry.before == {"assigned_worker_id": old.id} and entry.after == {"assigned_worker_id": new.id}


def test_handing_over_is_refused_with_reasons_and_changes_nothing(users):
    from casemgmt.errors import ValidationFailed
    from casemgmt.workflow.services import WrongStage

    case = at_stage(users, "assessment")
    coordinator, worker = users["coordinator"], users["social_worker"]
    org = OrganisationFactory(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09")
    elsewhere = UserFactory(username="peksos.maros", role="social_worker", organisation=org)
    disabled = UserFactory(username="peksos.nonaktif", role="social_worker", organisation=coordinator.organisation,
                           area_code=worker.area_code, active=False)
    for worker_id in (elsewhere.id, disabled.id, users["village_worker"].id, 999999, None):
        with pytest.raises(ValidationFailed) as exc:
            services.reassign(case, coordinator, worker_id, "Alasan.", case.version)
        assert "assigned_worker_id" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.reassign(case, coordinator, worker.id, "  ", case.version)
    assert set(exc.value.errors) == {"assigned_worker_id", "reason"}  # the same worker, and no reason
    with pytest.raises(Forbidden):
        services.reassign(case, worker, worker.id, "Alasan.", case.version)
    with pytest.raises(StaleVersion):
        services.reassign(case, coordinator, worker.id, "Alasan.", case.version - 1)
    with pytest.raises(WrongStage):
        services.reassign(at_stage(users, "report"), coordinator, worker.id, "Alasan.", None)
    # A request waiting for approval is decided first: a rejection would go to a worker who no
    # longer sees the case.
    planned = at_stage(users, "intervention_plan")
    org = users["agency_officer"].organisation
    services.save_plan(planned, worker, [{"description": "Akta", "actions": [
        {"description": "Urus akta", "service": "birth_certificate", "organisation_id": org.id,
         "due_date": date.today() + timedelta(days=20)}]}])
    services.apply_transition(planned, "submit_plan", worker)
    namesake = UserFactory(username="peksos.lain", role="social_worker", organisation=coordinator.organisation,
                           area_code=worker.area_code)
    with pytest.raises(services.ApprovalPending):
        services.reassign(planned, coordinator, namesake.id, "Alasan.", planned.version)
    db.session.rollback()
    assert case.assigned_worker_id == worker.id and planned.assigned_worker_id == worker.id
    assert not db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "reassigned")).first()


def test_the_case_page_hands_over_and_a_refusal_keeps_what_was_typed(make_web, users):
    case = at_stage(users, "assessment")
    coordinator = users["coordinator"]
    new = UserFactory(username="peksos.baru", full_name="Rahmawati Peksos", role="social_worker",
                      organisation=coordinator.organisation, area_code=users["social_worker"].area_code)
    web = make_web()
    web.login("koordinator")
    page = web.get(f"/cases/{case.id}").get_data(as_text=True)
    # The section is on the page; its form, with the district's workers, comes when it is opened.
    assert "Serahkan kasus ke pekerja sosial lain" in page and "Rahmawati Peksos" not in page
    assert f'hx-get="/cases/{case.id}/worker?version={case.version}"' in page
    fragment = web.get(f"/cases/{case.id}/worker", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Rahmawati Peksos" in fragment and "<html" not in fragment
    assert users["social_worker"].full_name not in fragment   # not the worker who holds it now
    assert "Rahmawati Peksos" in web.get(f"/cases/{case.id}/worker").get_data(as_text=True)  # without script
    refused = web.post(f"/cases/{case.id}/worker", {"reassign-version": case.version,
                                                    "reassign-assigned_worker_id": new.id,
                                                    "reassign-reason": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Sebutkan mengapa kasus berpindah tangan." in text
    assert users["social_worker"].full_name not in text  # the worker holding it is not offered again
    assert f'<option selected value="{new.id}">' in text or f'value="{new.id}" selected' in text
    done = web.post(f"/cases/{case.id}/worker", {"reassign-version": case.version,
                                                 "reassign-assigned_worker_id": new.id,
                                                 "reassign-reason": "Beban kasus terlalu banyak."})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).assigned_worker_id == new.id
    page = web.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Diserahkan ke pekerja sosial Rahmawati Peksos" in page and "Beban kasus terlalu banyak." in page
    worker = make_web()
    worker.login("peksos")
    assert worker.get(f"/cases/{case.id}").status_code == 404
    assert worker.get(f"/cases/{case.id}/worker").status_code == 404
    assert worker.post(f"/cases/{case.id}/worker", {"reassign-version": case.version,
                                                    "reassign-assigned_worker_id": new.id,
                                                    "reassign-reason": "x"}).status_code == 404


def test_a_hand_over_form_opened_late_still_catches_a_change_made_since_the_page_loaded(make_web, users):
    """The form is fetched when its section is opened; it carries the version of the page it was
    opened from, so a change made in between is a conflict, not overwritten."""
    case = at_stage(users, "assessment")
    coordinator = users["coordinator"]
    first, second = (UserFactory(username=f"peksos.{n}", full_name=f"Peksos {n}", role="social_worker",
                                 organisation=coordinator.organisation, area_code=users["social_worker"].area_code)
                     for n in ("bunga", "citra"))
    web = make_web()
    web.login("koordinator")
    page = web.get(f"/cases/{case.id}").get_data(as_text=True)
    loaded = case.version
    assert f"/cases/{case.id}/worker?version={loaded}" in page
    services.reassign(case, coordinator, first.id, "Peksos lama cuti.", case.version)  # someone else, meanwhile
    fragment = web.get(f"/cases/{case.id}/worker?version={loaded}", headers={"HX-Request": "true"})
    assert f'name="reassign-version" type="hidden" value="{loaded}"' in fragment.get_data(as_text=True)
    late = web.post(f"/cases/{case.id}/worker", {"reassign-version": loaded, "reassign-assigned_worker_id": second.id,
                                                 "reassign-reason": "Beban kerja."})
    assert late.status_code == 409
    db.session.expire_all()
    assert db.session.get(Case, case.id).assigned_worker_id == first.id


def test_no_hand_over_is_offered_while_a_request_waits_nor_to_the_worker_holding_the_case(make_web, users):
    case = at_stage(users, "intervention_plan")
    worker, org = users["social_worker"], users["agency_officer"].organisation
    web = make_web()
    web.login("koordinator")
    assert f"/cases/{case.id}/worker" in web.get(f"/cases/{case.id}").get_data(as_text=True)
    services.save_plan(case, worker, [{"description": "Akta", "actions": [
        {"description": "Urus akta", "service": "birth_certificate", "organisation_id": org.id,
         "due_date": date.today() + timedelta(days=20)}]}])
    services.apply_transition(case, "submit_plan", worker)
    page = web.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Setujui" in page and f"/cases/{case.id}/worker" not in page  # decide the request first
    assert web.get(f"/cases/{case.id}/worker").status_code == 404  # nor served when asked for
    # A form opened before the request came: its post is told why, and keeps what was typed.
    late = web.post(f"/cases/{case.id}/worker", {"reassign-version": case.version,
                                                 "reassign-assigned_worker_id": worker.id,
                                                 "reassign-reason": "Peksos pindah tugas."})
    text = late.get_data(as_text=True)
    assert late.status_code == 409 and "Peksos pindah tugas." in text
    assert "menunggu persetujuan koordinator" in text
    holder = make_web()
    holder.login("peksos")
    assert holder.get(f"/cases/{case.id}").status_code == 200
    assert holder.get(f"/cases/{case.id}/worker").status_code == 404
    refused = holder.post(f"/cases/{case.id}/worker", {"reassign-version": case.version,
                                                       "reassign-assigned_worker_id": worker.id,
                                                       "reassign-reason": "x"})
    assert refused.status_code == 404 and "reassign-assigned_worker_id" not in refused.get_data(as_text=True)


def test_an_overdue_case_handed_over_is_told_to_its_new_worker(users):
    case = at_stage(users, "assessment")
    coordinator = users["coordinator"]
    new = UserFactory(username="peksos.baru", role="social_worker", organisation=coordinator.organisation,
                      area_code=users["social_worker"].area_code)
    later = case.due_at + timedelta(hours=1)
    assert sweep.sweep_overdue(later)["cases"] == 1
    db.session.commit()
    assert [n.case_id for n in notices.unread_notifications(new)] == []
    services.reassign(case, coordinator, new.id, "Peksos lama cuti.", case.version, now=later)
    told = notices.unread_notifications(new)
    assert sorted((n.case_id, n.kind) for n in told) == [(case.id, "case_assigned"), (case.id, "deadline_overdue")]
    assert sweep.sweep_overdue(later)["cases"] == 0  # once per deadline, as before


def test_a_deadline_an_action_moves_is_a_new_one_and_a_hand_over_tells_only_of_a_real_one(users):
    """The sweep tells of each deadline once. The last open action done takes the case's deadline
    away: the case is no longer overdue, and a hand-over afterwards tells the new worker nothing
    (it read the gone deadline and failed before)."""
    case = at_stage(users, "intervention")
    coordinator, worker = users["coordinator"], users["social_worker"]
    new = UserFactory(username="peksos.baru", role="social_worker", organisation=coordinator.organisation,
                      area_code=worker.area_code)
    later = case.due_at + timedelta(hours=1)
    assert sweep.sweep_overdue(later)["cases"] == 1
    db.session.commit()
    action = db.session.scalars(select(PlanAction).where(PlanAction.case_id == case.id)).one()
    services.update_action(case, action, worker, "done", now=later)
    assert case.due_at is None and case.overdue_notified_at is None
    services.reassign(case, coordinator, new.id, "Peksos lama cuti.", case.version, now=later)
    assert [n.kind for n in notices.unread_notifications(new)] == ["case_assigned"]


def test_a_refused_step_shows_each_message_next_to_its_field_and_keeps_what_was_typed(make_web, users):
    """Every step's form goes through one refusal page (views._refused): a service's message for
    a field beside that field, the rest above the form, what was typed kept."""
    case = at_stage(users, "intervention")
    action = db.session.scalars(select(PlanAction).where(PlanAction.case_id == case.id)).one()
    web = make_web()
    web.login("peksos")
    refused = web.post(f"/cases/{case.id}/actions/{action.id}", {"action-status": "cancelled", "action-note": " ",
                                                                  "action-done_on": ""})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="action-note-error"' in page and "Jelaskan alasan tindakan dibatalkan." in page
    assert re.search(r'<input checked[^>]*value="cancelled"', page)
    db.session.refresh(action)
    assert action.status == "open"


def test_adding_a_transition_is_an_edit_of_the_table(users, make_web, monkeypatch):
    """A new step of the SOP is a row of the table naming its form and effects: the case page
    offers it with its form, the engine takes it and runs its effect, and the start-up check
    refuses the row while it names an effect or form that does not exist."""
    from casemgmt.workflow import effects

    step = definition.Transition("return_to_triage", "Kembalikan ke triase", ("assessment",), "report",
                                 frozenset({"coordinator"}), "district_coordinator", "comment_given",
                                 form="plain", effects=("unassign",))
    table = (*definition.TRANSITIONS, step)
    with pytest.raises(definition.DefinitionError, match="effect 'unassign'"):
        definition.validate(transitions=table)
    with pytest.raises(definition.DefinitionError, match="form 'wizard'"):
        definition.validate(transitions=(*definition.TRANSITIONS, replace(step, form="wizard", effects=())))

    def unassign(case, data, now):
        case.assigned_worker_id = None

    monkeypatch.setitem(effects.EFFECTS, "unassign", unassign)
    definition.validate(transitions=table)
    monkeypatch.setattr(definition, "TRANSITIONS", table)
    monkeypatch.setitem(definition.BY_NAME, step.name, step)

    case = at_stage(users, "assessment")
    web = make_web()
    web.login("koordinator")
    page = web.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/transitions/return_to_triage" in page and 'name="return_to_triage-comment"' in page
    response = web.post(f"/cases/{case.id}/transitions/return_to_triage",
                        {"return_to_triage-version": case.version, "return_to_triage-comment": "Perlu dinilai ulang."})
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Case, case.id)
    assert (moved.stage, moved.assigned_worker_id) == ("report", None)
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "transition")
                               .order_by(CaseEvent.id.desc())).first()
    assert event.data["transition"] == "return_to_triage" and event.comment == "Perlu dinilai ulang."
