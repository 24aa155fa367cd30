"""The counts behind the indicators, kept per district and local day (and rolled up per month)
as records change, so that a province's year is read from a few hundred rows instead of
hundreds of thousands of cases.

One function, ``tally``, counts from the records; it serves both the recount of the buckets
changes touched and the full ``rebuild``. A commit notes the buckets it touched (a row in
``indicator_dirty``, in the same transaction, so saving a case stays quick); ``refresh_pending``
recounts them, run by the background worker every minute and before any indicator is read, so
the indicators count every committed change. A bucket holds, per section:

- ``intake`` (by the local day the complaint was received): complaints by channel, cases, sex,
  age group, current stage, village, concern, and histograms of the days to triage, to the
  assessment and to the approved plan (rounded to a tenth of a day, as the indicators are);
- ``closure`` (by the local day of closure): closure reasons, and the closures registered on a
  later day than they closed, by that day;
- ``referral`` (by the local day sent): service, agency and status, and a histogram of the
  hours to an answer;
- ``delivered`` (by the day a service was delivered): services;
- the management indicators' sections (``kpi_*``, reports.kpi_tally describes them).

A complaint about children in two districts counts once in each.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import has_request_context
from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.orm import Session

from casemgmt import jobs
from casemgmt.access import district_of, within
from casemgmt.cases.identity import age_on
from casemgmt.cases.models import Case, CaseConcern, CaseEvent, Child, Complaint
from casemgmt.directory.models import Area
from casemgmt.errors import NotReady
from casemgmt.extensions import db
from casemgmt.i18n import local_zone
from casemgmt.referrals.models import Referral
from casemgmt.reports import kpi_tally
from casemgmt.reports.models import IndicatorBucket, IndicatorBuild, IndicatorDirty
from casemgmt.workflow.models import PlanAction


SECTIONS = ("intake", "closure", "referral", "delivered")
# The management indicators' sections (reports.kpi_tally), kept in the same buckets.
ALL_SECTIONS = SECTIONS + kpi_tally.KPI_SECTIONS
AGE_GROUPS = ("0-4", "5-9", "10-14", "15-17")
MEDIAN_FROM = {"report": "triage", "assessment": "assessment", "intervention_plan": "approved_plan"}
SEP = "\t"


def age_group(age: int) -> str:
    return AGE_GROUPS[min(max(age, 0) // 5, 3)]


def local_day(at: datetime) -> date:
    return at.astimezone(local_zone()).date()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants from the local start of ``first`` to the local end of ``last``."""
    utc = ZoneInfo("UTC")
    return (datetime.combine(first, time.min, tzinfo=local_zone()).astimezone(utc),
            datetime.combine(last + timedelta(days=1), time.min, tzinfo=local_zone()).astimezone(utc))


def _chunks(ids, size=900):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _tenths(value: float) -> str:
    return f"{round(value, 1):.1f}"


# --- counting from the records ---------------------------------------------------------------

def tally(district: str, first: date | None = None, last: date | None = None, sections=SECTIONS) -> dict:
    """{(day, section): {kind: Counter}} for the records of a district between two local days
    (all of them without days)."""
    out: dict = defaultdict(lambda: defaultdict(Counter))
    start, end = day_bounds(first, last) if first else (None, None)
    # When a day picks the rows, the planner is kept off the area index (``code || ''`` is not
    # indexed, on SQLite and PostgreSQL alike) so it does not walk every case of the district.
    area = within(Case.area_code if first is None else Case.area_code.concat(""), district)
    if "intake" in sections:
        _intake(out, area, start, end)
    if "closure" in sections:
        rows = db.session.execute(select(Case.closed_at, Case.closure_reason, Case.created_at).where(
            area, *_between(Case.closed_at, start, end)))
        for closed_at, reason, created_at in rows:
            day, registered = local_day(closed_at), local_day(created_at)
            out[(day, "closure")]["closed"][reason or "unknown"] += 1
            if registered > day:  # registered after it closed (by the day registered): kpis' open count
                out[(day, "closure")]["later"][registered.isoformat()] += 1
    if "referral" in sections:
        _referrals(out, area, start, end)
    if "delivered" in sections:
        _delivered(out, area, first, last)
    if set(sections) & set(kpi_tally.KPI_SECTIONS):
        kpi_tally.count(out, sections, area, start, end, local_day)
    return out


