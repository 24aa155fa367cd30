"""The installable app on a 360-pixel phone without a signal: a complaint recorded offline waits in
the phone's encrypted outbox and is created exactly once when the signal returns."""
from __future__ import annotations


import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from casemgmt.cases.models import Case, Child, Complaint
from casemgmt.extensions import db
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tests.test_browser import fits_the_screen

pytestmark = pytest.mark.browser

SAVED = "Tersimpan di ponsel, akan dikirim saat ada sinyal."

# Everything the page's origin keeps: IndexedDB's records and Cache Storage's pages, as text.
DUMP_STORAGE = """async () => {
  const out = [];
  for (const info of await indexedDB.databases()) {
    const d = await new Promise((ok, ko) => { const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = ko; });
    for (const name of d.objectStoreNames) {
      const rows = await new Promise((ok) => { const r = d.transaction(name).objectStore(name).getAll(); r.onsuccess = () => ok(r.result); });
      out.push(JSON.stringify(rows));
    }
    d.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (!new URL(request.url).pathname.startsWith('/static/')) { out.push(request.url + ' ' + await (await cache.match(request)).text()); }
    }
  }
  return out.join('\\n');
}"""
OUTBOX = """async () => {
  const d = await new Promise((ok) => { const r = indexedDB.open('casemgmt'); r.onsuccess = () => ok(r.result); });
  const rows = await new Promise((ok) => { const r = d.transaction('outbox').objectStore('outbox').getAll(); r.onsuccess = () => ok(r.result); });
  const vaults = await new Promise((ok) => { const r = d.transaction('vault').objectStore('vault').getAll(); r.onsuccess = () => ok(r.result); });
  d.close();
  return {outbox: rows.map(r => r.state), vaults: vaults.length};
}"""


def count(model, *where) -> int:
    db.session.rollback()  # read what the live server committed since
    return db.session.scalar(select(func.count(model.id)).where(*where))


