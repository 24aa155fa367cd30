"""Sessions, idle time-out, forced password change and the security headers of every answer."""
from __future__ import annotations

import json
import re
import time
from itertools import accumulate

from flask import flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from casemgmt.extensions import login_manager

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# Activity is written to the session cookie at most once a minute, not on every page: each write
# signs the cookie again and sends it back (140 us, and some 250 bytes on each answer to a phone).
# A user is logged out 29 to 30 minutes after their last page (config: SESSION_REFRESH_EACH_REQUEST
# off, so that the cookie too is sent only when written).
SEEN_STEP = 60

# Endpoints that take a larger upload than MAX_CONTENT_LENGTH, with the setting of their limit.
LARGE_UPLOADS = {"api_population.start_import": "POPULATION_MAX_BYTES",
                 "population.upload": "POPULATION_MAX_BYTES"}

# Pages a user may still reach who must first change their password or enrol in two-factor log-in.
_OPEN_BEFORE_ACCOUNT_IS_SET_UP = {"accounts.change_password", "accounts.logout", "static",
                                    "home.set_language", "accounts.two_factor"}


@login_manager.user_loader
def load_user(user_id: str):
    """The user of a session cookie while its server-side session is live (accounts.services.
    live_session): a session ended by log-out, idling, a password change or reset, or the
    user's deactivation is refused on every server, whichever copy of the cookie comes."""
    from flask import current_app, g

    from casemgmt.accounts.services import live_session

    try:
        uid, epoch = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user, row, timed_out = live_session(session.get("sid"), uid, epoch, current_app.permanent_session_lifetime)
    g.user_session = row if user is not None else None
    g.session_timed_out = timed_out
    return user


# How deep a JSON body may nest (API.md: deeper is a 400). The contract's deepest body (a plan's
# goals and actions) is 4 levels.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEP = [1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256)]


def json_depth(raw: bytes) -> int:
    """How deep the brackets of a JSON text nest, read without parsing it (the json module
    recurses once per level: a body 50,000 deep is a RecursionError): the strings taken out,
    the running count of the brackets left, in C."""
    skeleton = _JSON_STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET)
    return max(accumulate(map(_BRACKET_STEP.__getitem__, skeleton)), default=0)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def read_json_body():
    """The request's JSON body, read safely: None when there is none; BadJsonBody (400) when it
    nests deeper than MAX_JSON_DEPTH, is not JSON (NaN and Infinity are not, nor a number of
    more digits than Python converts) or is not an object; PayloadTooLarge (413) when it is
    longer than MAX_JSON_BYTES."""
    from flask import current_app

    from casemgmt.errors import BadJsonBody, PayloadTooLarge

    most = current_app.config["MAX_JSON_BYTES"]
    if (request.content_length or 0) > most:
        raise PayloadTooLarge(details={"max_bytes": most})
    raw = request.get_data(cache=True)  # a body without a length: no more than MAX_CONTENT_LENGTH
    if len(raw) > most:
        raise PayloadTooLarge(details={"max_bytes": most})
    if not raw.strip():
        return None
    if json_depth(raw) > MAX_JSON_DEPTH:  # within it, the json module's recursion is bounded too
        raise BadJsonBody(BadJsonBody.too_deep, details={"max_depth": MAX_JSON_DEPTH})
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise BadJsonBody() from exc
    if not isinstance(data, dict):
        raise BadJsonBody(BadJsonBody.not_an_object)
    return data


