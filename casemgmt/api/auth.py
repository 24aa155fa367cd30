"""Token log-in and revocation, and who the caller is."""
from __future__ import annotations

from flask import current_app, g
from casemgmt.api.blueprint import Blueprint

from casemgmt.accounts import services
from casemgmt.api.schemas import MePatchSchema, MeSchema, TokenRequestSchema, TokenSchema, me
from casemgmt.extensions import limiter

blp = Blueprint("api_auth", __name__, url_prefix="/api/v1", description="Log-in and the caller")


@blp.route("/auth/token", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.doc(security=[], responses={"401": {"description": "invalid_credentials"},
                                 "403": {"description": "password_change_required (a temporary password: "
                                                        "choose one on the web first) or two-factor log-in "
                                                        "to be set up on the web"},
                                 "429": {"description": "locked_out or rate_limited"}})
def issue_token(body):
    """Exchange a username and password for a bearer token."""
    from flask_babel import gettext as _

    from casemgmt.accounts.twofactor import required_for
    from casemgmt.errors import Forbidden, PasswordChangeRequired

    user = services.authenticate(body["username"], body["password"])
    if user.totp_secret:
        services.verify_second_factor(user, body.get("totp"))
    elif required_for(user):
        raise Forbidden(_("Set up two-factor log-in on the web first."))
    if user.must_change_password:
        raise PasswordChangeRequired()
    token, row = services.issue_token(user)
    return {"token": token, "expires_at": row.expires_at, "user": me(user)}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def revoke_token():
    """Revoke the token this request was made with."""
    if g.api_token is None:  # the web app's session: it ends by logging out
        from flask import abort

        abort(401)
    services.revoke_token(g.api_token, g.api_user)


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
def whoami():
    """The caller: role, organisation and the area they answer for."""
    return me(g.api_user)


@blp.route("/me", methods=["PATCH"])
@blp.arguments(MePatchSchema)
@blp.response(200, MeSchema)
@blp.doc(responses={"422": {"description": "validation_error: details.fields names each field refused"}})
def update_me(body):
    """Set any of the caller's own e-mail, phone and language."""
    return me(services.update_contact(g.api_user, body, g.api_user))
