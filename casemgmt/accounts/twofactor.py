"""Two-factor log-in with time-based one-time codes (authenticator apps)."""
from __future__ import annotations

import hmac
from datetime import datetime, timezone

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from casemgmt.audit import services as audit
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db


def required_for(user) -> bool:
    return user.role in current_app.config["REQUIRE_2FA_ROLES"]


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="casemgmt")


def code_step(secret: str | None, code: str | None, now: datetime | None = None) -> int | None:
    """The time step (RFC 6238) whose code this is, one step either side of now allowed for a
    phone's clock; None for a wrong or malformed code."""
    code = (code or "").replace(" ", "")
    if not secret or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or datetime.now(timezone.utc))
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_ok(secret: str | None, code: str | None) -> bool:
    return code_step(secret, code) is not None


def use_code(user, code: str | None) -> bool:
    """Whether the code is right and not used before: each code (each time step) is taken once
    per user, and no step older than the last one taken (RFC 6238 section 5.2), so a code seen
    over a shoulder or in a proxy's log cannot be played again. The step is claimed in one
    conditional UPDATE, so two requests racing with one code cannot both have it."""
    from sqlalchemy import or_, update

    from casemgmt.accounts.models import User

    step = code_step(user.totp_secret, code)
    if step is None:
        return False
    claimed = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
    if claimed:
        set_committed_value(user, "totp_last_step", step)
    return bool(claimed)


def enrol(user, secret: str, code: str) -> None:
    """Turn two-factor log-in on once the user shows their app produces the right code (which
    is then used: the next log-in needs a later one)."""
    step = code_step(secret, code)
    if step is None:
        raise ValidationFailed({"code": _("The code does not match. Check the time on your phone and try again.")})
    user.totp_secret = secret
    user.totp_last_step = step
    audit.record("totp_enrolled", "user", user.id, actor=user)
    db.session.flush()


def reset(user, actor) -> None:
    """An admin turns it off (a lost phone); the user enrols again at the next log-in if required."""
    from casemgmt.accounts.services import end_every_session

    user.totp_secret = None
    user.totp_last_step = None
    end_every_session(user, "two_factor_reset")
    audit.record("totp_reset", "user", user.id, actor=actor)
    db.session.flush()