@pytest.fixture
def device(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    yield context
    context.close()


def log_in(page, base, username="desa"):
    page.goto(f"{base}/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{base}/")


def kept(page, *paths) -> None:
    """Wait until the worker controls the page and keeps ``paths`` (evaluate awaits the check's
    promise; wait_for_function would take the promise itself as a truthy answer)."""
    check = ("async (paths) => navigator.serviceWorker.controller?.state === 'activated'"
             " && (await Promise.all(paths.map(p => caches.match(p)))).every(Boolean)")
    for _ in range(150):
        if page.evaluate(check, list(paths)):
            return
        page.wait_for_timeout(100)
    state = page.evaluate("""async (paths) => [navigator.serviceWorker.controller?.state, location.pathname,
      await Promise.all(paths.map(async p => p + ':' + !!(await caches.match(p)))),
      await Promise.all((await caches.keys()).map(async n => n + ' ' + (await (await caches.open(n)).keys()).map(r => new URL(r.url).pathname).join(' ')))]""",
                          list(paths))
    raise AssertionError(f"the worker did not keep {paths}: {state}")


def ready_offline(page, base):
    """The app is installed: its worker controls the page and keeps the complaint form."""
    page.goto(f"{base}/cases/new")
    kept(page, "/cases/new", "/app/outbox", page.evaluate(
        "document.querySelector('script[src*=\"intake-offline\"]').getAttribute('src')"), page.evaluate(
        "JSON.parse(document.querySelector('meta[name=app-user]').dataset.kept).find(u => u.includes('outbox.js'))"))


def reopen_offline(device, page):
    """The signal goes; the complaint form is opened again, from the phone's copy."""
    device.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Daftarkan pengaduan")


def fill_complaint(page, name="Sitti Hardianti", nik=None):
    page.get_by_label("Nama pelapor").fill("Ibu Rahma")
    page.get_by_label("Nama anak").fill(name)
    page.get_by_label("Perempuan").first.check()
    page.get_by_label("Atau perkiraan umur (tahun)").fill("13")
    if nik:
        page.get_by_label("NIK (opsional)").fill(nik)
    page.get_by_label("Putus sekolah").check()
    page.get_by_label("Apa yang terjadi?").fill("Anak perempuan tidak sekolah sejak kelas 5.")


def test_a_complaint_recorded_offline_is_sent_once_when_the_signal_returns(live_server, device, users):
    page = device.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: print("CONSOLE", m.type, m.text) if m.type == "error" else None)
    log_in(page, live_server)
    # The village worker's home puts the complaint form and the outbox first.
    register = page.locator("main").get_by_role("link", name="Daftarkan pengaduan").first
    assert register.bounding_box()["y"] < 300
    expect(page.locator("main").get_by_role("link", name="Kotak keluar di ponsel ini")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "offline-00-home-360.png"))
    ready_offline(page, live_server)

    reopen_offline(device, page)  # the form opens from the phone's copy
    expect(page.get_by_role("heading", level=1)).to_have_text("Daftarkan pengaduan")
    # A save with only field errors says how many, and goes to the first.
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_contain_text("isian perlu diperbaiki")
    expect(page.locator("#reporter_name")).to_be_focused()
    fill_complaint(page)
    page.screenshot(path=str(ARTIFACTS / "offline-01-form-offline-360.png"), full_page=True)
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)
    expect(page.locator("#outbox-badge [data-count]")).to_have_text("1")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "offline-02-saved-on-phone-360.png"), full_page=True)
    assert count(Case) == 0

    # Reloaded without a signal: the app and the waiting complaint are still there.
    page.goto(f"{live_server}/app/outbox")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kotak keluar di ponsel ini")
    expect(page.locator("[data-outbox-item]")).to_have_count(1)
    expect(page.locator("[data-outbox-item]")).to_contain_text("Sitti Hardianti")
    expect(page.locator("#outbox-badge [data-count]")).to_have_text("1")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "offline-03-outbox-360.png"), full_page=True)
    # Any other page without a signal: the outbox page, not the browser's error.
    page.goto(f"{live_server}/complaints/mine")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kotak keluar di ponsel ini")

    # What the phone keeps holds no child's name in clear.
    stored = page.evaluate(DUMP_STORAGE)
    assert '"state":"pending"' in stored and "Sitti" not in stored and "Hardianti" not in stored
    assert "Ibu Rahma" not in stored and "tidak sekolah" not in stored

    # A new tab (the installed app opened again) asks for the password before it can read it.
    other = device.new_page()
    other.goto(f"{live_server}/app/outbox")
    expect(other.locator("#unlock-bar")).to_be_visible()
    expect(other.locator("[data-outbox-item]")).not_to_contain_text("Sitti")
    other.get_by_label("Yang Anda catat di ponsel ini terkunci").fill("not the password")
    other.get_by_role("button", name="Buka kunci").click()
    expect(other.locator("#unlock-bar [data-message]")).to_have_text("Kata sandi salah.")
    other.get_by_label("Yang Anda catat di ponsel ini terkunci").fill(PASSWORD)
    other.get_by_role("button", name="Buka kunci").click()
    expect(other.locator("[data-outbox-item]")).to_contain_text("Sitti Hardianti", timeout=15000)
    other.screenshot(path=str(ARTIFACTS / "offline-04-unlocked-360.png"), full_page=True)
    other.close()

    # The signal returns: sent once, the outbox empties, one case more.
    device.set_offline(False)
    expect(page.locator("#outbox-empty")).to_be_visible(timeout=30000)
    expect(page.locator("#outbox-badge")).to_be_hidden()
    assert count(Case) == 1 and count(Complaint) == 1
    assert count(Child, Child.name == "Sitti Hardianti") == 1
    page.reload()
    page.wait_for_timeout(1000)  # a second page opening sends nothing again
    assert count(Case) == 1
    assert errors == []


def test_a_lost_answer_is_sent_again_and_creates_one_case(live_server, device, users):
    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    reopen_offline(device, page)
    fill_complaint(page, name="Andi Baso")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)

    # The server creates the case, then the connection drops before its answer arrives.
    attempts = []

    def drop_first_answer(route):
        attempts.append(route.request.headers.get("idempotency-key"))
        if len(attempts) == 1:
            route.fetch()  # reaches the server, which commits the case
            route.abort("connectionreset")
        else:
            route.continue_()

    device.route("**/api/v1/cases", drop_first_answer)
    device.set_offline(False)
    expect(page.locator("#outbox-badge")).to_be_hidden(timeout=30000)
    assert len(attempts) >= 2 and len(set(attempts)) == 1  # the same key each time
    assert count(Case) == 1 and count(Child, Child.name == "Andi Baso") == 1


