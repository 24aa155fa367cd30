"""Referrals: a case sent to an organisation for a service, answered, completed or cancelled."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgmt.accounts.models import User
from casemgmt.dbtypes import UTCDateTime, utcnow, version_column
from casemgmt.directory.models import Organisation
from casemgmt.extensions import db

STATUSES = ("sent", "accepted", "declined", "completed", "cancelled")
OPEN_STATUSES = ("sent", "accepted")
URGENCIES = ("normal", "urgent")
CONSENT_GIVERS = ("child", "caregiver", "both")


class Referral(db.Model):
    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    # Indexed as the first column of the boxes' indexes below, not each on its own.
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    service: Mapped[str] = mapped_column(String(40), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    urgency: Mapped[str] = mapped_column(String(10), nullable=False, default="normal")
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="sent", index=True)
    # Consent (child's assent, caregiver's consent) or a coordinator's recorded override.
    consent_given_by: Mapped[str | None] = mapped_column(String(10))
    consent_recorded_on: Mapped[date | None] = mapped_column(Date)
    consent_override_reason: Mapped[str | None] = mapped_column(Text)
    consent_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    plan_action_id: Mapped[int | None] = mapped_column(ForeignKey("plan_action.id", ondelete="SET NULL"))
    parent_referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    delivered_on: Mapped[date | None] = mapped_column(Date, index=True, active_history=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = version_column()

    from_organisation: Mapped[Organisation] = relationship(lazy="joined", foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(lazy="joined", foreign_keys=[to_organisation_id])
    created_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (# The boxes (referrals.services.box), each part read in its order, a page at
                      # a time: an organisation's open referrals by answer deadline, the rest
                      # newest first. A PKSAI's box grows far past what can be read whole.
                      Index("ix_referral_to_status_respond", "to_organisation_id", "status", "respond_by"),
                      Index("ix_referral_from_status_respond", "from_organisation_id", "status", "respond_by"),
                      Index("ix_referral_to_created", "to_organisation_id", "created_at"),
                      Index("ix_referral_from_created", "from_organisation_id", "created_at"),
                      # A social worker's referrals waiting for an answer (their home page).
                      Index("ix_referral_created_by_status", "created_by_id", "status"))

    def overdue(self, now: datetime | None = None) -> bool:
        return self.status == "sent" and self.respond_by < (now or utcnow())
