"""The deadline sweeps: overdue cases, unanswered referrals and juvenile-justice clocks run out,
told once per deadline.

Run by the background worker (jobs.overdue_sweep) or ``flask workflow sweep``; they commit a
batch at a time, as jobs do, so a database just loaded or restored is swept in flat memory.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select

from casemgmt.access import coordinators_of
from casemgmt.audit import services as audit
from casemgmt.cases.models import Case
from casemgmt.cases.timeline import add_event
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.referrals.models import Referral
from casemgmt.transactions import commit
from casemgmt.notify import events
from casemgmt.workflow.models import JuvenileClockRun

SWEEP_BATCH = 500


def committed_batches(statement):
    """The rows of ``statement`` a batch at a time, committing after each, so that a database
    just loaded or restored (a hundred thousand overdue rows) is swept in flat memory. The
    statement must leave out the rows a batch has handled, as the sweeps' marks do."""
    while rows := list(db.session.scalars(statement.limit(SWEEP_BATCH))):
        yield rows
        commit()


def sweep_overdue(now: datetime | None = None) -> dict[str, int]:
    """Tell the assigned worker and the district's coordinators about each case that has
    passed its due date, once per deadline (a new deadline resets the mark)."""
    now = now or utcnow()
    due = (select(Case).where(Case.overdue_at(now), Case.overdue_notified_at.is_(None))
           .order_by(Case.id))
    coordinators: dict[str, list[int]] = {}  # ids: a commit between batches expires the users
    told = swept = 0
    for cases in committed_batches(due):
        notices = []
        for case in cases:
            if case.district_code not in coordinators:
                coordinators[case.district_code] = [u.id for u in coordinators_of(case.district_code)]
            people = set(coordinators[case.district_code])
            if case.assigned_worker_id:
                people.add(case.assigned_worker_id)
            notices.append(events.overdue_notice(case, people))
            case.overdue_notified_at = now
            add_event(case, "overdue", None, data={"due_at": case.due_at.isoformat(), "stage": case.stage})
        told += len(events.notify_many(notices, now))
        swept += len(cases)
    return {"cases": swept, "notifications": told}


def sweep_overdue_referrals(now: datetime | None = None) -> dict[str, int]:
    """Escalate each unanswered referral past its deadline to the sending district's coordinators."""
    now = now or utcnow()
    due = (select(Referral).where(Referral.status == "sent", Referral.respond_by < now, Referral.escalated_at.is_(None))
           .order_by(Referral.id))
    told = swept = 0
    coordinators: dict[str, list[int]] = {}  # ids: a commit between batches expires the users
    for late in committed_batches(due):
        notices = []
        for referral in late:
            case = db.session.get(Case, referral.case_id)
            if case.district_code not in coordinators:
                coordinators[case.district_code] = [u.id for u in coordinators_of(case.district_code)]
            notices.append(events.referral_overdue_notice(referral, case, coordinators[case.district_code]))
            referral.escalated_at = now
            add_event(case, "referral_overdue", None, data={"referral_id": referral.id,
                                                             "to": referral.to_organisation.name,
                                                             "respond_by": referral.respond_by.isoformat()})
            audit.record("referral_escalated", "referral", referral.id, actor=None)
        told += len(events.notify_many(notices, now))
        swept += len(late)
    return {"referrals": swept, "notifications": told}


DUE_SOON = timedelta(hours=24)


def _keyset(statement, column):
    """The rows of ``statement`` a batch at a time by ``column``, committing after each."""
    last = 0
    while rows := list(db.session.scalars(statement.where(column > last).order_by(column).limit(SWEEP_BATCH))):
        yield rows
        last = getattr(rows[-1], column.key)
        commit()


def sweep_due_soon(now: datetime | None = None) -> dict[str, int]:
    """Tell of each case and unanswered referral due within a day, once per deadline: the case's
    worker (the district's coordinators while nobody holds it) and the receiving organisation."""
    from casemgmt.notify.models import Notification

    now = now or utcnow()
    told_lately = exists().where(Notification.case_id == Case.id, Notification.kind == "deadline_due_soon",
                                 Notification.created_at > now - DUE_SOON)
    cases = select(Case).where(Case.status == "open", Case.due_at > now, Case.due_at <= now + DUE_SOON,
                               ~told_lately)
    coordinators: dict[str, list[int]] = {}
    told = swept = 0
    for batch in _keyset(cases, Case.id):
        notices = []
        for case in batch:
            if case.assigned_worker_id:
                people = [case.assigned_worker_id]
            else:
                if case.district_code not in coordinators:
                    coordinators[case.district_code] = [u.id for u in coordinators_of(case.district_code)]
                people = coordinators[case.district_code]
            notices.append(events.due_soon_notice(case, people))
        told += len(events.notify_many(notices, now))
        swept += len(batch)
    referrals = select(Referral).where(Referral.status == "sent", Referral.respond_by > now,
                                       Referral.respond_by <= now + DUE_SOON)
    for batch in _keyset(referrals, Referral.id):
        notices = [events.referral_due_soon_notice(referral, db.session.get(Case, referral.case_id))
                   for referral in batch]
        told += len(events.notify_many(notices, now))
        swept += len(batch)
    commit()
    return {"due_soon": swept, "notifications": told}


def sweep_juvenile_clocks(now: datetime | None = None) -> dict[str, int]:
    """Escalate each juvenile-justice clock that ran out without its step (PP 65/2015's 1, 3
    and 7 x 24 hours) to the case's worker and the district's coordinators, once per clock."""
    now = now or utcnow()
    due = (select(JuvenileClockRun).where(JuvenileClockRun.stopped_at.is_(None), JuvenileClockRun.due_at < now,
                                          JuvenileClockRun.overdue_notified_at.is_(None))
           .order_by(JuvenileClockRun.id))
    told = swept = 0
    coordinators: dict[str, list[int]] = {}  # ids: a commit between batches expires the users
    for late in committed_batches(due):
        notices = []
        for run in late:
            case = db.session.get(Case, run.case_id)
            if case.district_code not in coordinators:
                coordinators[case.district_code] = [u.id for u in coordinators_of(case.district_code)]
            people = set(coordinators[case.district_code])
            if case.assigned_worker_id:
                people.add(case.assigned_worker_id)
            notices.append(events.juvenile_overdue_notice(run, case, sorted(people)))
            run.overdue_notified_at = now
            add_event(case, "juvenile_clock_overdue", None, data={"clock": run.clock,
                                                                   "due_at": run.due_at.isoformat()})
            audit.record("juvenile_clock_escalated", "case", case.id, actor=None, after={"clock": run.clock})
        told += len(events.notify_many(notices, now))
        swept += len(late)
    return {"clocks": swept, "notifications": told}
