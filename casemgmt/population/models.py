"""A district's SIAK population extract (imports, the people in them) and the outreach rows
its rules list, with each row's status history."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casemgmt.dbtypes import UTCDateTime, byte_ordered, utcnow, version_column
from casemgmt.extensions import db


class PopulationImport(db.Model):
    """One upload of a district's extract; its id is the extract's id. The people it holds are in
    use once PopulationCurrent points at it."""
    __tablename__ = "population_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_code: Mapped[str] = mapped_column(byte_ordered(13), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    storage_key: Mapped[str | None] = mapped_column(String(200))  # the uploaded file, until it is read
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    rows: Mapped[int] = mapped_column(nullable=False, default=0)
    accepted: Mapped[int] = mapped_column(nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(nullable=False, default=0)
    errors: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # the first 100 {row, message}
    message: Mapped[str | None] = mapped_column(Text)  # why the whole import failed
    extract_date: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its people removed (replaced, retention)


class PopulationCurrent(db.Model):
    """Which import is a district's extract in use: switched only when a new one is complete."""
    __tablename__ = "population_current"

    district_code: Mapped[str] = mapped_column(byte_ordered(13), primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("population_import.id"), nullable=False)


class PopulationPerson(db.Model):
    """One resident of an extract, as far as the outreach rules and lists need (no religion or
    occupation is kept). Place of birth, parents' names and address are kept only for the
    children a birth-certificate letter to Dukcapil may be about (under 18, no certificate)."""
    __tablename__ = "population_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(nullable=False)
    row_number: Mapped[int] = mapped_column(nullable=False)
    nik: Mapped[str] = mapped_column(String(16), nullable=False)
    kk_number: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    sex: Mapped[str] = mapped_column(String(1), nullable=False)  # M or F
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    age: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # whole years at the extract's date
    relationship: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # STAT_HBKEL
    marital_status: Mapped[int | None] = mapped_column(SmallInteger)  # STAT_KWN
    education: Mapped[int | None] = mapped_column(SmallInteger)  # PDDK_AKH
    nik_mother: Mapped[str | None] = mapped_column(String(16))
    nik_father: Mapped[str | None] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(byte_ordered(13), nullable=False)
    has_birth_certificate: Mapped[bool] = mapped_column(Boolean, nullable=False)
    birth_place: Mapped[str | None] = mapped_column(String(100))
    mother_name: Mapped[str | None] = mapped_column(String(200))
    father_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_population_person_kk", "import_id", "kk_number"),
                      Index("ix_population_person_area", "import_id", "area_code"))


OUTREACH_STATUSES = ("open", "in_progress", "resolved", "not_applicable")


class OutreachItem(db.Model):
    """One child listed by one outreach rule, and what was done about it."""
    __tablename__ = "outreach_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(nullable=False)
    person_id: Mapped[int] = mapped_column(ForeignKey("population_person.id"), nullable=False, index=True)
    rule: Mapped[str] = mapped_column(String(40), nullable=False)
    area_code: Mapped[str] = mapped_column(byte_ordered(13), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    note: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                         index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = version_column()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_outreach_item_list", "import_id", "area_code", "id"),)


class OutreachEvent(db.Model):
    """A change of an outreach row's status, with who made it and why."""
    __tablename__ = "outreach_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    outreach_id: Mapped[int] = mapped_column(ForeignKey("outreach_item.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class PopulationCount(db.Model):
    """Counts of an extract made at import, what the coverage and outreach summaries read: children
    (under 18) per village, sex and age group with how many have a birth certificate (``rule``
    empty), and outreach rows per village and rule (``sex`` and ``age_group`` empty). Names none,
    so they stay when retention removes the extract's people."""
    __tablename__ = "population_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(nullable=False)
    area_code: Mapped[str] = mapped_column(byte_ordered(13), nullable=False)
    sex: Mapped[str | None] = mapped_column(String(1))
    age_group: Mapped[str | None] = mapped_column(String(5))
    rule: Mapped[str | None] = mapped_column(String(40))
    n: Mapped[int] = mapped_column(nullable=False)
    with_certificate: Mapped[int] = mapped_column(nullable=False, default=0)

    __table_args__ = (Index("ix_population_count_area", "import_id", "area_code"),)


class OutreachLetter(db.Model):
    """A letter to the district's Dukcapil asking for a child's birth certificate, issued from an
    outreach row of rule no_birth_certificate: one per row. ``child`` is the identity as the
    letter printed it, so that every download is the same letter; it goes with its row."""
    __tablename__ = "outreach_letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    outreach_id: Mapped[int] = mapped_column(ForeignKey("outreach_item.id", ondelete="CASCADE"), nullable=False,
                                             unique=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    district_code: Mapped[str] = mapped_column(byte_ordered(13), nullable=False)
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False, index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    issued_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    child: Mapped[dict] = mapped_column(JSON, nullable=False)


class OutreachLetterSequence(db.Model):
    """The last letter number given in a district and year (AKTA/7306/2026/00012)."""
    __tablename__ = "outreach_letter_sequence"

    district_code: Mapped[str] = mapped_column(byte_ordered(13), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(nullable=False, default=0)
