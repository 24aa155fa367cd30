"""The SMS/WhatsApp gateway channel against a receiver on loopback that checks its signature."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from casemgmt.notify.channels import Message, PermanentFailure, TemporaryFailure
from casemgmt.notify.sms import LIMIT_GSM, LIMIT_UCS2, REPLAY_WINDOW_SECONDS, SmsGateway, sms_text
from tests.loopback import LoopbackServer

SECRET = "rahasia-bersama-gateway"


class Receiver(LoopbackServer):
    """A provider's end: verifies the signature as docs/sms-gateway.md tells providers to, and
    answers with ``status`` (or keeps the caller waiting until ``release`` is set)."""

    def __init__(self):
        self.status = 202
        self.hold = False
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers.get("X-Casemgmt-Timestamp", "")
                sent = self.headers.get("X-Casemgmt-Signature", "")
                expected = "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= REPLAY_WINDOW_SECONDS
                valid = hmac.compare_digest(sent, expected) and fresh
                receiver.received.append({"valid": valid, "body": json.loads(body), "headers": dict(self.headers)})
                if receiver.hold:
                    receiver.release.wait(5)
                status = receiver.status if valid else 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        LoopbackServer.__init__(self, Handler)
        self.url = f"{self.origin}/send"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def message(**kw):
    base = dict(kind="referral_received", subject="Rujukan R-2026-0042 menunggu jawaban",
                text="Jawab paling lambat 10 Des 2026 pukul 09.00 WITA.",
                link="https://casemgmt.example.id/referrals/42", language="id")
    return Message(**{**base, **kw})


def test_from_config_needs_url_and_secret():
    assert SmsGateway.from_config({}) is None
    assert SmsGateway.from_config({"SMS_GATEWAY_URL": "https://gw.example.id"}) is None
    gw = SmsGateway.from_config({"SMS_GATEWAY_URL": "https://gw.example.id", "SMS_GATEWAY_SECRET": "s",
                                 "SMS_GATEWAY_TIMEOUT": 3})
    assert (gw.name, gw.url, gw.timeout) == ("sms", "https://gw.example.id", 3.0)


def test_addresses_are_the_users_phone(users):
    gw = SmsGateway("http://127.0.0.1:9", SECRET)
    user = users["agency_officer"]
    user.phone = None
    assert gw.addresses(user) == []
    user.phone = "+6281234567890"
    assert gw.addresses(user) == ["+6281234567890"]


def test_sends_signed_json_the_receiver_verifies(receiver):
    SmsGateway(receiver.url, SECRET).send(message(), "0812-3456-7890", delivery_id="d-17")
    [got] = receiver.received
    assert got["valid"]
    assert got["body"] == {"to": "+6281234567890", "text": sms_text(message()),
                           "link": "https://casemgmt.example.id/referrals/42", "kind": "referral_received",
                           "id": "d-17"}
    assert got["body"]["text"].startswith("Rujukan R-2026-0042 menunggu jawaban: Jawab paling lambat")
    assert got["body"]["text"].endswith(" https://casemgmt.example.id/referrals/42")
    assert got["headers"]["Idempotency-Key"] == "d-17"


def test_a_wrong_secret_is_refused_by_the_receiver_and_is_permanent(receiver):
    with pytest.raises(PermanentFailure, match="401"):
        SmsGateway(receiver.url, "not-the-secret").send(message(), "+6281234567890")
    assert receiver.received[0]["valid"] is False


@pytest.mark.parametrize("status, failure", [(500, TemporaryFailure), (503, TemporaryFailure),
                                             (429, TemporaryFailure), (400, PermanentFailure),
                                             (404, PermanentFailure), (422, PermanentFailure)])
def test_answers_say_whether_to_try_again(receiver, status, failure):
    receiver.status = status
    with pytest.raises(failure, match=str(status)) as raised:
        SmsGateway(receiver.url, SECRET).send(message(), "+6281234567890")
    assert raised.value.retry is (failure is TemporaryFailure)
    assert message().text not in str(raised.value)  # the log line says why, never what


def test_a_gateway_that_does_not_answer_in_time_is_temporary(receiver):
    receiver.hold = True
    started = time.monotonic()
    with pytest.raises(TemporaryFailure, match="did not answer"):
        SmsGateway(receiver.url, SECRET, timeout=0.3).send(message(), "+6281234567890")
    assert time.monotonic() - started < 3


def test_a_gateway_that_is_down_is_temporary():
    with pytest.raises(TemporaryFailure, match="unreachable"):
        SmsGateway("http://127.0.0.1:9/send", SECRET, timeout=1).send(message(), "+6281234567890")


def test_a_number_that_is_not_indonesian_is_permanent_and_nothing_is_sent(receiver):
    with pytest.raises(PermanentFailure):
        SmsGateway(receiver.url, SECRET).send(message(), "+1 202 555 0100")
    assert receiver.received == []


def test_text_fits_two_sms_and_keeps_its_link():
    long = message(text="Mohon dijawab segera. " * 40)
    text = sms_text(long)
    assert len(text) == LIMIT_GSM and text.endswith("... https://casemgmt.example.id/referrals/42")
    # A character outside GSM-7 makes every SMS shorter (UCS-2).
    text = sms_text(message(text="Mohon dijawab segera “hari ini”. " * 20))
    assert len(text) == LIMIT_UCS2 and text.endswith(" https://casemgmt.example.id/referrals/42")
    assert sms_text(message()) == ("Rujukan R-2026-0042 menunggu jawaban: Jawab paling lambat 10 Des 2026 "
                                   "pukul 09.00 WITA. https://casemgmt.example.id/referrals/42")
