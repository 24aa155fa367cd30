"""The three journeys of the field, in Debian's Chromium at phone and desktop sizes, with axe-core.

1. A village worker in Desa Barembeng registers a complaint about a girl without a birth
   certificate who has left school, on a 360-pixel phone, and later sees it was accepted.
2. The Gowa coordinator triages and assigns; the worker assesses, plans actions for Dukcapil and
   the school; the coordinator approves; the worker refers to Dukcapil; Dukcapil accepts and
   completes; the worker visits and requests termination; the coordinator approves; closed.
3. The coordinator holds a case conference with that case and another, records attendance and a
   decision with an action, closes it and downloads the minutes.
Screenshots of the main steps go to test-artifacts/.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from casemgmt.transactions import commit
from casemgmt.cases.models import Case
from casemgmt.extensions import db
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, make_case

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 780}


class Person:
    """One user in their own browser context (their own cookies), at a given screen size."""

    def __init__(self, browser, base, username, viewport=PHONE):
        self.context = browser.new_context(viewport=viewport, bypass_csp=True)  # bypass only to inject axe
        self.page = self.context.new_page()
        self.base = base
        self.errors = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(f"{base}/login")
        self.page.get_by_label("Nama pengguna").fill(username)
        self.page.get_by_label("Kata sandi").fill(PASSWORD)
        self.page.get_by_role("button", name="Masuk").click()
        expect(self.page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")

    def go(self, path):
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        assert self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name

    def axe(self, name):
        """No serious or critical accessibility violation on the page as it is now."""
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        assert bad == [], f"{name}: {json.dumps(bad, ensure_ascii=False)}"

    def close(self):
        assert self.errors == []
        self.context.close()


@pytest.fixture
def field(users):
    """Barembeng's Puskesos worker, Gowa's PKSAI, Dukcapil and the school, as in the pilot."""
    school = OrganisationFactory(name="SMP Negeri 1 Bontonompo", kind="school", area_code="73.06.01",
                                 services=["education"], covers=["73.06.01"])
    UserFactory(username="sekolah", role="agency_officer", organisation=school)
    dukcapil = users["agency_officer"].organisation
    dukcapil.coverage_rows = []
    from casemgmt.directory.models import OrganisationCoverage

    dukcapil.coverage_rows.append(OrganisationCoverage(area_code="73.06"))
    db.session.commit()
    return {"school": school, "dukcapil": dukcapil}


def test_journey_1_village_worker_registers_and_sees_it_accepted(live_server, browser, users, field):
    desa = Person(browser, live_server, "desa")
    page = desa.go("/")
    desa.axe("home village worker")
    page.get_by_role("button", name="Buka menu").click()
    page.get_by_role("link", name="Daftarkan pengaduan").first.click()
    desa.axe("complaint form")
    page.get_by_label("Nama pelapor").fill("Ibu Rahma")
    page.get_by_label("Nama anak").fill("Nurul Aisyah")
    page.get_by_label("Perempuan").first.check()
    page.get_by_label("Tanggal lahir").fill("2014-03-09")
    expect(page.get_by_label("Desa / kelurahan")).to_have_value("73.06.01.2006")
    page.get_by_label("Tidak memiliki akta kelahiran").check()
    page.get_by_label("Putus sekolah").check()
    page.get_by_label("Apa yang terjadi?").fill("Anak perempuan putus sekolah sejak kelas 4; belum punya akta.")
    desa.shot("journey1-01-form")
    page.get_by_role("button", name="Simpan pengaduan").click()
    expect(page.get_by_role("status").first).to_contain_text("Pengaduan terdaftar")
    desa.shot("journey1-02-registered")
    case = db.session.scalars(select(Case)).one()

    koordinator = Person(browser, live_server, "koordinator")
    koordinator.go(f"/cases/{case.id}")
    koordinator.page.locator("#accept-risk_level").select_option("medium")
    koordinator.page.locator("#accept-assigned_worker_id").select_option(str(users["social_worker"].id))
    koordinator.page.get_by_role("button", name="Terima dan tugaskan").click()
    expect(koordinator.page.get_by_role("status").first).to_be_visible()

    page = desa.go("/complaints/mine")
    expect(page.get_by_text(case.number)).to_be_visible()
    expect(page.get_by_text("Ditangani oleh pekerja sosial")).to_be_visible()
    expect(page.get_by_text("Nurul Aisyah")).to_have_count(0)  # once a worker holds it: initials only
    desa.shot("journey1-03-accepted")
    desa.axe("my complaints")
    desa.close()
    koordinator.close()


def test_journey_2_the_case_through_the_sop(live_server, browser, users, field):
    case = make_case(users["village_worker"], name="Nurul Aisyah")
    desktop = {"width": 1280, "height": 900}
    koordinator = Person(browser, live_server, "koordinator", desktop)
    page = koordinator.go("/triage")
    koordinator.axe("triage")
    page.get_by_role("link", name=case.number).click()
    koordinator.axe("case page coordinator")
    page.locator("#accept-risk_level").select_option("medium")
    page.locator("#accept-assigned_worker_id").select_option(str(users["social_worker"].id))
    page.get_by_role("button", name="Terima dan tugaskan").click()
    koordinator.shot("journey2-01-accepted")
    koordinator.go("/cases")
    koordinator.axe("case list")

    peksos = Person(browser, live_server, "peksos")
    page = peksos.go(f"/cases/{case.id}")
    page.locator("#assessment-risk_level").select_option("medium")
    page.get_by_label("Akta kelahiran").check()
    page.get_by_label("Pendidikan").check()
    page.get_by_label("Ringkasan asesmen").fill("Belum punya akta; putus sekolah sejak kelas 4.")
    page.get_by_role("button", name="Simpan asesmen").click()
    page.get_by_role("button", name="Ajukan asesmen").click()
    expect(page.locator(".sop-progress li.current")).to_contain_text("Rencana intervensi")
    page.get_by_role("link", name="Susun rencana").click()
    due = (date.today() + timedelta(days=30)).isoformat()
    page.locator("#goals-0-description").fill("Anak memiliki akta kelahiran dan kembali bersekolah")
    page.locator("#goals-0-actions-0-description").fill("Urus akta kelahiran")
    page.locator("#goals-0-actions-0-service").select_option("birth_certificate")
    page.locator("#goals-0-actions-0-organisation_id").select_option(str(field["dukcapil"].id))
    page.locator("#goals-0-actions-0-due_date").fill(due)
    page.get_by_role("button", name="Tambah tindakan").click()
    page.locator("#goals-0-actions-1-description").fill("Daftar ulang ke SMP")
    page.locator("#goals-0-actions-1-service").select_option("education")
    page.locator("#goals-0-actions-1-organisation_id").select_option(str(field["school"].id))
    page.locator("#goals-0-actions-1-due_date").fill(due)
    peksos.shot("journey2-02-plan")
    page.get_by_role("button", name="Simpan rencana").click()
    page.get_by_role("button", name="Ajukan rencana untuk disetujui").click()
    expect(page.get_by_text("Menunggu persetujuan koordinator", exact=False)).to_be_visible()

    page = koordinator.go("/approvals")
    page.get_by_role("link", name=case.number).click()
    page.get_by_role("button", name="Setujui").click()
    expect(page.locator(".sop-progress li.current")).to_contain_text("Intervensi")
    koordinator.shot("journey2-03-plan-approved")

    page = peksos.go(f"/cases/{case.id}")
    page.get_by_role("link", name="Rujuk untuk tindakan ini").first.click()
    page.get_by_label("Orang tua atau pengasuh").check()
    page.get_by_label("Persetujuan dicatat pada").fill(date.today().isoformat())
    page.locator("#reason").fill("Anak belum memiliki akta kelahiran.")
    peksos.shot("journey2-04-referral")
    peksos.axe("referral form")
    page.get_by_role("button", name="Kirim rujukan").click()

    dukcapil = Person(browser, live_server, "dukcapil")
    page = dukcapil.go("/referrals?box=inbox")
    page.locator(".list-group-item a").first.click()
    dukcapil.axe("referral received")
    page.get_by_role("button", name="Terima", exact=True).click()
    page.locator("#outcome").fill("Akta kelahiran diterbitkan.")
    page.locator("#delivered_on").fill(date.today().isoformat())
    page.get_by_role("button", name="Catat layanan yang diberikan").click()
    expect(page.locator(".referral-completed")).to_be_visible()
    dukcapil.shot("journey2-05-referral-completed")

    page = peksos.go(f"/cases/{case.id}")
    page.get_by_text("Catat hasil").click()  # the school action: done
    page.get_by_role("button", name="Simpan").first.click()
    page.get_by_role("button", name="Mulai monitoring").click()
    expect(page.locator(".sop-progress li.current")).to_contain_text("Monitoring")
    page.locator("#visit-visited_on").fill(date.today().isoformat())
    page.get_by_label("Membaik").check()
    page.locator("#visit-notes").fill("Anak kembali bersekolah.")
    page.get_by_role("button", name="Catat kunjungan").click()
    page.get_by_text("Ajukan terminasi").first.click()
    page.locator("#terminate-reason").select_option("goals_met")
    page.locator("#terminate-summary").fill("Akta terbit dan anak kembali sekolah.")
    page.get_by_role("button", name="Ajukan terminasi").click()
    peksos.shot("journey2-06-termination-requested")

    page = koordinator.go(f"/cases/{case.id}")
    page.get_by_role("button", name="Setujui").click()
    expect(page.locator(".sop-progress li.current")).to_contain_text("Terminasi")
    koordinator.shot("journey2-07-closed")
    db.session.expire_all()
    closed = db.session.get(Case, case.id)
    assert (closed.stage, closed.status, closed.closure_reason) == ("termination", "closed", "goals_met")
    for person in (koordinator, peksos, dukcapil):
        person.close()


def test_journey_3_case_conference(live_server, browser, users, field):
    from casemgmt.workflow import services as workflow

    first = make_case(users["village_worker"], name="Nurul Aisyah")
    second = make_case(users["village_worker"], name="Rahmat Hidayat", sex="M")
    for case in (first, second):
        workflow.apply_transition(case, "accept", users["coordinator"],
                                  {"risk_level": "high", "assigned_worker_id": users["social_worker"].id})
    commit()
    koordinator = Person(browser, live_server, "koordinator")
    page = koordinator.go("/conferences/new")
    koordinator.axe("schedule conference")
    page.get_by_label("Judul").fill("Konferensi kasus Desember")
    page.get_by_label("Tanggal dan waktu").fill("2026-12-01T09:00")
    page.get_by_label("Tempat atau tautan daring").fill("Kantor PKSAI Gowa")
    page.locator(f"#case-{first.id}").check()
    page.locator(f"#case-{second.id}").check()
    page.get_by_role("button", name="Jadwalkan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Konferensi kasus Desember")
    koordinator.axe("conference page")
    page.get_by_text("Catat daftar hadir").click()
    page.locator("#attendees-0-name").fill("Andi Rahmawati")
    page.locator("#attendees-0-sex").select_option("F")
    page.locator("#attendees-1-name").fill("Muhammad Arif")
    page.locator("#attendees-1-sex").select_option("M")
    page.get_by_role("button", name="Simpan daftar hadir").click()
    expect(page.get_by_text("Perempuan: 1 · Laki-laki: 1 · Jumlah: 2")).to_be_visible()
    page.locator(f"#case-{first.id} summary").click()
    page.locator(f"#d{first.id}-summary").fill("Percepat akta kelahiran; sekolah menerima kembali.")
    page.locator(f"#d{first.id}-actions-0-description").fill("Terbitkan akta kelahiran")
    page.locator(f"#d{first.id}-actions-0-owner_organisation_id").select_option(str(field["dukcapil"].id))
    page.locator(f"#d{first.id}-actions-0-due_date").fill((date.today() + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Simpan keputusan").first.click()
    koordinator.shot("journey3-01-decision")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Tutup konferensi").click()
    expect(page.get_by_role("link", name="Berita acara (PDF)")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Berita acara (PDF)").click()
    path = download.value.path()
    assert Path(path).read_bytes().startswith(b"%PDF")
    koordinator.shot("journey3-02-closed")

    dukcapil = Person(browser, live_server, "dukcapil")
    page = dukcapil.go("/tasks")
    expect(page.get_by_text("Terbitkan akta kelahiran")).to_be_visible()
    dukcapil.axe("my tasks")
    for person in (koordinator, dukcapil):
        person.close()


@pytest.mark.parametrize("role", ["village_worker", "social_worker", "coordinator", "agency_officer", "analyst",
                                  "admin"])
def test_every_home_page_is_accessible_on_a_phone(live_server, browser, users, role):
    person = Person(browser, live_server, users[role].username)
    person.go("/")
    person.axe(f"home {role}")
    person.shot(f"home-{role}-360")
    person.close()


def test_login_page_is_accessible_and_works_with_the_keyboard(live_server, browser, users):
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("axe.run(document)")["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    expect(page.get_by_label("Nama pengguna")).to_be_focused()  # autofocus: type at once
    page.keyboard.type("koordinator")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")
    context.close()


def test_a_complaint_with_the_keyboard_alone(live_server, browser, users):
    """Tab, type, space and enter only: no pointer."""
    desa = Person(browser, live_server, "desa")
    page = desa.go("/cases/new")
    keys = page.keyboard

    def tab_to(selector):
        for _ in range(200):
            keys.press("Tab")
            if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    tab_to("#reporter_name")
    keys.type("Ibu Rahma")
    tab_to("#children-0-name")
    keys.type("Nurul Aisyah")
    tab_to("#children-0-sex-0")
    keys.press("Space")
    tab_to("#children-0-age_years")
    keys.type("12")
    tab_to("input[value=no_birth_certificate]")
    keys.press("Space")
    tab_to("#description")
    keys.type("Belum punya akta kelahiran.")
    tab_to("button[value=save]")
    keys.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Pengaduan terdaftar")
    desa.close()
