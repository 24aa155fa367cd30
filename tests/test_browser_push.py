"""Web Push in the installed app on a phone: nothing is asked on load, the account page offers a
button, and a push that arrives is shown by the service worker with its title, text and link."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from casemgmt.notify.push import new_key_pair
from tests.factories import PASSWORD

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
