"""The juvenile-justice clocks (PP 65/2015) of cases with an ABH concern: started by the
investigator's request recorded on the case, stopped by the step each waits for, swept when
they run out, and counted for the indicators. The clocks are data: deadlines.JUVENILE_CLOCKS."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case as when, func, select
from werkzeug.exceptions import Forbidden

from casemgmt.access import works_on_case
from casemgmt.audit import services as audit
from casemgmt.cases.models import Case
from casemgmt.cases.timeline import add_event
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.notify import events
from casemgmt.workflow.deadlines import JUVENILE_CLOCKS, hours_for
from casemgmt.workflow.models import JuvenileClockRun

BY_CLOCK = {rule.clock: rule for rule in JUVENILE_CLOCKS}


def clocks_for(case: Case) -> list:
    """The juvenile-justice clocks that run for this case: none without an ABH concern."""
    concerns = set(case.concerns)
    return [rule for rule in JUVENILE_CLOCKS if rule.concerns & concerns]


def runs_of(case: Case) -> list[JuvenileClockRun]:
    """The case's clocks, newest request first."""
    return list(db.session.scalars(select(JuvenileClockRun).where(JuvenileClockRun.case_id == case.id)
                                   .order_by(JuvenileClockRun.started_at.desc(), JuvenileClockRun.id)))


def record_investigator_request(case: Case, actor, received_at: datetime,
                                now: datetime | None = None) -> list[JuvenileClockRun]:
    """Record that an investigator asked for the social worker (received at ``received_at``):
    starts each juvenile-justice clock the case's concerns call for. A clock of the same kind
    still running is not started twice."""
    if not works_on_case(actor, case):
        raise Forbidden()
    now = now or utcnow()
    rules = clocks_for(case)
    errors = {}
    if case.status != "open":
        errors["received_at"] = _("The case is closed.")
    elif not rules:
        errors["received_at"] = _("Juvenile-justice deadlines apply only to a child in conflict with the law, "
                                  "a child victim or a child witness.")
    elif received_at is None:
        errors["received_at"] = _("Give the date and time the request was received.")
    elif received_at > now + timedelta(minutes=5):
        errors["received_at"] = _("The request cannot have been received in the future.")
    if errors:
        raise ValidationFailed(errors)
    running = {run.clock for run in runs_of(case) if run.stopped_at is None}
    started = []
    for rule in rules:
        if rule.clock in running:
            continue
        run = JuvenileClockRun(case_id=case.id, clock=rule.clock, district_code=case.district_code,
                               started_at=received_at, started_by_id=actor.id,
                               due_at=received_at + timedelta(hours=hours_for(rule.clock, "abh")))
        db.session.add(run)
        started.append(run)
    if not started:
        raise ValidationFailed({"received_at": _("These deadlines are already running for this case.")})
    db.session.flush()
    add_event(case, "investigator_request", actor, data={
        "received_at": received_at.isoformat(), "clocks": [run.clock for run in started]})
    audit.record("investigator_request", "case", case.id, actor=actor,
                 after={"received_at": received_at.isoformat(), "clocks": [run.clock for run in started]})
    events.juvenile_clocks_started(started, case, actor, now)
    db.session.flush()
    return started


def stop_clock(run: JuvenileClockRun, actor, now: datetime | None = None) -> JuvenileClockRun:
    """Record the step a clock waits for (the response, the social report, the diversion offer)."""
    case = db.session.get(Case, run.case_id)
    if not works_on_case(actor, case):
        raise Forbidden()
    if run.stopped_at is not None:
        raise ValidationFailed({"clock": _("This step is already recorded.")})
    now = now or utcnow()
    run.stopped_at, run.stopped_by_id = now, actor.id
    step = BY_CLOCK[run.clock].stopped_by
    add_event(case, step, actor, data={"clock": run.clock, "due_at": run.due_at.isoformat(),
                                       "late": now > run.due_at})
    audit.record(step, "case", case.id, actor=actor, after={"clock": run.clock, "clock_id": run.id})
    db.session.flush()
    return run


def run_of_case(case: Case, run_id: int) -> JuvenileClockRun | None:
    return db.session.scalar(select(JuvenileClockRun).where(JuvenileClockRun.id == run_id,
                                                            JuvenileClockRun.case_id == case.id))


@dataclass
class ClockCounts:
    started: int = 0
    stopped_in_time: int = 0
    stopped_late: int = 0
    running: int = 0
    overdue: int = 0  # running and past due


def clock_counts(district_code: str, start: datetime, end: datetime,
                 now: datetime | None = None) -> dict[str, ClockCounts]:
    """Per juvenile-justice clock, the ones started in [start, end) in a district (or a
    province: a code prefix): how many, stopped within the deadline or late, still running, and
    running past due at ``now``. For the management indicators."""
    now = now or utcnow()
    c = JuvenileClockRun
    rows = db.session.execute(
        select(c.clock, func.count(),
               func.sum(when((c.stopped_at.is_not(None) & (c.stopped_at <= c.due_at), 1), else_=0)),
               func.sum(when((c.stopped_at.is_not(None) & (c.stopped_at > c.due_at), 1), else_=0)),
               func.sum(when((c.stopped_at.is_(None), 1), else_=0)),
               func.sum(when((c.stopped_at.is_(None) & (c.due_at < now), 1), else_=0)))
        .where((c.district_code == district_code) | c.district_code.startswith(district_code + "."),
               c.started_at >= start, c.started_at < end)
        .group_by(c.clock)).all()
    counts = {rule.clock: ClockCounts() for rule in JUVENILE_CLOCKS}
    for clock, *numbers in rows:
        counts[clock] = ClockCounts(*(int(n or 0) for n in numbers))
    return counts
