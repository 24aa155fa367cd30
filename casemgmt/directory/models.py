"""Areas and organisations."""
from __future__ import annotations

from datetime import time

from sqlalchemy import ForeignKey, Index, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgmt.dbtypes import byte_ordered, TimestampMixin, version_column
from casemgmt.extensions import db

LEVELS_BY_DEPTH = ("province", "regency", "district", "village")


def level_of(code: str) -> str:
    """province 73, regency 73.06, district (kecamatan) 73.06.01, village 73.06.01.2006."""
    return LEVELS_BY_DEPTH[code.count(".")]


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def area_label(code: str, level: str, name: str) -> str:
    """An area's name as people write it: villages say whether they are a desa or a kelurahan
    (a village number starting with 1 is a kelurahan), a kecamatan says so; the rest carry it in the name."""
    if level == "village":
        prefix = "Kelurahan" if code.rsplit(".", 1)[1].startswith("1") else "Desa"
        return f"{prefix} {name}"
    if level == "district":
        return f"Kecamatan {name}"
    return name


class Area(db.Model):
    __tablename__ = "area"

    code: Mapped[str] = mapped_column(byte_ordered(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(byte_ordered(13), ForeignKey("area.code"), index=True)

    __table_args__ = (Index("ix_area_name", "name"),)

    @property
    def display_name(self) -> str:
        return area_label(self.code, self.level, self.name)

    def __repr__(self) -> str:
        return f"<Area {self.code} {self.name}>"


class OrganisationService(db.Model):
    __tablename__ = "organisation_service"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    service: Mapped[str] = mapped_column(String(40), primary_key=True)


class OrganisationCoverage(db.Model):
    __tablename__ = "organisation_coverage"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    area_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), primary_key=True, index=True)

    area: Mapped[Area] = relationship(lazy="joined")


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    area_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), nullable=False, index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    contact_person: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    version: Mapped[int] = version_column()

    # Read when asked for (directory.services.list_organisations asks for them all at once): an
    # organisation joined into every referral and inbox row would otherwise cost two queries more.
    area: Mapped[Area] = relationship(lazy="select")
    service_rows: Mapped[list[OrganisationService]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by=OrganisationService.service
    )
    coverage_rows: Mapped[list[OrganisationCoverage]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by=OrganisationCoverage.area_code
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def services(self) -> list[str]:
        return [row.service for row in self.service_rows]

    @property
    def covered_area_codes(self) -> list[str]:
        return [row.area_code for row in self.coverage_rows]

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"


class DistrictSettings(db.Model):
    """What a district (kabupaten/kota, a regency code such as 73.06) sets for itself. A district
    without a row has the defaults below (``district_settings``)."""

    __tablename__ = "district_settings"

    area_code: Mapped[str] = mapped_column(byte_ordered(13), ForeignKey("area.code"), primary_key=True)
    # Local time (Asia/Makassar) at which daily notification digests are sent.
    digest_time: Mapped[time] = mapped_column(Time, default=time(7, 0), nullable=False)
    # Open cases above which a worker's caseload is flagged (DOMAIN.md: quality drops above ~25).
    caseload_threshold: Mapped[int] = mapped_column(default=25, nullable=False)
    # Days an imported population extract is kept when no newer one replaces it.
    population_retention_days: Mapped[int] = mapped_column(default=180, nullable=False)
    version: Mapped[int] = version_column()

    __mapper_args__ = {"version_id_col": version}

