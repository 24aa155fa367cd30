"""A village worker registers a complaint on a 360-pixel phone; the coordinator finds the case."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tests.test_browser import fits_the_screen

pytestmark = pytest.mark.browser


def log_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    # The phone derives the key of its encrypted storage from the password before the form leaves.
    page.wait_for_url(lambda url: "/login" not in url)


def test_complaint_on_a_phone_then_found_in_the_case_list(live_server, phone, browser, users):
    page, errors = phone
    log_in(page, live_server, "desa")
    page.get_by_role("button", name="Buka menu").click()
    page.get_by_role("link", name="Daftarkan pengaduan").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Daftarkan pengaduan")
    assert fits_the_screen(page)

    page.get_by_label("Nama pelapor").fill("Ibu Rahma")
    page.get_by_label("Nama anak").fill("Sitti Hardianti")
    page.get_by_label("Perempuan").first.check()
    page.get_by_label("Atau perkiraan umur (tahun)").fill("13")
    expect(page.get_by_label("Desa / kelurahan")).to_have_value("73.06.01.2006")  # the worker's own village
    page.get_by_label("Putus sekolah").check()
    page.get_by_label("Tidak memiliki akta kelahiran").check()
    page.get_by_label("Apa yang terjadi?").fill("Anak perempuan tidak sekolah sejak kelas 5; tidak punya akta.")
    page.screenshot(path=str(ARTIFACTS / "intake-01-form-360.png"), full_page=True)
    page.get_by_role("button", name="Simpan pengaduan").click()

    expect(page.get_by_role("status").first).to_contain_text("7306-")
    number = page.get_by_role("heading", level=1).inner_text()
    assert number.startswith("7306-")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "intake-02-case-360.png"), full_page=True)
    assert errors == []

    coordinator = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    log_in(coordinator, live_server, "koordinator")
    coordinator.goto(f"{live_server}/cases")
    coordinator.get_by_label("Cari").fill("hardianti")
    coordinator.get_by_role("button", name="Cari").click()
    expect(coordinator.get_by_role("link", name=number)).to_be_visible()
    assert fits_the_screen(coordinator)
    coordinator.screenshot(path=str(ARTIFACTS / "intake-03-coordinator-list-360.png"), full_page=True)
    coordinator.context.close()
