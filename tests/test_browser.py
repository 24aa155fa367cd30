"""In headless Chromium (Debian's, driven by Playwright): log in as a coordinator on a 360-pixel phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_coordinator_logs_in_on_a_phone(live_server, phone, users):
    page, errors = phone
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "foundation-01-login-360.png"), full_page=True)

    page.get_by_label("Nama pengguna").fill("koordinator")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()

    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")
    expect(page.get_by_text("Koordinator PKSAI")).to_be_visible()
    assert fits_the_screen(page)
    # On a phone the menu is folded behind the toggler; it opens and shows only what the role may use.
    menu = page.locator("#main-nav")
    expect(menu).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "foundation-02-home-360.png"), full_page=True)
    toggler = page.get_by_role("button", name="Buka menu")
    toggler.click()
    expect(menu).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="Direktori layanan")).to_be_visible()
    expect(menu.get_by_role("link", name="Pengguna")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "foundation-03-menu-360.png"), full_page=True)
    assert errors == []


def test_wrong_password_message_sits_next_to_the_form(live_server, phone, users):
    page, errors = phone
    page.goto(f"{live_server}/login")
    page.get_by_label("Nama pengguna").fill("koordinator")
    page.get_by_label("Kata sandi").fill("salah-sekali-123")
    page.keyboard.press("Enter")  # the keyboard alone submits
    expect(page.get_by_role("alert")).to_contain_text("salah")
    assert errors == []
