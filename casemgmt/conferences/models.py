"""Conferences, their agenda, attendance, decisions, and tasks (conference action items)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgmt.accounts.models import User
from casemgmt.dbtypes import byte_ordered, UTCDateTime, utcnow, version_column
from casemgmt.directory.models import Organisation
from casemgmt.extensions import db


class CaseConference(db.Model):
    __tablename__ = "case_conference"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    district_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False, index=True)
    location: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="scheduled")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = version_column()

    created_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[created_by_id])
    agenda: Mapped[list["ConferenceCase"]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                          order_by="ConferenceCase.position")
    invited: Mapped[list["ConferenceOrganisation"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    attendees: Mapped[list["ConferenceAttendee"]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                                 order_by="ConferenceAttendee.id")

    __mapper_args__ = {"version_id_col": version}


class ConferenceCase(db.Model):
    __tablename__ = "conference_case"

    conference_id: Mapped[int] = mapped_column(ForeignKey("case_conference.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    position: Mapped[int] = mapped_column(nullable=False, default=0)


class ConferenceOrganisation(db.Model):
    __tablename__ = "conference_organisation"

    conference_id: Mapped[int] = mapped_column(ForeignKey("case_conference.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True, index=True)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class ConferenceAttendee(db.Model):
    __tablename__ = "conference_attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("case_conference.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    sex: Mapped[str] = mapped_column(String(1), nullable=False)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")


class ConferenceDecision(db.Model):
    __tablename__ = "conference_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("case_conference.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    tasks: Mapped[list["Task"]] = relationship(lazy="selectin", order_by="Task.id")


class Task(db.Model):
    """An action item of a conference decision: owned by an organisation, optionally a person."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int | None] = mapped_column(ForeignKey("case_conference.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("conference_decision.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False, index=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    owner_organisation: Mapped[Organisation] = relationship(lazy="joined")
    owner_user: Mapped[User | None] = relationship(lazy="joined")
