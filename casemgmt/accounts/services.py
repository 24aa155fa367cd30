"""Account operations: log-in with lock-out, creating and changing users, API tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from casemgmt.accounts.models import ApiToken, LoginThrottle, User, UserSession
from casemgmt.accounts.passwords import (
    burn_time_like_a_verify,
    hash_password,
    needs_rehash,
    policy_problems,
    verify_password,
)
from casemgmt.audit import services as audit
from casemgmt.codes import ROLES, SEXES
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Area, Organisation
from casemgmt.errors import InvalidCredentials, LockedOut, StaleVersion, ValidationFailed
from casemgmt.extensions import db

# Roles that work for an organisation; the analyst and admin may stand outside one.
ROLES_NEEDING_ORGANISATION = {"village_worker", "social_worker", "coordinator", "agency_officer"}

USER_FIELDS = ("username", "full_name", "sex", "role", "organisation_id", "area_code",
               "email", "phone", "active")


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def find_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))


def snapshot(user: User) -> dict:
    return {field: getattr(user, field) for field in USER_FIELDS}


# ---- log-in -------------------------------------------------------------------------------

def authenticate(username: str, password: str) -> User:
    """The user whose credentials these are, or InvalidCredentials / LockedOut.

    Failures are counted per name and client address (LoginThrottle), for names that exist and
    names that do not alike, so the answers never tell which usernames exist, and a stranger
    elsewhere cannot lock a worker out. A failed attempt is remembered although the request
    fails: its refusals keep what was written (InvalidCredentials.keeps_changes). A user with two-factor log-in is not logged in yet:
    ``verify_second_factor`` finishes it, so that re-entering the right password never clears
    the count of wrong codes.
    """
    now = utcnow()
    name = normalise_username(username)
    throttle = _throttle_for(name)
    _refuse_while_held_back(throttle, now)
    user = find_by_username(name)
    if user is None:
        burn_time_like_a_verify()
        _register_failure(throttle, name, None, now)
        raise InvalidCredentials()
    if not verify_password(user.password_hash, password) or not user.active:
        _register_failure(throttle, name, user, now)
        raise InvalidCredentials()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.totp_secret:
        db.session.flush()
        return user
    return _logged_in(user, throttle, now)


def verify_second_factor(user: User, code: str | None) -> User:
    """Finishes the log-in of a user whose password was right, or InvalidCredentials /
    LockedOut: a wrong one-time code counts toward the back-off like a wrong password."""
    from casemgmt.accounts.twofactor import use_code

    now = utcnow()
    throttle = _throttle_for(user.username)
    _refuse_while_held_back(throttle, now)
    if not user.active or not use_code(user, code):
        _register_failure(throttle, user.username, user, now)
        raise InvalidCredentials(_("The code is wrong or has expired."), details={"totp_required": True})
    return _logged_in(user, throttle, now)


def _logged_in(user: User, throttle: LoginThrottle | None, now: datetime) -> User:
    if throttle is not None:
        db.session.delete(throttle)
    user.last_login_at = now
    audit.record("login", "user", user.id, actor=user)
    db.session.flush()
    return user


def _keys(name: str, address: str | None) -> tuple[str, str]:
    """(pair key, name key): keyed hashes, so that the table holds neither the names tried
    (a password typed in the name's box) nor the addresses."""
    secret = current_app.config["SECRET_KEY"].encode()
    name_key = hmac.new(secret, b"name\0" + name.encode(), hashlib.sha256).hexdigest()
    pair = hmac.new(secret, b"pair\0" + name.encode() + b"\0" + (address or "").encode(), hashlib.sha256).hexdigest()
    return pair, name_key


def _client_address() -> str | None:
    from flask import has_request_context, request

    return request.remote_addr if has_request_context() else None


def _throttle_for(name: str) -> LoginThrottle | None:
    pair, _name_key = _keys(name, _client_address())
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == pair))


def _refuse_while_held_back(throttle: LoginThrottle | None, now: datetime) -> None:
    if throttle is not None and throttle.blocked_until is not None and throttle.blocked_until > now:
        raise LockedOut(details={"locked_until": throttle.blocked_until.isoformat()})


