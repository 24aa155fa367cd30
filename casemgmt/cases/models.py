"""Complaints, children, cases and what hangs on a case: concerns, timeline, attachments.

The indicators count these records as they change (reports.tally, installed with every model in
casemgmt/models.py): each flush marks the buckets a change touches, each commit writes them down.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, and_, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgmt.accounts.models import User
from casemgmt.dbtypes import byte_ordered, TimestampMixin, UTCDateTime, utcnow, version_column
from casemgmt.directory.models import Area, Organisation
from casemgmt.extensions import db

CHANNELS = ("walk_in", "phone", "hotline", "outreach", "other")
RISK_LEVELS = ("high", "medium", "low")
CASE_STATUSES = ("open", "closed")


class Complaint(TimestampMixin, db.Model):
    """One report (pengaduan) received; each child in it becomes its own case."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True,
                                                  active_history=True)  # the indicators recount the old day
    # The reporter's identity is confidential (access.py decides who sees it).
    reporter_anonymous: Mapped[bool] = mapped_column(default=False, nullable=False)
    reporter_name: Mapped[str | None] = mapped_column(String(120))
    reporter_phone: Mapped[str | None] = mapped_column(String(40))
    reporter_relationship: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    urgent: Mapped[bool] = mapped_column(default=False, nullable=False)
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    registered_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    version: Mapped[int] = version_column()

    registered_by: Mapped[User] = relationship(lazy="select", foreign_keys=[registered_by_id])
    registered_by_org: Mapped[Organisation | None] = relationship(lazy="select")
    cases: Mapped[list["Case"]] = relationship(back_populates="complaint", order_by="Case.id")

    __mapper_args__ = {"version_id_col": version}


class Child(TimestampMixin, db.Model):
    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    # Spelling-normalised name (identity.name_key) for finding the same child again.
    name_key: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    sex: Mapped[str] = mapped_column(String(1), nullable=False)
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_date_estimated: Mapped[bool] = mapped_column(default=False, nullable=False)
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    area_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False, index=True)
    address: Mapped[str | None] = mapped_column(Text)
    caregiver_name: Mapped[str | None] = mapped_column(String(120))
    caregiver_relationship: Mapped[str | None] = mapped_column(String(80))
    caregiver_phone: Mapped[str | None] = mapped_column(String(40))
    # The family (Kartu Keluarga) the child belongs to, if known, and the child's place on it
    # (codes.RELATIONSHIPS_TO_HEAD, SIAK STAT_HBKEL).
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    relationship_to_head: Mapped[str | None] = mapped_column(String(2))
    version: Mapped[int] = version_column()

    area: Mapped[Area] = relationship(lazy="joined")
    household: Mapped["Household | None"] = relationship(lazy="select")

    __mapper_args__ = {"version_id_col": version}


class Household(TimestampMixin, db.Model):
    """A family as its Kartu Keluarga names it: siblings of separate complaints meet here.

    Its members are the children recorded with its KK number (Child.household_id). Of the other
    people on the card only the head is recorded: a worker plans with the head of the family, and
    a household headed by a woman or by a child is itself a concern; everyone else on the card
    asked for nothing, so their names are not kept.
    """

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 16 digits; the first six are the region that issued the card, as in a NIK.
    kk_number: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    # Where the family lives: the village of the child it was first recorded with.
    area_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False, index=True)
    head_name: Mapped[str | None] = mapped_column(String(120))
    head_sex: Mapped[str | None] = mapped_column(String(1))
    version: Mapped[int] = version_column()

    __mapper_args__ = {"version_id_col": version}


class CaseNumberSequence(db.Model):
    """The last case number given in a district and year (7306-2026-000123)."""

    __tablename__ = "case_number_sequence"

    district_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(nullable=False, default=0)


class CaseConcern(db.Model):
    __tablename__ = "case_concern"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True)
    concern: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class CaseState:
    """What a case answers about its deadline, from its status and due_at alone: shared by the
    model and by the plain rows of a list (cases.listing.CaseRow)."""

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def overdue(self, now: datetime | None = None) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < (now or utcnow())


