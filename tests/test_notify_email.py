"""The e-mail channel against a real SMTP server on loopback: STARTTLS and a login, both parts
and the List-Unsubscribe header, and each fault (login refused, server down, 4xx, 5xx) told
apart; the outbox delivering through it once, retried with back-off, with two workers at once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.notify.channels import Message, PermanentFailure, TemporaryFailure
from casemgmt.notify.delivery import BACKOFF, MAX_ATTEMPTS, deliver_due
from casemgmt.notify.email import EmailChannel
from casemgmt.notify.models import Delivery
from casemgmt.notify.outbox import notify
from casemgmt.transactions import commit
from tests.factories import UserFactory
from tests.smtp import PASSWORD, USER, SmtpServer, free_port

NOON = utcnow().replace(hour=4, minute=0, second=0, microsecond=0)  # 12:00 in Makassar: not quiet


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_tls(tmp_path):
    server = SmtpServer(tmp_path, tls=True).start()
    yield server
    server.stop()


def message(**kw) -> Message:
    return Message(kind="case_assigned", subject="Kasus 73.06/2026/00001 ditugaskan kepada Anda",
                   text="Kasus 73.06/2026/00001 ditugaskan kepada Anda.\n", link="https://casemgmt.example/cases/1",
                   language="id", html="<p>Kasus 73.06/2026/00001 ditugaskan kepada Anda.</p>",
                   headers={"List-Unsubscribe": "<https://casemgmt.example/account/notifications>"}, **kw)


def tls_channel(server, password=PASSWORD) -> EmailChannel:
    return EmailChannel.from_config({"SMTP_URL": f"smtp://{USER}:{password}@127.0.0.1:{server.port}?starttls=1",
                                     "MAIL_FROM": "casemgmt@dinsos.example", "SMTP_CA_FILE": str(server.cert)})


def test_a_message_goes_over_starttls_with_a_login_with_both_parts(smtp_tls):
    tls_channel(smtp_tls).send(message(urgent=True), "petugas@dukcapil.example")
    [(to, mail)] = smtp_tls.messages
    assert to == ["petugas@dukcapil.example"]
    assert mail["Subject"] == "Kasus 73.06/2026/00001 ditugaskan kepada Anda"
    assert mail["From"] == "casemgmt@dinsos.example" and mail["Content-Language"] == "id"
    assert mail["List-Unsubscribe"] == "<https://casemgmt.example/account/notifications>"
    assert mail["Importance"] == "high"
    assert mail.get_body(("plain",)).get_content().startswith("Kasus 73.06/2026/00001")
    assert "<p>Kasus" in mail.get_body(("html",)).get_content()


def test_a_refused_login_is_permanent(smtp_tls):
    with pytest.raises(PermanentFailure, match="login refused"):
        tls_channel(smtp_tls, password="salah").send(message(), "petugas@dukcapil.example")
    assert smtp_tls.messages == []


def test_a_server_that_does_not_offer_starttls_is_refused_permanently(smtp):
    channel = EmailChannel.from_config({"SMTP_URL": f"smtp://127.0.0.1:{smtp.port}?starttls=1"})
    with pytest.raises(PermanentFailure):
        channel.send(message(), "petugas@dukcapil.example")
    assert smtp.messages == []


def test_a_server_down_is_temporary():
    channel = EmailChannel.from_config({"SMTP_URL": f"smtp://127.0.0.1:{free_port()}"})
    with pytest.raises(TemporaryFailure, match="cannot reach"):
        channel.send(message(), "petugas@dukcapil.example")


@pytest.mark.parametrize("answer, failure", [("450 Mailbox busy", TemporaryFailure),
                                             ("550 No such user", PermanentFailure)])
def test_4xx_is_temporary_and_5xx_permanent(smtp, answer, failure):
    smtp.mailbox.rcpt_answer = answer
    channel = EmailChannel.from_config({"SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
    with pytest.raises(failure, match=answer[:3]):
        channel.send(message(), "petugas@dukcapil.example")


# ---- the outbox through the channel -------------------------------------------------------------

@pytest.fixture
def mail_to(app, monkeypatch):
    def configure(port):
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setitem(app.config, "MAIL_FROM", "casemgmt@dinsos.example")
        monkeypatch.setitem(app.config, "PUBLIC_URL", "https://casemgmt.example")
    return configure


def officer(email="petugas@dukcapil.example", **kw):
    return UserFactory(role="agency_officer", email=email, **kw)


def test_a_notification_is_mailed_once_and_logged(smtp, mail_to):
    mail_to(smtp.port)
    person = officer()
    notify("case_assigned", [person], key="case_assigned:1", link="/cases/1", now=NOON,
           data={"number": "73.06/2026/00001"})
    commit()
    assert deliver_due(NOON)["sent"] == 1
    assert deliver_due(NOON + timedelta(hours=1))["sent"] == 0
    [(to, mail)] = smtp.messages
    assert to == [person.email] and "73.06/2026/00001" in mail["Subject"]
    assert "https://casemgmt.example/cases/1" in mail.get_body(("plain",)).get_content()
    assert mail["List-Unsubscribe"] == "<https://casemgmt.example/account/notifications>"
    row = db.session.scalars(select(Delivery)).one()
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOON)


def test_a_server_down_is_retried_with_back_off_then_sent(tmp_path, mail_to):
    port = free_port()
    mail_to(port)
    notify("case_assigned", [officer()], key="case_assigned:1", link="/cases/1", now=NOON,
           data={"number": "73.06/2026/00001"})
    commit()
    assert deliver_due(NOON)["retry"] == 1
    row = db.session.scalars(select(Delivery)).one()
    assert (row.status, row.attempts) == ("pending", 1) and "cannot reach" in row.last_error
    assert row.next_attempt_at == NOON + timedelta(seconds=BACKOFF[0])
    assert deliver_due(NOON + timedelta(seconds=30))["retry"] == 0  # not before its time
    server = SmtpServer(tmp_path, port=port).start()
    try:
        assert deliver_due(NOON + timedelta(seconds=BACKOFF[0]))["sent"] == 1
    finally:
        server.stop()
    assert len(server.messages) == 1
    db.session.refresh(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_server_down_for_good_fails_after_the_last_attempt(mail_to):
    mail_to(free_port())
    notify("case_assigned", [officer()], key="case_assigned:1", now=NOON, data={"number": "X"})
    commit()
    moment = NOON
    for attempt in range(MAX_ATTEMPTS):
        deliver_due(moment)
        row = db.session.scalars(select(Delivery)).one()
        db.session.refresh(row)
        moment = row.next_attempt_at
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)


def test_a_refused_address_is_not_retried(smtp, mail_to):
    mail_to(smtp.port)
    smtp.mailbox.rcpt_answer = "550 No such user"
    notify("case_assigned", [officer()], key="case_assigned:1", now=NOON, data={"number": "X"})
    commit()
    assert deliver_due(NOON)["failed"] == 1
    assert deliver_due(NOON + timedelta(days=1)) == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "stale": 0}
    row = db.session.scalars(select(Delivery)).one()
    assert (row.status, row.attempts) == ("failed", 1) and "550" in row.last_error


def test_two_workers_at_once_send_each_message_once(app, smtp, mail_to):
    mail_to(smtp.port)
    people = [officer(email=f"petugas{i}@dukcapil.example") for i in range(30)]
    notify("conference_invited", people, key="conference_invited:1", now=NOON, data={"conference_id": 1})
    commit()
    results, start = [], threading.Barrier(2)

    def worker():
        with app.app_context():
            start.wait()
            results.append(deliver_due(NOON, limit=5))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 30
    assert sorted(to[0] for to, _mail in smtp.messages) == sorted(p.email for p in people)
    assert set(db.session.scalars(select(Delivery.status))) == {"sent"}


def test_flask_notify_test_says_what_happened(runner, smtp, mail_to):
    mail_to(smtp.port)
    result = runner.invoke(args=["notify", "test", "--to", "admin@dinsos.example"])
    assert result.exit_code == 0, result.output
    assert "email: sent to admin@dinsos.example" in result.output
    assert smtp.messages[0][0] == ["admin@dinsos.example"]
    smtp.mailbox.rcpt_answer = "550 No such user"
    result = runner.invoke(args=["notify", "test", "--to", "nobody@dinsos.example"])
    assert result.exit_code == 1 and "email: NOT sent" in result.output and "permanent" in result.output


def test_flask_notify_deliver_sends_what_is_due(runner, smtp, mail_to):
    mail_to(smtp.port)
    notify("case_assigned", [officer()], key="case_assigned:1", data={"number": "X"}, urgent=True)
    commit()
    result = runner.invoke(args=["notify", "deliver"])
    assert result.exit_code == 0 and "1 sent" in result.output
    assert len(smtp.messages) == 1
