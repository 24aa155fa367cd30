"""The birth-certificate letter to Dukcapil from an outreach row of rule no_birth_certificate:
who may issue and read it, what it prints, the row's history, the notice to Dukcapil, the
access log, and the same letter on a second issue and after the next extract."""
from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from casemgmt.audit.models import AccessLogEntry
from casemgmt.extensions import db
from casemgmt.notify.messages import in_app_text, message_for
from casemgmt.notify.models import Notification
from casemgmt.population.models import OutreachEvent, OutreachItem, OutreachLetter
from tests.factories import OrganisationFactory, UserFactory
from tests.sql import counting
from tests.test_population import FAMILIES, KK1, OTHER_VILLAGE, VILLAGE, born, nik, person, run_import, write_csv

# ANAK TIGA (KK1, Barembeng) has no certificate; the extract gives what the letter prints.
LETTER_DETAILS = {"TMPT_LHR": "GOWA", "NAMA_LGKP_IBU": "IBU SATU", "NAMA_LGKP_AYAH": "AYAH ENTAH",
                  "ALAMAT": "JL. POROS BAREMBENG", "NO_RT": "003", "NO_RW": "002"}
ROWS = [dict(row, **LETTER_DETAILS) if row["NAMA_LGKP"] == "ANAK TIGA" else row for row in FAMILIES] + [
    person(nik(20), "7306070000000003", "ANAK DESA LAIN", "1", born(8), "4", certificate="1", village=OTHER_VILLAGE)]


@pytest.fixture
def extract(tmp_path, users):
    job = run_import(write_csv(tmp_path / "x.csv", ROWS))
    assert job.status == "done", job.message
    return job


def row_of(rule: str, village: str = VILLAGE) -> OutreachItem:
    return db.session.scalars(select(OutreachItem).where(OutreachItem.rule == rule,
                                                         OutreachItem.area_code == village)).one()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def logged(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(AccessLogEntry.action == action))


def test_the_village_worker_issues_the_letter_and_dukcapil_hears_its_number_only(web, make_web, extract, users):
    item = row_of("no_birth_certificate")
    web.login("desa")
    response = web.post(f"/outreach/{item.id}/letter")
    assert response.status_code == 302 and response.location.endswith(f"/outreach/{item.id}")
    letter = db.session.scalars(select(OutreachLetter)).one()
    assert letter.outreach_id == item.id and letter.number.startswith("AKTA/7306/")
    assert letter.to_organisation_id == users["agency_officer"].organisation_id
    assert letter.from_organisation_id == users["village_worker"].organisation_id
    # The row: in progress, its history names the letter.
    db.session.expire_all()
    assert db.session.get(OutreachItem, item.id).status == "in_progress"
    events = db.session.scalars(select(OutreachEvent).where(OutreachEvent.outreach_id == item.id)).all()
    assert [(e.status, letter.number in e.note) for e in events] == [("in_progress", True)]
    page = web.get(f"/outreach/{item.id}").get_data(as_text=True)
    assert letter.number in page and f"/outreach/letters/{letter.id}.pdf" in page
    # The PDF: the child as the extract gives it, the issuing office and person.
    pdf = web.get(f"/outreach/letters/{letter.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in (letter.number, "ANAK TIGA", nik(3, True), KK1, "GOWA", "IBU SATU", "AYAH ENTAH",
                     "JL. POROS BAREMBENG, RT 003/RW 002", "Barembeng", VILLAGE, "Puskesos Barembeng",
                     users["village_worker"].full_name, "Dukcapil Kabupaten Gowa", "akta kelahiran"):
        assert expected in text, expected
    # Dukcapil's officer is told the number and the link, nothing of the child; and reads the letter.
    told = db.session.scalars(select(Notification).where(Notification.kind == "outreach_letter")).all()
    assert [n.user_id for n in told] == [users["agency_officer"].id]
    notice = told[0]
    said = [json.dumps(notice.data), notice.link, in_app_text(notice, "id"), in_app_text(notice, "en")]
    for language in ("id", "en"):
        message = message_for(notice, language)
        said += [message.subject, message.text, message.html]
    assert all(letter.number in part for part in said[2:])
    for child_field in ("ANAK TIGA", "TIGA", nik(3, True), KK1, "IBU SATU", "POROS", "GOWA ,"):
        assert not any(child_field in part for part in said), child_field
    officer = make_web()
    officer.login("dukcapil")
    assert officer.get(notice.link).status_code == 200
    assert officer.get(f"/outreach/{item.id}").status_code == 404  # the letter only, not the extract
    # Every view of the letter is in the access log (two downloads), as the row's views are.
    assert logged("outreach_letter_view") == 2
    rows = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "outreach_letter_view")).all()
    assert {(r.user_id, r.object_type, r.object_id) for r in rows} == {
        (users["village_worker"].id, "outreach_letter", str(letter.id)),
        (users["agency_officer"].id, "outreach_letter", str(letter.id))}


def test_a_second_issue_answers_the_same_letter_and_tells_nobody_again(web, make_web, extract, users):
    item = row_of("no_birth_certificate")
    web.login("desa")
    web.post(f"/outreach/{item.id}/letter")
    first = web.get(f"/outreach/letters/{db.session.scalar(select(OutreachLetter.id))}.pdf").data
    coordinator = make_web()
    coordinator.login("koordinator")
    response = coordinator.post(f"/outreach/{item.id}/letter")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OutreachLetter)) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "outreach_letter")) == 1
    assert db.session.scalar(select(func.count()).select_from(OutreachEvent).where(
        OutreachEvent.outreach_id == item.id)) == 1
    letter = db.session.scalars(select(OutreachLetter)).one()
    again = coordinator.get(f"/outreach/letters/{letter.id}.pdf").data
    assert letter.number in pdf_text(again) and pdf_text(again) == pdf_text(first)


