"""The district counts a coordinator's home and triage page keep for a minute (workflow.kept_counts):
shown again only while nothing they count can have changed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from casemgmt.cases.models import Case
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.transactions import commit
from casemgmt.workflow import kept_counts
from casemgmt.workflow.triage import open_counts
from tests.factories import make_case


def _triage(coordinator, now):
    return open_counts(coordinator, now).by_stage().get("report", 0)


def _quietly_close(case_id: int) -> None:
    """Closes a case behind every session's back and leaves its time of saving as it was: a change
    nothing could notice, so that a count still showing it open was kept, not counted."""
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE case_record SET status = 'closed' WHERE id = :id"), {"id": case_id})


def _settle() -> None:
    """As if every case had been saved some minutes ago: a count made now is kept at once, not
    counted again for kept_counts.SLACK in case a transaction of another process saved one
    before it and committed after."""
    with db.engine.begin() as conn:
        conn.execute(Case.__table__.update().values(updated_at=utcnow() - timedelta(minutes=5)))


def test_a_kept_count_is_shown_again_within_the_minute_and_counted_again_after(users):
    coordinator = users["coordinator"]
    cases = [make_case(users["village_worker"], name=f"Anak {n}") for n in ("Satu", "Dua")]
    _settle()
    now = utcnow()
    assert _triage(coordinator, now) == 2
    _quietly_close(cases[0].id)
    assert _triage(coordinator, now + timedelta(seconds=30)) == 2  # kept
    assert _triage(coordinator, now + kept_counts.KEEP + timedelta(seconds=1)) == 1  # too old: counted
    # A count for an earlier moment than the one kept is counted for that moment, not read.
    _quietly_close(cases[1].id)
    assert _triage(coordinator, now + kept_counts.KEEP) == 0


def test_a_case_saved_in_this_process_drops_the_districts_counts(users):
    coordinator = users["coordinator"]
    make_case(users["village_worker"], name="Anak Satu")
    _settle()
    now = utcnow()
    assert _triage(coordinator, now) == 1
    make_case(users["village_worker"], name="Anak Dua")
    assert _triage(coordinator, utcnow()) == 2


def test_a_case_saved_by_another_process_drops_the_districts_counts(users):
    """Another server's change reaches no session of this one: the case's time of saving does."""
    coordinator = users["coordinator"]
    case = make_case(users["village_worker"], name="Anak Satu")
    _settle()
    now = utcnow()
    assert _triage(coordinator, now) == 1
    with db.engine.begin() as conn:
        conn.execute(Case.__table__.update().where(Case.__table__.c.id == case.id).values(status="closed"))
    assert _triage(coordinator, utcnow()) == 0


def test_a_change_rolled_back_keeps_the_count(users):
    coordinator = users["coordinator"]
    case = make_case(users["village_worker"], name="Anak Satu")
    _settle()
    now = utcnow()
    assert _triage(coordinator, now) == 1
    db.session.get(Case, case.id).urgent = True
    db.session.flush()
    db.session.rollback()
    _quietly_close(case.id)
    assert _triage(coordinator, now + timedelta(seconds=5)) == 1  # nothing was committed: still kept


def test_another_districts_change_keeps_this_districts_count(users):
    coordinator = users["coordinator"]
    case = make_case(users["village_worker"], name="Anak Satu")
    _settle()
    now = utcnow()
    assert _triage(coordinator, now) == 1
    make_case(users["village_worker"], name="Anak Maros", area_code="73.09.01.2006")
    _quietly_close(case.id)
    assert _triage(coordinator, now + timedelta(seconds=5)) == 1  # Maros changed, not Gowa: kept


def test_closing_a_conference_drops_the_review_count(users):
    """A case discussed in a conference closed since its review date is no longer due."""
    from casemgmt.conferences.models import CaseConference, ConferenceCase
    from casemgmt.conferences.services import count_not_reviewed

    coordinator = users["coordinator"]
    case = make_case(users["village_worker"], name="Anak Satu")
    case = db.session.get(Case, case.id)
    case.stage, case.created_at = "assessment", utcnow() - timedelta(days=400)
    commit()
    _settle()
    now = utcnow()
    assert count_not_reviewed(coordinator, now) == 1
    conference = CaseConference(title="Konferensi", scheduled_at=now, district_code="73.06", location="Kantor",
                                status="closed", created_by_id=coordinator.id, closed_at=now)
    db.session.add(conference)
    db.session.flush()
    db.session.add(ConferenceCase(conference_id=conference.id, case_id=case.id))
    commit()
    assert count_not_reviewed(coordinator, now + timedelta(seconds=1)) == 0
