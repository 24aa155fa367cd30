"""The caller's notifications and how they are notified (../shared/API.md, Notifications)."""
from __future__ import annotations

from flask import g
from casemgmt.api.blueprint import Blueprint
from marshmallow import Schema, fields, validate

from casemgmt.api.idempotency import json_response
from casemgmt.api.schemas import AnyOut, ListOut, PageQuery
from casemgmt.notify import services
from casemgmt.notify.messages import in_app_text, language_of
from casemgmt.notify.models import CHANNEL_MODES

blp = Blueprint("api_notifications", __name__, url_prefix="/api/v1", description="Notifications")


class NotificationQuery(PageQuery):
    unread = fields.Boolean(load_default=False)


class PreferencesIn(Schema):
    email = fields.String(validate=validate.OneOf(CHANNEL_MODES["email"]))
    push = fields.String(validate=validate.OneOf(CHANNEL_MODES["push"]))
    sms = fields.String(validate=validate.OneOf(CHANNEL_MODES["sms"]))


def _out(n) -> dict:
    return {"id": n.id, "kind": n.kind, "text": in_app_text(n, language_of(g.api_user)), "link": n.link,
            "urgent": n.urgent, "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None}


@blp.route("/notifications", methods=["GET"])
@blp.arguments(NotificationQuery, location="query")
@blp.response(200, ListOut)
def list_notifications(query):
    """The caller's notifications, newest first; ``unread=true`` for the unread only."""
    items, next_cursor = services.notifications_of(g.api_user, unread=query["unread"], limit=query["limit"],
                                                   cursor=query.get("cursor"))
    return json_response({"items": [_out(n) for n in items], "next_cursor": next_cursor}, 200)


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, AnyOut)
def read_notification(notification_id: int):
    """Mark one of the caller's notifications read (404 for anyone else's)."""
    notification = services.notification_or_404(g.api_user, notification_id)
    return json_response(_out(services.mark_read(notification, g.api_user)), 200)


@blp.route("/me/notification-preferences", methods=["GET"])
@blp.response(200, AnyOut)
def get_preferences():
    """Per channel: email immediate/daily/off, push and sms immediate/off."""
    return json_response(services.preferences(g.api_user), 200)


@blp.route("/me/notification-preferences", methods=["PUT"])
@blp.arguments(PreferencesIn)
@blp.response(200, AnyOut)
def put_preferences(body):
    """Set any of the channels' modes; 422 on an unknown channel or mode."""
    return json_response(services.set_preferences(g.api_user, body), 200)