class Case(CaseState, db.Model):
    __tablename__ = "case_record"  # CASE is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), nullable=False, index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), nullable=False, index=True)
    # The kabupaten/kota that answers for the case ("73.06"): the coordinator's scope.
    district_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False)
    # The child's village when the case was opened: the area filters use it.
    area_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False, index=True,
                                           active_history=True)  # the indicators recount the old district
    stage: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open", index=True)
    risk_level: Mapped[str | None] = mapped_column(String(10), index=True)
    urgent: Mapped[bool] = mapped_column(default=False, nullable=False)
    assigned_worker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    stage_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, active_history=True)
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    closure_summary: Mapped[str | None] = mapped_column(Text)
    goals_met: Mapped[bool | None] = mapped_column()
    # When the overdue sweep last told people about the current deadline.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when retention replaced the identifying fields (flask privacy anonymise).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Number, names and narrative in one column for full-text search (FTS5 / tsvector).
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="",
                                             active_history=True)  # search_word forgets the old words
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = version_column()

    complaint: Mapped[Complaint] = relationship(back_populates="cases", lazy="joined")
    child: Mapped[Child] = relationship(lazy="joined")
    assigned_worker: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[assigned_worker_id])
    area: Mapped[Area] = relationship(lazy="joined", foreign_keys=[area_code])
    concern_rows: Mapped[list[CaseConcern]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                           order_by=CaseConcern.concern)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Newest first, keyset-paginated: the list's order and its cursor.
        Index("ix_case_record_created_id", "created_at", "id"),
        Index("ix_case_record_district_created", "district_code", "created_at", "id"),
        # A district's cases in id order: (district_code, id) on PostgreSQL, for
        # search.newest_matches; district_code alone on SQLite, whose indexes hold the rowid after
        # their columns. On SQLite the two-column form, when the planner lacks statistics, is
        # chosen over ix_case_record_district_created for the case list, which must then sort
        # the whole district.
        Index("ix_case_record_district_code", "district_code").ddl_if(dialect="sqlite"),
        Index("ix_case_record_district_id", "district_code", "id").ddl_if(dialect="postgresql"),
        Index("ix_case_record_worker_created", "assigned_worker_id", "created_at", "id"),
        # The open cases of a district or a worker, counted and listed without reading them
        # (workflow.triage.open_counts, triage_board, triage_queue; home.tasks.my_tasks;
        # the dashboards): counts by stage and worker in index order, the most overdue first,
        # the triage queue a page at a time, a worker's deadlines in order.
        Index("ix_case_record_district_open", "district_code", "status", "stage", "assigned_worker_id", "due_at"),
        Index("ix_case_record_district_due", "district_code", "status", "due_at", "stage"),
        Index("ix_case_record_district_queue", "district_code", "status", "stage", "urgent", "created_at", "id"),
        Index("ix_case_record_worker_due", "assigned_worker_id", "status", "due_at", "stage"),
        # Whether any case of a district was saved since a moment, in one probe: the counts a
        # coordinator's pages keep are dropped when one was (workflow.kept_counts).
        Index("ix_case_record_district_updated", "district_code", "updated_at"),
        # PostgreSQL: the words, and the words behind the district, so a coordinator's search
        # reads only their district's matches instead of every district's (search.py).
        Index("ix_case_record_fts",
              func.case_search_terms(literal_column("district_code"), literal_column("search_text")),
              postgresql_using="gin").ddl_if(dialect="postgresql"),
    )

    @property
    def concerns(self) -> list[str]:
        return [row.concern for row in self.concern_rows]

    @staticmethod
    def overdue_at(now: datetime):
        """SQL for ``overdue(now)``: open, with its deadline passed."""
        return and_(Case.status == "open", Case.due_at < now)

    @property
    def registered_by_id(self) -> int:
        """Who registered the complaint: one of the facts access.case_access decides on."""
        return self.complaint.registered_by_id

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.stage}>"


class CaseEvent(db.Model):
    """The case's timeline: everything that happened to it, in order."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    from_stage: Mapped[str | None] = mapped_column(String(30))
    to_stage: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship(lazy="joined")

    # (at): the open cases whose latest entry lies in a given day (reports.kpi_tally, idle cases).
    __table_args__ = (Index("ix_case_event_case_at", "case_id", "at", "id"), Index("ix_case_event_at", "at"))


class ComplaintLink(db.Model):
    """A later complaint about a child who already has a case: linked, not opened again."""

    __tablename__ = "complaint_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    child_name: Mapped[str] = mapped_column(String(120), nullable=False)
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("complaint_id", "case_id"),)


class Attachment(db.Model):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(60), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(String(200))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    uploaded_by: Mapped[User] = relationship(lazy="joined")


class CaseSensitive(db.Model):
    """What only the assigned worker and the district coordinator may see (UU SPPA Art. 19, UU PDP)."""

    __tablename__ = "case_sensitive"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True)
    alleged_perpetrator: Mapped[str | None] = mapped_column(String(200))
    perpetrator_relationship: Mapped[str | None] = mapped_column(String(80))
    sexual_violence_details: Mapped[str | None] = mapped_column(Text)
    hiv_status: Mapped[str | None] = mapped_column(String(20))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class SearchWord(db.Model):
    """Every word the search index holds (cases.search): a prefix the user types is looked up
    here and searched as the exact words it stands for, which both indexes answer far faster
    than a prefix. Words only: nothing links a word to a case."""

    __tablename__ = "search_word"

    # Byte order on PostgreSQL, as on SQLite, so that a prefix is a range of this index.
    word: Mapped[str] = mapped_column(byte_ordered(), primary_key=True)

