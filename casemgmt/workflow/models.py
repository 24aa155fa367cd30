"""What the SOP's stages record: assessment, plan goals and actions, monitoring visits,
approvals that gate transitions, per-district deadlines, and notifications."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgmt.accounts.models import User
from casemgmt.dbtypes import byte_ordered, UTCDateTime, utcnow, version_column
from casemgmt.directory.models import Organisation
from casemgmt.extensions import db

ACTION_STATUSES = ("open", "done", "cancelled")
PROGRESS = ("improved", "same", "worse")


class Assessment(db.Model):
    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), unique=True, nullable=False)
    risk_level: Mapped[str | None] = mapped_column(String(10))
    needs: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # service codes
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = version_column()

    __mapper_args__ = {"version_id_col": version}


class PlanGoal(db.Model):
    __tablename__ = "plan_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    description: Mapped[str] = mapped_column(Text, nullable=False)

    actions: Mapped[list["PlanAction"]] = relationship(back_populates="goal", cascade="all, delete-orphan",
                                                       order_by="PlanAction.position", lazy="selectin")


class PlanAction(db.Model):
    __tablename__ = "plan_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goal.id", ondelete="CASCADE"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    service: Mapped[str | None] = mapped_column(String(40))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    note: Mapped[str | None] = mapped_column(Text)
    done_on: Mapped[date | None] = mapped_column(Date, index=True, active_history=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = version_column()

    goal: Mapped[PlanGoal] = relationship(back_populates="actions")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class MonitoringVisit(db.Model):
    __tablename__ = "monitoring_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    visited_on: Mapped[date] = mapped_column(Date, nullable=False)
    progress: Mapped[str] = mapped_column(String(10), nullable=False)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    recorded_by: Mapped[User] = relationship(lazy="joined")


class Approval(db.Model):
    """A transition waiting for a coordinator. The case does not move until it is approved."""

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    transition: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending", index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    # Set when the decision was taken in a case conference (conferences issue).
    conference_id: Mapped[int | None] = mapped_column()

    requested_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[decided_by_id])


class DeadlineSetting(db.Model):
    """A district's own length for one of the SOP's clocks, overriding DOMAIN.md's default."""

    __tablename__ = "deadline_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False)
    clock: Mapped[str] = mapped_column(String(30), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    hours: Mapped[int] = mapped_column(nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("district_code", "clock", "level"),)


# The in-app notices live with the outbox that delivers them.
from casemgmt.notify.models import Notification  # noqa: E402,F401


class JuvenileClockRun(db.Model):
    """One juvenile-justice clock of a case (workflow.deadlines.JUVENILE_CLOCKS): started by the
    investigator's request, stopped by the step it waits for, told once when it runs out."""
    __tablename__ = "juvenile_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    clock: Mapped[str] = mapped_column(String(30), nullable=False)
    district_code: Mapped[str] = mapped_column(byte_ordered(13), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case = relationship("Case", lazy="joined", viewonly=True)  # my tasks name the case

    __table_args__ = (Index("ix_juvenile_clock_running", "stopped_at", "due_at"),
                      Index("ix_juvenile_clock_district", "district_code", "started_at"))

    def overdue(self, now: datetime) -> bool:
        return self.stopped_at is None and self.due_at < now

    @property
    def stopped_late(self) -> bool:
        return self.stopped_at is not None and self.stopped_at > self.due_at
