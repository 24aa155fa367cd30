"""The juvenile-justice clocks (PP 65/2015) of cases with an ABH concern: started, stopped,
overdue, escalated, in my tasks, counted; never started for other cases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from casemgmt.cases.intake import register_complaint
from casemgmt.cases.timeline import timeline
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.home.tasks import my_tasks
from casemgmt.transactions import commit
from casemgmt.workflow import juvenile
from casemgmt.workflow import services as workflow
from casemgmt.workflow.deadlines import hours_for, save_district_hours
from casemgmt.workflow.models import DeadlineSetting, Notification
from casemgmt.workflow.sweep import sweep_juvenile_clocks
from tests.factories import child_input, complaint_input

T = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def abh_case(users, concerns, name="Anak ABH"):
    case = register_complaint(complaint_input([child_input(name=name)], concerns=concerns, received_at=T - timedelta(days=1)),
                              users["village_worker"]).cases[0]
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "high", "assigned_worker_id": users["social_worker"].id}, now=T - timedelta(hours=20))
    return case


def by_clock(runs):
    return {run.clock: run for run in runs}


def test_the_request_starts_the_clocks_the_case_calls_for(users):
    victim = abh_case(users, ["abh_victim", "sexual_violence"])
    runs = by_clock(juvenile.record_investigator_request(victim, users["social_worker"], T, now=T))
    assert set(runs) == {"abh_response", "abh_social_report"}
    assert runs["abh_response"].due_at == T + timedelta(hours=24)
    assert runs["abh_social_report"].due_at == T + timedelta(hours=72)
    offender = abh_case(users, ["abh_offender"], name="Anak Lain")
    runs = by_clock(juvenile.record_investigator_request(offender, users["coordinator"], T, now=T))
    assert set(runs) == {"abh_response", "abh_diversion"} and runs["abh_diversion"].due_at == T + timedelta(days=7)
    assert [e.kind for e in timeline(offender) if e.kind == "investigator_request"] == ["investigator_request"]
    with pytest.raises(ValidationFailed):  # already running
        juvenile.record_investigator_request(offender, users["coordinator"], T, now=T)
    with pytest.raises(ValidationFailed):  # received in the future
        juvenile.record_investigator_request(abh_case(users, ["abh_witness"], "Saksi"), users["social_worker"],
                                             T + timedelta(days=1), now=T)


def test_no_clock_for_a_case_without_an_abh_concern(users, make_web):
    case = abh_case(users, ["out_of_school"])
    assert juvenile.clocks_for(case) == []
    with pytest.raises(ValidationFailed):
        juvenile.record_investigator_request(case, users["social_worker"], T, now=T)
    assert juvenile.runs_of(case) == []
    commit()
    web = make_web()
    web.login("peksos")
    assert 'id="juvenile"' not in web.get(f"/cases/{case.id}").get_data(as_text=True)


def test_a_clock_stops_when_its_step_is_recorded_in_time_or_late(users):
    case = abh_case(users, ["abh_victim"])
    runs = by_clock(juvenile.record_investigator_request(case, users["social_worker"], T, now=T))
    juvenile.stop_clock(runs["abh_response"], users["social_worker"], now=T + timedelta(hours=10))
    juvenile.stop_clock(runs["abh_social_report"], users["social_worker"], now=T + timedelta(hours=80))
    assert not runs["abh_response"].stopped_late and runs["abh_social_report"].stopped_late
    kinds = {e.kind: e.data for e in timeline(case)}
    assert kinds["response_given"]["late"] is False and kinds["social_report_submitted"]["late"] is True
    with pytest.raises(ValidationFailed):
        juvenile.stop_clock(runs["abh_response"], users["social_worker"])
    counts = juvenile.clock_counts("73.06", T - timedelta(days=1), T + timedelta(days=1), now=T + timedelta(days=9))
    assert (counts["abh_response"].started, counts["abh_response"].stopped_in_time) == (1, 1)
    assert (counts["abh_social_report"].stopped_late, counts["abh_diversion"].started) == (1, 0)
    assert juvenile.clock_counts("73", T - timedelta(days=1), T + timedelta(days=1))["abh_response"].started == 1
    assert juvenile.clock_counts("73.09", T - timedelta(days=1), T + timedelta(days=1))["abh_response"].started == 0


def test_a_clock_run_out_is_escalated_once_and_shown_in_my_tasks(users):
    case = abh_case(users, ["abh_victim"])
    runs = by_clock(juvenile.record_investigator_request(case, users["social_worker"], T, now=T))
    commit()
    tasks, _cursor = my_tasks(users["social_worker"], now=T + timedelta(hours=2))
    clocks = [t for t in tasks if t.kind == "juvenile_clock"]
    assert [(t.due_at, t.overdue) for t in clocks] == [(T + timedelta(hours=24), False), (T + timedelta(hours=72), False)]
    assert sweep_juvenile_clocks(now=T + timedelta(hours=23)) == {"clocks": 0, "notifications": 0}
    assert sweep_juvenile_clocks(now=T + timedelta(hours=25)) == {"clocks": 1, "notifications": 2}
    assert sweep_juvenile_clocks(now=T + timedelta(hours=26)) == {"clocks": 0, "notifications": 0}
    told = db.session.scalars(db.select(Notification).where(Notification.kind == "deadline_overdue")).all()
    assert {n.user_id for n in told} == {users["social_worker"].id, users["coordinator"].id}
    assert all(n.urgent and n.event_key == f"deadline_overdue:juvenile:{runs['abh_response'].id}" for n in told)
    assert told[0].data["clock"] == "abh_response" and "name" not in str(told[0].data)
    tasks, _cursor = my_tasks(users["coordinator"], now=T + timedelta(hours=25))
    overdue = [t for t in tasks if t.kind == "juvenile_clock" and t.overdue]
    assert [t.row_id for t in overdue] == [runs["abh_response"].id] and tasks[0] is overdue[0]
    juvenile.stop_clock(db.session.get(type(runs["abh_response"]), runs["abh_response"].id), users["social_worker"],
                        now=T + timedelta(hours=27))
    commit()
    tasks, _cursor = my_tasks(users["social_worker"], now=T + timedelta(hours=27))
    assert [t.row_id for t in tasks if t.kind == "juvenile_clock"] == [runs["abh_social_report"].id]


def test_the_clocks_are_law_not_a_district_setting(users):
    db.session.add(DeadlineSetting(district_code="73.06", clock="abh_response", level="abh", hours=240,
                                   updated_by_id=users["admin"].id))
    db.session.flush()
    assert hours_for("abh_response", "abh", "73.06") == 24
    with pytest.raises(ValidationFailed):
        save_district_hours("73.06", {("abh_response", "abh"): 48}, users["admin"])


def test_the_case_page_shows_time_left_and_records_the_steps(users, make_web):
    case = abh_case(users, ["abh_offender"])
    commit()
    web = make_web()
    web.login("peksos")
    page = web.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="juvenile"' in page and 'name="juvenile-received_at"' in page
    received = (datetime.now(timezone.utc) - timedelta(hours=2)).astimezone(timezone(timedelta(hours=8)))
    response = web.post(f"/cases/{case.id}/juvenile", {"juvenile-received_at": received.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    page = web.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "sisa 22 jam" in page or "sisa 21 jam" in page  # the day's 24 hours less the 2 gone
    run = by_clock(juvenile.runs_of(case))["abh_diversion"]
    assert web.post(f"/cases/{case.id}/juvenile/{run.id}", {}).status_code == 302
    db.session.expire_all()
    assert by_clock(juvenile.runs_of(case))["abh_diversion"].stopped_at is not None
    assert "Diversi ditawarkan" in web.get(f"/cases/{case.id}").get_data(as_text=True)
    bad = web.post(f"/cases/{case.id}/juvenile", {"juvenile-received_at": "kemarin"})
    assert bad.status_code == 422


def test_the_deadlines_page_shows_the_statutory_clocks_without_a_box_to_change_them(admin_web):
    page = admin_web.get("/admin/deadlines").get_data(as_text=True)
    assert "PP 65/2015" in page and "Laporan sosial tentang anak korban atau anak saksi (ABH): 72 jam" in page
    assert 'name="abh_response.abh"' not in page and 'name="triage.urgent"' in page
    response = admin_web.post("/admin/deadlines", {"district": "73.06", "abh_response.abh": "240"})
    assert response.status_code == 302 and hours_for("abh_response", "abh", "73.06") == 24


def test_the_worker_hears_at_once_of_a_request_someone_else_recorded(users):
    """The coordinator records the investigator's request: the case's worker is told, urgently,
    of the clock that runs out first; recording it themselves tells nobody."""
    case = abh_case(users, ["abh_victim"])
    runs = by_clock(juvenile.record_investigator_request(case, users["coordinator"], T, now=T))
    commit()
    told = db.session.scalars(db.select(Notification).where(Notification.kind == "deadline_due_soon")).all()
    assert [(n.user_id, n.urgent, n.data["clock"], n.data["due_at"]) for n in told] == [
        (users["social_worker"].id, True, "abh_response", runs["abh_response"].due_at.isoformat())]
    other = abh_case(users, ["abh_offender"], name="Anak Lain")
    juvenile.record_investigator_request(other, users["social_worker"], T, now=T)
    commit()
    assert db.session.query(Notification).filter_by(kind="deadline_due_soon").count() == 1
