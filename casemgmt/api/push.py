"""The caller's browsers that accept Web Push: the key to subscribe with, subscribing, leaving."""
from __future__ import annotations

from flask import current_app, g
from casemgmt.api.blueprint import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from casemgmt.api.schemas import OutSchema
from casemgmt.notify import push

blp = Blueprint("api_push", __name__, url_prefix="/api/v1", description="Web Push to the installed app")


class PushKeysIn(Schema):
    class Meta:
        unknown = EXCLUDE

    p256dh = fields.String(required=True, validate=validate.Length(max=200))
    auth = fields.String(required=True, validate=validate.Length(max=200))


class PushSubscriptionIn(Schema):
    """The browser's PushSubscription as its toJSON() gives it."""

    class Meta:
        unknown = EXCLUDE

    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    expirationTime = fields.Raw(allow_none=True)  # noqa: N815 - the browser's name for it
    keys = fields.Nested(PushKeysIn, required=True)


class PushEndpointIn(Schema):
    class Meta:
        unknown = EXCLUDE

    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class PushKeyOut(OutSchema):
    public_key = fields.String(allow_none=True, metadata={
        "description": "the VAPID application server key (base64url) for pushManager.subscribe; "
                       "null when this server sends no pushes"})


class PushSubscriptionOut(OutSchema):
    endpoint = fields.String()
    created_at = fields.DateTime()


@blp.route("/me/push-key", methods=["GET"])
@blp.response(200, PushKeyOut)
def push_key():
    """The key the installed app subscribes with; null when Web Push is not configured."""
    return {"public_key": push.public_key(current_app.config)}


@blp.route("/me/push-subscriptions", methods=["POST"])
@blp.arguments(PushSubscriptionIn)
@blp.response(201, PushSubscriptionOut)
@blp.doc(responses={"422": {"description": "validation_error: an endpoint that is not a known push "
                                           "service, or keys that are not a browser's"}})
def subscribe(body):
    """Keep this browser's PushSubscription for the caller (the same endpoint again replaces it)."""
    row = push.subscribe(g.api_user, body, current_app.config)
    return {"endpoint": row.endpoint, "created_at": row.created_at}


@blp.route("/me/push-subscriptions", methods=["DELETE"])
@blp.arguments(PushEndpointIn)
@blp.response(204)
def unsubscribe(body):
    """Forget the caller's subscription at this endpoint (204 also when there was none)."""
    push.unsubscribe(g.api_user, body["endpoint"])
