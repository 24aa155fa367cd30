"""The management indicators a PKSAI coordinator answers for (DOMAIN.md "Management
indicators"), for a district or the province and a period, counted by the database.

- Time to triage, to the assessment and to the plan, for the cases whose complaint was received
  in the period: the median time from the complaint, and the share of cases whose step took no
  longer than its SOP clock (workflow.deadlines: triage by urgency from the complaint, the
  assessment by risk from acceptance, the plan by risk from the assessment), the district's own
  lengths where it set them. A step exactly on its deadline is within it, as a case is overdue
  only after its due time.
- Closure rate: cases closed in the period, of the cases open at some time in it; the median
  days from the complaint to closure of those closed in the period.
- Caseload: open cases per worker now, flagged above the district's threshold
  (directory.services.district_settings).
- Referrals sent in the period: answered by their deadline (``respond_by``) of those answered or
  past it, completed of those accepted; by agency.
- Open cases due for a conference review (conferences.services) that were discussed in a
  conference closed within the review clock (three months by default).
- Data quality of the open cases now: without NIK, with an estimated birth date, and with no
  timeline entry for 90 days, each a filter of the case list (cases.records.CaseFilters).

Medians are read from histograms (tenths of an hour or a day), never from every case's row: a
province holds a million cases. ``compute`` sums them, and every other count, from the tally's
buckets (reports.kpi_tally); ``compute_live`` counts the same from the records, what the buckets
are tested against.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, or_, select, union_all

from casemgmt.access import district_of, small_counts_hidden, within
from casemgmt.cases import records
from casemgmt.cases.models import Case, Child, Complaint
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Area
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.reports import kpi_tally, tally
from casemgmt.reports.indicators import SMALL, Period, suppress
from casemgmt.reports.kpi_tally import seconds_between
from casemgmt.reports.models import IndicatorBucket

MAX_MONTHS = 60  # a trend of five years; each month is a term of the statements

# The steps and their clocks: triage from the complaint to the first move out of report; the
# assessment from there (acceptance) to its submission; the plan from there to its approval (the
# move from planning into intervention).
STEPS = ("triage", "assessment", "plan")


# --- portable SQL --------------------------------------------------------------------------------

_first_move = kpi_tally.first_move


def _area(column, area_code: str):
    return within(column, area_code)


def _districts(column, area_code: str):
    """SQL: a district-code column (Case.district_code) within the area: one value for a
    district, a range for the province (no district's code is the province's), so that the
    (district_code, ...) indexes are read as one range, not as two joined by OR."""
    if district_of(area_code) == area_code:
        return column == area_code
    return and_(column > area_code + ".", column < area_code + "/")


def _month_index(column, months: list[tuple[date, datetime, datetime]]):
    """SQL: the position of ``column`` among the period's local months (-1 outside)."""
    return case(*[(and_(column >= start, column < end), i) for i, (_m, start, end) in enumerate(months)],
                else_=-1)


def _months(period: Period) -> list[tuple[date, datetime, datetime]]:
    """(first day, UTC start, UTC end) of each local month the period touches, cut to it."""
    out, first = [], period.start
    while first <= period.end:
        last = min(tally.next_month(first) - timedelta(days=1), period.end)
        out.append((tally.month_of(first), *tally.day_bounds(first, last)))
        first = last + timedelta(days=1)
    return out


def _deadline_hours(clock: str, level, district_column, area_code: str):
    """SQL: the hours of ``clock`` at the level ``level`` (an SQL expression), the district's own
    setting where it has one (workflow's DeadlineSetting), else the SOP's default."""
    from casemgmt.workflow.deadlines import DEFAULT_HOURS
    from casemgmt.workflow.models import DeadlineSetting

    own = db.session.execute(select(DeadlineSetting.district_code, DeadlineSetting.level, DeadlineSetting.hours)
                             .where(DeadlineSetting.clock == clock,
                                    within(DeadlineSetting.district_code, area_code))).all()
    whens = [(and_(district_column == district, level == lv), hours) for district, lv, hours in own]
    whens += [(level == lv, hours) for lv, hours in DEFAULT_HOURS[clock].items()]
    return case(*whens, else_=max(DEFAULT_HOURS[clock].values()))


# --- medians from histograms -------------------------------------------------------------------

