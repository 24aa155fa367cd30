"""The JSON API v1 (../shared/API.md): bearer-token auth, the contract's error shape, OpenAPI.

The installable web app's own scripts call the API with the page's session instead of a token:
a same-origin request carrying the session cookie and the session's CSRF token in X-CSRFToken.
No token is then kept on the phone, the session's idle time-out and log-out end the API access
with the pages', and a page of another site cannot send the header (no CORS) nor read the token.
"""
from __future__ import annotations

from flask import abort, g, request

from casemgmt.api import messages
from casemgmt.extensions import api, csrf

messages.install()  # before any schema of the API is defined

# Reachable without a token.
PUBLIC_ENDPOINTS = {"api_auth.issue_token", "api-docs.openapi_json"}


def register_api(app) -> None:
    from casemgmt.api.auth import blp as auth_blp
    from casemgmt.api.cases import blp as cases_blp
    from casemgmt.api.directory import blp as directory_blp
    from casemgmt.api.notifications import blp as notifications_blp
    from casemgmt.api.households import blp as households_blp
    from casemgmt.api.offline import blp as offline_blp
    from casemgmt.api.push import blp as push_blp
    from casemgmt.api.population import blp as population_blp
    from casemgmt.api.conferences import blp as conferences_blp
    from casemgmt.api.referrals import blp as referrals_blp
    from casemgmt.api.reports import blp as reports_blp
    from casemgmt.api.workflow import blp as workflow_blp
    from casemgmt.api.transfers import blp as transfers_blp

    for blp in (auth_blp, directory_blp, cases_blp, workflow_blp, referrals_blp, conferences_blp, reports_blp,
                offline_blp, notifications_blp, push_blp, households_blp, transfers_blp, population_blp):
        api.register_blueprint(blp)
        csrf.exempt(blp)  # token-authenticated, no cookies: CSRF does not apply

    @app.before_request
    def authenticate_api_request():
        if not request.path.startswith("/api/"):
            return None
        g.api_user = None
        g.api_token = None
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if request.routing_exception is not None:
            raise request.routing_exception  # 404 or 405, answered in the contract's shape
        from casemgmt.accounts.services import user_for_token

        header = request.headers.get("Authorization", "")
        if not header and "X-CSRFToken" in request.headers:
            g.api_user = session_user()
            if g.api_user is None:
                abort(401)
            return None
        scheme, _, token = header.partition(" ")
        found = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            abort(401)
        if found[0].must_change_password:
            from casemgmt.errors import PasswordChangeRequired

            raise PasswordChangeRequired()
        g.api_user, g.api_token = found
        return None


def session_user():
    """The logged-in user of this request's session, if it carries the session's CSRF token and
    the session is one the pages would still accept (not idle too long, account set up)."""
    import time

    from flask import current_app, session
    from flask_login import current_user
    from flask_wtf.csrf import validate_csrf
    from wtforms.validators import ValidationError

    from casemgmt.accounts.twofactor import required_for

    if not current_user.is_authenticated:
        return None
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError:
        return None
    seen = session.get("seen")
    if seen is None or time.time() - seen > current_app.permanent_session_lifetime.total_seconds():
        return None
    if current_user.must_change_password or (required_for(current_user) and not current_user.totp_secret):
        return None
    from casemgmt.security import SEEN_STEP

    if time.time() - seen >= SEEN_STEP:
        session["seen"] = time.time()  # an API call from the app is activity, as a page is
    return current_user._get_current_object()


def current_api_user():
    return g.api_user
