"""Report periods, report downloads logged, and what each role's dashboard shows (who may see
which area's indicators is access.indicator_area)."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from statistics import median

from flask_babel import gettext as _
from sqlalchemy import func, select

from casemgmt.accounts.services import named_counts
from casemgmt.access import district_of, scope_cases
from casemgmt.cases.models import Case
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.reports.indicators import Period, quarter


def parse_period(start: str | None, end: str | None, year: int | None = None, q: int | None = None) -> Period:
    if year and q:
        if not 1 <= q <= 4:
            raise ValidationFailed({"quarter": _("A quarter is 1 to 4.")})
        return quarter(year, q)
    today = utcnow().date()
    try:
        first = date.fromisoformat(start) if start else today - timedelta(days=90)
        last = date.fromisoformat(end) if end else today
    except ValueError as exc:
        raise ValidationFailed({"from": _("Dates are written YYYY-MM-DD.")}) from exc
    if first > last:
        raise ValidationFailed({"from": _("The start is after the end.")})
    return Period(first, last)


def record_report_download(user, area_code: str) -> None:
    from casemgmt.audit import services as audit

    audit.log_access(user, "download_report", "indicators", area_code)
    db.session.commit()


def dashboard(user) -> dict:
    from casemgmt.conferences.models import CaseConference
    from casemgmt.conferences.services import count_not_reviewed
    from casemgmt.referrals.models import Referral
    from casemgmt.workflow.models import Approval

    now = utcnow()
    data: dict = {}
    # Every count starts from the cases the user may see (access.scope_cases), as the lists do.
    if user.role == "village_worker":
        data["recent"] = list(db.session.scalars(scope_cases(user).order_by(Case.created_at.desc()).limit(5)))
    elif user.role == "social_worker":
        mine = scope_cases(user, assigned_to_me=True).where(Case.status == "open")
        cases = list(db.session.scalars(mine))
        data["by_stage"] = dict(Counter(c.stage for c in cases))
        data["due_this_week"] = sum(1 for c in cases if c.due_at and now <= c.due_at < now + timedelta(days=7))
        data["overdue"] = sum(1 for c in cases if c.overdue(now))
        data["referrals_waiting"] = db.session.scalar(select(func.count(Referral.id)).where(
            Referral.created_by_id == user.id, Referral.status == "sent")) or 0
        data["approvals_waiting"] = db.session.scalar(select(func.count(Approval.id)).where(
            Approval.requested_by_id == user.id, Approval.status == "pending")) or 0
    elif user.role == "coordinator":
        # Counted by the database: a district holds tens of thousands of cases.
        from casemgmt.accounts.models import User

        district = district_of(user.area_code)
        is_open = Case.status == "open"
        overdue = Case.overdue_at(now)
        data["triage"] = db.session.scalar(scope_cases(user, select(func.count(Case.id))).where(
            is_open, Case.stage == "report"))
        data["overdue_by_stage"] = dict(db.session.execute(
            scope_cases(user, select(Case.stage, func.count(Case.id))).where(overdue)
            .group_by(Case.stage)).all())
        # By worker, not by name: two workers may share one.
        by_worker = (scope_cases(user, select(User.full_name, User.username, func.count(Case.id)).select_from(Case)
                                 .join(User, User.id == Case.assigned_worker_id)).where(is_open)
                     .group_by(User.id, User.full_name, User.username).order_by(User.full_name, User.username))
        data["overdue_by_worker"] = named_counts(db.session.execute(by_worker.where(overdue)).all())
        data["workload"] = named_counts(db.session.execute(by_worker).all())
        answered = db.session.execute(scope_cases(user, select(
            Referral.to_organisation_id, Referral.created_at, Referral.responded_at)
            .join(Case, Case.id == Referral.case_id))
            .where(Referral.responded_at.is_not(None), Referral.created_at >= now - timedelta(days=90)))
        hours: dict[int, list[float]] = {}
        for org_id, created, responded in answered:
            hours.setdefault(org_id, []).append((responded - created).total_seconds() / 3600)
        from casemgmt.directory.models import Organisation

        names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                        .where(Organisation.id.in_(list(hours) or [0]))).all())
        data["answer_hours"] = {names[o]: round(median(h), 1) for o, h in hours.items()}
        data["conferences"] = list(db.session.scalars(
            select(CaseConference).where(CaseConference.district_code == district,
                                         CaseConference.status == "scheduled", CaseConference.scheduled_at >= now)
            .order_by(CaseConference.scheduled_at).limit(5)))
        data["not_reviewed"] = count_not_reviewed(user, now)
    return data
