"""The outbox: one notice per person and event, written with the event; deliveries planned by
preference, quiet hours and the district's digest time; the daily digest; a claim left by a
stopped worker; the notification API, pages and the admin's delivery log."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from casemgmt.directory.models import DistrictSettings
from casemgmt.extensions import db
from casemgmt.notify import registry
from casemgmt.notify.delivery import STALE_CLAIM, claim, deliver_due
from casemgmt.notify.messages import language_of
from casemgmt.notify.models import Delivery, Notification, NotificationPreference
from casemgmt.notify.outbox import next_digest, notify, quiet_until
from casemgmt.referrals import services as referrals
from casemgmt.transactions import commit
from casemgmt.workflow import services as workflow
from tests.factories import UserFactory, make_case
from tests.smtp import SmtpServer

WITA = timezone(timedelta(hours=8))
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=WITA).astimezone(timezone.utc)
NIGHT = datetime(2026, 12, 7, 23, 30, tzinfo=WITA).astimezone(timezone.utc)


@pytest.fixture
def email(app, monkeypatch):
    """The e-mail channel configured (to a server nobody needs to reach for planning)."""
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://127.0.0.1:1")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://casemgmt.example")


def deliveries():
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def test_quiet_hours_and_digest_times_are_makassar_times():
    assert quiet_until(NOON) is None
    assert quiet_until(NIGHT) == datetime(2026, 12, 8, 6, 0, tzinfo=WITA)
    early = datetime(2026, 12, 8, 5, 0, tzinfo=WITA).astimezone(timezone.utc)
    assert quiet_until(early) == datetime(2026, 12, 8, 6, 0, tzinfo=WITA)
    assert next_digest(time(7, 0), NOON) == datetime(2026, 12, 8, 7, 0, tzinfo=WITA)
    assert next_digest(time(17, 0), NOON) == datetime(2026, 12, 7, 17, 0, tzinfo=WITA)


def test_the_same_event_tells_each_person_once(users):
    worker, coordinator = users["social_worker"], users["coordinator"]
    assert len(notify("case_assigned", [worker, coordinator.id], key="k:1", data={"number": "A"})) == 2
    assert notify("case_assigned", [worker, coordinator], key="k:1", data={"number": "A"}) == []
    assert len(notify("case_assigned", [worker], key="k:2", data={"number": "A"})) == 1
    assert db.session.scalar(select(db.func.count(Notification.id))) == 3


def test_a_notification_carries_no_free_text_and_only_known_kinds(users):
    with pytest.raises(ValueError):
        notify("case_assigned", [users["social_worker"]], key="k", data={"number": "A", "child_name": "X"})
    with pytest.raises(ValueError):
        notify("gossip", [users["social_worker"]], key="k")


def test_an_inactive_user_is_not_told(users):
    users["social_worker"].active = False
    assert notify("case_assigned", [users["social_worker"]], key="k", data={"number": "A"}) == []


def test_deliveries_follow_preferences_addresses_and_quiet_hours(users, email):
    plain = UserFactory(role="agency_officer", email="a@dinas.example")
    without = UserFactory(role="agency_officer", email=None)
    off = UserFactory(role="agency_officer", email="b@dinas.example")
    daily = UserFactory(role="agency_officer", email="c@dinas.example", area_code="73.06")
    db.session.add_all([NotificationPreference(user_id=off.id, email="off", push="immediate", sms="immediate"),
                        NotificationPreference(user_id=daily.id, email="daily", push="immediate", sms="immediate"),
                        DistrictSettings(area_code="73.06", digest_time=time(16, 30), caseload_threshold=25,
                                         population_retention_days=180)])
    db.session.flush()
    notify("case_assigned", [plain, without, off, daily], key="day", now=NOON, data={"number": "A"})
    notify("case_assigned", [plain, daily], key="night", now=NIGHT, data={"number": "A"})
    notify("referral_received", [plain, daily, off], key="urgent", now=NIGHT, urgent=True, data={"reference": "R"})
    plan = {(d.user_id, n.event_key): (d.status, d.digest, d.next_attempt_at, d.last_error)
            for d, n in db.session.execute(select(Delivery, Notification).join(Notification))}
    assert plan[(plain.id, "day")] == ("pending", False, NOON, None)
    assert plan[(without.id, "day")] == ("skipped", False, None, "no address")
    assert plan[(off.id, "day")] == ("skipped", False, None, "off in the user's preferences")
    assert plan[(daily.id, "day")] == ("pending", True, datetime(2026, 12, 7, 16, 30, tzinfo=WITA), None)
    assert plan[(plain.id, "night")] == ("pending", False, datetime(2026, 12, 8, 6, 0, tzinfo=WITA), None)
    assert plan[(daily.id, "night")][1:3] == (True, datetime(2026, 12, 8, 16, 30, tzinfo=WITA))
    # Urgent: at once, at night, and past the digest; a channel turned off stays off.
    assert plan[(plain.id, "urgent")] == ("pending", False, NIGHT, None)
    assert plan[(daily.id, "urgent")] == ("pending", False, NIGHT, None)
    assert plan[(off.id, "urgent")][0] == "skipped"
    # Everyone keeps the in-app notice.
    assert {n.user_id for n in db.session.scalars(select(Notification).where(Notification.event_key == "day"))} \
        == {plain.id, without.id, off.id, daily.id}
    # The times are stored as the models store them: a query by an instant finds them (SQLite
    # keeps text, and "06:00:00" is not "06:00:00.000000").
    at_six = datetime(2026, 12, 8, 6, 0, tzinfo=WITA)
    assert db.session.scalar(select(db.func.count(Delivery.id)).where(
        Delivery.created_at == NIGHT, Delivery.next_attempt_at == at_six)) == 1


def test_no_channel_configured_means_in_app_only(users, app):
    assert registry.configured() == {}
    notify("case_assigned", [users["social_worker"]], key="k", data={"number": "A"})
    assert deliveries() == []


def test_the_daily_digest_is_one_email_of_the_days_notices(users, app, tmp_path, monkeypatch):
    server = SmtpServer(tmp_path).start()
    try:
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{server.port}")
        person = UserFactory(role="coordinator", email="k@pksai.example", area_code="73.06")
        db.session.add(NotificationPreference(user_id=person.id, email="daily", push="immediate", sms="immediate"))
        for i in range(3):
            notify("approval_requested", [person], key=f"a:{i}", now=NOON, link=f"/cases/{i}",
                   data={"number": f"7306-2026-00000{i}", "transition": "submit_plan"})
        commit()
        assert deliver_due(NOON + timedelta(hours=1))["sent"] == 0  # not before the digest time
        digest_at = datetime(2026, 12, 8, 7, 0, tzinfo=WITA)  # the default 07:00
        assert deliver_due(digest_at)["sent"] == 3
    finally:
        server.stop()
    [(to, mail)] = server.messages
    body = mail.get_body(("plain",)).get_content()
    assert to == ["k@pksai.example"] and all(f"7306-2026-00000{i}" in body for i in range(3))
    assert {d.status for d in deliveries()} == {"sent"}


def test_a_claim_a_stopped_worker_left_is_failed_not_sent_again(users, email):
    notify("case_assigned", [UserFactory(role="agency_officer", email="a@dinas.example")], key="k", now=NOON,
           data={"number": "A"})
    commit()
    assert claim(NOON) is not None  # ... and the worker dies before sending
    assert deliver_due(NOON + timedelta(minutes=1))["sent"] == 0
    counts = deliver_due(NOON + STALE_CLAIM + timedelta(minutes=1))
    assert counts["stale"] == 1 and counts["retry"] == 0
    [row] = deliveries()
    db.session.refresh(row)
    assert row.status == "failed" and "not sent again" in row.last_error


def test_the_language_of_a_user_is_their_own_or_the_apps(users):
    assert language_of(users["social_worker"]) == "id"

    class English:
        language = "en"
    assert language_of(English()) == "en"


# ---- the events ----------------------------------------------------------------------------------

def kinds_for(user) -> list[str]:
    return sorted(db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)))


def test_the_volunteer_hears_the_complaints_fate_and_nothing_else(users):
    village, coordinator, worker = users["village_worker"], users["coordinator"], users["social_worker"]
    case = make_case(village)
    workflow.apply_transition(case, "accept", coordinator, {"risk_level": "high", "assigned_worker_id": worker.id})
    referral = referrals.make_referral(case, worker, to_organisation_id=users["agency_officer"].organisation_id,
                                       service="birth_certificate", reason="Akta.", urgency="urgent",
                                       consent={"given_by": "caregiver", "recorded_on": NOON.date()})
    referrals.accept(referral, users["agency_officer"])
    assert kinds_for(village) == ["complaint_status"]
    assert db.session.scalars(select(Notification.data).where(Notification.user_id == village.id)).one() == \
        {"number": case.number, "status": "accepted"}
    assert kinds_for(worker) == ["case_assigned", "referral_answered"]
    received = db.session.scalars(select(Notification).where(Notification.user_id == users["agency_officer"].id)).one()
    assert (received.kind, received.urgent, received.link) == ("referral_received", True, f"/referrals/{referral.id}")


def test_a_dismissed_complaint_is_told_to_its_registrar(users):
    case = make_case(users["village_worker"])
    workflow.apply_transition(case, "dismiss", users["coordinator"], {"reason": "duplicate"})
    assert db.session.scalars(select(Notification.data).where(
        Notification.user_id == users["village_worker"].id)).one()["status"] == "dismissed"


def test_due_soon_sweep_tells_once_per_deadline(users):
    from casemgmt.workflow import sweep

    case = make_case(users["village_worker"])
    workflow.apply_transition(case, "accept", users["coordinator"], {"risk_level": "high",
                                                                     "assigned_worker_id": users["social_worker"].id})
    commit()
    before = case.due_at - timedelta(hours=2)
    assert sweep.sweep_due_soon(before)["notifications"] == 1
    assert sweep.sweep_due_soon(before + timedelta(minutes=15))["notifications"] == 0
    assert "deadline_due_soon" in kinds_for(users["social_worker"])


# ---- API and pages -------------------------------------------------------------------------------

def test_the_api_lists_and_marks_read_only_the_callers_notifications(api, users):
    worker = users["social_worker"]
    mine = notify("case_assigned", [worker], key="k1", link="/cases/1", data={"number": "7306-2026-000001"})[0]
    notify("case_assigned", [worker], key="k2", link="/cases/2", data={"number": "7306-2026-000002"})
    theirs = notify("case_assigned", [users["coordinator"]], key="k3", data={"number": "B"})[0]
    commit()
    body = api("get", "/api/v1/notifications?unread=true", "peksos").get_json()
    assert [i["link"] for i in body["items"]] == ["/cases/2", "/cases/1"] and body["next_cursor"] is None
    assert set(body["items"][0]) >= {"id", "kind", "text", "link", "created_at", "read_at"}
    assert "7306-2026-000002" in body["items"][0]["text"]
    assert api("post", f"/api/v1/notifications/{mine}/read", "peksos").status_code == 200
    assert api("post", f"/api/v1/notifications/{theirs}/read", "peksos").status_code == 404
    unread = api("get", "/api/v1/notifications?unread=true", "peksos").get_json()["items"]
    assert [i["id"] for i in unread] == [mine + 1]
    every = api("get", "/api/v1/notifications", "peksos").get_json()["items"]
    assert len(every) == 2 and every[1]["read_at"] is not None


def test_preferences_through_the_api(api, users):
    assert api("get", "/api/v1/me/notification-preferences", "peksos").get_json() == \
        {"email": "immediate", "push": "immediate", "sms": "immediate"}
    answer = api("put", "/api/v1/me/notification-preferences", "peksos", json={"email": "daily", "sms": "off"})
    assert answer.status_code == 200 and answer.get_json() == {"email": "daily", "push": "immediate", "sms": "off"}
    assert api("put", "/api/v1/me/notification-preferences", "peksos", json={"push": "daily"}).status_code == 422
    assert api("put", "/api/v1/me/notification-preferences", "peksos", json={"fax": "off"}).status_code == 422
    assert api("get", "/api/v1/me/notification-preferences", "peksos").get_json()["email"] == "daily"


def test_the_bell_the_page_and_the_preferences_page(web, users):
    worker = users["social_worker"]
    note = notify("case_assigned", [worker], key="k1", link="/cases/1", data={"number": "7306-2026-000001"})[0]
    commit()
    web.login("peksos")
    page = web.get("/notifications").get_data(as_text=True)
    assert 'badge text-bg-warning">1<' in page and "7306-2026-000001" in page
    answer = web.post(f"/notifications/{note}/read")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/cases/1")
    assert 'badge text-bg-warning' not in web.get("/notifications").get_data(as_text=True)
    assert web.post("/account/notifications", {"email": "off", "push": "immediate", "sms": "off"}).status_code == 302
    assert db.session.get(NotificationPreference, worker.id).email == "off"
    assert web.post("/account/notifications", {"email": "weekly"}).status_code == 422


def test_the_home_shows_the_newest_few_and_links_to_the_rest(web, users):
    """A worker back from leave has dozens unread: the home lists the newest five, the rest are
    a link away, not a page of them on a phone."""
    from casemgmt.workflow.notices import HOME_NOTICES

    worker = users["social_worker"]
    for n in range(HOME_NOTICES + 3):
        notify("case_assigned", [worker], key=f"k{n}", link="/cases/1", data={"number": f"7306-2026-{n:06d}"},
               now=datetime(2026, 12, 1, 8, n, tzinfo=timezone.utc))
    commit()
    web.login("peksos")
    home = web.get("/").get_data(as_text=True)
    shown = [n for n in range(HOME_NOTICES + 3) if f"7306-2026-{n:06d}" in home]
    assert shown == list(range(3, HOME_NOTICES + 3))  # the newest five
    assert f"Semua {HOME_NOTICES + 3} pemberitahuan yang belum dibaca" in home and "/notifications?unread=1" in home
    # A notice about no case (a letter to an agency, say) opens its own link from the home.
    letter = notify("outreach_letter", [worker], key="letter-1", link="/outreach/letters/1.pdf",
                    data={"number": "AKTA/7306/2026/00001"}, now=datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))[0]
    commit()
    home = web.get("/").get_data(as_text=True)
    assert f'action="/notifications/{letter}/read"' in home
    opened = web.post(f"/notifications/{letter}/read")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/outreach/letters/1.pdf")


def test_the_admin_reads_the_delivery_log(admin_web, users, email):
    notify("case_assigned", [UserFactory(username="tanpa.email", role="agency_officer", email=None)], key="k",
           data={"number": "A"})
    commit()
    page = admin_web.get("/admin/notifications?status=skipped").get_data(as_text=True)
    assert "tanpa.email" in page and "no address" in page


def test_a_notice_another_transaction_wrote_meanwhile_is_left_out_not_an_error(users, email):
    """A person already told of an event, in this transaction or by another one at the same
    moment, is left out by the unique (user_id, event_key) (ON CONFLICT DO NOTHING); the others
    are told and the event's transaction goes on."""
    from casemgmt.notify import outbox

    worker, coordinator = users["social_worker"], users["coordinator"]
    first = notify("case_assigned", [worker], key="race", data={"number": "A"})
    again = outbox.notify("case_assigned", [worker, coordinator], key="race", data={"number": "A"})
    assert len(first) == 1 and len(again) == 1 and again != first
    commit()
    assert sorted(db.session.scalars(select(Notification.user_id).where(Notification.event_key == "race"))) == \
        sorted([worker.id, coordinator.id])
    assert db.session.scalar(select(db.func.count(Delivery.id))) == 2


