"""In-app notices: written with the change that causes them, read and marked read on the home page."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from casemgmt.cases.models import Case
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.workflow.models import Notification


def tell_overdue(case: Case, user_ids, now: datetime) -> int:
    """Tell these users that the case passed its due date (once per person and deadline)."""
    from casemgmt.notify import events

    return events.deadline_overdue(case, user_ids, now)


HOME_NOTICES = 5  # the newest unread notifications the home shows; the notifications page has them all


def unread_notifications(user, limit: int | None = None) -> list:
    """The user's newest unread notifications, at most ``limit`` (HOME_NOTICES)."""
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.read_at.is_(None))
                                   .order_by(Notification.created_at.desc()).limit(limit or HOME_NOTICES)))


def mark_all_read(user) -> None:
    from sqlalchemy import update

    db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.flush()
