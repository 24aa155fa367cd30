"""Two-factor log-in with time-based one-time codes (authenticator apps)."""
from __future__ import annotations

import pyotp
from flask import current_app
from flask_babel import gettext as _

from casemgmt.audit import services as audit
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db


def required_for(user) -> bool:
    return user.role in current_app.config["REQUIRE_2FA_ROLES"]


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="casemgmt")


def code_ok(secret: str | None, code: str | None) -> bool:
    code = (code or "").replace(" ", "")
    return bool(secret) and code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)


def enrol(user, secret: str, code: str) -> None:
    """Turn two-factor log-in on once the user shows their app produces the right code."""
    if not code_ok(secret, code):
        raise ValidationFailed({"code": _("The code does not match. Check the time on your phone and try again.")})
    user.totp_secret = secret
    audit.record("totp_enrolled", "user", user.id, actor=user)
    db.session.commit()


def reset(user, actor) -> None:
    """An admin turns it off (a lost phone); the user enrols again at the next log-in if required."""
    from casemgmt.accounts.services import end_every_session

    user.totp_secret = None
    end_every_session(user, "two_factor_reset")
    audit.record("totp_reset", "user", user.id, actor=actor)
    db.session.commit()