def _register_failure(throttle: LoginThrottle | None, name: str, user: User | None, now: datetime) -> None:
    """Counts a failure of this name from this address. From the LOCKOUT_THRESHOLD-th failure
    in a row the pair is held back, one minute and then twice as long after each further
    failure, at most LOCKOUT_MINUTES; a day without failures starts the count afresh."""
    cfg = current_app.config
    if throttle is None:
        pair, name_key = _keys(name, _client_address())
        throttle = LoginThrottle(key=pair, name_key=name_key, failures=0, last_failure_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(throttle)
        except IntegrityError:  # the same name and address failed at the same moment elsewhere
            throttle = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == pair))
    elif now - throttle.last_failure_at > THROTTLE_MEMORY:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    beyond = throttle.failures - cfg["LOCKOUT_THRESHOLD"]
    held = beyond >= 0
    if held:
        minutes = min(2 ** min(beyond, 10), cfg["LOCKOUT_MINUTES"])
        throttle.blocked_until = now + timedelta(minutes=minutes)
    if user is not None:
        audit.record("login_locked" if held else "login_failed", "user", user.id, actor=None)
    db.session.flush()
    if held:
        raise LockedOut(details={"locked_until": throttle.blocked_until.isoformat()})


# How long a run of failures is remembered (and its rows kept, purge_sessions).
THROTTLE_MEMORY = timedelta(days=1)


def held_back_until(user: User, now: datetime | None = None) -> datetime | None:
    """Until when log-ins to this user are held back from some address, if they are now."""
    _pair, name_key = _keys(user.username, None)
    return db.session.scalar(select(func.max(LoginThrottle.blocked_until)).where(
        LoginThrottle.name_key == name_key, LoginThrottle.blocked_until > (now or utcnow())))


def held_back_users(users: list[User], now: datetime | None = None) -> set[int]:
    """The ids of those users whose log-ins some address is held back from now (a list page's)."""
    by_key = {_keys(u.username, None)[1]: u.id for u in users}
    if not by_key:
        return set()
    keys = db.session.scalars(select(LoginThrottle.name_key).where(
        LoginThrottle.name_key.in_(list(by_key)), LoginThrottle.blocked_until > (now or utcnow())))
    return {by_key[k] for k in keys}


# ---- users --------------------------------------------------------------------------------

def _validate(data: dict, *, existing: User | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    username = normalise_username(data.get("username", existing.username if existing else ""))
    if not username or len(username) < 3 or not all(c.isalnum() or c in "._-" for c in username):
        errors["username"] = _("Use at least 3 letters, digits, dots, dashes or underscores.")
    else:
        other = find_by_username(username)
        if other is not None and other is not existing:
            errors["username"] = _("This username is taken.")
    if not (data.get("full_name") or "").strip():
        errors["full_name"] = _("Enter the full name.")
    if data.get("sex") not in SEXES:
        errors["sex"] = _("Choose female or male.")
    role = data.get("role")
    if role not in ROLES:
        errors["role"] = _("Choose a role.")
    org_id = data.get("organisation_id")
    org = db.session.get(Organisation, org_id) if org_id else None
    if org_id and org is None:
        errors["organisation_id"] = _("No such organisation.")
    elif role in ROLES_NEEDING_ORGANISATION and org is None:
        errors["organisation_id"] = _("This role works for an organisation: choose one.")
    area_code = data.get("area_code")
    if area_code and db.session.get(Area, area_code) is None:
        errors["area_code"] = _("Unknown region code.")
    return errors


def create_user(data: dict, password: str, actor: User | None, *, must_change: bool = False) -> User:
    errors = _validate(data, existing=None)
    problems = policy_problems(password, data.get("username"))
    if problems:
        errors["password"] = " ".join(problems)
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=normalise_username(data["username"]),
        full_name=data["full_name"].strip(),
        sex=data["sex"],
        role=data["role"],
        organisation_id=data.get("organisation_id") or None,
        area_code=data.get("area_code") or None,
        email=(data.get("email") or None),
        phone=(data.get("phone") or None),
        active=data.get("active", True),
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
        must_change_password=must_change,
    )
    if user.area_code is None and user.organisation_id:
        # By default a user answers for the area of their organisation.
        user.area_code = db.session.get(Organisation, user.organisation_id).area_code
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", "user", user.id, actor=actor, after=snapshot(user))
    db.session.flush()
    return user


