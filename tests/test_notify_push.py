"""Web Push: subscriptions through the API, and the push channel against a push service on
loopback that checks the VAPID signature and decrypts the payload with the browser's key."""
from __future__ import annotations

import base64
import json
import os
import time
from http.server import BaseHTTPRequestHandler

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select

from casemgmt.extensions import db
from casemgmt.notify.channels import Message, PermanentFailure, TemporaryFailure
from casemgmt.notify.push import PushChannel, PushSubscription, new_key_pair, payload
from tests.loopback import LoopbackServer

SUBJECT = "mailto:pksai-gowa@example.id"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """What a browser keeps for a subscription: its key pair and auth secret."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
        self.keys = {"p256dh": b64(point), "auth": b64(self.auth)}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


class PushService(LoopbackServer):
    """A push service on loopback: records each request and answers ``status``."""

    def __init__(self):
        self.status = 201
        self.hold = False
        self.received: list[dict] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.received.append({"path": self.path, "body": body,
                                         "headers": {k.lower(): v for k, v in self.headers.items()}})
                if service.hold:
                    service.release.wait(5)
                self.send_response(service.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        LoopbackServer.__init__(self, Handler)


@pytest.fixture
def service():
    s = PushService()
    yield s
    s.close()


@pytest.fixture
def vapid(app, monkeypatch):
    private, public = new_key_pair()
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", private)
    monkeypatch.setitem(app.config, "VAPID_SUBJECT", SUBJECT)
    monkeypatch.setitem(app.config, "PUSH_SERVICE_HOSTS", app.config["PUSH_SERVICE_HOSTS"] + ("127.0.0.1",))
    return public


def message(**kw):
    base = dict(kind="referral_received", subject="Rujukan R-2026-0042 menunggu jawaban",
                text="Jawab paling lambat 10 Des 2026 pukul 09.00 WITA.",
                link="https://casemgmt.example.id/referrals/42", language="id")
    return Message(**{**base, **kw})


def subscribe(api, username, endpoint, browser):
    return api("post", "/api/v1/me/push-subscriptions", username,
               json={"endpoint": endpoint, "expirationTime": None, "keys": browser.keys})


def verify_vapid(authorization: str, audience: str) -> dict:
    """Check a VAPID (RFC 8292) Authorization header as a push service does; the JWT's claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
    header, claims, signature = fields["t"].split(".")
    raw = unb64(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    assert json.loads(unb64(header)) == {"typ": "JWT", "alg": "ES256"}
    body = json.loads(unb64(claims))
    assert body["aud"] == audience and body["sub"] == SUBJECT and time.time() < body["exp"] <= time.time() + 86400
    return {"k": fields["k"], **body}


def test_push_reaches_the_browser_signed_and_encrypted(app, api, users, service, vapid):
    browser = Browser()
    endpoint = f"{service.origin}/push/abc123"
    response = subscribe(api, "dukcapil", endpoint, browser)
    assert response.status_code == 201, response.get_data(as_text=True)
    channel = PushChannel.from_config(app.config)
    assert channel.name == "push" and channel.addresses(users["agency_officer"]) == [endpoint]

    channel.send(message(urgent=True), endpoint)
    [got] = service.received
    assert got["path"] == "/push/abc123"
    claims = verify_vapid(got["headers"]["authorization"], service.origin)
    assert claims["k"] == vapid  # signed with the key the app subscribed with
    assert got["headers"]["content-encoding"] == "aes128gcm"
    assert int(got["headers"]["ttl"]) > 0 and got["headers"]["urgency"] == "high"
    assert browser.decrypt(got["body"]) == {"title": "Rujukan R-2026-0042 menunggu jawaban",
                                            "body": "Jawab paling lambat 10 Des 2026 pukul 09.00 WITA.",
                                            "link": "https://casemgmt.example.id/referrals/42"}
    row = db.session.scalars(select(PushSubscription)).one()
    assert row.last_success_at is not None


def test_a_forged_signature_would_be_caught(service, vapid, app, api, users):
    """The check above is a real one: a token signed by another key fails it."""
    endpoint = f"{service.origin}/push/x"
    subscribe(api, "dukcapil", endpoint, Browser())
    PushChannel.from_config(app.config).send(message(), endpoint)
    header = service.received[0]["headers"]["authorization"]
    other = new_key_pair()[1]
    forged = header.replace(header.split("k=")[1].split(",")[0], other)
    with pytest.raises(InvalidSignature):
        verify_vapid(forged, service.origin)


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_deleted_and_permanent(app, api, users, service, vapid, status):
    endpoint = f"{service.origin}/push/gone"
    subscribe(api, "dukcapil", endpoint, Browser())
    service.status = status
    with pytest.raises(PermanentFailure, match=str(status)):
        PushChannel.from_config(app.config).send(message(), endpoint)
    assert db.session.scalars(select(PushSubscription)).all() == []
    with pytest.raises(PermanentFailure, match="removed"):  # a second try finds nothing to send to
        PushChannel.from_config(app.config).send(message(), endpoint)


@pytest.mark.parametrize("status, failure", [(429, TemporaryFailure), (500, TemporaryFailure),
                                             (503, TemporaryFailure), (400, PermanentFailure),
                                             (403, PermanentFailure)])
def test_other_answers_keep_the_subscription(app, api, users, service, vapid, status, failure):
    endpoint = f"{service.origin}/push/busy"
    subscribe(api, "dukcapil", endpoint, Browser())
    service.status = status
    with pytest.raises(failure, match=str(status)):
        PushChannel.from_config(app.config).send(message(), endpoint)
    assert len(db.session.scalars(select(PushSubscription)).all()) == 1


def test_a_push_service_that_does_not_answer_in_time_is_temporary(app, api, users, service, vapid, monkeypatch):
    endpoint = f"{service.origin}/push/slow"
    subscribe(api, "dukcapil", endpoint, Browser())
    service.hold = True
    monkeypatch.setitem(app.config, "PUSH_TIMEOUT", 0.3)
    with pytest.raises(TemporaryFailure, match="did not answer"):
        PushChannel.from_config(app.config).send(message(), endpoint)


def test_unconfigured_push_has_no_channel_and_no_key(app, api, users, monkeypatch):
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)
    assert PushChannel.from_config(app.config) is None
    assert api("get", "/api/v1/me/push-key", "peksos").get_json() == {"public_key": None}