def _between(column, start, end, inclusive=False) -> list:
    if start is None:
        return [column.is_not(None)]
    return [column >= start, column <= end if inclusive else column < end]


def _intake(out, area, start: datetime, end: datetime) -> None:
    rows = list(db.session.execute(
        select(Case.id, Case.stage, Case.area_code, Child.sex, Child.birth_date, Complaint.id, Complaint.channel,
               Complaint.received_at)
        .join(Complaint, Complaint.id == Case.complaint_id).join(Child, Child.id == Case.child_id)
        .where(area, *_between(Complaint.received_at, start, end))))
    received = {}
    complaints = {}
    for case_id, stage, area_code, sex, birth_date, complaint_id, channel, received_at in rows:
        day = local_day(received_at)
        received[case_id] = (day, received_at)
        bucket = out[(day, "intake")]
        complaints[complaint_id] = (day, channel)
        bucket["cases"][""] += 1
        bucket["sex"][sex] += 1
        bucket["stage"][stage] += 1
        bucket["village"][area_code] += 1
        if birth_date is not None:
            bucket["age"][age_group(age_on(birth_date, received_at.date()))] += 1
    for day, channel in complaints.values():
        out[(day, "intake")]["complaints"][channel] += 1
    ids = list(received)
    for chunk in _chunks(ids):
        for case_id, concern in db.session.execute(
                select(CaseConcern.case_id, CaseConcern.concern).where(CaseConcern.case_id.in_(chunk))):
            out[(received[case_id][0], "intake")]["concern"][concern] += 1
        firsts: dict[tuple[str, int], datetime] = {}
        for case_id, from_stage, to_stage, at in db.session.execute(
                select(CaseEvent.case_id, CaseEvent.from_stage, CaseEvent.to_stage, CaseEvent.at)
                .where(CaseEvent.case_id.in_(chunk), CaseEvent.kind == "transition").order_by(CaseEvent.at)):
            key = MEDIAN_FROM.get(from_stage)
            if key == "approved_plan" and to_stage != "intervention":
                continue
            if key and (key, case_id) not in firsts:
                firsts[(key, case_id)] = at
        for (key, case_id), at in firsts.items():
            day, received_at = received[case_id]
            out[(day, "intake")][key][_tenths((at - received_at).total_seconds() / 86400)] += 1


def _referrals(out, area, start: datetime, end: datetime) -> None:

    rows = db.session.execute(
        select(Referral.service, Referral.to_organisation_id, Referral.status, Referral.created_at,
               Referral.responded_at)
        .join(Case, Case.id == Referral.case_id)
        .where(area, *_between(Referral.created_at, start, end)))
    for service, agency, status, created_at, responded_at in rows:
        bucket = out[(local_day(created_at), "referral")]
        bucket["referral"][SEP.join((service, str(agency), status))] += 1
        if responded_at is not None:
            hours = _tenths((responded_at - created_at).total_seconds() / 3600)
            bucket["hours"][SEP.join((service, str(agency), hours))] += 1


def _delivered(out, area, first: date, last: date) -> None:
    """Plan actions done, and referrals completed outside a plan."""

    actions = db.session.execute(select(PlanAction.done_on, PlanAction.service)
                                 .join(Case, Case.id == PlanAction.case_id)
                                 .where(area, PlanAction.status == "done",
                                        *_between(PlanAction.done_on, first, last, inclusive=True)))
    referrals = db.session.execute(select(Referral.delivered_on, Referral.service)
                                   .join(Case, Case.id == Referral.case_id)
                                   .where(area, Referral.status == "completed",
                                          Referral.plan_action_id.is_(None), Referral.delivered_on.is_not(None),
                                          *_between(Referral.delivered_on, first, last, inclusive=True)))
    for day, service in list(actions) + list(referrals):
        if service:
            out[(day, "delivered")]["delivered"][service] += 1