@pytest.mark.parametrize("who", ["other_village", "analis", "dukcapil", "peksos", "admin"])
def test_only_who_works_the_row_issues_it(make_web, extract, users, who):
    if who == "other_village":
        panakkukang = OrganisationFactory(name="PATBM Panakkukang", kind="patbm", area_code=OTHER_VILLAGE)
        UserFactory(username="desa.lain", role="village_worker", organisation=panakkukang)
        who = "desa.lain"
    item = row_of("no_birth_certificate")
    web = make_web()
    web.login(who)
    assert web.post(f"/outreach/{item.id}/letter").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(OutreachLetter)) == 0


def test_the_service_refuses_who_may_not_act_whatever_the_view_lets_through(extract, users):
    from casemgmt.errors import Forbidden
    from casemgmt.population import services

    item = row_of("no_birth_certificate")
    for role in ("analyst", "agency_officer", "social_worker", "admin"):
        with pytest.raises(Forbidden):
            services.issue_letter(users[role], item)
    other = row_of("no_birth_certificate", OTHER_VILLAGE)
    with pytest.raises(Forbidden):
        services.issue_letter(users["village_worker"], other)
    assert db.session.scalar(select(func.count()).select_from(OutreachLetter)) == 0


def test_a_row_of_another_rule_or_a_closed_row_gets_no_letter(web, extract):
    web.login("koordinator")
    other_rule = row_of("out_of_school")
    response = web.post(f"/outreach/{other_rule.id}/letter", follow_redirects=True)
    assert response.status_code == 200 and "tanpa akta kelahiran" in response.get_data(as_text=True)
    item = row_of("no_birth_certificate")
    web.post(f"/outreach/{item.id}/status", {"status": "resolved", "note": "Sudah punya akta"})
    page = web.post(f"/outreach/{item.id}/letter", follow_redirects=True).get_data(as_text=True)
    assert "ditutup" in page
    assert db.session.scalar(select(func.count()).select_from(OutreachLetter)) == 0
    assert db.session.get(OutreachItem, other_rule.id).status == "open"


def test_a_district_without_a_dukcapil_office_is_told_by_name(extract, users):
    from casemgmt.errors import ValidationFailed
    from casemgmt.population import services

    users["agency_officer"].organisation.active = False  # Gowa's only Dukcapil office, closed
    db.session.flush()
    with pytest.raises(ValidationFailed) as refused:
        services.issue_letter(users["coordinator"], row_of("no_birth_certificate"))
    assert "Kabupaten Gowa" in str(refused.value.errors) and "73.06" not in str(refused.value.errors)
    assert db.session.scalar(select(func.count()).select_from(OutreachLetter)) == 0


def test_the_letter_goes_on_with_the_child_in_the_next_extract_and_leaves_with_the_row(web, extract, tmp_path):
    from datetime import timedelta

    from casemgmt.dbtypes import utcnow
    from casemgmt.population import runs

    item = row_of("no_birth_certificate")
    web.login("desa")
    web.post(f"/outreach/{item.id}/letter")
    number = db.session.scalar(select(OutreachLetter.number))
    second = run_import(write_csv(tmp_path / "again.csv", ROWS))
    assert second.status == "done"
    carried = db.session.scalars(select(OutreachItem).where(OutreachItem.import_id == second.id,
                                                            OutreachItem.rule == "no_birth_certificate",
                                                            OutreachItem.area_code == VILLAGE)).one()
    letter = db.session.scalars(select(OutreachLetter)).one()
    assert (letter.outreach_id, letter.number, carried.status) == (carried.id, number, "in_progress")
    assert web.post(f"/outreach/{carried.id}/letter").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OutreachLetter)) == 1
    assert runs.sweep_retention(utcnow() + timedelta(days=181)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutreachLetter)) == 0


def test_the_lists_offer_the_letter_on_rows_without_a_certificate(web, make_web, extract):
    web.login("desa")
    page = web.get("/outreach").get_data(as_text=True)
    item = row_of("no_birth_certificate")
    assert page.count("/letter\"") == 1 and f"/outreach/{item.id}/letter" in page
    coordinator = make_web()
    coordinator.login("koordinator")
    page = coordinator.get("/outreach").get_data(as_text=True)
    assert page.count("/letter\"") == 2  # Barembeng's and Panakkukang's child


def test_an_issue_that_meets_a_row_changed_meanwhile_makes_no_letter(extract, users):
    from sqlalchemy import update
    from sqlalchemy.orm.exc import StaleDataError

    from casemgmt.population import services

    item = row_of("no_birth_certificate")
    # Another request issued (or changed the row) after this one read it.
    db.session.execute(update(OutreachItem).where(OutreachItem.id == item.id).values(version=item.version + 1)
                       .execution_options(synchronize_session=False))
    with counting() as statements, pytest.raises(StaleDataError):
        services.issue_letter(users["coordinator"], item)
    # The row is written before the letter: on PostgreSQL a second issue at the same moment waits
    # on the row and meets its new version (409), never the letter's unique key (500).
    assert not any("outreach_letter" in statement and "INSERT" in statement for statement in statements)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutreachLetter)) == 0