def test_the_app_gets_the_public_key(app, api, users, vapid, monkeypatch):
    assert api("get", "/api/v1/me/push-key", "peksos").get_json() == {"public_key": vapid}
    # A key that is not one turns push off for the app (and is logged), not every account page.
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", "bm90IGEga2V5")
    response = api("get", "/api/v1/me/push-key", "peksos")
    assert response.status_code == 200 and response.get_json() == {"public_key": None}


def test_subscriptions_refuse_foreign_endpoints_and_bad_keys(api, users, vapid):
    browser = Browser()
    for endpoint in ("https://intranet.dinsos.local/admin", "http://fcm.googleapis.com/fcm/send/x",
                     "ftp://127.0.0.1/x", "https://fcm.googleapis.com.evil.example/x"):
        response = subscribe(api, "peksos", endpoint, browser)
        assert response.status_code == 422, endpoint
        assert "endpoint" in response.get_json()["error"]["details"]["fields"]
    response = api("post", "/api/v1/me/push-subscriptions", "peksos",
                   json={"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
                         "keys": {"p256dh": b64(b"\x04" + b"x" * 10), "auth": "!!"}})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]["fields"]) == {"keys.p256dh", "keys.auth"}
    assert subscribe(api, "peksos", "https://fcm.googleapis.com/fcm/send/abc", browser).status_code == 201
    assert db.session.scalars(select(PushSubscription.endpoint)).all() == ["https://fcm.googleapis.com/fcm/send/abc"]


def test_a_phone_that_changes_hands_moves_its_subscription(api, users, vapid):
    endpoint = "https://updates.push.services.mozilla.com/wpush/v2/abc"
    subscribe(api, "peksos", endpoint, Browser())
    subscribe(api, "koordinator", endpoint, Browser())
    row = db.session.scalars(select(PushSubscription)).one()
    assert row.user_id == users["coordinator"].id


def test_delete_removes_only_the_callers_own(api, users, vapid):
    mine, theirs = "https://fcm.googleapis.com/fcm/send/mine", "https://fcm.googleapis.com/fcm/send/theirs"
    subscribe(api, "peksos", mine, Browser())
    subscribe(api, "koordinator", theirs, Browser())
    assert api("delete", "/api/v1/me/push-subscriptions", "peksos", json={"endpoint": theirs}).status_code == 204
    assert api("delete", "/api/v1/me/push-subscriptions", "peksos", json={"endpoint": mine}).status_code == 204
    assert db.session.scalars(select(PushSubscription.endpoint)).all() == [theirs]


def test_payload_is_title_text_and_link_only():
    body = json.loads(payload(message(text="x " * 2000, html="<p>Anak</p>", headers={"X": "y"})))
    assert set(body) == {"title", "body", "link"} and len(body["body"]) <= 1000 and body["body"].endswith("...")


def test_vapid_keys_command_prints_a_usable_pair(app, runner, monkeypatch):
    result = runner.invoke(args=["notify", "vapid-keys"])
    assert result.exit_code == 0, result.output
    private = result.output.split("CASEMGMT_VAPID_PRIVATE_KEY=")[1].split()[0]
    public = result.output.split("push-key): ")[1].split()[0]
    channel = PushChannel.from_config({"VAPID_PRIVATE_KEY": private, "VAPID_SUBJECT": SUBJECT})
    assert channel.public_key == public and len(unb64(public)) == 65
    # The same key as PEM works too.
    pem = channel.vapid.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()).decode()
    assert PushChannel.from_config({"VAPID_PRIVATE_KEY": pem, "VAPID_SUBJECT": SUBJECT}).public_key == public
    with pytest.raises(ValueError):
        PushChannel.from_config({"VAPID_PRIVATE_KEY": "not-a-key", "VAPID_SUBJECT": SUBJECT})