def test_a_complaint_the_server_refuses_waits_to_be_corrected(live_server, device, users):
    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    reopen_offline(device, page)
    # 99.99 is no kabupaten: only the server knows the region codes.
    fill_complaint(page, name="Nurul Aisyah", nik="9999014512100003")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)
    device.set_offline(False)
    page.goto(f"{live_server}/app/outbox")
    item = page.locator("[data-outbox-item]")
    expect(item).to_contain_text("Perlu diperbaiki", timeout=30000)
    expect(item).to_contain_text("kode kabupaten/kota")
    expect(page.locator("#outbox-badge [data-count]")).to_have_text("1")
    page.screenshot(path=str(ARTIFACTS / "offline-05-needs-fixing-360.png"), full_page=True)
    assert count(Case) == 0

    item.get_by_role("link", name="Perbaiki").click()
    expect(page.get_by_label("Nama anak")).to_have_value("Nurul Aisyah")
    expect(page.locator("#intake-status")).to_contain_text("kode kabupaten/kota")
    expect(page.get_by_label("NIK (opsional)")).to_have_value("9999014512100003")
    page.screenshot(path=str(ARTIFACTS / "offline-06-correcting-360.png"), full_page=True)
    page.get_by_label("NIK (opsional)").fill("")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#outbox-badge")).to_be_hidden(timeout=30000)
    assert count(Case) == 1 and count(Child, Child.name == "Nurul Aisyah") == 1


def test_logging_out_wipes_the_phones_copy_after_a_warning(live_server, device, users):
    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    reopen_offline(device, page)
    fill_complaint(page, name="Muh. Fadli")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)
    device.route("**/api/v1/cases", lambda route: route.abort("connectionrefused"))  # still no way through
    device.set_offline(False)
    assert page.evaluate(OUTBOX) == {"outbox": ["pending"], "vaults": 1}

    warnings = []

    def answer(dialog):
        warnings.append(dialog.message)
        dialog.dismiss() if len(warnings) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Buka menu").click()
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_timeout(500)
    assert page.evaluate(OUTBOX) == {"outbox": ["pending"], "vaults": 1}  # dismissed: nothing wiped
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_url(f"{live_server}/login")
    assert warnings and "1 catatan di ponsel ini belum terkirim" in warnings[0]
    assert page.evaluate(OUTBOX) == {"outbox": [], "vaults": 0}
    stored = page.evaluate(DUMP_STORAGE)
    assert "desa" not in stored and "csrf" not in stored  # the kept pages went too
    assert count(Case) == 0


class SlowLink:
    """A village connection at the server's door, for the page and its service worker alike:
    each answer waits the round trip and goes out at the link's speed."""

    def __init__(self, app, latency=0.4, bytes_per_second=50 * 1024):
        self.app, self.inner = app, app.wsgi_app
        self.latency, self.rate = latency, bytes_per_second

    def __enter__(self):
        import time

        def slow(environ, start_response):
            body = b"".join(self.inner(environ, start_response))
            time.sleep(self.latency + len(body) / self.rate)
            return [body]

        self.app.wsgi_app = slow
        return self

    def __exit__(self, *exc):
        self.app.wsgi_app = self.inner


QUEUE_MANY = """async (n) => {
  for (let i = 0; i < n; i++) {
    await window.casemgmtOutbox.record('case', '/api/v1/cases', {
      channel: 'outreach', reporter: {anonymous: true}, concerns: ['out_of_school'],
      description: 'Kunjungan rumah ' + i, children: [{name: 'Anak Antrean ' + String.fromCharCode(65 + i),
      sex: i % 2 ? 'M' : 'F', age_years: 8, area_code: '73.06.01.2006'}]});
  }
}"""


