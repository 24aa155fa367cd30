"""Web Push to the installed app: the browsers' subscriptions and the ``push`` channel (VAPID).

A browser that the user lets show notifications gives the app a subscription: the push service's
endpoint and the keys the payload is encrypted to (RFC 8291, aes128gcm). The payload is only a
title, a text and a link (notify.channels.Message); the service worker shows it and opens the link
on a tap. The push service answering 404 or 410 means the subscription is gone: it is deleted.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import urlsplit

import requests
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from casemgmt.dbtypes import UTCDateTime, utcnow
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.notify.channels import Message, PermanentFailure, TemporaryFailure

# A push payload must stay under 4 KB once encrypted; the text is cut well before.
MAX_TEXT = 1000
# How long a push service keeps a message for a phone that is off (seconds).
TTL_SECONDS = 24 * 3600


class PushSubscription(db.Model):
    """One browser of one user that accepts pushes."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    # The push service's address for this browser; a browser has one per site.
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True, nullable=False)
    p256dh: Mapped[str] = mapped_column(String(120), nullable=False)  # the browser's public key, base64url
    auth: Mapped[str] = mapped_column(String(40), nullable=False)  # the shared auth secret, base64url
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ---- subscriptions -----------------------------------------------------------------------------

def _b64url_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value or len(value) > 200:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def endpoint_allowed(endpoint: str, config: Mapping[str, Any]) -> bool:
    """Whether the server may post to this endpoint: HTTPS to a known push service (config
    PUSH_SERVICE_HOSTS), or plain HTTP on loopback when the list names 127.0.0.1 (tests)."""
    from casemgmt.config import PUSH_SERVICE_HOSTS

    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    hosts = tuple(config.get("PUSH_SERVICE_HOSTS") or PUSH_SERVICE_HOSTS)
    if parts.scheme == "http":
        return host == "127.0.0.1" and host in hosts
    return parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in hosts)


def subscribe(user, data: Mapping[str, Any], config: Mapping[str, Any]) -> PushSubscription:
    """Keep the browser's PushSubscription (its JSON: endpoint and keys) for ``user``. The same
    endpoint again replaces the keys; an endpoint another user had moves to this one (the phone
    changed hands: the former user's messages must not reach it)."""
    endpoint = data.get("endpoint")
    keys = data.get("keys") if isinstance(data.get("keys"), Mapping) else {}
    errors: dict[str, str] = {}
    if not isinstance(endpoint, str) or len(endpoint) > 1000 or not endpoint_allowed(endpoint, config):
        errors["endpoint"] = _("This browser's push service is not one the server may use.")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    point = _b64url_bytes(p256dh)
    if point is None or len(point) != 65 or point[0] != 4:
        errors["keys.p256dh"] = _("Not a browser's push key.")
    secret = _b64url_bytes(auth)
    if secret is None or len(secret) != 16:
        errors["keys.auth"] = _("Not a browser's push key.")
    if errors:
        raise ValidationFailed(errors)
    row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(user_id=user.id, endpoint=endpoint, p256dh=p256dh, auth=auth)
        db.session.add(row)
    else:
        row.user_id, row.p256dh, row.auth = user.id, p256dh, auth
    db.session.flush()
    return row


def unsubscribe(user, endpoint: str) -> int:
    """Forget the user's subscription at ``endpoint``; how many were removed (0 or 1)."""
    result = db.session.execute(delete(PushSubscription).where(PushSubscription.user_id == user.id,
                                                               PushSubscription.endpoint == endpoint))
    db.session.flush()
    return result.rowcount or 0


# ---- VAPID keys --------------------------------------------------------------------------------

def load_vapid(key: str):
    """A py_vapid key from CASEMGMT_VAPID_PRIVATE_KEY: PEM, or base64url (the raw 32-byte key or
    DER). ValueError when it is neither."""
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid

    text = key.strip()
    try:
        if text.startswith("-----BEGIN"):
            return Vapid(serialization.load_pem_private_key(text.encode(), password=None))
        return Vapid.from_string(text)
    except Exception as exc:  # py_vapid and cryptography raise several kinds for a bad key
        raise ValueError("CASEMGMT_VAPID_PRIVATE_KEY is not a P-256 private key (PEM or base64url)") from exc


