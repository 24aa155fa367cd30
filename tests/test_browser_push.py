"""Web Push in the installed app on a phone: nothing is asked on load, the account page offers a
button, and a push that arrives is shown by the service worker with its title, text and link; a
tap on it opens its page in the app."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.notify.delivery import deliver_due
from casemgmt.notify.models import Delivery, Notification
from casemgmt.notify.push import new_key_pair, subscribe
from casemgmt.referrals import services as referrals
from casemgmt.transactions import commit
from casemgmt.workflow import services as workflow
from tests.factories import PASSWORD, make_case
from tests.test_notify_push import Browser, PushService

pytestmark = pytest.mark.browser

NOTIFICATIONS = """async () => {
  const r = await navigator.serviceWorker.ready;
  return (await r.getNotifications()).map(n => ({title: n.title, body: n.body, data: n.data}));
}"""


def test_push_is_offered_by_a_button_and_shown_by_the_worker(app, live_server, browser, users, monkeypatch):
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", new_key_pair()[0])
    monkeypatch.setitem(app.config, "VAPID_SUBJECT", "mailto:pksai@example.id")
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Nama pengguna").fill("dukcapil")  # an agency officer: no offline pages
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/account")
        button = page.get_by_role("button", name="Tampilkan notifikasi di ponsel ini")
        expect(button).to_be_visible()
        # Nothing was asked of the browser on load: no permission, no subscription.
        assert page.evaluate("Notification.permission") == "default"
        assert page.evaluate("async () => (await navigator.serviceWorker.ready).pushManager.getSubscription()") is None
        expect(page.locator("#push [data-state]")).to_have_text("Ponsel ini tidak menampilkan notifikasi.")

        # A push as the push service delivers it (Chromium's own delivery, through DevTools).
        context.grant_permissions(["notifications"], origin=live_server)
        cdp = context.new_cdp_session(page)
        registrations = []
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
        cdp.send("ServiceWorker.enable")
        for _ in range(50):
            if registrations:
                break
            page.wait_for_timeout(100)
        registration = next(r for r in registrations if r["scopeURL"].startswith(live_server))
        data = {"title": "Rujukan R-2026-0042 menunggu jawaban", "body": "Jawab paling lambat 10 Des 2026.",
                "link": f"{live_server}/referrals"}
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server + "/",
                                                       "registrationId": registration["registrationId"],
                                                       "data": json.dumps(data)})
        shown = []
        for _ in range(50):
            shown = page.evaluate(NOTIFICATIONS)
            if shown:
                break
            page.wait_for_timeout(100)
        assert shown == [{"title": data["title"], "body": data["body"], "data": data["link"]}]
        assert errors == []
    finally:
        context.close()


SHOWN = """async () => (await self.registration.getNotifications()).map(n => ({title: n.title, body: n.body, data: n.data}))"""
# A tap on the notification the worker shows, as the browser reports it: a notificationclick.
TAP = """async () => {
  const [n] = await self.registration.getNotifications();
  try { self.dispatchEvent(new NotificationEvent("notificationclick", {notification: n})); }
  catch (e) { return String(e); }
  return "";
}"""


def wait_for(check, what: str, page, tries: int = 50):
    for _ in range(tries):
        answer = check()
        if answer:
            return answer
        page.wait_for_timeout(100)
    raise AssertionError(f"no {what}")


def test_a_pushed_referral_is_shown_and_a_tap_opens_its_page(app, live_server, browser, users, monkeypatch):
    """A referral reaches the agency officer's phone as a Web Push, and a tap on it opens the
    referral's page in the app's open window; a link to another origin opens that path on the app's
    own origin, never the other site.

    The push is the one the server really sends: the referral's notification row, delivered by the
    outbox's worker through the push channel to a push service on loopback, decrypted there with the
    subscription's key (as the browser's push service would hand it over) and handed to Chromium's
    service worker through DevTools (ServiceWorker.deliverPushMessage): headless Chromium has no
    push service of its own. The tap is a NotificationEvent dispatched in the worker on the
    notification the worker showed: DevTools cannot click a notification. An event a script
    dispatches is not trusted: its waitUntil throws and the worker may not focus a window, which a
    real tap allows. The handler navigates whether or not the focus is allowed (sw.js), so the
    navigation is the same as a tap's; the focus and a new window (no window open) are not covered.
    """
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", new_key_pair()[0])
    monkeypatch.setitem(app.config, "VAPID_SUBJECT", "mailto:pksai@example.id")
    monkeypatch.setitem(app.config, "PUSH_SERVICE_HOSTS", app.config["PUSH_SERVICE_HOSTS"] + ("127.0.0.1",))
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    officer = users["agency_officer"]  # "dukcapil", of the organisation the referral goes to
    service = PushService()
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors, elsewhere = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    context.route("https://elsewhere.example/**", lambda route: (elsewhere.append(route.request.url), route.abort()))
    try:
        # The officer's phone: logged in, the app's worker installed and controlling the page,
        # notifications allowed.
        page.goto(f"{live_server}/login")
        page.get_by_label("Nama pengguna").fill("dukcapil")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/account")  # push.js registers the worker where push is offered
        wait_for(lambda: page.evaluate("navigator.serviceWorker.controller?.state === 'activated'"),
                 "service worker controlling the page", page)
        context.grant_permissions(["notifications"], origin=live_server)
        worker = wait_for(lambda: context.service_workers, "service worker in the context", page)[0]
        cdp = context.new_cdp_session(page)
        registrations = []
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
        cdp.send("ServiceWorker.enable")
        wait_for(lambda: registrations, "service worker registration", page)
        registration = next(r for r in registrations if r["scopeURL"] == live_server + "/")

        def deliver(data: str) -> list[dict]:
            cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server + "/",
                                                           "registrationId": registration["registrationId"],
                                                           "data": data})
            return wait_for(lambda: worker.evaluate(SHOWN), "notification shown", page)

        def tap() -> None:
            assert worker.evaluate(TAP) == ""

        # The phone's subscription (keys the test holds, at a push service on loopback); then a
        # case worker refers a case to Dukcapil: the referral's notice is written with it.
        phone = Browser()
        subscribe(officer, {"endpoint": f"{service.origin}/push/dukcapil", "keys": phone.keys}, app.config)
        case = make_case(users["village_worker"])
        workflow.apply_transition(case, "accept", users["coordinator"],
                                  {"risk_level": "medium", "assigned_worker_id": users["social_worker"].id})
        referral = referrals.make_referral(case, users["social_worker"], to_organisation_id=officer.organisation_id,
                                           service="birth_certificate", reason="Belum punya akta kelahiran.",
                                           consent={"given_by": "caregiver", "recorded_on": date.today()})
        commit()
        notice = db.session.scalars(select(Notification).where(Notification.user_id == officer.id,
                                                               Notification.kind == "referral_received")).one()
        assert notice.link == f"/referrals/{referral.id}"
        # The worker sends it (past any quiet hours) to the push service, encrypted to the phone.
        counts = deliver_due(utcnow() + timedelta(days=1))
        assert counts["sent"] == 1, counts
        assert db.session.scalars(select(Delivery.status).where(Delivery.notification_id == notice.id)).all() == ["sent"]
        [received] = service.received
        sent = phone.decrypt(received["body"])
        assert set(sent) == {"title", "body", "link"}
        assert referral.reference in sent["title"] and referral.reference in sent["body"]
        assert sent["link"] == f"{live_server}/referrals/{referral.id}"

        # It arrives: the worker shows its title, text and link.
        assert deliver(json.dumps(sent)) == [{"title": sent["title"], "body": sent["body"], "data": sent["link"]}]
        # A tap opens the referral in the app's open window, and the notification goes away.
        tap()
        page.wait_for_url(f"{live_server}/referrals/{referral.id}", timeout=5000)
        assert referral.reference in page.locator("main").inner_text()
        assert worker.evaluate(SHOWN) == [] and context.pages == [page]

        # A link to another origin: the tap opens its path here, never the other site.
        foreign = {**sent, "link": "https://elsewhere.example/notifications?from=push#list"}
        assert deliver(json.dumps(foreign))[0]["data"] == foreign["link"]
        tap()
        page.wait_for_url(f"{live_server}/notifications?from=push#list", timeout=5000)
        assert referral.reference in page.locator("main").inner_text()  # the referral's notice, listed
        assert elsewhere == [] and context.pages == [page]
        assert errors == []
    finally:
        context.close()
        service.close()