def test_on_a_slow_link_the_form_opens_fast_and_twenty_queued_complaints_go_once(app, live_server, device, users):
    import time

    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    lines = ["offline app on a 400 ms / 50 KB/s link (server-side delay on every answer, worker's too)"]

    with SlowLink(app):
        # Opening the complaint form from the installed app, online but slow, then with no signal.
        page.goto(f"{live_server}/")
        timings = []
        for offline in (False, True):
            device.set_offline(offline)
            page.goto(f"{live_server}/cases/new", wait_until="domcontentloaded")
            timings.append(page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"))
            expect(page.get_by_role("heading", level=1)).to_have_text("Daftarkan pengaduan")
        lines.append(f"complaint form opened: {timings[0]:.0f} ms with a slow signal, {timings[1]:.0f} ms without")

        page.evaluate(QUEUE_MANY, 20)
        expect(page.locator("#outbox-badge [data-count]")).to_have_text("20")
        started = time.monotonic()
        device.set_offline(False)
        expect(page.locator("#outbox-badge")).to_be_hidden(timeout=60000)
        elapsed = time.monotonic() - started
    lines.append(f"20 complaints queued offline, all sent: {elapsed:.1f} s after the signal returned")
    (ARTIFACTS / "offline-benchmark.txt").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    assert count(Complaint) == 20 and count(Child, Child.name.like("Anak Antrean %")) == 20
    assert timings[0] < 1000 and timings[1] < 1000, lines
    assert elapsed < 30, lines


def test_siblings_recorded_offline_become_one_complaint_with_two_cases(live_server, device, users):
    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    reopen_offline(device, page)
    fill_complaint(page, name="Sitti Hardianti")
    page.get_by_role("button", name="Tambah anak lain").click()  # without the server
    expect(page.get_by_role("group", name="Anak 2")).to_be_visible()
    second = page.get_by_role("group", name="Anak 2")
    second.get_by_label("Nama anak").fill("Muh. Fadli")
    second.get_by_label("Laki-laki").check()
    second.get_by_label("Atau perkiraan umur (tahun)").fill("9")
    expect(second.get_by_label("Desa / kelurahan")).to_have_value("73.06.01.2006")  # siblings live together
    assert fits_the_screen(page)
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)
    expect(page.get_by_role("group", name="Anak 2")).to_have_count(0)  # the form is empty again
    device.set_offline(False)
    expect(page.locator("#outbox-badge")).to_be_hidden(timeout=30000)
    assert count(Complaint) == 1 and count(Case) == 2
    assert count(Child, Child.name.in_(["Sitti Hardianti", "Muh. Fadli"])) == 2


def test_a_lapsed_session_holds_the_outbox_until_the_user_logs_in(live_server, device, users):
    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    reopen_offline(device, page)
    fill_complaint(page, name="Andi Baso")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)
    # The session ends while the phone is out of reach (idle time-out, or the cookie gone).
    device.clear_cookies()
    device.set_offline(False)
    page.evaluate("window.casemgmtOutbox.sync()")
    expect(page.locator("#outbox-badge")).to_have_attribute("title", "Masuk lagi untuk mengirim yang menunggu di ponsel ini.")
    expect(page.locator("#outbox-badge [data-count]")).to_have_text("1")
    assert count(Case) == 0
    log_in(page, live_server)
    for _ in range(300):  # the new page's badge starts hidden: wait for the phone's outbox itself
        if page.evaluate(OUTBOX)["outbox"] == []:
            break
        page.wait_for_timeout(100)
    assert page.evaluate(OUTBOX)["outbox"] == []
    assert count(Case) == 1 and count(Child, Child.name == "Andi Baso") == 1


def _field_device(browser, base):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, base, "peksos")
    page.goto(f"{base}/app/cases")
    kept(page, "/app/cases", page.evaluate(
        "document.querySelector('script[src*=\"fieldwork\"]').getAttribute('src')"))
    page.get_by_role("button", name="Bawa kasus saya (offline)").click()
    return context, page


def _child(case_id):
    from casemgmt.cases.models import Case as CaseModel

    db.session.rollback()
    return db.session.get(CaseModel, case_id).child


