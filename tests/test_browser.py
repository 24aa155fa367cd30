"""In headless Chromium (Debian's, driven by Playwright): log in as a coordinator on a 360-pixel phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []

    def on_console(msg):
        # A form sent back with its errors answers 422 (409 on a conflict); Chromium logs any
        # 4xx document as a console error. Everything else counts.
        if msg.type == "error" and not any(f"status of {code}" in msg.text for code in (409, 422)):
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, errors
    context.close()


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
