"""What a person does with their notifications (read them, mark them read, choose how they hear)
and what an admin reads of the deliveries."""
from __future__ import annotations

from datetime import datetime

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from casemgmt import paging
from casemgmt.accounts.models import User
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.notify.models import CHANNEL_MODES, DELIVERY_STATUSES, Delivery, Notification, NotificationPreference


def unread_count(user) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def notifications_of(user, *, unread: bool = False, limit: int = 25, cursor: str | None = None):
    """A page of the user's notifications, newest first, and the next page's cursor."""
    limit = paging.page_size(limit)
    query = select(Notification).where(Notification.user_id == user.id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if cursor:
        at, row_id = paging.read_cursor(cursor, datetime, int)
        query = query.where(*paging.before(Notification.created_at, Notification.id, at, row_id))
    rows = list(db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                                   .limit(limit + 1)))
    return paging.page(rows, limit, lambda n: (n.created_at, n.id))


def notification_or_404(user, notification_id: int) -> Notification:
    """A notification is its recipient's alone: anyone else is told it does not exist."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        abort(404)
    return notification


def mark_read(notification: Notification, user, now: datetime | None = None) -> Notification:
    if notification.user_id != user.id:
        abort(404)
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        db.session.flush()
    return notification


def mark_all_read(user) -> None:
    db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.flush()


def preferences(user) -> dict:
    row = db.session.get(NotificationPreference, user.id)
    return {channel: getattr(row, channel) if row else "immediate" for channel in CHANNEL_MODES}


def set_preferences(user, changes: dict) -> dict:
    """Change any of the channels' modes (API.md): email immediate/daily/off, push and sms
    immediate/off. Unknown keys or values are refused, nothing saved."""
    if not isinstance(changes, dict):
        raise ValidationFailed({"preferences": _("Send an object of channels and modes.")})
    errors = {}
    for key, value in changes.items():
        if key not in CHANNEL_MODES:
            errors[str(key)[:40]] = _("Unknown channel.")
        elif value not in CHANNEL_MODES[key]:
            errors[key] = _("Choose one of: %(modes)s.", modes=", ".join(CHANNEL_MODES[key]))
    if errors:
        raise ValidationFailed(errors)
    row = db.session.get(NotificationPreference, user.id)
    if row is None:
        row = NotificationPreference(user_id=user.id, email="immediate", push="immediate", sms="immediate")
        db.session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.flush()
    return preferences(user)


def delivery_log(*, status: str | None = None, limit: int = 50, cursor: str | None = None):
    """The deliveries, newest first, with their notification's kind and the recipient's name."""
    limit = paging.page_size(limit)
    query = (select(Delivery, Notification.kind, User.username).join(Notification, Notification.id == Delivery.notification_id)
             .join(User, User.id == Delivery.user_id))
    if status in DELIVERY_STATUSES:
        query = query.where(Delivery.status == status)
    if cursor:
        (row_id,) = paging.read_cursor(cursor, int)
        query = query.where(Delivery.id < row_id)
    rows = list(db.session.execute(query.order_by(Delivery.id.desc()).limit(limit + 1)))
    return paging.page(rows, limit, lambda r: (r[0].id,))
