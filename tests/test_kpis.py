"""The management indicators against a hand-built district whose answers are known (cases on
each deadline's edge), the API's contract, who sees which area, and analysts' suppression."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from casemgmt.cases.intake import register_complaint
from casemgmt.cases.models import CaseEvent, Child
from casemgmt.cases.records import CaseFilters, filtered_cases
from casemgmt.conferences.models import CaseConference, ConferenceCase
from casemgmt.directory.models import DistrictSettings
from casemgmt.extensions import db
from casemgmt.referrals import services as referrals
from casemgmt.reports import kpis
from casemgmt.reports.indicators import Period
from casemgmt.transactions import commit
from casemgmt.workflow import services as workflow
from tests.factories import OrganisationFactory, UserFactory, child_input, complaint_input

WITA = timezone(timedelta(hours=8))
Q4 = Period(date(2026, 10, 1), date(2026, 12, 31))
NOW = datetime(2026, 12, 15, 12, 0, tzinfo=WITA)
SECOND = timedelta(seconds=1)
CONSENT = {"given_by": "caregiver", "recorded_on": date(2026, 10, 10)}


def _complaint(worker, at, name, urgent=False, area="73.06.01.2006", **child):
    return register_complaint(complaint_input([child_input(name=name, area_code=area, **child)], received_at=at,
                                              urgent=urgent), worker, now=at).cases[0]


def _accept(case, coordinator, worker, risk, at):
    workflow.apply_transition(case, "accept", coordinator, {"risk_level": risk, "assigned_worker_id": worker.id},
                              now=at)


def _assess(case, worker, risk, at):
    workflow.save_assessment(case, worker, risk, ["birth_certificate"], "Ringkasan.")
    workflow.apply_transition(case, "submit_assessment", worker, now=at)


@pytest.fixture
def district(users):
    """Gowa in Q4 2026 (and two cases from June), one case in Maros. Which step of which case
    lies on which side of its deadline is written beside it."""
    desa, coordinator, worker = users["village_worker"], users["coordinator"], users["social_worker"]
    dukcapil = users["agency_officer"]
    # c1, urgent, high risk: triaged at 24 h exactly (within), assessed 3 days after acceptance
    # exactly (within), plan approved 7 days and a second after the assessment (late).
    t1 = datetime(2026, 10, 5, 10, 0, tzinfo=WITA)
    c1 = _complaint(desa, t1, "Satu", urgent=True)
    _accept(c1, coordinator, worker, "high", t1 + timedelta(hours=24))
    _assess(c1, worker, "high", t1 + timedelta(days=4))
    workflow.save_plan(c1, worker, [{"description": "Akta", "actions": [
        {"description": "Urus akta", "service": "birth_certificate", "organisation_id": dukcapil.organisation_id,
         "due_date": date(2026, 12, 30)}]}])
    approval = workflow.apply_transition(c1, "submit_plan", worker, now=t1 + timedelta(days=10)).approval
    workflow.decide_approval(approval, coordinator, "approve", now=t1 + timedelta(days=11) + SECOND)
    # c2, normal, medium risk: triaged a second after 72 h (late), assessed 8 days after (late).
    t2 = datetime(2026, 10, 10, 9, 0, tzinfo=WITA)
    c2 = _complaint(desa, t2, "Dua")
    _accept(c2, coordinator, worker, "medium", t2 + timedelta(hours=72) + SECOND)
    _assess(c2, worker, "medium", t2 + timedelta(hours=72) + SECOND + timedelta(days=8))
    # c3, normal: dismissed after 10 hours (within), so closed in November.
    t3 = datetime(2026, 11, 2, 8, 0, tzinfo=WITA)
    c3 = _complaint(desa, t3, "Tiga")
    workflow.apply_transition(c3, "dismiss", coordinator, {"reason": "not_child_protection"},
                              now=t3 + timedelta(hours=10))
    # c4 in Maros: the province counts it, Gowa does not.
    t4 = datetime(2026, 10, 20, 8, 0, tzinfo=WITA)
    _complaint(desa, t4, "Empat", area="73.09.01.2006")
    # c5 and c6 from June, accepted then, untouched since: due for a conference review, idle;
    # c5's birth date is estimated. c1 and c2 have a NIK.
    t5 = datetime(2026, 6, 1, 8, 0, tzinfo=WITA)
    c5 = _complaint(desa, t5, "Lima", birth_date=None, age_years=6)
    c6 = _complaint(desa, t5, "Enam")
    for case in (c5, c6):
        _accept(case, coordinator, worker, "low", t5 + timedelta(hours=5))
    for case, at in ((c1, t1), (c2, t2), (c3, t3), (c5, t5), (c6, t5)):
        case.created_at = at  # registered when received
    for event in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_([c5.id, c6.id]))):
        event.at = min(event.at, t5 + timedelta(hours=5))  # nothing written on them since June
    db.session.get(Child, c1.child_id).nik = "7306014503140001"
    db.session.get(Child, c2.child_id).nik = "7306014503140002"
    # c5 discussed in a conference closed in November; c6 not.
    conference = CaseConference(title="Konferensi", scheduled_at=datetime(2026, 11, 1, tzinfo=WITA),
                                district_code="73.06", status="closed", created_by_id=coordinator.id,
                                closed_at=datetime(2026, 11, 1, 12, tzinfo=WITA), closed_by_id=coordinator.id)
    db.session.add(conference)
    db.session.flush()
    db.session.add(ConferenceCase(conference_id=conference.id, case_id=c5.id, position=0))
    # Referrals of c1 (72 h to answer): one accepted at 72 h exactly and completed, one declined a
    # second late, one never answered and past its deadline.
    sent = t1 + timedelta(days=12)
    make = dict(to_organisation_id=dukcapil.organisation_id, service="birth_certificate", reason="Akta.",
                consent=CONSENT, now=sent)
    r1, r2, r3 = (referrals.make_referral(c1, worker, **make) for _ in range(3))
    referrals.accept(r1, dukcapil, now=sent + timedelta(hours=72))
    referrals.complete(r1, dukcapil, "Akta terbit.", date(2026, 10, 21), now=sent + timedelta(days=5))
    referrals.decline(r2, dukcapil, "Sudah ditangani.", now=sent + timedelta(hours=72) + SECOND)
    db.session.add(DistrictSettings(area_code="73.06", caseload_threshold=3))
    commit()
    return {"c1": c1, "c2": c2, "c3": c3, "c5": c5, "c6": c6}


def test_time_to_each_step_against_its_deadline(app, district):
    result = kpis.compute("73.06", Q4, NOW)
    # Triage: 24 h, 72 h and a second, 10 h; within: c1 (on its edge) and c3.
    assert result["triage"]["median_hours"] == 24.0
    assert result["triage"]["within_deadline_pct"] == 66.7 and result["triage"]["counted"] == 3
    assert result["triage"]["by_month"] == {"2026-10": 50.0, "2026-11": 100.0}
    # Assessment, days from the complaint: c1 4, c2 11; within: c1 on its edge.
    assert result["assessment"]["median_days"] == 7.5
    assert result["assessment"]["within_deadline_pct"] == 50.0
    # The plan approved 11 days after c1's complaint, a second past its 7 days.
    assert result["plan"]["median_days"] == 11.0 and result["plan"]["within_deadline_pct"] == 0.0


def test_a_district_setting_moves_the_deadline(app, district, users):
    from casemgmt.workflow.deadlines import save_district_hours

    save_district_hours("73.06", {("triage", "normal"): 73}, users["admin"])
    assert kpis.compute("73.06", Q4, NOW)["triage"]["within_deadline_pct"] == 100.0
    assert kpis.compute("73.09", Q4, NOW)["triage"]["within_deadline_pct"] is None  # c4 not triaged


def test_closure_caseload_referrals_review_and_data_quality(app, district, users):
    result = kpis.compute("73.06", Q4, NOW)
    # Open in Q4: c1, c2, c3, c5, c6; closed: c3, 10 hours after its complaint.
    assert result["closure_rate_pct"] == 20.0 and result["median_days_to_close"] == 0.4
    assert result["closure"]["closed_by_month"] == {"2026-10": 0, "2026-11": 1, "2026-12": 0}
    caseload = result["caseload"]
    assert caseload["max"] == 4 and caseload["over_threshold"] == 1
    worker = users["social_worker"]
    assert caseload["by_worker"][0] == {"id": worker.id, "full_name": worker.full_name, "open": 4,
                                        "threshold": 3, "over": True}
    referrals_ = result["referrals"]
    assert referrals_["answered_in_time_pct"] == 33.3 and referrals_["completed_pct"] == 100.0
    assert referrals_["by_agency"]["Dukcapil Kabupaten Gowa"]["due"] == 3
    # Due for review: c5 and c6 (accepted in June); c5 discussed in November.
    assert result["reviewed_in_conference_pct"] == 50.0
    quality = result["data_quality"]
    assert quality["open"] == 4 and quality["without_nik_pct"] == 50.0
    assert quality["estimated_birth_date_pct"] == 25.0 and quality["idle_over_90_days"] == 2


def test_the_province_counts_every_district(app, district):
    assert kpis.compute("73", Q4, NOW)["triage"]["counted"] == 3  # c4 in Maros is not triaged
    assert kpis.compute("73", Q4, NOW)["data_quality"]["open"] == 5


def test_data_quality_figures_are_case_list_filters(app, district, users):
    coordinator = users["coordinator"]

    def listed(**filters):
        query = filtered_cases(coordinator, CaseFilters(status="open", **filters), now=NOW)
        return {c.id for c in db.session.scalars(query)}

    assert listed(without_nik=True) == {district["c5"].id, district["c6"].id}
    assert listed(estimated_birth=True) == {district["c5"].id}
    assert listed(idle=True) == {district["c5"].id, district["c6"].id}


def test_analysts_see_shares_and_suppressed_counts_only(app, district, users):
    shown = kpis.for_viewer(kpis.compute("73.06", Q4, NOW), users["analyst"])
    assert "by_worker" not in shown["caseload"]
    assert shown["triage"]["counted"] == "<5" and shown["triage"]["within_deadline_pct"] is None
    assert shown["data_quality"]["idle_over_90_days"] == "<5"
    assert shown["closure"]["closed_by_month"]["2026-11"] == "<5"


API_KEYS = {"triage", "assessment", "plan", "closure_rate_pct", "median_days_to_close", "caseload", "referrals",
            "reviewed_in_conference_pct", "data_quality"}


def test_api_answers_the_contract(api, district, users):
    response = api("get", "/api/v1/kpis?area_code=73.06&from=2026-10-01&to=2026-12-31", "koordinator")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == API_KEYS
    assert body["triage"] == {"median_hours": 24.0, "within_deadline_pct": 66.7}
    assert body["assessment"] == {"median_days": 7.5, "within_deadline_pct": 50.0}
    assert set(body["plan"]) == {"median_days", "within_deadline_pct"}
    worker = users["social_worker"]
    assert body["caseload"] == {"median": 4.0, "max": 4,
                                "by_worker": [{"id": worker.id, "full_name": worker.full_name, "open": 4}]}
    assert body["referrals"] == {"answered_in_time_pct": 33.3, "completed_pct": 100.0}
    assert set(body["data_quality"]) == {"without_nik_pct", "estimated_birth_date_pct", "idle_over_90_days"}
    analyst = api("get", "/api/v1/kpis?area_code=73.06&from=2026-10-01&to=2026-12-31", "analis").get_json()
    assert set(analyst) == API_KEYS and "by_worker" not in analyst["caseload"]
    assert analyst["triage"]["within_deadline_pct"] is None and analyst["data_quality"]["idle_over_90_days"] == "<5"
    assert api("get", "/api/v1/kpis?area_code=73", "analis").status_code == 200


def test_other_districts_and_roles_are_refused(api, make_web, district, users):
    maros = OrganisationFactory(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09",
                                services=["case_management"], covers=["73.09"])
    UserFactory(username="koordinator.maros", role="coordinator", organisation=maros)
    commit()
    assert api("get", "/api/v1/kpis?area_code=73.06", "koordinator.maros").status_code == 403
    assert api("get", "/api/v1/kpis?area_code=73", "koordinator").status_code == 403
    assert api("get", "/api/v1/kpis", "peksos").status_code == 403
    assert api("get", "/api/v1/kpis?area_code=73.06.01", "analis").status_code == 422  # a kecamatan
    assert api("get", "/api/v1/kpis?area_code=73.06&from=2026-12-31&to=2026-10-01", "koordinator").status_code == 422
    too_long = api("get", "/api/v1/kpis?area_code=73.06&from=1900-01-01&to=2026-10-01", "koordinator")
    assert too_long.status_code == 422 and "60" in too_long.get_data(as_text=True)
    web = make_web()
    web.login("koordinator.maros")
    assert web.get("/reports/kpis?area=73.06").status_code == 403
    assert web.get("/reports/kpis").status_code == 200
    analyst = make_web()
    analyst.login("analis")
    assert analyst.get("/reports/kpis?area=73.06.01").status_code == 403
    assert analyst.get("/reports/kpis?area=73.06&from=tomorrow").status_code == 302  # told, and shown anew
    assert analyst.get("/reports/kpis?area=73.06&from=1900-01-01").status_code == 302


def test_pages_show_names_to_the_coordinator_only(make_web, district, users):
    name = users["social_worker"].full_name
    coordinator = make_web()
    coordinator.login("koordinator")
    page = coordinator.get("/reports/kpis?from=2026-10-01&to=2026-12-31").get_data(as_text=True)
    assert name in page and "no_nik=y" in page and "<svg" in page
    home = coordinator.get("/").get_data(as_text=True)
    assert "idle=y" in home and 'href="/reports/kpis"' in home
    analyst = make_web()
    analyst.login("analis")
    page = analyst.get("/reports/kpis?area=73.06&from=2026-10-01&to=2026-12-31").get_data(as_text=True)
    assert "<svg" in page and name not in page and "no_nik=y" not in page
    assert '<option value="73.09"' in page  # the province's districts, picked by name
    admin = make_web()
    admin.login("admin")
    assert name in admin.get("/reports/kpis?area=73.06&from=2026-10-01&to=2026-12-31").get_data(as_text=True)


def test_quarterly_pdf_has_the_management_indicators(make_web, district):
    import io

    from pypdf import PdfReader

    web = make_web()
    web.login("koordinator")
    response = web.get("/reports/quarterly.pdf?area=73.06&year=2026&quarter=4")
    assert response.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "66.7%" in text and "Satu" not in text


def test_the_home_keeps_its_indicators_for_an_hour(app, district, users):
    from casemgmt import jobs
    from casemgmt.reports import services

    coordinator = users["coordinator"]
    assert services.home_kpis(coordinator, "73.06", NOW)["data_quality"]["without_nik_pct"] == 50.0
    commit()
    db.session.get(Child, district["c5"].child_id).nik = "7306014503140005"
    commit()
    later = services.home_kpis(coordinator, "73.06", NOW + timedelta(minutes=59))
    assert later["data_quality"]["without_nik_pct"] == 50.0 and later["counted_at"] == NOW
    fresh = services.home_kpis(coordinator, "73.06", NOW + timedelta(minutes=61))
    assert fresh["data_quality"]["without_nik_pct"] == 25.0
    commit()  # as the request would
    jobs.use_app(app)
    assert jobs.refresh_home_kpis.call_local() == 1  # the worker's hourly count, of Gowa alone
