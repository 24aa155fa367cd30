"""The management indicators summed from the tally's buckets equal the live count of the records
after each of a series of changes (a transfer between districts, reopening, closing, a new and a
removed timeline entry, referrals answered, deadlines and risk changed), on every cut-off's
edge; and the buckets kept as records change equal the buckets counted afresh."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import select

from casemgmt.cases.models import Case, CaseEvent, Child
from casemgmt.cases.records import add_note
from casemgmt.extensions import db
from casemgmt.referrals import services as referrals
from casemgmt.referrals.models import Referral
from casemgmt.reports import kpis, tally
from casemgmt.reports.indicators import Period
from casemgmt.reports.models import IndicatorBucket
from casemgmt.transactions import commit
from casemgmt.workflow import effects
from tests.factories import UserFactory
from tests.test_kpis import NOW, Q4, SECOND, WITA, district  # noqa: F401 (district: the fixture)

PERIODS = (Q4, Period(date(2026, 5, 7), date(2026, 11, 20)))
JUNE = datetime(2026, 6, 1, 8, 0, tzinfo=WITA)  # c5 and c6 received and registered; their entries at +5 h
CONFERENCE_CLOSED = datetime(2026, 11, 1, 12, 0, tzinfo=WITA)
# Each cut-off inside a day that holds records on both sides of it: 90 days idle after c5's and
# c6's last entries, the 91 days' review clock after their registration and after the conference.
NOWS = (NOW, JUNE + timedelta(hours=5, days=90) + SECOND, JUNE + timedelta(days=91, minutes=1),
        CONFERENCE_CLOSED + timedelta(days=91) - SECOND)


def assert_same(nows=NOWS[:2], areas=("73.06", "73")):
    for now in nows:
        for period in PERIODS:
            for area in areas:
                assert kpis.compute(area, period, now) == kpis.compute_live(area, period, now), (area, period, now)


def kpi_buckets() -> dict:
    table = IndicatorBucket.__table__
    rows = db.session.execute(select(table).where(table.c.section.like("kpi%"))).all()
    return {(r.district_code, r.grain, r.start, r.section): json.loads(r.data) for r in rows if r.data != "{}"}


def test_buckets_equal_the_live_count_through_changes(app, district, users):
    c1, c2, c3, c5, c6 = (district[k] for k in ("c1", "c2", "c3", "c5", "c6"))
    assert_same(NOWS)

    # A NIK found, a birth date estimated (each alone: the child's cases are recounted).
    db.session.get(Child, c5.child_id).nik = "7306014503140005"
    db.session.get(Child, c6.child_id).birth_date_estimated = True
    commit()
    assert_same(NOWS[:1])

    # Another worker, a note on an idle case, higher risk.
    other = UserFactory(username="peksos2", role="social_worker", area_code="73.06",
                        organisation_id=users["social_worker"].organisation_id)
    c2.assigned_worker_id = other.id
    note = add_note(c6, "Kunjungan rumah.", users["social_worker"], recorded_at=NOW - timedelta(days=3))
    c2.risk_level, c1.urgent = "high", False
    commit()
    assert_same()

    # c2 moves to Maros (a transfer); c3 reopened; c1 closed; the note taken off again.
    c2.area_code, c2.district_code = "73.09.01.2006", "73.09"
    effects.reopen(c3, {}, NOW)
    effects.close(c1, {"reason": "goals_met"}, NOW - timedelta(days=1))
    db.session.delete(db.session.get(CaseEvent, note.id))
    commit()
    assert_same(areas=("73.06", "73.09"))

    # The unanswered referral answered late; the district lengthens its triage clock.
    from casemgmt.workflow.deadlines import save_district_hours

    late = db.session.scalars(select(Referral).where(Referral.responded_at.is_(None))).first()
    referrals.accept(late, users["agency_officer"], now=NOW - timedelta(days=2))
    save_district_hours("73.06", {("triage", "normal"): 80}, users["admin"])
    commit()
    assert_same(NOWS, areas=("73.06", "73.09", "73"))

    # Kept as records changed, the buckets are those counted afresh.
    kept = kpi_buckets()
    tally.rebuild()
    commit()
    assert kept == kpi_buckets()
    assert db.session.scalar(select(Case.status).where(Case.id == c3.id)) == "open"


def test_the_home_leaves_the_indicators_out_while_the_buckets_are_counted(make_web, district, monkeypatch):
    """A large database upgraded to new buckets answers "not ready" until the worker counted
    them: the coordinator's home still opens, without its indicator section."""
    from casemgmt import jobs
    from casemgmt.reports.models import IndicatorBuild, KpiSnapshot

    db.session.query(IndicatorBuild).delete()
    db.session.query(KpiSnapshot).delete()
    commit()
    monkeypatch.setattr(tally, "INLINE_REBUILD", 0)  # as if it held more cases than a request may count
    queued = []
    monkeypatch.setattr(jobs, "rebuild_indicators", lambda: queued.append(1))
    coordinator = make_web()
    coordinator.login("koordinator")
    response = coordinator.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="h-kpis"' not in page and "idle=y" not in page
    assert queued  # the worker was asked to count them
