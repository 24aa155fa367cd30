"""Transfers of a case from one district's PKSAI to another's."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgmt.accounts.models import User
from casemgmt.dbtypes import UTCDateTime, byte_ordered, utcnow, version_column
from casemgmt.directory.models import Organisation
from casemgmt.extensions import db

TRANSFER_STATUSES = ("requested", "accepted", "declined", "cancelled")


class Transfer(db.Model):
    """A request that another district take a case over. Until it is accepted the sending district
    holds the case; from ``transferred_at`` the receiving one does, and the sending district sees
    what happened before that moment only (access.case_access)."""

    __tablename__ = "case_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    from_district_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False)
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    to_district_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="requested")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    assigned_worker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The moment the receiving district took the case over: the sender's view ends here.
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = version_column()

    from_organisation: Mapped[Organisation] = relationship(lazy="joined", foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(lazy="joined", foreign_keys=[to_organisation_id])
    requested_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(lazy="select", foreign_keys=[decided_by_id])
    assigned_worker: Mapped[User | None] = relationship(lazy="select", foreign_keys=[assigned_worker_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # One open request per case: a second one, even sent at the same moment, fails here.
        Index("uq_case_transfer_open", "case_id", unique=True,
              sqlite_where=text("status = 'requested'"), postgresql_where=text("status = 'requested'")),
        # A receiving PKSAI's incoming requests; a sending district's cases transferred out.
        Index("ix_case_transfer_to_status", "to_organisation_id", "status"),
        Index("ix_case_transfer_from_district", "from_district_code", "status", "case_id"),
    )

    @property
    def is_open(self) -> bool:
        return self.status == "requested"