# --- storing -----------------------------------------------------------------------------------

def _encode(kinds) -> str:
    return json.dumps({kind: dict(counts) for kind, counts in kinds.items() if counts}, separators=(",", ":"),
                      sort_keys=True)


def merge_into(total: dict, data: str) -> dict:
    """Adds one bucket's JSON to ``total`` ({kind: Counter}); returns the decoded bucket."""
    decoded = json.loads(data)
    for kind, counts in decoded.items():
        target = total[kind]
        for key, n in counts.items():
            target[key] += n
    return decoded


def _upsert(district: str, grain: str, start: date, section: str, data: str) -> None:
    """Writes one bucket; the row was locked (or created) by ``_lock`` in this transaction."""
    table = IndicatorBucket.__table__
    db.session.execute(update(table).where(
        table.c.district_code == district, table.c.grain == grain, table.c.start == start,
        table.c.section == section).values(data=data))


def _lock(district: str, grain: str, start: date, section: str) -> None:
    """Creates the bucket row if missing and locks it until commit, so that two transactions
    refreshing the same bucket take turns and the second counts what the first wrote."""
    table = IndicatorBucket.__table__
    values = {"district_code": district, "grain": grain, "start": start, "section": section, "data": "{}"}
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(table).values(**values).on_conflict_do_nothing())
    db.session.execute(select(table.c.district_code).where(
        table.c.district_code == district, table.c.grain == grain, table.c.start == start,
        table.c.section == section).with_for_update())


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def refresh(buckets: set[tuple[str, date, str]]) -> None:
    """Recounts the given (district, day, section) buckets and their months, in this transaction."""
    months = sorted({(district, month_of(day), section) for district, day, section in buckets})
    for district, month, section in months:
        _lock(district, "month", month, section)
    for district, day, section in sorted(buckets):
        _lock(district, "day", day, section)
        counted = tally(district, day, day, (section,)).get((day, section), {})
        _upsert(district, "day", day, section, _encode(counted))
    table = IndicatorBucket.__table__
    for district, month, section in months:
        total: dict = defaultdict(Counter)
        for (data,) in db.session.execute(select(table.c.data).where(
                table.c.district_code == district, table.c.grain == "day", table.c.section == section,
                table.c.start >= month, table.c.start < next_month(month))):
            merge_into(total, data)
        _upsert(district, "month", month, section, _encode(total))


def rebuild() -> int:
    """Recounts every bucket from the records (after bulk loads, or once on an older database).
    Returns the number of districts counted."""

    table = IndicatorBucket.__table__
    db.session.execute(delete(table))
    db.session.execute(delete(IndicatorDirty.__table__))
    db.session.execute(delete(IndicatorBuild.__table__))
    districts = db.session.scalars(select(Area.code).where(Area.level == "regency").order_by(Area.code)).all()
    counted = 0
    for district in districts:
        buckets = tally(district, sections=ALL_SECTIONS)
        if not buckets:
            continue
        counted += 1
        months: dict = defaultdict(lambda: defaultdict(Counter))
        rows = []
        for (day, section), kinds in buckets.items():
            rows.append({"district_code": district, "grain": "day", "start": day, "section": section,
                         "data": _encode(kinds)})
            month = months[(month_of(day), section)]
            for kind, counts in kinds.items():
                month[kind].update(counts)
        rows += [{"district_code": district, "grain": "month", "start": first, "section": section,
                  "data": _encode(kinds)} for (first, section), kinds in months.items()]
        for i in range(0, len(rows), 2000):
            db.session.execute(table.insert(), rows[i:i + 2000])
    db.session.add(IndicatorBuild(id=1))
    db.session.flush()
    return counted


