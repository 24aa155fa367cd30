"""What waits for the user's answer, counted for the top of the home page: an agency's
referrals to answer (and how many are past their answer deadline), a coordinator's approvals and
complaints to triage. One count query each, through the same scopes as the lists they link to."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select

from casemgmt.access import waiting_referrals
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.referrals.models import Referral
from casemgmt.workflow.models import Approval
from casemgmt.workflow.triage import approvals_query, open_counts


def referrals_to_answer(user, now: datetime) -> tuple[int, int]:
    """(waiting, of them overdue) in the user's organisation's inbox (referrals.index)."""
    waiting = waiting_referrals(user).with_only_columns(
        Referral.respond_by).order_by(None).subquery()
    total, overdue = db.session.execute(select(
        func.count(), func.coalesce(func.sum(case((waiting.c.respond_by < now, 1), else_=0)), 0))
        .select_from(waiting)).one()
    return int(total or 0), int(overdue or 0)


def approvals_to_decide(user) -> int:
    """Pending approvals of the user's district that someone else asked for (one's own request is
    decided by another): the coordinator's approvals page."""
    query = approvals_query(user).where(Approval.requested_by_id != user.id).with_only_columns(Approval.id)
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def complaints_to_triage(user, now: datetime) -> tuple[int, int]:
    """(new complaints waiting for triage, of them past the triage deadline): the triage page's,
    from the same count of the open cases (workflow.triage.open_counts, kept a minute for a
    whole district)."""
    counts = open_counts(user, now)
    return counts.by_stage().get("report", 0), counts.by_stage(overdue=True).get("report", 0)


def waiting_for(user, now: datetime | None = None) -> list[dict]:
    """The home page's first lines: per thing waiting, its count, how many are overdue, and the
    list that holds them. Empty for roles nothing waits on in this way."""
    now = now or utcnow()
    items: list[dict] = []
    if user.role == "agency_officer" and user.organisation_id:
        total, overdue = referrals_to_answer(user, now)
        items.append({"what": "referrals", "count": total, "overdue": overdue, "endpoint": "referrals.index"})
    elif user.role == "coordinator":
        items.append({"what": "approvals", "count": approvals_to_decide(user), "overdue": 0,
                      "endpoint": "workflow.approvals"})
        total, overdue = complaints_to_triage(user, now)
        items.append({"what": "triage", "count": total, "overdue": overdue, "endpoint": "workflow.triage"})
    return items
