"""The counts behind the management indicators (reports.kpis), kept in the tally's buckets
(reports.tally: per district and local day, rolled up per month, recounted when changes touch
them) so that a province's indicators are summed from a few thousand small rows instead of
counted over a million cases and their timelines.

Sections, each by the local day of its own date:

- ``kpi_step`` (the complaint received, as ``intake``): per step (triage, assessment, plan) a
  histogram of the time from the complaint in tenths of its unit (the median), and the cases by
  the clock's level and the whole hours the step took, rounded up (``level<TAB>hours``): a case
  is within its deadline when those hours are at most the clock's, which is read when the
  indicators are, so a district changing its deadlines needs no recount.
- ``kpi_close`` (the closure, as ``closure``): a histogram of the days from the complaint to
  closure in tenths. (Closures before a period, for the cases open in it, are the ``closure``
  section's, whose buckets are small.)
- ``kpi_ref`` (the referral sent, as ``referral``): referrals not cancelled by agency, answered
  in time, accepted and completed; an unanswered one by its answer deadline, which becomes due
  when that passes.
- ``kpi_case`` (the case registered): cases registered, and of those open now: open, by worker,
  without NIK, with an estimated birth date, past the stage of report (due for a conference
  review once old enough), and without any timeline entry.
- ``kpi_idle`` (the open case's latest timeline entry): open cases by the day of their latest
  timeline entry; those before the 90 days' cut-off are idle.

Times are computed by the same SQL as the live count (``seconds_between``), so that the
indicators read from buckets are the live count's, to the second.
"""
from __future__ import annotations

from sqlalchemy import Float, and_, case, exists, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import FunctionElement

from casemgmt.cases.models import Case, CaseEvent, Child, Complaint
from casemgmt.extensions import db
from casemgmt.referrals.models import Referral

KPI_SECTIONS = ("kpi_step", "kpi_close", "kpi_ref", "kpi_case", "kpi_idle")
# A bucket of these sections covers the same records on the same day as its companion's.
COMPANION = {"intake": "kpi_step", "closure": "kpi_close", "referral": "kpi_ref"}
STEP_UNITS = {"triage": 3600, "assessment": 86400, "plan": 86400}