def median_of(histogram: dict) -> float | None:
    """The median of values counted ({value: n}), as statistics.median gives it."""
    values = sorted((v, n) for v, n in histogram.items() if n > 0)
    total = sum(n for _v, n in values)
    if not total:
        return None
    wanted, found, seen = [(total - 1) // 2, total // 2], [], 0
    for value, n in values:
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return round(sum(found) / 2, 1)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- the indicators ------------------------------------------------------------------------------

def _steps(area_code: str, start: datetime, end: datetime, months) -> dict:
    """Triage, assessment and plan in one statement: each case of the period read once (its
    first moves out of report, assessment and planning, through the timeline's (case_id, at)
    index) into a common table that the three steps then group, each in tenths of its unit
    from the complaint (for the median) and within its clock or not."""
    moves = kpi_tally.step_moves()
    # The complaint's time index picks the period's cases (``|| ''`` keeps the planner off the
    # area index, which would read every case of the district first: tally does the same).
    per_case = (select(Case.district_code, Case.urgent, Case.risk_level, Complaint.received_at,
                       _month_index(Complaint.received_at, months).label("month"),
                       *[move.label(name) for name, move in moves.items()])
                .join(Complaint, Complaint.id == Case.complaint_id)
                .where(_area(Case.area_code.concat(""), area_code), Complaint.received_at >= start,
                       Complaint.received_at < end)
                .cte("per_case"))
    c = per_case.c
    parts = []
    for number, (step, (clock, done, began)) in enumerate((
            ("triage", ("triage", c.triaged, c.received_at)),
            ("assessment", ("assessment", c.assessed, c.triaged)),
            ("plan", ("plan", c.planned, c.assessed)))):
        level = (case((c.urgent.is_(True), literal("urgent")), else_=literal("normal")) if clock == "triage"
                 else func.coalesce(c.risk_level, literal("medium")))
        unit = 3600 if step == "triage" else 86400
        hours = _deadline_hours(clock, level, c.district_code, area_code)
        parts.append(select(literal(number).label("step"), c.month.label("month"),
                            func.round(seconds_between(done, c.received_at) / (unit / 10)).label("tenths"),
                            case((seconds_between(done, began) <= hours * 3600, 1), else_=0).label("ok"))
                     .where(done.is_not(None), began.is_not(None)))
    every = union_all(*parts).subquery()
    rows = db.session.execute(select(every.c.step, every.c.month, every.c.tenths, every.c.ok, func.count())
                              .group_by(every.c.step, every.c.month, every.c.tenths, every.c.ok)).all()
    return _step_summary(rows, months)


def _step_summary(rows, months) -> dict:
    """The steps' indicators from (step number, month, tenths of its unit, within its clock, n)."""
    out = {}
    for number, step in enumerate(STEPS):
        histogram: Counter = Counter()
        counted, ok = Counter(), Counter()
        for _s, month, tenths, in_time, n in (r for r in rows if r[0] == number):
            histogram[float(tenths) / 10] += n
            counted[month] += n
            ok[month] += n if in_time else 0
        total = sum(counted.values())
        key = "median_hours" if step == "triage" else "median_days"
        out[step] = {key: median_of(histogram), "within_deadline_pct": _pct(sum(ok.values()), total),
                     "counted": total,
                     "by_month": {months[m][0].strftime("%Y-%m"): _pct(ok[m], counted[m]) for m in sorted(counted)
                                  if m >= 0},
                     "counted_by_month": {months[m][0].strftime("%Y-%m"): counted[m] for m in sorted(counted)
                                          if m >= 0}}
    return out


def _closure(area_code: str, start: datetime, end: datetime, months) -> dict:
    area = _area(Case.area_code.concat(""), area_code)  # the closure time's index picks the rows
    closed_in = and_(Case.closed_at >= start, Case.closed_at < end)
    # Open at some time in the period: registered before its end, not closed before its start
    # (counted in the district's (district_code, created_at) index, without the complaint).
    open_during = db.session.scalar(
        select(func.count(Case.id))
        .where(_districts(Case.district_code, area_code), Case.created_at < end,
               or_(Case.closed_at.is_(None), Case.closed_at >= start))) or 0
    days = func.round(seconds_between(Case.closed_at, Complaint.received_at) / 8640)
    rows = db.session.execute(
        select(_month_index(Case.closed_at, months).label("month"), days.label("tenths"), func.count())
        .join(Complaint, Complaint.id == Case.complaint_id).where(area, closed_in)
        .group_by("month", "tenths")).all()
    return _closure_summary(rows, months, open_during)


def _closure_summary(rows, months, open_during: int) -> dict:
    """The closure indicators from (month, tenths of a day to close, n)."""
    histogram: Counter = Counter()
    by_month: Counter = Counter()
    for month, tenths, n in rows:
        histogram[float(tenths) / 10] += n
        by_month[month] += n
    closed = sum(by_month.values())
    return {"closed": closed, "open_during": open_during, "closure_rate_pct": _pct(closed, open_during),
            "median_days_to_close": median_of(histogram),
            "closed_by_month": {months[m][0].strftime("%Y-%m"): by_month.get(m, 0) for m in range(len(months))}}


def _caseload(area_code: str, counts: dict | None = None) -> dict:
    """Open cases per worker (``counts``: {worker id: open cases}, counted here if not given)."""
    from casemgmt.accounts.models import User
    from casemgmt.directory.services import district_settings

    if counts is None:
        counts = dict(db.session.execute(
            select(Case.assigned_worker_id, func.count(Case.id))
            .where(_districts(Case.district_code, area_code), Case.status == "open",
                   Case.assigned_worker_id.is_not(None))
            .group_by(Case.assigned_worker_id)).all())
    workers = {u.id: u for u in db.session.execute(select(User.id, User.full_name, User.area_code).where(or_(
        User.id.in_(list(counts) or [0]),
        and_(User.role == "social_worker", User.active.is_(True), within(User.area_code, area_code)))))}
    thresholds: dict[str, int] = {}

    def threshold(user) -> int:
        district = district_of(user.area_code) or area_code
        if district not in thresholds:
            thresholds[district] = district_settings(district).caseload_threshold
        return thresholds[district]

    by_worker = sorted(({"id": u.id, "full_name": u.full_name, "open": counts.get(u.id, 0),
                         "threshold": threshold(u)} for u in workers.values()),
                       key=lambda w: (-w["open"], w["full_name"], w["id"]))
    for worker in by_worker:
        worker["over"] = worker["open"] > worker["threshold"]
    loads = [w["open"] for w in by_worker]
    return {"median": median_of(Counter(loads)), "max": max(loads) if loads else None,
            "workers": len(by_worker), "over_threshold": sum(w["over"] for w in by_worker),
            "by_worker": by_worker}


def _referrals(area_code: str, start: datetime, end: datetime, now: datetime, months) -> dict:
    from casemgmt.referrals.models import Referral

    answered = Referral.responded_at.is_not(None)
    due = or_(answered, Referral.respond_by < now)
    in_time = and_(answered, Referral.responded_at <= Referral.respond_by)
    accepted = Referral.status.in_(("accepted", "completed"))

    def total(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    rows = db.session.execute(
        select(Referral.to_organisation_id, _month_index(Referral.created_at, months).label("month"),
               total(due), total(in_time), total(accepted), total(Referral.status == "completed"))
        .join(Case, Case.id == Referral.case_id)
        .where(_area(Case.area_code.concat(""), area_code), Referral.created_at >= start, Referral.created_at < end,
               Referral.status != "cancelled")
        .group_by(Referral.to_organisation_id, "month")).all()
    return _referral_summary(rows, months)


def _referral_summary(rows, months) -> dict:
    """The referral indicators from (agency, month, due, answered in time, accepted, completed)."""
    from casemgmt.directory.models import Organisation

    agencies: dict = defaultdict(Counter)
    months_seen: dict = defaultdict(Counter)
    for agency, month, n_due, n_in_time, n_accepted, n_completed in rows:
        for target in (agencies[agency], agencies[None]):
            target.update(due=n_due, in_time=n_in_time, accepted=n_accepted, completed=n_completed)
        months_seen[month].update(due=n_due, in_time=n_in_time)
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_([a for a in agencies if a] or [0]))).all())

    def summary(c: Counter) -> dict:
        return {"answered_in_time_pct": _pct(c["in_time"], c["due"]),
                "completed_pct": _pct(c["completed"], c["accepted"]),
                "due": c["due"], "answered_in_time": c["in_time"], "accepted": c["accepted"],
                "completed": c["completed"]}

    out = summary(agencies[None])
    out["by_agency"] = {names.get(a, str(a)): summary(agencies[a])
                        for a in sorted((a for a in agencies if a is not None), key=lambda a: names.get(a, ""))}
    out["by_month"] = {months[m][0].strftime("%Y-%m"): _pct(c["in_time"], c["due"])
                       for m, c in sorted(months_seen.items()) if m >= 0}
    out["due_by_month"] = {months[m][0].strftime("%Y-%m"): c["due"] for m, c in sorted(months_seen.items()) if m >= 0}
    return out