def update_user(user: User, data: dict, version: int, actor: User) -> User:
    if version != user.version:
        raise StaleVersion()
    merged = {**snapshot(user), **data}
    errors = _validate(merged, existing=user)
    if user.id == actor.id and (merged["role"] != user.role or not merged["active"]):
        errors["role"] = _("You cannot change your own role or disable yourself.")
    elif user.active and (not merged["active"] or merged["role"] != user.role):
        held = open_cases_held(user)
        if held:
            # Their cases would be held by nobody who can work on them: moved first.
            errors["active" if not merged["active"] else "role"] = ngettext(
                "%(name)s still holds %(num)d open case: the coordinator of the district reassigns it first.",
                "%(name)s still holds %(num)d open cases: the coordinator of the district reassigns them first.",
                held, name=user.full_name)
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(user)
    for field in USER_FIELDS:
        if field in data:
            value = data[field]
            if field == "username":
                value = normalise_username(value)
            elif isinstance(value, str):
                value = value.strip() or None if field in ("email", "phone", "area_code") else value.strip()
            setattr(user, field, value)
    if before["active"] and not user.active:
        end_every_session(user, "disabled")
    b, a = audit.changes(before, snapshot(user))
    if a:
        audit.record("user_updated", "user", user.id, actor=actor, before=b, after=a)
    db.session.flush()
    return user


# What a user sets on their own account (PATCH /api/v1/me, the account page).
CONTACT_FIELDS = ("email", "phone", "language")
LANGUAGES = ("id", "en")


def _contact_errors(data: dict) -> tuple[dict, dict[str, str]]:
    """The contact fields of ``data`` as stored (e-mail lower-cased domain, phone +62..., blank
    = None), and a message per field that is not valid."""
    from email_validator import EmailNotValidError, validate_email

    from casemgmt.accounts.phones import normalise_phone

    clean: dict = {}
    errors: dict[str, str] = {}
    if "email" in data:
        raw = (data["email"] or "").strip()
        if not raw:
            clean["email"] = None
        else:
            try:
                clean["email"] = validate_email(raw, check_deliverability=False).normalized
                if len(clean["email"]) > 200:
                    raise EmailNotValidError("too long")
            except EmailNotValidError:
                errors["email"] = _("Enter an e-mail address like name@example.org.")
    if "phone" in data:
        try:
            clean["phone"] = normalise_phone(data["phone"])
        except ValueError:
            errors["phone"] = _("Enter an Indonesian phone number like 0812 3456 7890.")
    if "language" in data:
        language = data["language"] or None
        if language is not None and language not in LANGUAGES:
            errors["language"] = _("Choose Bahasa Indonesia or English.")
        clean["language"] = language
    return clean, errors


def update_contact(user: User, data: dict, actor: User) -> User:
    """Set any of the user's e-mail, phone and language; every field valid or nothing changes.
    Only the user themself: an admin changes others through ``update_user``."""
    if actor.id != user.id:
        from casemgmt.errors import Forbidden

        raise Forbidden()
    clean, errors = _contact_errors({k: v for k, v in data.items() if k in CONTACT_FIELDS})
    if errors:
        raise ValidationFailed(errors)
    before = {field: getattr(user, field) for field in CONTACT_FIELDS}
    for field, value in clean.items():
        setattr(user, field, value)
    b, a = audit.changes(before, {field: getattr(user, field) for field in CONTACT_FIELDS})
    if a:
        audit.record("user_updated", "user", user.id, actor=actor, before=b, after=a)
    db.session.flush()
    return user


def open_cases_held(user: User) -> int:
    """How many open cases are assigned to the user (a social worker's caseload)."""
    from casemgmt.transfers.caseload import open_case_count

    return open_case_count(user.id) if user.role == "social_worker" else 0


def set_active(user: User, active: bool, version: int, actor: User) -> User:
    return update_user(user, {"active": active}, version, actor)


def set_password(user: User, password: str, actor: User, *, current_password: str | None = None,
                 temporary: bool = False) -> User:
    """Change a password. Users changing their own give the current one; an admin's reset is
    temporary, so the user must choose a new one at the next log-in."""
    errors = {}
    if current_password is not None and not verify_password(user.password_hash, current_password):
        errors["current_password"] = _("The current password is wrong.")
    problems = policy_problems(password, user.username)
    if not problems and current_password is not None and password == current_password:
        problems = [_("Choose a password different from the current one.")]
    if problems:
        errors["password"] = " ".join(problems)
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = temporary
    # Whoever knew the old password (or holds a copy of a session cookie or a token made with
    # it) is out: every session and token ends; the user's own browser logs in afresh
    # (views.change_password).
    end_every_session(user, "password_reset" if actor.id != user.id else "password_changed")
    audit.record("password_reset" if actor.id != user.id else "password_changed", "user", user.id,
                 actor=actor)
    db.session.flush()
    return user


