"""Indicators against a hand-built dataset, small-count suppression, dashboards and exports."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from sqlalchemy import func, select

from casemgmt.cases.intake import register_complaint
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.transactions import commit
from casemgmt.referrals import services as referrals
from casemgmt.reports import exports, indicators
from casemgmt.reports.indicators import Period
from casemgmt.storage import StoredFile
from casemgmt.workflow import services as workflow
from tests.factories import bearer_for, child_input, complaint_input, make_case
from tests.test_api import assert_error

WITA = timezone(timedelta(hours=8))
Q4 = Period(date(2026, 10, 1), date(2026, 12, 31))


@pytest.fixture
def dataset(users):
    """Two Gowa complaints in Q4 (three children), one in Maros, one in Gowa before the period."""
    worker, coordinator, social = users["village_worker"], users["coordinator"], users["social_worker"]
    a_time = datetime(2026, 10, 5, 10, 0, tzinfo=WITA)
    a = register_complaint(complaint_input([
        child_input(name="Nurul Aisyah", sex="F", birth_date=date(2014, 3, 9)),
        child_input(name="Baso", sex="M", birth_date=None, age_years=3)], channel="walk_in", received_at=a_time,
        concerns=["out_of_school", "no_birth_certificate"]), worker)
    b_time = datetime(2026, 11, 10, 9, 0, tzinfo=WITA)
    b = register_complaint(complaint_input([child_input(name="Sitti", sex="F", birth_date=date(2010, 5, 1),
                                                        area_code="73.06.07.2008")],
                                           channel="phone", received_at=b_time, concerns=["child_marriage"]), worker)
    register_complaint(complaint_input([child_input(name="Andi", area_code="73.09.01.2006")],
                                       received_at=datetime(2026, 10, 20, tzinfo=WITA)), worker)
    register_complaint(complaint_input([child_input(name="Lama")], received_at=datetime(2026, 6, 1, tzinfo=WITA)),
                       worker)
    a1, b1 = a.cases[0], b.cases[0]
    workflow.apply_transition(a1, "accept", coordinator, {"risk_level": "medium", "assigned_worker_id": social.id},
                              now=a_time + timedelta(days=1))
    workflow.save_assessment(a1, social, "medium", ["birth_certificate"], "Ringkasan.")
    workflow.apply_transition(a1, "submit_assessment", social, now=a_time + timedelta(days=5))
    workflow.apply_transition(b1, "dismiss", coordinator, {"reason": "not_child_protection"},
                              now=b_time + timedelta(days=3))
    dukcapil = users["agency_officer"]
    sent = a_time + timedelta(days=6)
    consent = {"given_by": "caregiver", "recorded_on": date(2026, 10, 10)}
    first = referrals.make_referral(a1, social, to_organisation_id=dukcapil.organisation_id,
                                    service="birth_certificate", reason="Akta.", consent=consent, now=sent)
    referrals.accept(first, dukcapil, now=sent + timedelta(hours=10))
    referrals.complete(first, dukcapil, "Akta terbit.", date(2026, 10, 20), now=sent + timedelta(days=10))
    second = referrals.make_referral(a1, social, to_organisation_id=dukcapil.organisation_id,
                                     service="birth_certificate", reason="Lagi.", consent=consent, now=sent)
    referrals.decline(second, dukcapil, "Sudah ditangani.", now=sent + timedelta(hours=30))
    commit()  # as the requests that made them would have
    return {"a1": a1, "a2": a.cases[1], "b1": b1}


def test_every_indicator_of_the_district(app, dataset):
    result = indicators.compute("73.06", Q4)
    assert result["complaints"] == 2 and result["cases"] == 3
    assert result["complaints_by_month"] == {"2026-10": 1, "2026-11": 1}
    assert result["complaints_by_channel"] == {"walk_in": 1, "phone": 1}
    assert result["by_sex"] == {"F": 2, "M": 1}
    assert result["by_age_group"] == {"0-4": 1, "5-9": 0, "10-14": 1, "15-17": 1}
    assert result["by_area"] == {"73.06.01": 2, "73.06.07": 1}
    assert result["by_village"] == {"73.06.01.2006": 2, "73.06.07.2008": 1}
    assert result["by_concern"] == {"out_of_school": 2, "no_birth_certificate": 2, "child_marriage": 1}
    assert result["by_stage"] == {"intervention_plan": 1, "report": 1, "termination": 1}
    assert result["median_days"] == {"triage": 2.0, "assessment": 5.0, "approved_plan": None}
    assert result["closed_by_reason"] == {"not_child_protection": 1}
    assert result["referrals"] == {"sent": 2, "accepted": 1, "declined": 1, "completed": 1, "acceptance_rate": 0.5,
                                   "completion_rate": 1.0, "median_response_hours": 20.0}
    assert list(result["referrals_by_service"]) == ["birth_certificate"]
    assert result["referrals_by_agency"]["Dukcapil Kabupaten Gowa"]["sent"] == 2
    assert result["services_delivered"] == {"birth_certificate": 1, "education": 0, "health": 0,
                                            "psychosocial": 0, "legal_aid": 0}


def test_the_province_adds_maros(app, dataset):
    result = indicators.compute("73", Q4)
    assert result["complaints"] == 3 and result["cases"] == 4


def test_analysts_see_small_counts_suppressed(app, dataset, users):
    shown = indicators.for_viewer(indicators.compute("73.06", Q4), users["analyst"])
    assert shown["complaints"] == "<5" and shown["by_age_group"]["5-9"] == 0
    assert shown["by_concern"] == {"out_of_school": "<5", "no_birth_certificate": "<5", "child_marriage": "<5"}
    assert shown["referrals"]["sent"] == "<5" and shown["referrals"]["median_response_hours"] is None
    assert shown["median_days"] == {"triage": None, "assessment": None, "approved_plan": None}
    coordinator_view = indicators.for_viewer(indicators.compute("73.06", Q4), users["coordinator"])
    assert coordinator_view["complaints"] == 2
    assert indicators.suppress({"a": 0, "b": 4, "c": 5, "d": "x"}) == {"a": 0, "b": "<5", "c": 5, "d": "x"}


def test_quarter_bounds():
    assert indicators.quarter(2026, 4) == Q4
    assert indicators.quarter(2026, 1) == Period(date(2026, 1, 1), date(2026, 3, 31))


def test_indicators_api_and_who_may_see_which_area(app, dataset, users):
    client = app.test_client()

    analyst, coordinator = bearer_for(client, "analis"), bearer_for(client, "koordinator")
    body = client.get("/api/v1/indicators?area_code=73.06&from=2026-10-01&to=2026-12-31", headers=analyst).get_json()
    assert body["complaints"] == "<5" and body["by_sex"] == {"F": "<5", "M": "<5"}
    for key in ("complaints", "by_sex", "by_age_group", "by_concern", "by_stage", "by_area", "referrals",
                "closed_by_reason"):
        assert key in body
    body = client.get("/api/v1/indicators?area_code=73.06&from=2026-10-01&to=2026-12-31",
                      headers=coordinator).get_json()
    assert body["complaints"] == 2 and body["referrals"]["median_response_hours"] == 20.0
    assert_error(client.get("/api/v1/indicators?area_code=73.09", headers=coordinator), 403, "forbidden")
    assert_error(client.get("/api/v1/indicators", headers=bearer_for(client, "peksos")), 403, "forbidden")
    assert_error(client.get("/api/v1/indicators?from=2026-12-01&to=2026-01-01", headers=coordinator), 422,
                 "validation_error")


def test_indicator_page_and_quarterly_pdf(make_web, dataset, users):
    from pypdf import PdfReader

    web = make_web()
    web.login("analis")
    page = web.get("/reports/indicators?area=73.06&from=2026-10-01&to=2026-12-31").get_data(as_text=True)
    assert "<svg" in page and "&lt;5" in page
    assert "Nurul" not in page
    response = web.get("/reports/quarterly.pdf?area=73.06&year=2026&quarter=4")
    assert response.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "<5" in text and "Nurul" not in text


def test_dashboards_by_role(make_web, dataset, users):
    coordinator = make_web()
    coordinator.login("koordinator")
    page = coordinator.get("/").get_data(as_text=True)
    assert "Pengaduan baru menunggu triase" in page and users["social_worker"].full_name in page
    worker = make_web()
    worker.login("peksos")
    assert "Rencana intervensi" in worker.get("/").get_data(as_text=True)


# ---- exports -----------------------------------------------------------------------------------

def rows_of_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_export_respects_scope_and_masking(make_web, users):
    mine = make_case(users["village_worker"], name="Nurul Aisyah")
    make_case(users["village_worker"], name="Anak Maros", area_code="73.09.01.2006")
    coordinator = make_web()
    coordinator.login("koordinator")
    response = coordinator.post("/exports", {"format": "csv"})
    assert response.status_code == 302
    data = coordinator.get(response.headers["Location"])
    rows = rows_of_csv(data.data)
    assert rows[0][0] == "Nomor kasus" and len(rows) == 2  # the Maros case is outside the district
    assert rows[1][0] == mine.number and rows[1][5] == "Nurul Aisyah"
    # Codes are written as words in the user's language, places as names beside their codes.
    assert rows[1][1:4] == ["Pengaduan", "Terbuka", ""] and rows[1][6] in ("Perempuan", "Laki-laki")
    assert rows[1][8] == "Desa Barembeng (73.06.01.2006)" and rows[1][9] == "Bontonompo (73.06.01)"
    english = make_web()
    english.login("koordinator")
    english.get("/lang/en")
    rows = rows_of_csv(english.get(english.post("/exports", {"format": "csv"}).headers["Location"]).data)
    assert rows[0][0] == "Case number" and rows[1][1:3] == ["Complaint", "Open"]
    # A social worker who registered a complaint sees initials once another worker holds it.
    registered = register_complaint(complaint_input([child_input(name="Rahmat Hidayat")]),
                                    users["social_worker"]).cases[0]
    from tests.factories import UserFactory

    other = UserFactory(username="peksos.lain", role="social_worker", organisation=users["coordinator"].organisation)
    workflow.apply_transition(registered, "accept", users["coordinator"],
                              {"risk_level": "low", "assigned_worker_id": other.id})
    worker = make_web()
    worker.login("peksos")
    response = worker.post("/exports", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(worker.get(response.headers["Location"]).data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and values[1][5] == "R. H." and values[1][10] in ("", None)
    assert coordinator.get(response.headers["Location"]).status_code == 404  # only the requester


def test_large_export_runs_as_a_job_with_progress(app, make_web, users, monkeypatch):
    from casemgmt import jobs
    from casemgmt.reports.models import ExportJob

    for i in range(5):
        make_case(users["village_worker"], name=f"Anak Ke {i}")
    monkeypatch.setattr(exports, "BACKGROUND_OVER", 2)
    jobs.use_app(app)
    monkeypatch.setattr(jobs.huey, "immediate", True)
    web = make_web()
    web.login("koordinator")
    response = web.post("/exports", {"format": "csv"})
    assert "/exports/" in response.headers["Location"] and "download" not in response.headers["Location"]
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "<progress" in page and 'value="5"' in page
    db.session.expire_all()
    job = db.session.query(ExportJob).one()
    assert (job.status, job.done, job.total) == ("done", 5, 5)
    rows = rows_of_csv(web.get(f"/exports/{job.id}/download").data)
    assert len(rows) == 6 and job.locale == "id" and rows[1][2] == "Terbuka"
    from casemgmt.audit.models import AuditEntry

    actions = {a.action for a in db.session.query(AuditEntry).filter(AuditEntry.object_type == "export")}
    assert actions == {"export_requested", "export_finished"}


def _buckets() -> dict:
    """The indicator buckets that count something, decoded."""
    import json

    from casemgmt.reports import tally
    from casemgmt.reports.models import IndicatorBucket

    tally.refresh_pending()
    rows = db.session.execute(db.select(IndicatorBucket.district_code, IndicatorBucket.grain, IndicatorBucket.start,
                                        IndicatorBucket.section, IndicatorBucket.data)).all()
    return {(d, g, s, sec): json.loads(data) for d, g, s, sec, data in rows if data != "{}"}


def test_buckets_kept_as_records_change_equal_a_full_recount(app, dataset, users):
    """Every kind of change a case goes through updates the buckets in the same transaction; the
    result is exactly what recounting everything from the records gives."""
    from casemgmt.cases.models import CaseConcern
    from casemgmt.reports import tally
    from casemgmt.workflow.models import PlanAction, PlanGoal

    a1, a2, b1 = dataset["a1"], dataset["a2"], dataset["b1"]
    kept = _buckets()
    assert kept, "the dataset was counted as it was written"
    tally.rebuild()
    db.session.commit()
    assert _buckets() == kept

    a2.child.sex, a2.child.birth_date = "F", date(2011, 1, 1)          # the child's details corrected
    a1.concern_rows = [CaseConcern(concern="child_labour")]              # concerns replaced
    b1.complaint.received_at = datetime(2026, 12, 2, 8, 0, tzinfo=WITA)  # the complaint's date corrected
    a2.complaint.channel = "hotline"
    db.session.commit()
    a2.area_code = "73.09.01.2006"                                       # moved to Maros
    goal = PlanGoal(case_id=a1.id, description="Sekolah")
    goal.actions.append(PlanAction(case_id=a1.id, description="Daftar", service="education", status="done",
                                   done_on=date(2026, 11, 3)))
    db.session.add(goal)
    db.session.commit()
    action = goal.actions[0]
    action.done_on = date(2026, 12, 1)                                   # the date of delivery corrected
    a1.area_code = "73.09.01.2006"                                       # its referrals follow it to Maros
    db.session.commit()
    db.session.delete(goal)                                              # the goal and its action removed
    a1.closed_at, a1.closure_reason = datetime(2026, 12, 20, tzinfo=WITA), "goals_met"
    db.session.commit()

    kept = _buckets()
    tally.rebuild()
    db.session.commit()
    assert _buckets() == kept
    result = indicators.compute("73.09", Q4)
    assert result["cases"] == 3 and result["complaints_by_channel"] == {"hotline": 1, "walk_in": 1}
    assert result["closed_by_reason"] == {"goals_met": 1}
    assert result["referrals"]["sent"] == 2
    gowa = indicators.compute("73.06", Q4)
    assert gowa["complaints_by_month"] == {"2026-12": 1} and gowa["by_stage"] == {"termination": 1}


def test_a_rolled_back_change_leaves_the_buckets_alone(app, dataset):
    kept = _buckets()
    dataset["a2"].child.sex = "F"
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert _buckets() == kept


@pytest.mark.parametrize("start,end,complaints", [
    # complaints in the province: 5 Oct and 10 Nov (Gowa), 20 Oct 00:00 local time (Maros), 1 Jun (Gowa)
    (date(2026, 10, 5), date(2026, 11, 10), 3),    # partial months at both ends, no whole month
    (date(2026, 10, 6), date(2026, 11, 9), 1),     # the days just inside the two Gowa complaints
    (date(2026, 10, 1), date(2026, 11, 30), 3),    # two whole months
    (date(2026, 9, 15), date(2026, 12, 15), 3),    # days, two whole months, days
    (date(2026, 5, 31), date(2026, 12, 31), 4),    # a day, seven whole months
    (date(2026, 10, 5), date(2026, 10, 5), 1),     # one day
    (date(2026, 10, 20), date(2026, 10, 20), 1),   # midnight local time is that day, not the day before
    (date(2026, 10, 19), date(2026, 10, 19), 0),
    (date(2026, 11, 1), date(2026, 11, 30), 1),    # one whole month
])
def test_periods_of_whole_months_and_days(app, dataset, start, end, complaints):
    result = indicators.compute("73", Period(start, end))
    assert result["complaints"] == complaints


def test_indicators_recount_themselves_on_a_database_filled_before_the_buckets(app, dataset, runner):
    from casemgmt.reports.models import IndicatorBucket, IndicatorBuild

    expected = indicators.compute("73.06", Q4)
    db.session.execute(db.delete(IndicatorBucket))
    db.session.execute(db.delete(IndicatorBuild))
    db.session.commit()
    assert indicators.compute("73.06", Q4) == expected  # recounted at the first request
    assert db.session.get(IndicatorBuild, 1) is not None
    db.session.execute(db.delete(IndicatorBucket))
    db.session.commit()
    result = runner.invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0 and "2 districts" in result.output
    assert indicators.compute("73.06", Q4) == expected


@given(st.lists(st.integers(min_value=0, max_value=3000), max_size=60))
def test_median_from_counted_tenths_is_the_median_of_the_values(values):
    from collections import Counter
    from statistics import median

    tenths = [v / 10 for v in values]
    histogram = Counter(f"{v:.1f}" for v in tenths)
    expected = round(median(tenths), 1) if tenths else None
    assert indicators._median(histogram) == expected


def test_coordinator_dashboard_counts(app, dataset, users):
    from casemgmt.reports.services import dashboard

    social = users["social_worker"]
    dataset["a1"].due_at = datetime(2026, 1, 1, tzinfo=WITA)
    dataset["a1"].created_at = datetime(2025, 1, 1, tzinfo=WITA)  # open long enough to be due for review
    db.session.commit()
    from casemgmt.reports import tally

    tally.ensure_current()  # as the background worker does every minute: the home reads its counts
    now = datetime(2026, 11, 20, 9, 0, tzinfo=WITA)
    data = dashboard(users["coordinator"], now)
    assert data["triage"] == 2  # a2 and the June complaint; b1 is closed, Andi is in Maros
    assert data["workload"] == {social.full_name: 1}
    assert data["overdue_by_stage"] == {"intervention_plan": 1, "report": 2}  # triage deadlines long past
    assert data["overdue_by_worker"] == {social.full_name: 1}
    assert data["answer_hours"] == {"Dukcapil Kabupaten Gowa": 20.0}  # answered in 10 and 30 hours
    assert data["not_reviewed"] == 1  # a1; the complaints still in triage are not reviewed

    # A second worker of the same name is counted apart, not merged into the first.
    from tests.factories import UserFactory

    namesake = UserFactory(username="peksos.kembar", role="social_worker", full_name=social.full_name,
                           organisation=users["coordinator"].organisation, area_code=social.area_code)
    dataset["a2"].assigned_worker_id = namesake.id
    db.session.commit()
    data = dashboard(users["coordinator"], now)
    assert data["workload"] == {f"{social.full_name} ({social.username})": 1,
                                f"{social.full_name} (peksos.kembar)": 1}


def test_a_coordinator_of_no_district_gets_a_home_with_nothing_to_count(make_web, dataset, users):
    """A coordinator whose area is not a kabupaten/kota (the province) answers for no district's
    cases (access.scope_district): their home shows nothing counted, not an error."""
    from casemgmt.reports.services import dashboard
    from tests.factories import UserFactory

    provincial = UserFactory(username="koordinator.provinsi", role="coordinator", area_code="73",
                             organisation=users["coordinator"].organisation)
    data = dashboard(provincial)
    assert (data["triage"], data["workload"], data["answer_hours"], data["conferences"]) == (0, {}, {}, [])
    web = make_web()
    web.login("koordinator.provinsi")
    assert web.get("/").status_code == 200


def test_social_worker_dashboard_counts_their_open_cases(app, dataset, users):
    from casemgmt.reports.services import dashboard

    social, now = users["social_worker"], datetime(2026, 11, 20, 9, 0, tzinfo=WITA)
    a1, a2 = dataset["a1"], dataset["a2"]
    a1.due_at = now + timedelta(days=3)
    data = dashboard(social, now)
    assert data["by_stage"] == {"intervention_plan": 1}
    assert (data["overdue"], data["due_this_week"]) == (0, 1)
    assert data["referrals_waiting"] == 0  # both referrals were answered
    workflow.apply_transition(a2, "accept", users["coordinator"], {"risk_level": "low", "assigned_worker_id": social.id})
    a1.due_at, a2.due_at = now + timedelta(days=8), now - timedelta(hours=1)
    db.session.commit()
    data = dashboard(social, now)
    assert data["by_stage"] == {"intervention_plan": 1, "assessment": 1}
    assert (data["overdue"], data["due_this_week"]) == (1, 0)


def test_a_change_is_noted_at_commit_and_counted_before_indicators_are_read(app, dataset):
    from casemgmt.reports import tally
    from casemgmt.reports.models import IndicatorDirty

    assert indicators.compute("73.06", Q4)["by_sex"] == {"F": 2, "M": 1}
    assert tally.refresh_pending() > 0  # Maros's buckets: reading Gowa recounted only Gowa's
    dataset["a2"].child.sex = "F"
    db.session.commit()
    pending = db.session.execute(db.select(IndicatorDirty.district_code, IndicatorDirty.day,
                                           IndicatorDirty.section)).all()
    # The day's intake, and the management indicators' steps of the same cases (reports.kpi_tally).
    assert sorted(pending) == [("73.06", date(2026, 10, 5), "intake"), ("73.06", date(2026, 10, 5), "kpi_step")]
    assert indicators.compute("73.06", Q4)["by_sex"] == {"F": 3}  # counted on reading
    assert db.session.scalar(db.select(db.func.count(IndicatorDirty.id))) == 0
    assert tally.refresh_pending() == 0


def test_a_read_recounts_a_large_pile_in_short_transactions(app, dataset, monkeypatch):
    """Each round of recounting commits, so a pile of changes never holds the write lock long."""
    from sqlalchemy import event

    from casemgmt.reports import tally
    from casemgmt.reports.models import IndicatorDirty

    tally.refresh_pending()
    for key in ("a1", "b1"):  # complaints of two different days: two buckets to recount
        dataset[key].child.sex = "F" if dataset[key].child.sex == "M" else "M"
    db.session.commit()
    pending = db.session.scalar(db.select(db.func.count(IndicatorDirty.id)))
    assert pending >= 2
    monkeypatch.setattr(tally, "ROUND", 1)
    commits = []
    session, note = db.session(), commits.append
    event.listen(session, "after_commit", note)
    try:
        figures = indicators.compute("73.06", Q4)
    finally:
        event.remove(session, "after_commit", note)
    assert len(commits) >= pending
    assert db.session.scalar(db.select(db.func.count(IndicatorDirty.id))) == 0
    tally.rebuild()  # counted from scratch: the rounds missed nothing
    db.session.commit()
    assert figures == indicators.compute("73.06", Q4)


def test_the_background_worker_recounts_pending_buckets(app, dataset):
    from casemgmt import jobs
    from casemgmt.reports import tally
    from casemgmt.reports.models import IndicatorDirty

    tally.refresh_pending()
    dataset["a2"].child.sex = "F"
    db.session.commit()
    jobs.use_app(app)
    assert jobs.refresh_indicators.call_local() == 2  # the day's intake and its KPI steps
    assert db.session.scalar(db.select(db.func.count(IndicatorDirty.id))) == 0


def test_a_background_export_is_written_in_the_language_it_was_asked_in(app, users):
    from casemgmt.reports.models import ExportJob

    make_case(users["village_worker"], name="Nurul Aisyah")
    job = ExportJob(user_id=users["coordinator"].id, format="csv", filters={}, status="queued", total=1,
                    locale="en")
    db.session.add(job)
    commit()
    exports.run(job.id)  # as the worker runs it: no request to read a language from
    db.session.expire_all()
    job = db.session.get(ExportJob, job.id)
    from casemgmt import storage

    rows = rows_of_csv(storage.read_bytes(job.storage_key))
    assert rows[0][0] == "Case number" and rows[1][1:3] == ["Complaint", "Open"]


def test_xlsx_export_keeps_text_as_text(app, users, tmp_path):
    """A name that looks like a formula or a link is written as text (no formula injection)."""
    from casemgmt.cases.records import CaseFilters

    case = make_case(users["village_worker"], name="Nurul Aisyah")
    case.child.name = "=HYPERLINK(\"http://contoh.test\",\"klik\")"
    db.session.commit()
    path = tmp_path / "cases.xlsx"
    assert exports.write(path, "xlsx", users["coordinator"], CaseFilters()) == 1
    cell = load_workbook(path).active.cell(row=2, column=6)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK") and cell.hyperlink is None


def test_csv_export_cells_never_start_a_formula(app, users, tmp_path):
    from casemgmt.cases.records import CaseFilters

    case = make_case(users["village_worker"], name="Nurul Aisyah")
    case.child.name = "=HYPERLINK(\"http://contoh.test\",\"klik\")"
    db.session.commit()
    path = tmp_path / "cases.csv"
    assert exports.write(path, "csv", users["coordinator"], CaseFilters()) == 1
    rows = rows_of_csv(path.read_bytes())
    assert rows[1][5] == "'=HYPERLINK(\"http://contoh.test\",\"klik\")"
    from casemgmt.csvcells import inert_cell

    assert [inert_cell(v) for v in ("+62", "-1", "@a", "Nurul", 7)] == ["'+62", "'-1", "'@a", "Nurul", 7]


def test_a_large_database_never_counted_is_counted_by_the_worker(app, dataset, monkeypatch, users):
    """Counting a million cases takes minutes: a request hands it to the worker and says so."""
    from casemgmt import jobs
    from casemgmt.reports import tally
    from casemgmt.reports.models import IndicatorBucket, IndicatorBuild

    expected = indicators.compute("73.06", Q4)
    db.session.execute(db.delete(IndicatorBucket))
    db.session.execute(db.delete(IndicatorBuild))
    db.session.commit()
    monkeypatch.setattr(tally, "INLINE_REBUILD", 2)
    queued = []
    monkeypatch.setattr(jobs, "rebuild_indicators", lambda: queued.append(1))
    client = app.test_client()
    answer = client.get("/api/v1/indicators?area_code=73.06&from=2026-10-01&to=2026-12-31",
                        headers=bearer_for(client, "koordinator"))
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "not_ready"
    assert "beberapa menit" in answer.get_json()["error"]["message"] and queued == [1]
    monkeypatch.undo()
    # Before the full count, the minute task leaves the buckets to it (it would race it for the rows).
    dataset["a2"].child.sex = "F"
    db.session.commit()
    assert tally.refresh_pending() == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(IndicatorBucket)) == 0
    dataset["a2"].child.sex = "M"
    db.session.commit()
    jobs.use_app(app)
    assert jobs.rebuild_indicators.call_local() == 2
    assert indicators.compute("73.06", Q4) == expected
    # A copy queued by a later request meanwhile finds the count made and does not count again.
    buckets = db.session.scalar(db.select(db.func.count()).select_from(IndicatorBucket))
    assert jobs.rebuild_indicators.call_local() == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(IndicatorBucket)) == buckets


def test_a_disabled_user_no_longer_downloads_their_export(app, make_web, users):
    web = make_web()
    web.login("koordinator")
    make_case(users["village_worker"])
    location = web.post("/exports", {"format": "csv"}).headers["Location"]
    from werkzeug.exceptions import NotFound

    from casemgmt.reports.models import ExportJob

    job = db.session.scalars(db.select(ExportJob)).one()
    assert exports.job_of(users["coordinator"], job.id) == job
    users["coordinator"].active = False
    db.session.commit()
    with pytest.raises(NotFound):
        exports.job_of(users["coordinator"], job.id)
    assert "download" in location


def test_an_xlsx_export_larger_than_a_sheet_is_refused_with_a_message(app, make_web, users, monkeypatch):
    """Excel opens at most 1,048,576 rows: more would be cut without a word, so it is refused."""
    from casemgmt.reports.models import ExportJob

    for i in range(3):
        make_case(users["village_worker"], name=f"Anak Ke {i}")
    monkeypatch.setattr(exports, "MAX_ROWS", 3)   # a header and two cases
    web = make_web()
    web.login("koordinator")
    page = web.post("/exports", {"format": "xlsx"}, follow_redirects=True).get_data(as_text=True)
    assert "Berkas XLSX memuat paling banyak 2 kasus" in page
    assert db.session.query(ExportJob).count() == 0
    response = web.post("/exports", {"format": "csv"})
    assert len(rows_of_csv(web.get(response.headers["Location"]).data)) == 4



def test_an_export_with_a_wrong_filter_says_which(app, make_web, users):
    from casemgmt.reports.models import ExportJob

    web = make_web()
    web.login("koordinator")
    page = web.post("/exports", {"format": "csv", "stage": "xyz", "risk_level": "huge"},
                    follow_redirects=True).get_data(as_text=True)
    assert "Tahap tidak dikenal." in page and "Tingkat risiko tidak dikenal." in page
    assert db.session.query(ExportJob).count() == 0


def test_an_xlsx_job_whose_cases_outgrew_a_sheet_says_so(app, make_web, users, monkeypatch):
    """The count is checked when the export is asked for; if more cases match by the time the
    worker writes them, the job fails with that reason, and no file leaves cases out."""
    from casemgmt import jobs, xlsx
    from casemgmt.reports.models import ExportJob

    for i in range(2):
        make_case(users["village_worker"], name=f"Anak Ke {i}")
    monkeypatch.setattr(exports, "MAX_ROWS", 3)   # a header and two cases
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    monkeypatch.setattr(exports, "BACKGROUND_OVER", 1)
    queued = []
    monkeypatch.setattr(jobs, "run_export", queued.append)
    web = make_web()
    web.login("koordinator")
    status_url = web.post("/exports", {"format": "xlsx"}).headers["Location"]
    assert len(queued) == 1
    make_case(users["village_worker"], name="Anak Ketiga")
    files = db.session.scalar(select(func.count(StoredFile.key)))
    exports.run(queued[0])
    db.session.expire_all()
    job = db.session.get(ExportJob, queued[0])
    assert (job.status, job.error, job.storage_key) == ("failed", exports.SHEET_FULL, None)
    assert db.session.scalar(select(func.count(StoredFile.key))) == files
    page = web.get(status_url).get_data(as_text=True)
    assert "Kini lebih banyak kasus yang cocok daripada yang dapat dimuat berkas XLSX" in page


def test_an_export_waits_in_the_database_while_the_queue_is_away(app, make_web, users, monkeypatch):
    """The queue (Redis) away when an export is asked for: no 500, the job waits as queued, and
    requeue_waiting hands it to the worker once the queue answers; queued twice, it runs once."""
    from casemgmt import jobs
    from casemgmt.reports.models import ExportJob

    for i in range(3):
        make_case(users["village_worker"], name=f"Anak Ke {i}")
    monkeypatch.setattr(exports, "BACKGROUND_OVER", 1)

    def away(job_id):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(jobs, "run_export", away)
    web = make_web()
    web.login("koordinator")
    response = web.post("/exports", {"format": "csv"})
    assert response.status_code == 302 and "download" not in response.headers["Location"]
    job = db.session.query(ExportJob).one()
    assert job.status == "queued"
    assert web.get(response.headers["Location"]).status_code == 200
    assert exports.requeue_waiting(0) == 0  # still away: still waiting
    queued = []
    monkeypatch.setattr(jobs, "run_export", queued.append)
    assert exports.requeue_waiting(3600) == 0  # not waiting that long yet
    assert exports.requeue_waiting(0) == 1 and queued == [job.id]
    exports.run(job.id)
    exports.run(job.id)  # queued twice, or taken by two workers
    db.session.expire_all()
    job = db.session.get(ExportJob, job.id)
    assert (job.status, job.done) == ("done", 3)
    assert db.session.scalar(select(func.count(StoredFile.key))) == 1
    assert len(rows_of_csv(web.get(f"/exports/{job.id}/download").data)) == 4


def test_an_export_whose_worker_died_runs_again_once_then_fails(app, make_web, users, monkeypatch):
    """A worker killed mid-run leaves its export "running": once its heartbeat is old the job is
    queued again and runs; interrupted twice, it fails and the page says to ask again. A run
    taken over by a later one writes nothing."""
    from casemgmt import jobs
    from casemgmt.reports.models import ExportJob

    for i in range(3):
        make_case(users["village_worker"], name=f"Anak Ke {i}")
    monkeypatch.setattr(exports, "BACKGROUND_OVER", 1)
    queued = []
    monkeypatch.setattr(jobs, "run_export", queued.append)
    web = make_web()
    web.login("koordinator")
    status_url = web.post("/exports", {"format": "csv"}).headers["Location"]
    job = db.session.query(ExportJob).one()
    assert queued == [job.id]

    def dies(*args, **kwargs):  # the worker is killed while writing: nothing after this runs
        raise SystemExit()

    monkeypatch.setattr(exports, "write", dies)
    with pytest.raises(SystemExit):
        exports.run(job.id)
    db.session.expire_all()
    assert (job.status, job.attempts) == ("running", 1)
    assert exports.recover_stalled(600) == 0  # its heartbeat is fresh: still running
    db.session.query(ExportJob).update({"heartbeat_at": utcnow() - timedelta(minutes=11)})
    db.session.commit()
    assert exports.recover_stalled(600) == 1 and queued == [job.id, job.id]
    db.session.expire_all()
    assert job.status == "queued"

    # The second run is killed too: the job fails, and says so.
    with pytest.raises(SystemExit):
        exports.run(job.id)
    db.session.query(ExportJob).update({"heartbeat_at": utcnow() - timedelta(minutes=11)})
    db.session.commit()
    assert exports.recover_stalled(600) == 0 and len(queued) == 2
    db.session.expire_all()
    assert (job.status, job.error) == ("failed", exports.INTERRUPTED)
    assert "Ekspor gagal. Coba lagi" in web.get(status_url).get_data(as_text=True)


def test_a_run_taken_over_by_a_later_one_writes_nothing(app, users, monkeypatch):
    from casemgmt.reports.models import ExportJob

    for i in range(2):
        make_case(users["village_worker"], name=f"Anak Ke {i}")
    job = ExportJob(user_id=users["coordinator"].id, format="csv", filters={}, total=2)
    db.session.add(job)
    db.session.commit()
    real_write = exports.write

    def overtaken(path, fmt, user, filters, progress=None, limit=None):
        # While this run writes, recover_stalled queues the job again and a later run claims it.
        db.session.query(ExportJob).update({"status": "running", "attempts": 2})
        db.session.commit()
        real_write(path, fmt, user, filters, None, limit)
        progress(1000)
        raise AssertionError("a superseded run goes on writing")

    monkeypatch.setattr(exports, "write", overtaken)
    exports.run(job.id)
    db.session.expire_all()
    assert (job.status, job.attempts, job.storage_key) == ("running", 2, None)
    assert db.session.scalar(select(func.count(StoredFile.key))) == 0