class seconds_between(FunctionElement):
    """Whole seconds from ``earlier`` to ``later`` (two UTCDateTime columns), on SQLite and
    PostgreSQL alike."""
    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_pg(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (f"ROUND(EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})))")


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (f"ROUND((julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}))"
            f" * 86400.0)")


def first_move(from_stage: str, to_stage: str | None = None):
    """When the case first left ``from_stage`` (for ``to_stage`` if given): a correlated
    subquery read through the (case_id, at, id) index of the timeline."""
    where = [CaseEvent.case_id == Case.id, CaseEvent.kind == "transition", CaseEvent.from_stage == from_stage]
    if to_stage:
        where.append(CaseEvent.to_stage == to_stage)
    return select(func.min(CaseEvent.at)).where(*where).scalar_subquery()


def step_moves() -> dict:
    """The first moves out of report, assessment and planning: when each step was done."""
    return {"triaged": first_move("report"), "assessed": first_move("assessment", "intervention_plan"),
            "planned": first_move("intervention_plan", "intervention")}


def step_level(step: str, urgent, risk_level) -> str:
    """The clock's level of a case for a step: urgency for triage, risk (medium if unset) after."""
    if step == "triage":
        return "urgent" if urgent else "normal"
    return risk_level or "medium"


def whole_hours(seconds) -> int:
    """Whole hours rounded up: seconds <= h * 3600 exactly when this is <= h."""
    return -(-int(seconds) // 3600)


def _between(column, start, end) -> list:
    if start is None:
        return [column.is_not(None)]
    return [column >= start, column < end]


def count(out, sections, area, start, end, local_day) -> None:
    """Adds the KPI sections' counts of the records in ``area`` (SQL on Case) between two UTC
    instants (all of them without) to ``out`` ({(day, section): {kind: Counter}})."""
    if "kpi_step" in sections:
        _steps(out, area, start, end, local_day)
    if "kpi_close" in sections:
        _closures(out, area, start, end, local_day)
    if "kpi_ref" in sections:
        _referrals(out, area, start, end, local_day)
    if "kpi_case" in sections:
        _cases(out, area, start, end, local_day)
    if "kpi_idle" in sections:
        _idle(out, area, start, end, local_day)


def _steps(out, area, start, end, local_day) -> None:
    per_case = (select(Complaint.received_at.label("received_at"), Case.urgent, Case.risk_level,
                       *[move.label(name) for name, move in step_moves().items()])
                .join(Complaint, Complaint.id == Case.complaint_id)
                .where(area, *_between(Complaint.received_at, start, end))
                .cte("per_case"))
    c = per_case.c
    columns = []
    for step, done, began in (("triage", c.triaged, c.received_at), ("assessment", c.assessed, c.triaged),
                              ("plan", c.planned, c.assessed)):
        unit = STEP_UNITS[step]
        columns += [func.round(seconds_between(done, c.received_at) / (unit / 10)), seconds_between(done, began)]
    for received_at, urgent, risk_level, *values in db.session.execute(
            select(c.received_at, c.urgent, c.risk_level, *columns)):
        bucket = out[(local_day(received_at), "kpi_step")]
        for i, step in enumerate(STEP_UNITS):
            tenths, took = values[2 * i], values[2 * i + 1]
            if took is None:  # not done, or the step before it not done
                continue
            bucket[step][str(int(tenths))] += 1
            bucket[step + "_ok"][f"{step_level(step, urgent, risk_level)}\t{whole_hours(took)}"] += 1


def _closures(out, area, start, end, local_day) -> None:
    days = func.round(seconds_between(Case.closed_at, Complaint.received_at) / 8640)
    for closed_at, tenths in db.session.execute(
            select(Case.closed_at, days).join(Complaint, Complaint.id == Case.complaint_id)
            .where(area, *_between(Case.closed_at, start, end))):
        out[(local_day(closed_at), "kpi_close")]["days"][str(int(tenths))] += 1


def _flag(condition):
    return case((condition, 1), else_=0)


def _referrals(out, area, start, end, local_day) -> None:
    answered = Referral.responded_at.is_not(None)
    for created_at, agency, respond_by, is_answered, in_time, accepted, completed in db.session.execute(
            select(Referral.created_at, Referral.to_organisation_id, Referral.respond_by, _flag(answered),
                   _flag(and_(answered, Referral.responded_at <= Referral.respond_by)),
                   _flag(Referral.status.in_(("accepted", "completed"))), _flag(Referral.status == "completed"))
            .join(Case, Case.id == Referral.case_id)
            .where(area, *_between(Referral.created_at, start, end), Referral.status != "cancelled")):
        # Answered: due. Unanswered: due once its deadline passed (none: never due).
        due = "a" if is_answered else (respond_by.isoformat() if respond_by is not None else "")
        key = "\t".join(("" if agency is None else str(agency), due, str(in_time), str(accepted), str(completed)))
        out[(local_day(created_at), "kpi_ref")]["referral"][key] += 1


def _cases(out, area, start, end, local_day) -> None:
    quiet = ~exists().where(CaseEvent.case_id == Case.id)
    for created_at, status, stage, worker, nik, estimated, silent in db.session.execute(
            select(Case.created_at, Case.status, Case.stage, Case.assigned_worker_id, Child.nik,
                   Child.birth_date_estimated, case((Case.status == "open", _flag(quiet)), else_=0))
            .join(Child, Child.id == Case.child_id)
            .where(area, *_between(Case.created_at, start, end))):
        bucket = out[(local_day(created_at), "kpi_case")]
        bucket["created"][""] += 1
        if status != "open":
            continue
        bucket["open"][""] += 1
        if worker is not None:
            bucket["worker"][str(worker)] += 1
        if nik is None or nik == "":
            bucket["no_nik"][""] += 1
        if estimated is True:
            bucket["estimated"][""] += 1
        if stage != "report":
            bucket["due"][""] += 1
        if silent:
            bucket["quiet"][""] += 1


def _idle(out, area, start, end, local_day) -> None:
    """Open cases by the day of their latest timeline entry (between two instants: those whose
    latest entry lies between them, read from the timeline's time index)."""
    if start is None:
        latest = select(func.max(CaseEvent.at)).where(CaseEvent.case_id == Case.id).scalar_subquery()
        rows = db.session.execute(select(latest).where(area, Case.status == "open"))
    else:
        newer = aliased(CaseEvent)
        later = exists().where(newer.case_id == Case.id, newer.at >= end)
        rows = db.session.execute(
            select(func.max(CaseEvent.at)).select_from(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
            .where(area, _open(), CaseEvent.at >= start, CaseEvent.at < end, ~later)
            .group_by(CaseEvent.case_id))
    for (at,) in rows:
        if at is not None:
            out[(local_day(at), "kpi_idle")]["open"][""] += 1


def _open():
    """SQL: the case is open, written so that the planner reads the rows by time (the timeline's
    or the registration's index) rather than every open case through the status index."""
    return Case.status.concat("") == "open"


def last_entries(case_ids, leaving_out=()) -> dict:
    """{case id: its latest timeline entry's time} (cases without one left out), not counting
    the entries ``leaving_out`` (ids)."""
    found = {}
    ids = sorted(set(case_ids))
    for i in range(0, len(ids), 900):
        query = (select(CaseEvent.case_id, func.max(CaseEvent.at)).where(CaseEvent.case_id.in_(ids[i:i + 900]))
                 .group_by(CaseEvent.case_id))
        if leaving_out:
            query = query.where(CaseEvent.id.not_in(sorted(leaving_out)))
        found.update({cid: at for cid, at in db.session.execute(query) if at is not None})
    return found


def idle_on_day(area, day_start, cutoff) -> int:
    """Open cases in ``area`` whose latest timeline entry lies between ``day_start`` and
    ``cutoff``: the idle ones of the cut-off's own day, which its bucket cannot tell apart."""
    newer = aliased(CaseEvent)
    later = exists().where(newer.case_id == Case.id, newer.at >= cutoff)
    return db.session.scalar(
        select(func.count(func.distinct(CaseEvent.case_id))).select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(area, _open(), CaseEvent.at >= day_start, CaseEvent.at < cutoff, ~later)) or 0

