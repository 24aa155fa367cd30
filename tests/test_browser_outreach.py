"""In headless Chromium on a 360-pixel phone: a village worker works their village's outreach list."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from casemgmt.extensions import db
from casemgmt.population.models import OutreachItem
from casemgmt.transactions import commit
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tests.test_browser import fits_the_screen
from tests.test_population import FAMILIES, run_import, write_csv

pytestmark = pytest.mark.browser


def test_a_village_worker_resolves_an_outreach_row_on_a_phone(live_server, phone, users, tmp_path):
    assert run_import(write_csv(tmp_path / "x.csv", FAMILIES)).status == "done"
    commit()
    page, errors = phone
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/login")
    page.get_by_label("Nama pengguna").fill("desa")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(f"{live_server}/")
    page.goto(f"{live_server}/outreach?rule=out_of_school")
    expect(page.get_by_role("link", name="ANAK TIGA")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "outreach-01-list-360.png"), full_page=True)
    page.get_by_role("link", name="ANAK TIGA").click()
    page.get_by_label("Status").select_option("resolved")
    page.get_by_label("Catatan (wajib untuk \"tidak berlaku\")").fill("Sudah kembali sekolah")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text("Sudah kembali sekolah")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "outreach-02-row-360.png"), full_page=True)
    db.session.expire_all()
    assert db.session.query(OutreachItem).filter_by(rule="out_of_school").one().status == "resolved"
    assert errors == []


def test_a_village_worker_sends_a_letter_to_dukcapil_and_the_coordinator_sees_coverage(live_server, phone, users,
                                                                                       tmp_path):
    from sqlalchemy import select

    from casemgmt.population.models import OutreachLetter

    assert run_import(write_csv(tmp_path / "x.csv", FAMILIES)).status == "done"
    commit()
    page, errors = phone
    ARTIFACTS.mkdir(exist_ok=True)

    def log_in(username):
        page.goto(f"{live_server}/login")
        page.get_by_label("Nama pengguna").fill(username)
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        expect(page).to_have_url(f"{live_server}/")

    log_in("desa")
    page.goto(f"{live_server}/outreach?rule=no_birth_certificate")
    expect(page.get_by_role("button", name="Surat ke Dukcapil")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "outreach-03-letter-list-360.png"), full_page=True)
    page.get_by_role("button", name="Surat ke Dukcapil").click()
    db.session.expire_all()
    number = db.session.scalar(select(OutreachLetter.number))
    expect(page.get_by_role("link", name=f"Unduh surat {number}")).to_be_visible()
    expect(page.get_by_text(f"Surat {number} kepada Dukcapil Kabupaten Gowa diterbitkan.")).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "outreach-04-letter-row-360.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Unduh surat {number}").click()
    assert download.value.suggested_filename.startswith("surat-akta-akta-7306-")
    page.context.clear_cookies()  # a fresh session for the coordinator
    log_in("koordinator")
    expect(page.get_by_role("heading", name="Akta kelahiran (data kependudukan)")).to_be_visible()
    assert fits_the_screen(page)
    page.locator("section", has=page.locator("#h-home-coverage")).screenshot(
        path=str(ARTIFACTS / "outreach-05-home-coverage-360.png"))
    assert errors == []
