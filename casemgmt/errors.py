"""Domain errors raised by services, and the one error handler for pages and API.

API callers get ``{"error": {"code", "message", "details"}}``; people get a page in their
language. Every error rolls the session back, so nothing half-done is committed (the request
commits once, only when its view returned: ``transactions``).
"""
from __future__ import annotations

from flask import jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from casemgmt.extensions import db


class ServiceError(Exception):
    """An operation refused for a reason the caller can show to a person."""

    status = 400
    code = "bad_request"
    default_text = _l("The request could not be processed.")  # shown when no message is given
    # Whether the same request, corrected or sent again, may go through (a page then offers to
    # send it again): only when what was typed is at fault (ValidationFailed, GuardFailed) or the
    # record changed meanwhile (StaleVersion). Not for a refusal, a record that moved on, or one
    # that waits for someone else: those pages send the user back to the case.
    retry = False
    # A refusal that is itself recorded (a failed log-in counts toward the lock-out): the request
    # commits what the operation wrote before refusing instead of rolling it back.
    keeps_changes = False

    def __init__(self, message: str | None = None, details: dict | None = None):
        self.message = str(message or self.default_text)
        super().__init__(self.message)
        self.details = details or {}

    @property
    def messages(self) -> list[str]:
        """What to tell a person, for a page that shows it apart from any form's fields."""
        return [self.message]

    @property
    def said(self) -> str:
        """The messages in one line."""
        return " ".join(self.messages)


class ValidationFailed(ServiceError):
    status = 422
    retry = True
    code = "validation_error"

    def __init__(self, errors: dict[str, list[str] | str], message: str | None = None):
        self.errors = {k: v if isinstance(v, list) else [v] for k, v in errors.items()}
        super().__init__(message or str(_("Some fields need correcting.")), {"fields": self.errors})

    @property
    def messages(self) -> list[str]:
        """Every field's messages (the fields' names left out)."""
        return [m for ms in self.errors.values() for m in ms]


class StaleVersion(ServiceError):
    status = 409
    retry = True
    code = "stale_version"
    default_text = _l("Someone else changed this record after you opened it. "
                     "Reload it to see their changes, then make yours again.")


def check_version(record, version: int | None) -> None:
    """A change made from an older version of ``record`` is refused (StaleVersion, naming the
    current one). No version given (optional in some API calls): not checked. ``record`` None: not
    made yet, version 0 (a form opened before anyone saved one)."""
    check_number(record.version if record is not None else 0, version)


def check_number(current: int, version: int | None) -> None:
    """check_version for a version that is not a record's column (workflow.services.plan_version)."""
    if version is not None and version != current:
        raise StaleVersion(details={"current_version": current})


class InvalidCredentials(ServiceError):
    keeps_changes = True
    status = 401
    code = "invalid_credentials"
    default_text = _l("Wrong username or password.")


class LockedOut(ServiceError):
    keeps_changes = True
    status = 429
    code = "locked_out"
    default_text = _l("Too many failed log-ins from this device. Wait a few minutes and try again.")


class BadJsonBody(ServiceError):
    """A JSON body refused at the door (security.read_json_body)."""

    status = 400
    code = "bad_request"
    default_text = _l("The request body is not valid JSON.")
    too_deep = _l("The request body nests more than 32 levels deep.")
    not_an_object = _l("The request body must be a JSON object.")


class PayloadTooLarge(ServiceError):
    status = 413
    code = "too_large"
    default_text = _l("The request body is too large.")


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    default_text = _l("You are not permitted to do this.")


class PasswordChangeRequired(Forbidden):
    """A user given a temporary password (a new account, an admin's reset) uses nothing until
    they choose their own, on the web."""

    code = "password_change_required"
    default_text = _l("Choose a new password on the web first: this one was temporary.")


class Busy(ServiceError):
    """The database could not take the request in time: SQLite's one writer held the file past
    the busy timeout, or PostgreSQL gave up on a lock, a deadlock, a conflicting transaction or
    the statement timeout. Nothing was written (the session is rolled back); the same request
    sent again in a moment may go through."""

    status = 503
    retry = True
    code = "busy"
    default_text = _l("The system is busy with other work and could not do this. Nothing was saved. "
                      "Try again in a moment.")


# PostgreSQL's SQLSTATEs of a request that lost a race or waited too long, not a fault in it:
# lock_not_available, serialization_failure, deadlock_detected, query_canceled (statement_timeout).
BUSY_SQLSTATES = frozenset({"55P03", "40001", "40P01", "57014"})
RETRY_AFTER_SECONDS = 5


# SQLite's primary result codes of a file another connection holds: SQLITE_BUSY, SQLITE_LOCKED.
BUSY_SQLITE_CODES = frozenset({5, 6})


# PostgreSQL's SQLSTATEs of a server going away: admin_shutdown, crash_shutdown,
# cannot_connect_now (starting up); and class 08, connection exceptions.
GONE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def is_database_away(err: DBAPIError) -> bool:
    """Whether PostgreSQL could not be reached or went away (restarted, failed over): the
    request is answered "try again" and the pool's next checkout connects afresh."""
    import psycopg

    original = getattr(err, "orig", None)
    if not isinstance(original, psycopg.OperationalError):
        return False
    sqlstate = getattr(original, "sqlstate", None)
    # No SQLSTATE: the connection itself failed (refused, reset, closed), no server answered.
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in GONE_SQLSTATES or err.connection_invalidated


