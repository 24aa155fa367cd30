"""In headless Chromium on a 360-pixel phone: a place picked level by level (htmx), and the pages
issue 27 changed (juvenile-justice clocks, agenda, invitations, directory) fit the screen."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from casemgmt.transactions import commit
from casemgmt.workflow import juvenile
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tests.test_pages_fit_to_share import _dataset

pytestmark = pytest.mark.browser


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_in(browser, live_server, username):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server}/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{live_server}/")
    return context, page, errors


def test_a_place_is_picked_on_a_phone_and_the_changed_pages_fit(live_server, browser, users):
    ARTIFACTS.mkdir(exist_ok=True)
    case, conf = _dataset(users)
    juvenile.record_investigator_request(case, users["social_worker"], datetime.now(timezone.utc) - timedelta(hours=3))
    commit()

    context, page, errors = log_in(browser, live_server, "admin")
    page.goto(f"{live_server}/directory/organisations/new")
    picker = page.locator("#area_code")
    picker.get_by_label("Kabupaten / kota").select_option(label="Kabupaten Gowa")
    kecamatan = picker.get_by_label("Kecamatan", exact=True)
    expect(kecamatan.locator('option[value="73.06.01"]')).to_have_count(1)
    kecamatan.select_option(label="Kecamatan Bontonompo")
    village = picker.get_by_label("Desa / kelurahan")
    expect(village.locator('option[value="73.06.01.2006"]')).to_have_count(1)
    village.select_option(label="Desa Barembeng")
    page.get_by_label("Nama", exact=True).fill("Posyandu Barembeng")
    page.get_by_label("Jenis").select_option("ngo")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "share-01-place-picker-360.png"), full_page=True)
    # Choosing another kabupaten empties the levels below it.
    picker.get_by_label("Kabupaten / kota").select_option(label="Kabupaten Maros")
    expect(village.locator("option")).to_have_count(1)
    expect(kecamatan.locator('option[value="73.06.01"]')).to_have_count(0)
    picker.get_by_label("Kabupaten / kota").select_option(label="Kabupaten Gowa")
    expect(kecamatan.locator('option[value="73.06.01"]')).to_have_count(1)
    kecamatan.select_option(label="Kecamatan Bontonompo")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posyandu Barembeng")
    expect(page.get_by_text("Kecamatan Bontonompo").first).to_be_visible()
    page.goto(f"{live_server}/directory/organisations?area=73.06&area=73.06.01")
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "share-02-directory-filter-360.png"), full_page=True)
    assert errors == []
    context.close()

    context, page, errors = log_in(browser, live_server, "koordinator")
    for name, path in (("case", f"/cases/{case.id}"), ("agenda", f"/conferences/{conf.id}"),
                       ("invitations", "/conferences/new"), ("tasks", "/tasks")):
        page.goto(f"{live_server}{path}")
        assert fits_the_screen(page), name
        page.screenshot(path=str(ARTIFACTS / f"share-03-{name}-360.png"), full_page=True)
    page.goto(f"{live_server}/cases/{case.id}")
    expect(page.locator("#juvenile")).to_contain_text("sisa")
    assert errors == []
    context.close()