def test_a_message_goes_to_each_of_a_persons_addresses_once():
    """Two phones subscribed to push: both are sent the message; one gone and one reached is
    sent (not tried again: the other would get it twice); none reached says the retryable failure."""
    from casemgmt.notify.channels import Message, PermanentFailure, TemporaryFailure
    from casemgmt.notify.delivery import _send_all

    class Phones:
        name = "push"

        def __init__(self, answers):
            self.answers, self.sent = answers, []

        def send(self, message, address, *, delivery_id=None):
            self.sent.append((address, delivery_id))
            if self.answers[address] is not None:
                raise self.answers[address]

    message = Message(kind="case_assigned", subject="s", text="t", link="/cases/1", language="id")
    both = Phones({"a": None, "b": None})
    assert _send_all(both, message, ["a", "b"], 7) is None and both.sent == [("a", "7"), ("b", "7")]
    one_gone = Phones({"a": PermanentFailure("410 gone"), "b": None})
    assert _send_all(one_gone, message, ["a", "b"], 7) is None
    later = TemporaryFailure("503")
    none_reached = Phones({"a": PermanentFailure("410 gone"), "b": later})
    assert _send_all(none_reached, message, ["a", "b"], 7) is later
    gone = PermanentFailure("404")
    assert _send_all(Phones({"a": gone}), message, ["a"], 7) is gone
