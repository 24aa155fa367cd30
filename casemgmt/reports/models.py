"""Export jobs (large case-list exports run in the background; only the requester downloads) and
the indicator buckets: counts per district and day or month, what changes touched, whether counted."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casemgmt.dbtypes import byte_ordered, UTCDateTime, utcnow
from casemgmt.extensions import db


class ExportJob(db.Model):
    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    format: Mapped[str] = mapped_column(String(5), nullable=False)
    filters: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    total: Mapped[int] = mapped_column(nullable=False, default=0)
    done: Mapped[int] = mapped_column(nullable=False, default=0)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(10))  # the language the file is written in
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Runs so far: each run claims the job with the next number, and only that run may write it.
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    # Written by the running worker with each page: a running job whose beat stops lost its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IndicatorBucket(db.Model):
    """Counts behind the indicators for one district, one day or one month, one section
    (intake, closure, referral, delivered), kept up to date as records change
    (``casemgmt.reports.tally``). ``data`` is JSON: {kind: {key: count}}."""
    __tablename__ = "indicator_bucket"

    district_code: Mapped[str] = mapped_column(byte_ordered(16), primary_key=True)
    grain: Mapped[str] = mapped_column(String(5), primary_key=True)  # "day" or "month"
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    section: Mapped[str] = mapped_column(String(10), primary_key=True)
    data: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (Index("ix_indicator_bucket_grain_start", "grain", "start"),)


class IndicatorBuild(db.Model):
    """Present once the buckets hold every record. A database filled before them, or by bulk
    inserts, is counted once: by the first indicator request when small, by the worker's
    ``rebuild_indicators`` when large, or by hand with ``flask reports rebuild``."""
    __tablename__ = "indicator_build"

    id: Mapped[int] = mapped_column(primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class IndicatorDirty(db.Model):
    """A bucket a committed change touched, waiting to be recounted (by the background worker
    every minute, or by the next indicator request, whichever comes first)."""
    __tablename__ = "indicator_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_code: Mapped[str] = mapped_column(byte_ordered(16), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    section: Mapped[str] = mapped_column(String(10), nullable=False)


class KpiSnapshot(db.Model):
    """A district's management indicators of the last 90 days as its coordinator's home shows
    them, counted at most an hour before (``reports.services.home_kpis``; the background worker
    recounts them every hour): counting them takes longer than a home page may."""
    __tablename__ = "kpi_snapshot"

    district_code: Mapped[str] = mapped_column(byte_ordered(16), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    data: Mapped[str] = mapped_column(Text, nullable=False)