def application_server_key(vapid) -> str:
    """The public key as the browser's pushManager.subscribe wants it: the uncompressed point,
    base64url without padding."""
    from cryptography.hazmat.primitives import serialization

    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key_pair() -> tuple[str, str]:
    """A new VAPID key pair: (private key, base64url of the raw 32 bytes; public key)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from py_vapid import Vapid

    key = ec.generate_private_key(ec.SECP256R1())
    private = base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(32, "big")).rstrip(b"=")
    return private.decode(), application_server_key(Vapid(key))


def public_key(config: Mapping[str, Any]) -> str | None:
    """The key the app subscribes with, or None when Web Push is not configured, or configured
    with a key that is not one (logged: the account page then offers no push, the worker fails
    loudly)."""
    try:
        channel = PushChannel.from_config(config)
    except ValueError as exc:
        from flask import current_app

        current_app.logger.error("Web Push is off: %s", exc)
        return None
    return channel.public_key if channel else None


# ---- the channel -------------------------------------------------------------------------------

def payload(message: Message) -> str:
    """What the service worker receives: a title, a text and a link, nothing else."""
    text = " ".join(message.text.split())
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 3].rstrip() + "..."
    return json.dumps({"title": message.subject, "body": text, "link": message.link}, ensure_ascii=False)


class PushChannel:
    """The ``push`` channel: one encrypted, VAPID-signed POST per browser."""

    name = "push"
    settings = ("VAPID_PRIVATE_KEY", "VAPID_SUBJECT", "PUSH_TIMEOUT")  # what from_config reads (notify.registry)

    def __init__(self, vapid, subject: str, timeout: float = 10.0):
        self.vapid = vapid
        self.subject = subject
        self.timeout = timeout
        self.public_key = application_server_key(vapid)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "PushChannel | None":
        key, subject = config.get("VAPID_PRIVATE_KEY"), config.get("VAPID_SUBJECT")
        if not key or not subject:
            return None
        if not str(subject).startswith(("mailto:", "https:")):
            raise ValueError("CASEMGMT_VAPID_SUBJECT must be a mailto: (or https:) address")
        return cls(load_vapid(key), subject, float(config.get("PUSH_TIMEOUT") or 10))

    def addresses(self, user: Any) -> list[str]:
        return list(db.session.scalars(select(PushSubscription.endpoint)
                                       .where(PushSubscription.user_id == user.id)
                                       .order_by(PushSubscription.id)))

    @staticmethod
    def has_address():
        """Whether a user_account row has a subscription, as a column of the outbox's query of
        an event's recipients (so that it asks in the same statement)."""
        from casemgmt.accounts.models import User

        return select(PushSubscription.id).where(PushSubscription.user_id == User.id).exists()

    def send(self, message: Message, address: str, *, delivery_id: str | None = None) -> None:
        """Push to the subscription at ``address`` (an endpoint). A gone subscription (404/410)
        is deleted in the caller's transaction and is a PermanentFailure. ``delivery_id`` is taken
        as the SMS gateway takes it; a push service has no use for it."""
        from pywebpush import WebPushException, webpush

        row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == address))
        if row is None:
            raise PermanentFailure("push subscription removed")
        info = {"endpoint": row.endpoint, "keys": {"p256dh": row.p256dh, "auth": row.auth}}
        try:
            webpush(info, payload(message), vapid_private_key=self.vapid, vapid_claims={"sub": self.subject},
                    timeout=self.timeout, ttl=TTL_SECONDS,
                    headers={"Urgency": "high" if message.urgent else "normal"})
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                db.session.delete(row)
                db.session.flush()
                raise PermanentFailure(f"push service answered {status}: subscription gone, removed") from None
            if status is None or status >= 500 or status in (408, 429):
                raise TemporaryFailure(f"push service answered {status}") from None
            raise PermanentFailure(f"push service answered {status}") from None
        except requests.Timeout:
            raise TemporaryFailure(f"push service did not answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise TemporaryFailure(f"push service unreachable: {type(exc).__name__}") from None
        row.last_success_at = utcnow()
        db.session.flush()
