"""The outbox: one in-app notification per recipient and event, one delivery per notification
and channel, and each user's preferences per channel."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casemgmt.dbtypes import UTCDateTime, utcnow
from casemgmt.extensions import db

KINDS = ("referral_received", "referral_due_soon", "referral_answered", "approval_requested",
         "approval_decided", "case_assigned", "deadline_due_soon", "deadline_overdue", "conference_invited",
         "task_assigned", "complaint_status", "transfer_requested", "outreach_assigned",
         # Beyond API.md's list: the worker whose cases a coordinator moved to someone else; the
         # Dukcapil office a birth-certificate letter from an outreach row is addressed to.
         "caseload_moved", "outreach_letter")

# pending: waits for next_attempt_at; sending: claimed by a worker; sent; failed (for good);
# skipped: never sent (no address, the channel off for this user or not configured).
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "skipped")
CHANNEL_MODES = {"email": ("immediate", "daily", "off"), "push": ("immediate", "off"), "sms": ("immediate", "off")}


class Notification(db.Model):
    """What one person is told about one event. ``data`` holds the parameters of the text (a
    case or referral number, a due time, what is asked): never anything about the child."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[dict | None] = mapped_column(JSON)
    link: Mapped[str | None] = mapped_column(String(200))  # a path of this app, e.g. /cases/12
    urgent: Mapped[bool] = mapped_column(default=False, nullable=False)
    # One notification per person and event however often the event is reported.
    event_key: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),
                      UniqueConstraint("user_id", "event_key"))


class Delivery(db.Model):
    """One notification on one channel: the delivery log an admin reads."""

    __tablename__ = "notification_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    digest: Mapped[bool] = mapped_column(default=False, nullable=False)  # goes in the daily e-mail
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("notification_id", "channel"),
                      Index("ix_notification_delivery_due", "status", "next_attempt_at"),
                      Index("ix_notification_delivery_claim", "claim_token"))


class NotificationPreference(db.Model):
    """How a person wants to hear, per channel (API.md); no row means immediate everywhere."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(10), default="immediate", nullable=False)
    push: Mapped[str] = mapped_column(String(10), default="immediate", nullable=False)
    sms: Mapped[str] = mapped_column(String(10), default="immediate", nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