def name_no_server() -> None:
    """Answers do not say which server or Python sends them: Werkzeug's development server (and
    the standard library's handler under it) and gunicorn both add a Server header of their
    own, with their versions. Both are told to leave it out; a front proxy adds its own or none."""
    import sys

    from werkzeug.serving import WSGIRequestHandler

    def send_response(self, code, message=None):  # BaseHTTPRequestHandler's, without Server
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    WSGIRequestHandler.send_response = send_response
    gunicorn = sys.modules.get("gunicorn.http.wsgi")  # loaded before the app in a gunicorn worker
    if gunicorn is not None and not getattr(gunicorn.Response, "_names_no_server", False):
        default_headers = gunicorn.Response.default_headers

        def without_server(self):
            return [line for line in default_headers(self) if not line.lower().startswith("server:")]

        gunicorn.Response.default_headers = without_server
        gunicorn.Response._names_no_server = True


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def init_app(app) -> None:
    name_no_server()
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"  # phones change IP often; "strong" would log them out

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            from flask import abort

            abort(401)
        # Opening the app's front page logged out is not a mistake worth a message.
        if request.path != "/":
            flash(login_manager.login_message, login_manager.login_message_category)
        target = request.full_path if request.method == "GET" and request.path != "/" else None
        return redirect(url_for("accounts.login", next=target))

    @app.before_request
    def allow_large_uploads():
        """An endpoint of LARGE_UPLOADS takes a body up to its own setting instead of
        MAX_CONTENT_LENGTH; one announced as larger is refused (413) before a byte is read."""
        from flask import current_app

        from casemgmt.errors import PayloadTooLarge

        setting = LARGE_UPLOADS.get(request.endpoint or "")
        if setting is None:
            return
        most = current_app.config[setting]
        if (request.content_length or 0) > most:
            from flask_babel import gettext as _

            raise PayloadTooLarge(_("The file is larger than %(size)s MB, the most it may be.",
                                    size=most // (1024 * 1024)), details={"max_bytes": most})
        request.max_content_length = most

    @app.before_request
    def read_json_bodies_safely():
        """Every JSON body is read here, before anything else reads it (the log-in's too):
        too deep, too long, not JSON or not an object is answered 400 or 413 at the door."""
        if request.is_json and request.method not in ("GET", "HEAD", "OPTIONS"):
            read_json_body()

    @app.before_request
    def refuse_nul_characters():
        """NUL is never text a person meant; PostgreSQL refuses to store it. Refuse it at the door
        (400) instead of deep in a query (500), on every form, query string and JSON body."""
        from flask import abort

        if (_has_nul(request.args.to_dict(flat=False)) or _has_nul(request.form.to_dict(flat=False))
                or (request.is_json and _has_nul(request.get_json(silent=True)))):
            abort(400)
        return None

    @app.before_request
    def idle_timeout():
        if request.path.startswith("/api/") or request.endpoint == "static":
            return None
        if not current_user.is_authenticated:
            from flask import g

            if g.get("session_timed_out"):
                session.clear()
                flash(_l("You were logged out after 30 minutes without activity."), "warning")
                return redirect(url_for("accounts.login",
                                        next=request.full_path if request.method == "GET" else None))
            return None
        now = time.time()
        seen = session.get("seen")
        limit = app.permanent_session_lifetime.total_seconds()
        if seen is not None and now - seen > limit:
            from flask import g

            from casemgmt.accounts.services import end_session

            end_session(g.user_session, "idle")
            logout_user()
            session.clear()
            flash(_l("You were logged out after 30 minutes without activity."), "warning")
            return redirect(url_for("accounts.login", next=request.full_path if request.method == "GET" else None))
        if seen is None or now - seen >= SEEN_STEP:
            from flask import g

            from casemgmt.accounts.services import touch_session
            from casemgmt.dbtypes import utcnow

            session["seen"] = now
            session.permanent = True
            touch_session(g.user_session, utcnow())
        if current_user.must_change_password and request.endpoint not in _OPEN_BEFORE_ACCOUNT_IS_SET_UP:
            flash(_l("Choose a new password before you go on."), "warning")
            return redirect(url_for("accounts.change_password"))
        from casemgmt.accounts.twofactor import required_for

        if (required_for(current_user) and not current_user.totp_secret
                and request.endpoint not in _OPEN_BEFORE_ACCOUNT_IS_SET_UP):
            flash(_l("Your role needs two-factor log-in: set it up before you go on."), "warning")
            return redirect(url_for("accounts.two_factor"))
        return None

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint == "static":
            if request.args.get("v"):
                # Asset URLs carry a content hash, so a phone keeps them until they change.
                headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            # Pages may show a child's data: never left in a shared phone's cache.
            headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")  # added to, not replaced: compression adds Accept-Encoding
        return response
