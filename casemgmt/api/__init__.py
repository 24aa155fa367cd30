"""The JSON API v1 (../shared/API.md): bearer-token auth, the contract's error shape, OpenAPI."""
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
    from casemgmt.api.conferences import blp as conferences_blp
    from casemgmt.api.referrals import blp as referrals_blp
    from casemgmt.api.reports import blp as reports_blp
    from casemgmt.api.workflow import blp as workflow_blp

    for blp in (auth_blp, directory_blp, cases_blp, workflow_blp, referrals_blp, conferences_blp, reports_blp):
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
        scheme, _, token = header.partition(" ")
        found = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            abort(401)
        if found[0].must_change_password:
            from casemgmt.errors import PasswordChangeRequired

            raise PasswordChangeRequired()
        g.api_user, g.api_token = found
        return None


def current_api_user():
    return g.api_user
