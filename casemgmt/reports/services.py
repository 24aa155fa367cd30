"""Report periods, report downloads logged, and what each role's dashboard shows (who may see
which area's indicators is access.indicator_area)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from casemgmt.access import scope_cases, scope_district
from casemgmt.cases.models import Case
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.reports.indicators import Period, answer_hours, quarter
from casemgmt.reports.tally import local_day


# A period is counted within these days: the records begin after the first, and the calendar
# arithmetic of a period (its last day plus one, a day's start in UTC) holds up to the last.
EARLIEST = date(1900, 1, 1)
LATEST = date(9998, 12, 31)


def parse_period(start: str | None, end: str | None, year: int | None = None, q: int | None = None) -> Period:
    """The period asked for; a start before EARLIEST or an end after LATEST is cut to it (no
    record lies outside), so the answer's "from" and "to" say what was counted."""
    if year and q:
        if not 1 <= q <= 4:
            raise ValidationFailed({"quarter": _("A quarter is 1 to 4.")})
        if not EARLIEST.year <= year <= LATEST.year:
            raise ValidationFailed({"year": _("Choose a year from %(first)s to %(last)s.",
                                              first=EARLIEST.year, last=LATEST.year)})
        return quarter(year, q)
    today = utcnow().date()
    try:
        first = date.fromisoformat(start) if start else today - timedelta(days=90)
        last = date.fromisoformat(end) if end else today
    except ValueError as exc:
        raise ValidationFailed({"from": _("Dates are written YYYY-MM-DD.")}) from exc
    if first > last:
        raise ValidationFailed({"from": _("The start is after the end.")})
    return Period(min(max(first, EARLIEST), LATEST), min(max(last, EARLIEST), LATEST))


def record_report_download(user, area_code: str) -> None:
    from casemgmt.audit import services as audit

    audit.log_access(user, "download_report", "indicators", area_code)
    db.session.flush()


def dashboard(user, now: datetime | None = None) -> dict:
    from casemgmt.conferences.models import CaseConference
    from casemgmt.conferences.services import count_not_reviewed
    from casemgmt.referrals.models import Referral
    from casemgmt.workflow.models import Approval

    now = now or utcnow()
    data: dict = {}
    # Every count starts from the cases the user may see (access.scope_cases), as the lists do.
    if user.role == "village_worker":
        data["recent"] = list(db.session.scalars(scope_cases(user).order_by(Case.created_at.desc()).limit(5)))
    elif user.role == "social_worker":
        # Counted by the database (workflow.triage.open_counts): the busiest workers hold
        # thousands of open cases.
        from casemgmt.workflow.triage import open_counts

        counts = open_counts(user, now, assigned_to_me=True)
        data["by_stage"] = counts.by_stage()
        data["overdue"] = sum(counts.by_stage(overdue=True).values())
        data["due_this_week"] = db.session.scalar(scope_cases(user, select(func.count()), assigned_to_me=True).where(
            Case.status == "open", Case.due_at >= now, Case.due_at < now + timedelta(days=7)))
        data["referrals_waiting"] = db.session.scalar(select(func.count(Referral.id)).where(
            Referral.created_by_id == user.id, Referral.status == "sent")) or 0
        data["approvals_waiting"] = db.session.scalar(select(func.count(Approval.id)).where(
            Approval.requested_by_id == user.id, Approval.status == "pending")) or 0
    elif user.role == "coordinator":
        # Counted by the database in one pass (workflow.triage.open_counts): a district
        # holds tens of thousands of open cases.
        from casemgmt.workflow.triage import open_counts

        district = scope_district(user)  # None: no district's cases to answer for, nothing to show
        counts = open_counts(user, now)
        data["triage"] = counts.by_stage().get("report", 0)
        data["overdue_by_stage"] = counts.by_stage(overdue=True)
        # By worker, not by name: two workers may share one (named_counts). The cases no one
        # holds yet are the triage count's.
        data["overdue_by_worker"] = {k: n for k, n in counts.by_worker(overdue=True).items() if k is not None}
        data["workload"] = {k: n for k, n in counts.by_worker().items() if k is not None}
        data["conferences"] = list(db.session.scalars(
            select(CaseConference).where(CaseConference.district_code == district,
                                         CaseConference.status == "scheduled", CaseConference.scheduled_at >= now)
            .order_by(CaseConference.scheduled_at).limit(5)))
        data["not_reviewed"] = count_not_reviewed(user, now)
        data["kpi"] = home_kpis(user, district, now) if district else None
        # Medians of 90 days, counted with the indicators: reading the referral buckets of 90
        # days is most of a home page's time in a large district.
        data["answer_hours"] = (data["kpi"] or {}).get("answer_hours", {})
    return data


HOME_DAYS = 90
HOME_FRESH = timedelta(hours=1)


def home_kpis(user, district: str, now: datetime) -> dict:
    """The management indicators of the coordinator's district for the last 90 days, as their
    home shows them: counted at most an hour ago (KpiSnapshot). Counting a large district takes
    seconds, longer than a home page may; the background worker recounts every district each
    hour, and a home finding none fresh counts it and keeps it for the next."""
    import json

    from casemgmt.errors import NotReady
    from casemgmt.reports import kpis
    from casemgmt.reports.models import KpiSnapshot

    snapshot = db.session.get(KpiSnapshot, district)
    result = json.loads(snapshot.data) if snapshot is not None and snapshot.computed_at > now - HOME_FRESH else None
    if result is not None and "answer_hours" in result:  # kept before the answer hours were: counted again
        counted_at = snapshot.computed_at
    else:
        try:
            result, counted_at = count_home_kpis(district, now), now
        except NotReady:  # the buckets are being counted after an upgrade: the home shows none yet
            return None
    shown = kpis.for_viewer(result, user)
    shown["counted_at"] = counted_at
    return shown


def count_home_kpis(district: str, now: datetime) -> dict:
    """Counts the district's home indicators and keeps them (replacing what was kept)."""
    import json

    from casemgmt.reports import kpis
    from casemgmt.reports.models import KpiSnapshot

    period = Period(local_day(now - timedelta(days=HOME_DAYS)), local_day(now))
    result = kpis.compute(district, period, now)
    result["answer_hours"] = answer_hours(district, period)
    table = KpiSnapshot.__table__
    values = {"district_code": district, "computed_at": now, "data": json.dumps(result, sort_keys=True)}
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # Two homes counting at once: the later count is kept, neither fails.
    db.session.execute(insert(table).values(**values).on_conflict_do_update(
        index_elements=[table.c.district_code], set_={"computed_at": now, "data": values["data"]}))
    return result