INLINE_REBUILD = 20_000  # cases a request may count itself; more are counted by the worker


def ensure_current(area_code: str | None = None) -> None:
    """Before indicators are read: counted once if never counted, then every pending change.
    A large database is counted by the background worker (counting it takes longer than a
    request may); until then the indicators answer "not ready"."""
    if db.session.get(IndicatorBuild, 1) is None:
        if db.session.scalar(select(func.count(Case.id))) > INLINE_REBUILD:
            _end(commit=False)
            jobs.rebuild_indicators()
            raise NotReady()
        rebuild()
        _end(commit=True)
    while refresh_pending(area_code):
        pass


def _end(commit: bool) -> None:
    """Ends a round of counting. A job's or command's rounds commit (or end their reading) each;
    in a request the request's one transaction holds them (transactions.py commits it when the
    view returns), so that nothing the request changed before, as the session's last activity,
    is committed early or lost."""
    if has_request_context():
        if commit:
            db.session.flush()
        return
    if commit:
        db.session.commit()
    else:
        db.session.rollback()


# --- which buckets a transaction touched ---------------------------------------------------------

def _changed(obj, *names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _old(obj, name):
    """The value an attribute had when loaded, if it changed."""
    history = inspect(obj).attrs[name].history
    return history.deleted[0] if history.deleted else None


def _before_flush(session: Session, _context, _instances) -> None:

    marks = session.info.setdefault("indicator_marks", [])
    # session.new builds a new set at each call: read once, or a flush of n objects costs n².
    added, deleted = session.new, session.deleted
    for obj in list(added) + list(session.dirty) + list(deleted):
        new = obj in added
        if isinstance(obj, Case):
            if new or _changed(obj, "stage", "status", "area_code", "child_id", "complaint_id", "urgent",
                               "risk_level"):
                marks.append(("case", obj, "intake"))
            if new or _changed(obj, "closed_at", "closure_reason", "area_code"):
                marks.append(("case", obj, "closure"))
            if new or _changed(obj, "status", "stage", "assigned_worker_id", "area_code", "child_id", "created_at"):
                marks.append(("case", obj, "kpi_case"))
            if not new and _changed(obj, "status", "area_code"):
                marks.append(("case_idle", obj, None))
            if not new and _changed(obj, "area_code"):
                marks.append(("case_all", obj, None))
                old_district = district_of(_old(obj, "area_code"))
                marks.append(("case_all_in", obj, old_district))
            if not new and _old(obj, "closed_at") is not None:
                marks.append(("bucket_of_case", obj, (local_day(_old(obj, "closed_at")), "closure")))
            if not new and _old(obj, "created_at") is not None:
                marks.append(("bucket_of_case", obj, (local_day(_old(obj, "created_at")), "kpi_case")))
        elif isinstance(obj, Child) and not new:
            if _changed(obj, "sex", "birth_date"):
                marks.append(("child", obj, "intake"))
            if _changed(obj, "nik", "birth_date_estimated"):
                marks.append(("child", obj, "kpi_case"))
        elif isinstance(obj, Complaint) and not new and _changed(obj, "received_at", "channel"):
            marks.append(("complaint", obj, None))
            if _old(obj, "received_at") is not None:
                marks.append(("complaint_old", obj, local_day(_old(obj, "received_at"))))
        elif isinstance(obj, CaseEvent):
            # Any entry: the case's latest entry (idle or not) may have moved.
            marks.append(("event", obj, obj in deleted))
            if not new and _old(obj, "at") is not None:
                marks.append(("of_case_day", obj, (local_day(_old(obj, "at")), "kpi_idle")))
            if obj.kind == "transition":
                marks.append(("of_case", obj, "intake"))
        elif isinstance(obj, CaseConcern):
            marks.append(("of_case", obj, "intake"))
        elif isinstance(obj, Referral):
            marks.append(("referral", obj, None))
            if not new and _old(obj, "delivered_on") is not None:
                marks.append(("of_case_day", obj, (_old(obj, "delivered_on"), "delivered")))
        elif isinstance(obj, PlanAction):
            if obj.done_on is not None:
                marks.append(("of_case_day", obj, (obj.done_on, "delivered")))
            if not new and _old(obj, "done_on") is not None:
                marks.append(("of_case_day", obj, (_old(obj, "done_on"), "delivered")))


def _resolve(marks) -> set[tuple[str, date, str]]:
    """The (district, day, section) buckets the marks point at, read after the flush."""

    buckets: set = set()
    case_sections: set[tuple[int, str]] = set()
    extra_days: list[tuple[int, date, str]] = []
    moved: list[tuple[int, str | None]] = []
    entries: dict[int, set[int]] = defaultdict(set)  # case -> its entries written in this transaction
    latest_of: set[int] = set()  # cases whose latest entry's day bucket is touched
    for kind, obj, arg in marks:
        if kind == "case":
            case_sections.add((obj.id, arg))
        elif kind == "case_idle":
            latest_of.add(obj.id)
        elif kind == "event":
            case_sections.add((obj.case_id, "kpi_case"))
            latest_of.add(obj.case_id)
            if arg:  # deleted: it may have been the latest
                extra_days.append((obj.case_id, local_day(obj.at), "kpi_idle"))
            else:
                entries[obj.case_id].add(obj.id)
        elif kind == "case_all":
            moved.append((obj.id, None))
        elif kind == "case_all_in":
            moved.append((obj.id, arg))
        elif kind == "bucket_of_case":
            extra_days.append((obj.id, *arg))
        elif kind == "child":
            case_sections.update((cid, arg) for cid in db.session.scalars(
                select(Case.id).where(Case.child_id == obj.id)))
        elif kind in ("complaint", "complaint_old"):
            for cid in db.session.scalars(select(Case.id).where(Case.complaint_id == obj.id)):
                if kind == "complaint":
                    case_sections.update(((cid, "intake"), (cid, "closure")))  # days to close too
                else:
                    extra_days.append((cid, arg, "intake"))
        elif kind == "of_case":
            case_sections.add((obj.case_id, arg))
        elif kind == "of_case_day":
            extra_days.append((obj.case_id, *arg))
        elif kind == "referral":
            case_id, created_at, delivered_on = obj.case_id, obj.created_at, obj.delivered_on
            extra_days.append((case_id, local_day(created_at), "referral"))
            if delivered_on is not None:
                extra_days.append((case_id, delivered_on, "delivered"))
    latest_of.update(cid for cid, _d in moved)
    # The day of each such case's latest entry, before and after this transaction's entries.
    latest = kpi_tally.last_entries(latest_of)
    before = kpi_tally.last_entries(entries, leaving_out={i for ids in entries.values() for i in ids if i})
    for cid in latest_of:
        for at in {latest.get(cid), before.get(cid)} - {None}:
            extra_days.append((cid, local_day(at), "kpi_idle"))
    ids = {cid for cid, _s in case_sections} | {cid for cid, *_r in extra_days} | {cid for cid, _d in moved}
    facts = {}
    for chunk in _chunks(sorted(i for i in ids if i is not None)):
        for cid, area_code, received_at, closed_at, created_at in db.session.execute(
                select(Case.id, Case.area_code, Complaint.received_at, Case.closed_at, Case.created_at)
                .join(Complaint, Complaint.id == Case.complaint_id).where(Case.id.in_(chunk))):
            facts[cid] = (district_of(area_code), received_at, closed_at, created_at)
    moved_from = {cid: district for cid, district in moved if district}

    def districts(cid):  # a case moved in this transaction is recounted where it was too
        return {facts[cid][0], moved_from.get(cid)} - {None}

    for cid, section in case_sections:
        if cid not in facts:
            continue
        _district, received_at, closed_at, created_at = facts[cid]
        for district in districts(cid):
            if section == "intake":
                buckets.add((district, local_day(received_at), "intake"))
            elif section == "kpi_case":
                buckets.add((district, local_day(created_at), "kpi_case"))
            elif closed_at is not None:
                buckets.add((district, local_day(closed_at), "closure"))
    for cid, day, section in extra_days:
        if cid in facts:
            buckets.update((district, day, section) for district in districts(cid))
    for cid, district in moved:  # a case moved to another district: every bucket of it, in both
        if cid not in facts:
            continue
        here, received_at, closed_at, created_at = facts[cid]
        days = [(local_day(received_at), "intake"), (local_day(created_at), "kpi_case")]
        if cid in latest:
            days.append((local_day(latest[cid]), "kpi_idle"))
        if closed_at is not None:
            days.append((local_day(closed_at), "closure"))
        for created_at, delivered_on in db.session.execute(
                select(Referral.created_at, Referral.delivered_on).where(Referral.case_id == cid)):
            days.append((local_day(created_at), "referral"))
            if delivered_on is not None:
                days.append((delivered_on, "delivered"))
        days += [(d, "delivered") for d in db.session.scalars(
            select(PlanAction.done_on).where(PlanAction.case_id == cid, PlanAction.done_on.is_not(None)))]
        for day, section in days:
            buckets.add((district or here, day, section))
    buckets |= {(district, day, kpi_tally.COMPANION[section]) for district, day, section in buckets
                if section in kpi_tally.COMPANION}
    return {b for b in buckets if b[0]}


def _before_commit(session: Session) -> None:
    """Writes down, in the same transaction, which buckets the changes touched. Recounting them
    waits for ``refresh_pending`` so that saving a case stays quick."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # the marks are made while flushing
    marks = session.info.pop("indicator_marks", [])
    buckets = _resolve(marks) if marks else set()
    if buckets:
        session.execute(IndicatorDirty.__table__.insert(), [
            {"district_code": district, "day": day, "section": section} for district, day, section in sorted(buckets)])


# Pending changes recounted in one transaction. Callers loop until none is left; short rounds
# let other writers in between (SQLite holds its one write lock from a round's first bucket to
# its commit: a long round keeps every complaint and transition waiting).
ROUND = 200


def refresh_pending(area_code: str | None = None, limit: int | None = None) -> int:
    """Recounts the buckets that up to ``limit`` (ROUND) pending changes touched (within an area,
    or everywhere), and commits (in a request, the request commits: _end). Run in a loop by the
    background worker every minute and before indicators are read, so the indicators always
    count every committed change. Returns the number of buckets recounted (0: nothing was
    pending)."""
    limit = limit or ROUND
    if db.session.get(IndicatorBuild, 1) is None:
        # Never counted yet: the full count (rebuild) counts everything and clears this pile.
        # Recounting buckets now would only race it for the same rows.
        _end(commit=False)
        return 0
    table = IndicatorDirty.__table__
    query = select(table.c.id, table.c.district_code, table.c.day, table.c.section).order_by(table.c.id).limit(limit)
    if area_code:
        query = query.where(within(table.c.district_code, area_code))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two workers share the pile, never the same row
    claimed = db.session.execute(query).all()
    if not claimed:
        _end(commit=False)
        return 0
    buckets = {(district, day, section) for _id, district, day, section in claimed}
    refresh(buckets)
    # Only the rows read: a change committed meanwhile left its own row for the next round.
    ids = [row[0] for row in claimed]
    for chunk in _chunks(ids):
        db.session.execute(delete(table).where(table.c.id.in_(chunk)))
    _end(commit=True)
    return len(buckets)


def _forget(session: Session, *_args) -> None:
    session.info.pop("indicator_marks", None)


def install() -> None:
    """Keeps the buckets current for every session."""
    from casemgmt.dbsetup import listen_to_sessions

    listen_to_sessions(before_flush=_before_flush, before_commit=_before_commit, after_rollback=_forget)