def is_busy(err: DBAPIError) -> bool:
    """Whether a database error means "busy, try again" (Busy) rather than a fault: told by the
    error's code, never by its words (a missing column named locked_until is a fault). A
    PostgreSQL that cannot be reached is "try again" too (is_database_away)."""
    original = getattr(err, "orig", None)
    if getattr(original, "sqlstate", None) in BUSY_SQLSTATES or is_database_away(err):
        return True
    code = getattr(original, "sqlite_errorcode", None)  # an extended code: its low byte is the primary
    return isinstance(code, int) and code & 0xFF in BUSY_SQLITE_CODES


class NotReady(ServiceError):
    status = 503
    code = "not_ready"
    default_text = _l("The indicators are being counted again after an upgrade or an import. "
                      "Try again in a few minutes.")


_CODES = {
    400: ("bad_request", _l("The request was malformed.")),
    401: ("unauthorized", _l("Log in first.")),
    403: ("forbidden", _l("You are not permitted to do this.")),
    404: ("not_found", _l("Not found.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    409: ("conflict", _l("The record is not in a state that allows this.")),
    413: ("too_large", _l("The upload is too large.")),
    415: ("unsupported_media_type", _l("Send JSON with Content-Type application/json.")),
    422: ("validation_error", _l("Some fields need correcting.")),
    429: ("rate_limited", _l("Too many requests. Wait a moment and try again.")),
    500: ("server_error", _l("Something went wrong on our side. Nothing was saved.")),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, details: dict | None = None):
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


def _page(status: int, message: str):
    return render_template("errors/error.html", status=status, message=message), status


def handle_http_exception(err: HTTPException):
    status = err.code or 500
    code, default_message = _CODES.get(status, ("error", _l("The request failed.")))
    message = str(default_message)
    details: dict = {}
    if isinstance(err, CSRFError):
        code = "csrf_failed"
        message = str(_("The form had expired or was sent from elsewhere. "
                        "Go back, reload the page and send it again."))
    data = getattr(err, "data", None)
    if isinstance(data, dict) and "messages" in data:
        # webargs / marshmallow: 400 for unreadable JSON (webargs' English words about it add
        # nothing to the message), 422 for fields that fail the schema.
        if status == 400:
            message = str(_("The request body is not valid JSON."))
        else:
            from casemgmt.api.messages import translated

            details = {"fields": translated(data["messages"].get("json", data["messages"]))}
    if status == 429 and getattr(err, "description", None) and code == "rate_limited":
        details = {"limit": str(err.description)}
    db.session.rollback()  # nothing of a refused or failed request is committed
    if wants_json():
        response = json_error(status, code, message, details)
        if status == 401:
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="casemgmt"'
        if status == 405 and hasattr(err, "valid_methods") and err.valid_methods:
            response[0].headers["Allow"] = ", ".join(err.valid_methods)
        return response
    return _page(status, message)


def handle_service_error(err: ServiceError):
    if err.keeps_changes:
        from casemgmt.transactions import commit

        commit()
    else:
        db.session.rollback()
    if wants_json():
        return json_error(err.status, err.code, err.message, err.details)
    return _page(err.status, err.message)


def handle_concurrent_change(err: StaleDataError):
    """Two saves of one record at once: both read the same version and passed check_version, and
    the database took the first (the record's version column). The second is a conflict like any
    other (409), rolled back, nothing of it written; not a 500."""
    db.session.rollback()
    return handle_service_error(StaleVersion())


def handle_database_error(err: DBAPIError):
    """A database that is busy (is_busy) is a 503 in the user's language with Retry-After, the
    session rolled back; any other database error goes on as unexpected (Flask logs it and
    answers the 500, or a test sees it raised)."""
    db.session.rollback()
    if not is_busy(err):
        raise err
    from flask import current_app

    current_app.logger.warning("database busy on %s %s: %s", request.method, request.path, err.orig)
    if is_database_away(err):
        # The page is drawn without the user, whom loading (or any lazy attribute) would ask the
        # database that is not there.
        from flask import g

        from casemgmt.extensions import login_manager

        g._login_user = login_manager.anonymous_user()
    if wants_json() or request.method != "POST":
        response = make_response(handle_service_error(Busy()))
    else:
        response = make_response(_busy_page())
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _busy_page():
    """A form the busy database did not save: what was sent is kept on the page, in hidden
    fields, with a button that sends it to the same address again. Pages are not cached
    (security.py: no-store), so a phone's Back may show the form empty. A file cannot be carried
    so, nor is a password written into a page: a form with either is to be sent again from the
    start."""
    resend = not (any(upload.filename for upload in request.files.values())
                  or any("password" in name for name in request.form))
    fields = list(request.form.items(multi=True)) if resend else []
    return render_template("errors/busy.html", message=Busy.default_text, resend=resend, fields=fields,
                           action=request.full_path.rstrip("?")), Busy.status


def handle_unexpected(err: Exception):
    db.session.rollback()
    if isinstance(err, HTTPException):
        return handle_http_exception(err)
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError())


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(StaleDataError, handle_concurrent_change)
    app.register_error_handler(DBAPIError, handle_database_error)
    if not app.config.get("TESTING") or app.config.get("HANDLE_UNEXPECTED_IN_TESTS"):
        app.register_error_handler(Exception, handle_unexpected)