def test_two_phones_edit_one_case_offline_merge_and_choose_side_by_side(live_server, browser, users):
    from casemgmt.cases.models import CaseEvent
    from casemgmt.workflow import services as workflow
    from tests.factories import make_case

    case = make_case(users["village_worker"], name="Sitti Hardianti")
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "medium", "assigned_worker_id": users["social_worker"].id}, case.version)
    case_id, number = case.id, case.number
    db.session.commit()  # as the coordinator's request would have
    (a_context, a), (b_context, b) = _field_device(browser, live_server), _field_device(browser, live_server)
    try:
        for page in (a, b):
            expect(page.locator("[data-case] summary")).to_have_text(f"{number} · Sitti Hardianti")
            page.locator("[data-case] summary").click()
        assert fits_the_screen(a)
        a.screenshot(path=str(ARTIFACTS / "offline-07-field-cases-360.png"), full_page=True)
        stored = a.evaluate(DUMP_STORAGE)
        assert "Sitti" not in stored and "Daeng" not in stored  # the cases taken offline are sealed too

        # Different fields on each phone: merged without asking.
        a_context.set_offline(True)
        b_context.set_offline(True)
        a.get_by_label("Orang tua atau pengasuh").fill("Daeng Kebo")
        a.get_by_role("button", name="Simpan perubahan di ponsel").click()
        b.get_by_label("Telepon pengasuh").fill("0813 1111 2222")
        b.get_by_role("button", name="Simpan perubahan di ponsel").click()
        a.get_by_label("Catatan kasus").fill("Kunjungan rumah: ibu hadir, anak sehat.")
        a.get_by_role("button", name="Simpan catatan di ponsel").click()
        expect(a.locator("#outbox-badge [data-count]")).to_have_text("2")
        a_context.set_offline(False)
        expect(a.locator("#outbox-badge")).to_be_hidden(timeout=30000)
        b_context.set_offline(False)
        expect(b.locator("#outbox-badge")).to_be_hidden(timeout=30000)
        expect(b.locator("[data-conflict]")).to_have_count(0)
        child = _child(case_id)
        assert (child.caregiver_name, child.caregiver_phone) == ("Daeng Kebo", "0813 1111 2222")

        # The same field on both phones: the second sees both values and chooses; nothing is lost.
        a_context.set_offline(True)
        b_context.set_offline(True)
        a.get_by_label("Alamat").fill("Dusun Bontoa")
        a.get_by_role("button", name="Simpan perubahan di ponsel").click()
        b.get_by_label("Alamat").fill("Dusun Parangloe, RT 01")
        b.get_by_role("button", name="Simpan perubahan di ponsel").click()
        a_context.set_offline(False)
        expect(a.locator("#outbox-badge")).to_be_hidden(timeout=30000)
        assert _child(case_id).address == "Dusun Bontoa"
        b_context.set_offline(False)
        conflict = b.locator("[data-conflict]")
        expect(conflict).to_be_visible(timeout=30000)
        expect(conflict.get_by_role("group", name="Alamat")).to_contain_text("Di server: Dusun Bontoa")
        expect(conflict.get_by_role("group", name="Alamat")).to_contain_text("Di ponsel ini: Dusun Parangloe, RT 01")
        assert conflict.locator("input:checked").count() == 0  # no answer chosen for the worker
        expect(b.locator("#outbox-badge [data-count]")).to_have_text("1")
        assert fits_the_screen(b)
        b.screenshot(path=str(ARTIFACTS / "offline-08-conflict-side-by-side-360.png"), full_page=True)
        assert _child(case_id).address == "Dusun Bontoa"
        conflict.get_by_label("Dusun Parangloe, RT 01").check()
        conflict.get_by_role("button", name="Simpan pilihan saya dan kirim").click()
        expect(b.locator("#outbox-badge")).to_be_hidden(timeout=30000)
        child = _child(case_id)
        assert (child.address, child.caregiver_name, child.caregiver_phone) == (
            "Dusun Parangloe, RT 01", "Daeng Kebo", "0813 1111 2222")
        notes = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "note")).all()
        assert [n.comment for n in notes] == ["Kunjungan rumah: ibu hadir, anak sehat."]
    finally:
        a_context.close()
        b_context.close()


def test_a_monitoring_visit_recorded_at_the_familys_house_is_sent_once(live_server, browser, users):
    from casemgmt.cases.models import Case as CaseModel
    from casemgmt.workflow import services as workflow
    from casemgmt.workflow.models import MonitoringVisit
    from tests.factories import make_case

    case = make_case(users["village_worker"], name="Sitti Hardianti")
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "medium", "assigned_worker_id": users["social_worker"].id}, case.version)
    db.session.get(CaseModel, case.id).stage = "monitoring"  # the plan's steps are another test's
    db.session.commit()
    context, page = _field_device(browser, live_server)
    try:
        page.locator("[data-case] summary").click()
        context.set_offline(True)
        visit = page.locator("[data-visit]")
        visit.get_by_label("Membaik").check()
        visit.get_by_label("Catatan").fill("Anak kembali bersekolah.")
        visit.get_by_role("button", name="Simpan kunjungan di ponsel").click()
        expect(page.locator("#outbox-badge [data-count]")).to_have_text("1")
        assert count(MonitoringVisit) == 0
        context.set_offline(False)
        expect(page.locator("#outbox-badge")).to_be_hidden(timeout=30000)
        visits = db.session.scalars(select(MonitoringVisit)).all()
        assert [(v.case_id, v.progress, v.notes) for v in visits] == [(case.id, "improved", "Anak kembali bersekolah.")]
    finally:
        context.close()