def _reviewed(area_code: str, now: datetime) -> dict:
    from casemgmt.conferences.models import CaseConference, ConferenceCase
    from casemgmt.conferences.services import review_due_before

    districts = [district_of(area_code)] if district_of(area_code) else db.session.scalars(
        select(Area.code).where(Area.level == "regency", within(Area.code, area_code))).all()
    due = reviewed = 0
    for district in districts:  # each district's own review clock
        cutoff = review_due_before(now, district)
        base = select(func.count(Case.id)).where(Case.district_code == district, Case.status == "open",
                                                 Case.stage != "report", Case.created_at < cutoff)
        discussed = (select(ConferenceCase.case_id)
                     .join(CaseConference, CaseConference.id == ConferenceCase.conference_id)
                     .where(CaseConference.status == "closed", CaseConference.closed_at >= cutoff))
        due += db.session.scalar(base) or 0
        reviewed += db.session.scalar(base.where(Case.id.in_(discussed))) or 0
    return {"due": due, "reviewed": reviewed, "reviewed_in_conference_pct": _pct(reviewed, due)}


def _data_quality(area_code: str, now: datetime) -> dict:
    def total(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    n, no_nik, estimated, idle = db.session.execute(
        select(func.count(Case.id), total(records.without_nik()), total(Child.birth_date_estimated.is_(True)),
               total(records.idle(now)))
        .join(Child, Child.id == Case.child_id)
        .where(_districts(Case.district_code, area_code), Case.status == "open")).one()
    return {"open": n, "without_nik": no_nik, "without_nik_pct": _pct(no_nik, n),
            "estimated_birth_date": estimated, "estimated_birth_date_pct": _pct(estimated, n),
            "idle_over_90_days": idle}


def _check_period(period: Period) -> None:
    if (period.end.year - period.start.year) * 12 + period.end.month - period.start.month >= MAX_MONTHS:
        raise ValidationFailed({"from": _("Choose a period of at most %(n)s months.", n=MAX_MONTHS)})


def compute_live(area_code: str, period: Period, now: datetime | None = None) -> dict:
    """``compute``'s answer counted over the records themselves (seconds in a large district):
    what the buckets must always agree with."""
    now = now or utcnow()
    _check_period(period)
    start, end = tally.day_bounds(period.start, period.end)
    months = _months(period)
    closure = _closure(area_code, start, end, months)
    reviewed = _reviewed(area_code, now)
    return {
        "area_code": area_code, "from": period.start.isoformat(), "to": period.end.isoformat(),
        **_steps(area_code, start, end, months),
        "closure_rate_pct": closure["closure_rate_pct"], "median_days_to_close": closure["median_days_to_close"],
        "closure": closure,
        "caseload": _caseload(area_code),
        "referrals": _referrals(area_code, start, end, now, months),
        "reviewed_in_conference_pct": reviewed["reviewed_in_conference_pct"], "review": reviewed,
        "data_quality": _data_quality(area_code, now),
    }


# --- from the tally's buckets --------------------------------------------------------------------

def _covering(first: date | None, last: date):
    """(SQL on the bucket table, the same test in Python) for the buckets covering the local
    days ``first`` (the beginning if None) to ``last``: whole months from the monthly
    roll-up, the days at either end."""
    table = IndicatorBucket.__table__
    start = first or date(1900, 1, 1)
    whole_first = start if start.day == 1 else tally.next_month(start)
    whole_last = tally.month_of(last) if (last + timedelta(days=1)).day == 1 else \
        tally.month_of(tally.month_of(last) - timedelta(days=1))
    if whole_first > whole_last:
        return (and_(table.c.grain == "day", table.c.start >= start, table.c.start <= last),
                lambda grain, day: grain == "day" and start <= day <= last)
    spans = [and_(table.c.grain == "month", table.c.start >= whole_first, table.c.start <= whole_last)]
    if start < whole_first:
        spans.append(and_(table.c.grain == "day", table.c.start >= start, table.c.start < whole_first))
    if tally.next_month(whole_last) <= last:
        spans.append(and_(table.c.grain == "day", table.c.start >= tally.next_month(whole_last),
                          table.c.start <= last))

    def test(grain, day):
        if grain == "month":
            return whole_first <= day <= whole_last
        return start <= day < whole_first or tally.next_month(whole_last) <= day <= last

    return or_(*spans), test


def _period_covering(first: date, last: date):
    """(SQL, sign) of the buckets that sum to the local days ``first`` to ``last`` with the
    fewest rows: a month partly inside is its days inside (sign 1), or, when fewer lie outside,
    its monthly roll-up less the days outside (sign -1 for those)."""
    table = IndicatorBucket.__table__
    plus_months, plus_days, minus_days = set(), [], []
    month = tally.month_of(first)
    while month <= last:
        month_end = tally.next_month(month) - timedelta(days=1)
        lo, hi = max(first, month), min(last, month_end)
        inside = (hi - lo).days + 1
        if (month_end - month).days + 1 - inside < inside:
            plus_months.add(month)
            minus_days += [span for span in ((month, lo - timedelta(days=1)), (hi + timedelta(days=1), month_end))
                           if span[0] <= span[1]]
        else:
            plus_days.append((lo, hi))
        month = tally.next_month(month)
    spans = [and_(table.c.grain == "month", table.c.start.in_(sorted(plus_months)))] if plus_months else []
    spans += [and_(table.c.grain == "day", table.c.start >= lo, table.c.start <= hi)
              for lo, hi in plus_days + minus_days]

    def sign(grain, day):
        if grain == "month":
            return 1 if day in plus_months else 0
        if any(lo <= day <= hi for lo, hi in plus_days):
            return 1
        return -1 if any(lo <= day <= hi for lo, hi in minus_days) else 0

    return or_(*spans), sign


def _everything():
    """Every bucket, as the monthly roll-ups hold it."""
    table = IndicatorBucket.__table__
    return table.c.grain == "month", lambda grain, _day: grain == "month"


def _read(area_code: str, *parts) -> dict:
    """{part's name: [(district, first day, section, {kind: {key: n}})]} of the area's buckets,
    each part (name, sections, (SQL, test) of the buckets' span), in one statement; the
    buckets a part subtracts (its test gives -1) under "<name> minus"."""
    import json

    table = IndicatorBucket.__table__
    conditions = [and_(table.c.section.in_(sections), sql) for _name, sections, (sql, _test) in parts]
    out: dict = {name + suffix: [] for name, _sections, _span in parts for suffix in ("", " minus")}
    for district, grain, start, section, data in db.session.execute(
            select(table.c.district_code, table.c.grain, table.c.start, table.c.section, table.c.data)
            .where(within(table.c.district_code, area_code), or_(*conditions))):
        decoded = None
        for name, sections, (_sql, test) in parts:
            sign = test(grain, start) if section in sections else 0
            if sign:
                decoded = decoded if decoded is not None else json.loads(data)
                out[name + (" minus" if sign == -1 else "")].append((district, start, section, decoded))
    return out


def _sum(rows, kind: str) -> int:
    return sum(n for _d, _s, _section, data in rows for n in data.get(kind, {}).values())


def compute(area_code: str, period: Period, now: datetime | None = None) -> dict:
    """Every management indicator of the area (a district or the province) for the period, in
    full: the API's and the page's answer before ``for_viewer`` takes out what a role may not see.

    Summed from the tally's buckets (reports.kpi_tally), recounted first where changes are
    pending, so that they equal ``compute_live``'s count of the records: the period's parts from
    its days and months; the state of the open cases now (caseload, data quality, cases due for
    a review) from the buckets of every day, by the day the case was registered; idle cases by
    the day of their latest timeline entry. A cut-off inside a day (90 days idle, the review's
    clock) is counted exactly for that one day from the records."""
    from casemgmt.cases.records import IDLE_DAYS

    now = now or utcnow()
    _check_period(period)
    tally.ensure_current(area_code)
    start, end = tally.day_bounds(period.start, period.end)
    months = _months(period)
    month_no = {first: i for i, (first, _s, _e) in enumerate(months)}
    idle_cut = now - timedelta(days=IDLE_DAYS)
    idle_day = tally.local_day(idle_cut)
    districts = [district_of(area_code)] if district_of(area_code) else db.session.scalars(
        select(Area.code).where(Area.level == "regency", within(Area.code, area_code))).all()
    from casemgmt.conferences.services import review_due_before
    review_cut = {d: review_due_before(now, d) for d in districts}
    review_days = {tally.local_day(cut) for cut in review_cut.values()}
    before_start = period.start - timedelta(days=1)
    parts = [("period", ("kpi_step", "kpi_close", "kpi_ref"), _period_covering(period.start, period.end)),
             ("cases", ("kpi_case",), _everything()),
             ("closed_before", ("closure",), _covering(None, before_start)),
             ("idle", ("kpi_idle",), _covering(None, idle_day - timedelta(days=1))),
             ("created", ("kpi_case",), _covering(None, period.end))]
    parts += [(f"due {day}", ("kpi_case",), _covering(None, day - timedelta(days=1))) for day in review_days]
    read = _read(area_code, *parts)
    in_period = read["period"]

    # Each part's keys are summed as written first, then read once each.
    hist: dict = defaultdict(Counter)  # (step, month) -> {tenths: n}
    taken: dict = defaultdict(Counter)  # (step, month, district) -> {level<TAB>hours: n}
    close_days: dict = defaultdict(Counter)  # month -> {tenths: n}
    sent: dict = defaultdict(Counter)  # month -> {referral key: n}
    for rows, add in ((in_period, Counter.update), (read["period minus"], Counter.subtract)):
        for district, first, section, data in rows:
            month = month_no[tally.month_of(first)]
            if section == "kpi_step":
                for number, step in enumerate(STEPS):
                    if step in data:
                        add(hist[(number, month)], data[step])
                        add(taken[(number, month, district)], data[step + "_ok"])
            elif section == "kpi_close":
                add(close_days[month], data.get("days", {}))
            else:
                add(sent[month], data.get("referral", {}))
    if read["period minus"]:  # what was taken off leaves keys counted 0
        for counters in (hist, taken, close_days, sent):
            for key in [k for k, c in counters.items() if not +c]:
                del counters[key]
            for c in counters.values():
                for key in [k for k, n in c.items() if n <= 0]:
                    del c[key]

    # Steps: the cases of the period within their clock, as the district sets it now.
    clocks = _clock_hours(area_code)
    in_time: Counter = Counter()  # (step, month) -> cases within the clock
    for (number, month, district), counts in taken.items():
        for key, n in counts.items():
            level, hours = key.split("\t")
            if int(hours) <= clocks(STEPS[number], level, district):
                in_time[(number, month)] += n
    steps = _step_summary_split(hist, in_time, months)

    # Closure: closed in the period of those open at some time in it (registered before its end,
    # not closed before its start).
    closure_rows = [(month, int(tenths), n) for month, counts in close_days.items() for tenths, n in counts.items()]
    closed_before = _sum(read["closed_before"], "closed") - sum(
        n for _d, _s, _section, data in read["closed_before"] for day, n in data.get("later", {}).items()
        if date.fromisoformat(day) > period.end)
    open_during = _sum(read["created"], "created") - closed_before
    closure = _closure_summary(closure_rows, months, open_during)

    # Referrals sent in the period; an unanswered one is due once its deadline passed.
    referral_rows: dict = defaultdict(Counter)
    for month, counts in sent.items():
        for key, n in counts.items():
            agency, due, in_time, accepted, completed = key.split("\t")
            is_due = due == "a" or (due != "" and datetime.fromisoformat(due) < now)
            referral_rows[(int(agency) if agency else None, month)].update(
                due=n * is_due, in_time=n * int(in_time), accepted=n * int(accepted), completed=n * int(completed))
    referrals = _referral_summary([(agency, month, c["due"], c["in_time"], c["accepted"], c["completed"])
                                   for (agency, month), c in referral_rows.items()], months)

    # The open cases now.
    cases = read["cases"]
    workers: Counter = Counter()
    for _district, _first, _section, data in cases:
        workers.update({int(w): n for w, n in data.get("worker", {}).items()})
    opened = _sum(cases, "open")
    idle = (_sum(read["idle"], "open") + _sum(cases, "quiet")
            + kpi_tally.idle_on_day(_area(Case.area_code.concat(""), area_code),
                                    tally.day_bounds(idle_day, idle_day)[0], idle_cut))
    no_nik, estimated = _sum(cases, "no_nik"), _sum(cases, "estimated")
    quality = {"open": opened, "without_nik": no_nik, "without_nik_pct": _pct(no_nik, opened),
               "estimated_birth_date": estimated, "estimated_birth_date_pct": _pct(estimated, opened),
               "idle_over_90_days": idle}
    review = _reviewed_from(read, districts, review_cut)
    return {
        "area_code": area_code, "from": period.start.isoformat(), "to": period.end.isoformat(),
        **steps,
        "closure_rate_pct": closure["closure_rate_pct"], "median_days_to_close": closure["median_days_to_close"],
        "closure": closure,
        "caseload": _caseload(area_code, {w: n for w, n in workers.items() if n}),
        "referrals": referrals,
        "reviewed_in_conference_pct": review["reviewed_in_conference_pct"], "review": review,
        "data_quality": quality,
    }


def _clock_hours(area_code: str):
    """(step, level, district) -> the step's clock in hours, the district's own where it set one:
    as ``_deadline_hours`` reads them."""
    from casemgmt.workflow.deadlines import DEFAULT_HOURS
    from casemgmt.workflow.models import DeadlineSetting

    own = {(clock, district, level): hours for clock, district, level, hours in db.session.execute(
        select(DeadlineSetting.clock, DeadlineSetting.district_code, DeadlineSetting.level, DeadlineSetting.hours)
        .where(DeadlineSetting.clock.in_(STEPS), within(DeadlineSetting.district_code, area_code)))}

    longest = {clock: max(DEFAULT_HOURS[clock].values()) for clock in STEPS}

    def hours(clock: str, level: str, district: str) -> int:
        found = own.get((clock, district, level))
        return found if found is not None else DEFAULT_HOURS[clock].get(level, longest[clock])

    return hours


def _step_summary_split(hist: dict, in_time: Counter, months) -> dict:
    """``_step_summary`` from the buckets: {(step, month): {tenths: n}} of the cases that took
    each step, and {(step, month): n} of those within its clock."""
    out = {}
    for number, step in enumerate(STEPS):
        histogram: Counter = Counter()
        counted, ok = Counter(), Counter()
        for (s, month), counts in hist.items():
            if s != number:
                continue
            for tenths, n in counts.items():
                histogram[int(tenths) / 10] += n
                counted[month] += n
            ok[month] += in_time[(number, month)]
        total = sum(counted.values())
        key = "median_hours" if step == "triage" else "median_days"
        out[step] = {key: median_of(histogram), "within_deadline_pct": _pct(sum(ok.values()), total),
                     "counted": total,
                     "by_month": {months[m][0].strftime("%Y-%m"): _pct(ok[m], counted[m]) for m in sorted(counted)},
                     "counted_by_month": {months[m][0].strftime("%Y-%m"): counted[m] for m in sorted(counted)}}
    return out


def _reviewed_from(read: dict, districts, review_cut: dict) -> dict:
    """Open cases past report registered before the district's review cut-off (from the
    buckets of the days before the cut-off's, and that day's counted), and of them those
    discussed in a conference closed since (a few, counted from the conferences)."""
    due = reviewed = 0
    counted: dict = {}  # per cut-off (most districts share one): counts by district
    for district in districts:
        cutoff = review_cut[district]
        day = tally.local_day(cutoff)
        if cutoff not in counted:
            counted[cutoff] = (_registered_by_district(tally.day_bounds(day, day)[0], cutoff),
                               _discussed_by_district(cutoff))
        registered, discussed = counted[cutoff]
        due += sum(n for d, _s, _section, data in read[f"due {day}"] if d == district
                   for n in data.get("due", {}).values()) + registered.get(district, 0)
        reviewed += discussed.get(district, 0)
    return {"due": due, "reviewed": reviewed, "reviewed_in_conference_pct": _pct(reviewed, due)}


def _registered_by_district(start: datetime, cutoff: datetime) -> Counter:
    """{district: its open cases past report registered between ``start`` and ``cutoff``}, read
    by the registration time's index (one day's cases)."""
    return Counter(dict(db.session.execute(
        select(Case.district_code, func.count(Case.id))
        .where(kpi_tally._open(), Case.stage != "report", Case.created_at >= start, Case.created_at < cutoff)
        .group_by(Case.district_code)).all()))


def _discussed_by_district(cutoff: datetime) -> Counter:
    """{district: its open cases past report registered before ``cutoff`` and discussed in a
    conference (of any district: a case may have moved since) closed since then}: the few
    cases discussed, read by their ids."""
    from casemgmt.conferences.models import CaseConference, ConferenceCase

    ids = sorted(set(db.session.scalars(
        select(ConferenceCase.case_id).join(CaseConference, CaseConference.id == ConferenceCase.conference_id)
        .where(CaseConference.status == "closed", CaseConference.closed_at >= cutoff))))
    out: Counter = Counter()
    for i in range(0, len(ids), 900):
        out.update(dict(db.session.execute(
            select(Case.district_code, func.count(Case.id))
            .where(Case.id.in_(ids[i:i + 900]), Case.status == "open", Case.stage != "report",
                   Case.created_at < cutoff).group_by(Case.district_code)).all()))
    return out


def for_api(result: dict, user) -> dict:
    """The answer of GET /api/v1/kpis (API.md), as the user may see it."""
    shown = for_viewer(result, user)
    step = {"triage": ("median_hours", "within_deadline_pct"), "assessment": ("median_days", "within_deadline_pct"),
            "plan": ("median_days", "within_deadline_pct")}
    out = {name: {k: shown[name][k] for k in keys} for name, keys in step.items()}
    caseload = {"median": shown["caseload"]["median"], "max": shown["caseload"]["max"]}
    if user.role == "coordinator":
        caseload["by_worker"] = [{"id": w["id"], "full_name": w["full_name"], "open": w["open"]}
                                 for w in shown["caseload"]["by_worker"]]
    quality = shown["data_quality"]
    out.update({
        "closure_rate_pct": shown["closure_rate_pct"], "median_days_to_close": shown["median_days_to_close"],
        "caseload": caseload,
        "referrals": {"answered_in_time_pct": shown["referrals"]["answered_in_time_pct"],
                      "completed_pct": shown["referrals"]["completed_pct"]},
        "reviewed_in_conference_pct": shown["reviewed_in_conference_pct"],
        "data_quality": {"without_nik_pct": quality["without_nik_pct"],
                         "estimated_birth_date_pct": quality["estimated_birth_date_pct"],
                         "idle_over_90_days": quality["idle_over_90_days"]},
    })
    return out


def for_viewer(result: dict, user) -> dict:
    """The indicators as this user may see them: analysts never a worker's name nor a count of
    1 to 4 (shown "<5"), and no share or median drawn from fewer than five cases (it would
    point at them)."""
    if not small_counts_hidden(user):
        return result
    out = dict(result)
    for name in ("triage", "assessment", "plan"):
        step = dict(result[name])
        if 0 < step["counted"] < SMALL:
            step = {k: (None if k != "counted" else v) for k, v in step.items()}
        step["by_month"] = _monthly(result[name]["by_month"], result[name]["counted_by_month"]) \
            if step["by_month"] is not None else {}
        step["counted"] = suppress(step["counted"])
        step["counted_by_month"] = suppress(result[name]["counted_by_month"])
        out[name] = step
    closure = dict(result["closure"])
    if 0 < closure["open_during"] < SMALL:
        out["closure_rate_pct"] = closure["closure_rate_pct"] = None
    if 0 < closure["closed"] < SMALL:
        out["median_days_to_close"] = closure["median_days_to_close"] = None
    for key in ("closed", "open_during"):
        closure[key] = suppress(closure[key])
    closure["closed_by_month"] = suppress(closure["closed_by_month"])
    out["closure"] = closure
    caseload = {k: v for k, v in result["caseload"].items() if k != "by_worker"}
    caseload["workers"] = suppress(caseload["workers"])
    caseload["over_threshold"] = suppress(caseload["over_threshold"])
    out["caseload"] = caseload
    out["referrals"] = _suppress_referrals(result["referrals"])
    out["referrals"]["by_agency"] = {name: _suppress_referrals(group)
                                     for name, group in result["referrals"]["by_agency"].items()}
    review = dict(result["review"])
    if 0 < review["due"] < SMALL:
        out["reviewed_in_conference_pct"] = review["reviewed_in_conference_pct"] = None
    out["review"] = suppress(review)
    quality = dict(result["data_quality"])
    if 0 < quality["open"] < SMALL:
        quality["without_nik_pct"] = quality["estimated_birth_date_pct"] = None
    out["data_quality"] = suppress(quality)
    return out


def _monthly(pct: dict, counted: dict) -> dict:
    """A month's share is left out where fewer than five cases make it."""
    return {m: (None if 0 < counted.get(m, 0) < SMALL else v) for m, v in pct.items()}


def _suppress_referrals(group: dict) -> dict:
    out = dict(group)
    if "by_month" in group:
        out["by_month"] = _monthly(group["by_month"], group["due_by_month"])
        out["due_by_month"] = suppress(group["due_by_month"])
    if 0 < group["due"] < SMALL:
        out["answered_in_time_pct"] = None
    if 0 < group["accepted"] < SMALL:
        out["completed_pct"] = None
    for key in ("due", "answered_in_time", "accepted", "completed"):
        out[key] = suppress(group[key])
    return out
