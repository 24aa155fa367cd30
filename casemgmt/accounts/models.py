"""User accounts and API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgmt.dbtypes import byte_ordered, TimestampMixin, UTCDateTime, utcnow, version_column
from casemgmt.directory.models import Area, Organisation
from casemgmt.extensions import db


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(120), nullable=False)
    sex: Mapped[str] = mapped_column(String(1), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The area a user answers for: a coordinator's district, a village worker's village.
    area_code: Mapped[str | None] = mapped_column(byte_ordered(13), ForeignKey("area.code"), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))  # E.164 (+62...) when set by the user
    # The language the user reads: pages after log-in and notifications; None = the default.
    language: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    must_change_password: Mapped[bool] = mapped_column(default=False, nullable=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor log-in (TOTP, RFC 6238): the shared secret once enrolled.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The time step of the last code taken: a code is good once (accounts.twofactor.use_code).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Bumped to end every session of the user at once (disable, password reset).
    session_epoch: Mapped[int] = mapped_column(default=0, nullable=False)
    version: Mapped[int] = version_column()

    # Loaded when used: a user joined into every case query would drag these along too.
    organisation: Mapped[Organisation | None] = relationship(lazy="select")
    area: Mapped[Area | None] = relationship(lazy="select")

    __mapper_args__ = {"version_id_col": version}

    # Flask-Login reads is_active; a disabled account cannot log in or keep a session.
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(db.Model):
    """A bearer token. Only its SHA-256 is stored: the token itself is 256 random bits."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The user's session epoch when the token was issued: disabling a user ends tokens too.
    session_epoch: Mapped[int] = mapped_column(default=0, nullable=False)

    user: Mapped[User] = relationship(lazy="joined")


class UserSession(db.Model):
    """A logged-in browser session, kept in the database so that every app server refuses it
    once it ends (log-out, idle time-out, password change, deactivation, reset). The cookie
    carries the session's random id; only its SHA-256 is stored."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Written at most once a minute (security.SEEN_STEP): the idle time-out counts from it.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # logout, idle, password_changed, password_reset, disabled, two_factor_reset
    ended_reason: Mapped[str | None] = mapped_column(String(20))


class LoginThrottle(db.Model):
    """Failed log-ins of one name from one client address (accounts.services.authenticate):
    the pair is held back after repeated failures, never the account itself, so a stranger
    cannot lock a worker out and a name that does not exist answers as one that does. Only
    keyed hashes of the name and the pair are stored."""

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # The name's alone: an admin's unlock lets the user in again from every address.
    name_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    failures: Mapped[int] = mapped_column(default=0, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
