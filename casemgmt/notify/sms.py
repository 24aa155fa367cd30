"""SMS and WhatsApp through a district's gateway: one signed JSON POST per message.

The interface a provider implements is documented in docs/sms-gateway.md: a JSON body
``{"to", "text", "link", "kind", "id"}``, the headers ``X-Casemgmt-Timestamp`` (Unix seconds)
and ``X-Casemgmt-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the shared
secret>``. A 2xx answer means taken; 5xx, 429 or no answer in time is tried again later; any
other answer is final.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Mapping

import requests

from casemgmt.accounts.phones import normalise_phone
from casemgmt.notify.channels import Message, PermanentFailure, TemporaryFailure

# One SMS holds 160 GSM-7 characters, or 70 of anything else (UCS-2); joined messages carry
# 153 and 67 each. The text goes out in at most two: 306 GSM-7 characters, else 134.
LIMIT_GSM = 2 * 153
LIMIT_UCS2 = 2 * 67
# The GSM 03.38 basic set: text made only of these goes out as GSM-7.
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# A signed request older than this is refused by the receiver (docs/sms-gateway.md).
REPLAY_WINDOW_SECONDS = 300


def sms_text(message: Message) -> str:
    """The message as one text of at most two SMS, ending with its link: the subject, then as
    much of the text as fits."""
    head = message.subject.strip()
    body = " ".join(message.text.split())
    full = f"{head}: {body}" if body else head
    tail = f" {message.link}"
    limit = LIMIT_GSM if set(full + tail) <= _GSM7 else LIMIT_UCS2
    room = limit - len(tail)
    if len(full) > room:
        full = full[: max(room - 3, 0)].rstrip() + "..."
    return full + tail


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Casemgmt-Signature for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class SmsGateway:
    """The ``sms`` channel: SMS or WhatsApp, as the district's provider delivers them."""

    name = "sms"
    settings = ("SMS_GATEWAY_URL", "SMS_GATEWAY_SECRET", "SMS_GATEWAY_TIMEOUT")  # what from_config reads (notify.registry)

    def __init__(self, url: str, secret: str, timeout: float = 10.0):
        self.url = url
        self.secret = secret
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "SmsGateway | None":
        url, secret = config.get("SMS_GATEWAY_URL"), config.get("SMS_GATEWAY_SECRET")
        if not url or not secret:
            return None
        return cls(url, secret, float(config.get("SMS_GATEWAY_TIMEOUT") or 10))

    def addresses(self, user: Any) -> list[str]:
        phone = getattr(user, "phone", None)
        return [phone] if phone else []

    def send(self, message: Message, address: str, *, delivery_id: str | None = None) -> None:
        """POST the message; ``delivery_id`` (the outbox delivery's key) lets the provider drop
        a repeat of a message it already took."""
        try:
            to = normalise_phone(address)
        except ValueError:
            to = None
        if to is None:
            raise PermanentFailure("not an Indonesian phone number")
        body = json.dumps({"to": to, "text": sms_text(message), "link": message.link, "kind": message.kind,
                           "id": delivery_id}, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Casemgmt-Timestamp": timestamp,
                   "X-Casemgmt-Signature": signature(self.secret, timestamp, body)}
        if delivery_id:
            headers["Idempotency-Key"] = delivery_id
        try:
            response = requests.post(self.url, data=body, headers=headers, timeout=self.timeout,
                                     allow_redirects=False)
        except requests.Timeout:
            raise TemporaryFailure(f"gateway did not answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise TemporaryFailure(f"gateway unreachable: {type(exc).__name__}") from None
        status = response.status_code
        response.close()
        if 200 <= status < 300:
            return
        if status >= 500 or status in (408, 429):
            raise TemporaryFailure(f"gateway answered {status}")
        raise PermanentFailure(f"gateway answered {status}")