def unlock(user: User, actor: User) -> User:
    """Lets log-ins to the user through again from every address (their failures forgotten)."""
    from sqlalchemy import delete

    db.session.execute(delete(LoginThrottle).where(LoginThrottle.name_key == _keys(user.username, None)[1]))
    audit.record("user_unlocked", "user", user.id, actor=actor)
    db.session.flush()
    return user


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


# ---- browser sessions -----------------------------------------------------------------------

def start_session(user: User) -> str:
    """A new server-side session for a user who just logged in: the random id for their cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_token_digest(token)))
    db.session.flush()
    return token


# Every page asks this (security.load_user): the user and their session in one statement.
_SESSION = (select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_hash == bindparam("digest"), User.id == bindparam("uid")))


def live_session(token: str | None, user_id: int, epoch: int, idle_after: timedelta) -> tuple[User | None, UserSession | None, bool]:
    """(user, session, timed_out) for a cookie's session id: the user only while the session is
    live (not ended, used within ``idle_after``) and the user active with this session epoch.
    ``timed_out`` says the session ended by idling, so that the page can say so."""
    if not token or len(token) > 200:
        return None, None, False
    found = db.session.execute(_SESSION, {"digest": _token_digest(token), "uid": user_id}).first()
    if found is None:
        return None, None, False
    user, row = found
    if row.ended_at is not None or not user.active or user.session_epoch != epoch:
        return None, row, False
    if utcnow() - row.last_seen_at > idle_after:
        return None, row, True
    return user, row, False


def touch_session(row: UserSession, now: datetime) -> None:
    row.last_seen_at = now
    db.session.flush()


def end_session(row: UserSession, reason: str) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.ended_reason = reason
        db.session.flush()


def end_every_session(user: User, reason: str) -> None:
    """Ends every browser session and API token of the user, on every app server: the sessions'
    rows are closed and the user's epoch, which every session cookie and token carries, moves on."""
    user.session_epoch += 1
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                       .values(ended_at=utcnow(), ended_reason=reason))
    db.session.flush()


def purge_sessions(now: datetime | None = None, keep: timedelta = timedelta(days=7)) -> int:
    """Deletes the rows of sessions unused for ``keep`` (ended or idled out long ago; the audit
    trail keeps the log-ins) and the failures of log-ins no longer remembered (jobs.purge_sessions)."""
    from sqlalchemy import delete, or_

    now = now or utcnow()
    count = db.session.execute(delete(UserSession).where(UserSession.last_seen_at < now - keep)).rowcount
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - THROTTLE_MEMORY,
                                                   or_(LoginThrottle.blocked_until.is_(None),
                                                       LoginThrottle.blocked_until < now)))
    return count


# ---- API tokens ---------------------------------------------------------------------------

def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    token = "cm_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_token_digest(token),
        expires_at=utcnow() + timedelta(hours=current_app.config["API_TOKEN_HOURS"]),
        session_epoch=user.session_epoch,
    )
    db.session.add(row)
    audit.record("token_issued", "user", user.id, actor=user)
    db.session.flush()
    return token, row


# Every API request asks this: built once, so neither the select nor its cache key is made again
# on each request (as the case page's reads, cases.records).
_TOKEN = select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))


def user_for_token(token: str) -> tuple[User, ApiToken] | None:
    """The user a bearer token speaks for, if it is live: not revoked, not expired, user active."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(_TOKEN, {"digest": _token_digest(token)})
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = row.user
    if not user.active or row.session_epoch != user.session_epoch:
        return None
    return user, row


def revoke_token(row: ApiToken, actor: User) -> None:
    row.revoked_at = utcnow()
    audit.record("token_revoked", "user", row.user_id, actor=actor)
    db.session.flush()


def named_counts(rows) -> dict[str, int]:
    """(full name, username, count) rows, one per person, as name -> count; a name two people
    share gets each one's username after it, so neither count is merged into the other."""
    from collections import Counter

    shared = {name for name, n in Counter(name for name, _username, _count in rows).items() if n > 1}
    return {f"{name} ({username})" if name in shared else name: count for name, username, count in rows}