def test_the_phone_checks_the_nik_and_its_plus_40_rule_offline(live_server, device, users):
    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    reopen_offline(device, page)
    fill_complaint(page, name="Nurul Aisyah", nik="73060109031")  # too short
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text("1 isian perlu diperbaiki.")
    expect(page.get_by_label("NIK (opsional)")).to_be_focused()
    expect(page.locator("#children-0-nik-offline-error")).to_have_text("NIK terdiri atas tepat 16 digit.")
    # A boy's birth day (09) for a girl: a warning, as on the server; saving again goes on.
    page.get_by_label("NIK (opsional)").fill("7306010903140002")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#children-0-nik-offline-error")).to_contain_text("40")
    expect(page.locator("#intake-status")).not_to_have_text(SAVED)
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)
    assert page.evaluate(OUTBOX)["outbox"] == ["pending"]


def test_six_wrong_passwords_wipe_the_phones_copy_after_a_warning(live_server, device, users):
    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    reopen_offline(device, page)
    fill_complaint(page, name="Muh. Fadli")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)
    # Someone else picks up the phone: a new tab, the app locked.
    other = device.new_page()
    other.goto(f"{live_server}/app/outbox")
    password = other.get_by_label("Yang Anda catat di ponsel ini terkunci")
    message = other.locator("#unlock-bar [data-message]")
    for attempt in range(1, 5):
        password.fill(f"tebakan-{attempt}")
        other.get_by_role("button", name="Buka kunci").click()
        expect(message).to_have_text("Kata sandi salah.")
        message.evaluate("e => e.textContent = ''")
    password.fill("tebakan-5")
    other.get_by_role("button", name="Buka kunci").click()
    expect(message).to_contain_text("Satu kali lagi kata sandi salah akan menghapus 1 catatan")
    password.fill("tebakan-6")
    other.get_by_role("button", name="Buka kunci").click()
    expect(message).to_have_text("Terlalu sering salah kata sandi: data yang disimpan ponsel ini dihapus.")
    assert other.evaluate(OUTBOX) == {"outbox": [], "vaults": 0}
    stored = other.evaluate(DUMP_STORAGE)
    assert "desa" not in stored


def test_a_likely_duplicate_after_sync_waits_for_the_workers_answer(live_server, device, users):
    from tests.factories import make_case

    existing = make_case(users["village_worker"], name="Sitti Hardianti", nik="7306014903140002")
    page = device.new_page()
    log_in(page, live_server)
    ready_offline(page, live_server)
    reopen_offline(device, page)
    fill_complaint(page, name="Siti Hardiyanti", nik="7306014903140002")
    page.get_by_label("Atau perkiraan umur (tahun)").fill("")
    page.get_by_label("Tanggal lahir").fill("2014-03-09")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text(SAVED)
    device.set_offline(False)
    page.goto(f"{live_server}/app/outbox")
    item = page.locator("[data-outbox-item]")
    expect(item).to_contain_text("Perlu diperbaiki", timeout=30000)
    expect(item).to_contain_text("Anak ini mungkin sudah memiliki kasus")
    assert count(Case) == 1  # nothing opened behind the worker's back

    item.get_by_role("link", name="Perbaiki").click()
    question = page.get_by_role("group", name="Apakah ini anak yang sama?")
    expect(question).to_contain_text(existing.number)
    assert question.locator("input:checked").count() == 0
    page.screenshot(path=str(ARTIFACTS / "offline-09-duplicate-question-360.png"), full_page=True)
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#intake-status")).to_have_text("1 isian perlu diperbaiki.")
    question.get_by_label("Bukan, anak yang berbeda: buka kasus baru").check()
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.locator("#outbox-badge")).to_be_hidden(timeout=30000)
    assert count(Case) == 2 and count(Child, Child.name == "Siti Hardiyanti") == 1
