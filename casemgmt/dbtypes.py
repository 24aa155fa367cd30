"""Column types and mixins shared by every feature's models."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# The largest id an integer column holds on every database we run on (PostgreSQL's integer).
MAX_ID = 2**31 - 1


def byte_ordered(length: int | None = None):
    """A text column compared byte by byte on every database: region codes and search words are
    ranges ("73.06." < code < "73.06/") only in byte order. PostgreSQL databases made with a
    language locale (en_US, id_ID, ICU) ignore "." and "/" when comparing, so there the column
    says COLLATE "C", and its index serves those ranges; SQLite compares bytes already (BINARY)."""
    if length is None:
        return Text().with_variant(Text(collation="C"), "postgresql")
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def made_on(index, dialect_name: str) -> bool:
    """Whether the models make ``index`` on this database: an Index(...).ddl_if(dialect=...) is
    made on that one only. Autogenerate and the migration test compare only these."""
    condition = getattr(index, "_ddl_if", None)
    if condition is None or condition.dialect is None:
        return True
    dialects = (condition.dialect,) if isinstance(condition.dialect, str) else condition.dialect
    return dialect_name in dialects


def compare_options(dialect_name: str) -> dict:
    """What autogenerate (migrations/env.py) and the migration test compare of the models with a
    database: not SQLite's FTS5 tables, which migrations make by hand, nor the indexes the models
    make only on the other database."""
    from casemgmt.cases.search import is_search_artifact

    return {
        "include_name": lambda name, type_, parents: not (type_ == "table" and is_search_artifact(name)),
        "include_object": lambda obj, name, type_, reflected, compare_to: (
            reflected or type_ != "index" or made_on(obj, dialect_name)),
    }


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database.

    PostgreSQL keeps the offset (timestamptz); SQLite stores naive UTC text, so we
    re-attach UTC on the way out and refuse naive values on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


def version_column() -> Mapped[int]:
    """An integer version that SQLAlchemy bumps on every UPDATE.

    Declare it in the model and name it in ``__mapper_args__ = {"version_id_col": version}``.
    Services compare the version a client saw with the current one first (a clear 409
    or conflict message); the mapper's check then also catches a race between two
    transactions that both passed that comparison.
    """
    return mapped_column(Integer, nullable=False)
