"""SIAK population extracts: the import (clean, dirty and refused files), the outreach rules row
by row, the lists and who sees them, and the coverage counts."""
from __future__ import annotations

import csv
import importlib.util
import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casemgmt.audit.models import AccessLogEntry
from casemgmt.extensions import db
from casemgmt.population import runs, services
from casemgmt.population.models import OutreachItem, PopulationCurrent, PopulationImport, PopulationPerson
from casemgmt.population.rules import RULES, matching_people

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("siak_extract", ROOT / "tools" / "siak_extract.py")
siak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(siak)

COLUMNS = siak.COLUMNS
VILLAGE = "73.06.01.2006"  # Barembeng, Gowa
OTHER_VILLAGE = "73.06.07.2008"  # Panakkukang, Gowa
TODAY = date.today()


def born(years: int, days: int = 30) -> str:
    return (TODAY - timedelta(days=years * 365 + years // 4 + days)).strftime("%d-%m-%Y")


def person(nik: str, kk: str, name: str, sex: str, birth: str, rel: str, *, marital="1", education="3",
           mother="", father="", certificate="2", village=VILLAGE, **extra) -> dict:
    prop, kab, kec, kel = village.split(".")
    row = {column: "" for column in COLUMNS}
    row.update({"NIK": nik, "NO_KK": kk, "NAMA_LGKP": name, "JENIS_KLMIN": sex, "TGL_LHR": birth,
                "STAT_KWN": marital, "STAT_HBKEL": rel, "PDDK_AKH": education, "NIK_IBU": mother, "NIK_AYAH": father,
                "NO_PROP": prop, "NO_KAB": kab, "NO_KEC": kec, "NO_KEL": kel, "AKTA_LHR": certificate,
                "NO_AKTA_LHR": "AL-1" if certificate == "2" else ""})
    row.update(extra)
    return row


def nik(n: int, female: bool = False) -> str:
    return f"730601{(10 + (40 if female else 0)):02d}0101{n:04d}"


KK1, KK2 = "7306010000000001", "7306010000000002"
# KK1: a woman heads it; KK2: a couple, a married 17- and 18-year-old, a grandchild without parents.
FAMILIES = [
    person(nik(1, True), KK1, "IBU SATU", "2", born(35), "1", marital="3", education="4"),
    person(nik(2), KK1, "ANAK DUA", "1", born(5), "4", mother=nik(1, True), education="1"),
    person(nik(3, True), KK1, "ANAK TIGA", "2", born(12), "4", mother=nik(1, True), education="1", certificate="1"),
    person(nik(4), KK2, "AYAH EMPAT", "1", born(40), "1", marital="2"),
    person(nik(5, True), KK2, "IBU LIMA", "2", born(38), "3", marital="2"),
    person(nik(6, True), KK2, "ANAK ENAM", "2", born(17), "4", marital="2", mother=nik(5, True), father=nik(4)),
    person(nik(7), KK2, "ANAK TUJUH", "1", born(18), "4", marital="2", mother=nik(5, True), father=nik(4)),
    person(nik(8), KK2, "CUCU DELAPAN", "1", born(3), "6", mother="7306015001990001", village=VILLAGE),
]
EXPECTED = {
    "no_birth_certificate": {"ANAK TIGA"},
    "female_headed_household": {"ANAK DUA", "ANAK TIGA"},
    "child_marriage": {"ANAK ENAM", "ANAK TUJUH"},
    "no_parent_in_household": {"CUCU DELAPAN"},
    "out_of_school": {"ANAK TIGA"},
}


def write_csv(path: Path, rows, columns=COLUMNS, delimiter=",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_import(path: Path, district: str = "73.06") -> PopulationImport:
    return runs.import_file(None, path, district, as_admin=True)


def people_named(ids) -> set[str]:
    return set(db.session.scalars(select(PopulationPerson.name).where(PopulationPerson.id.in_(list(ids)))))


# ---- the rules, row by row ------------------------------------------------------------------------

def test_each_rule_lists_exactly_its_children(tmp_path):
    job = run_import(write_csv(tmp_path / "x.csv", FAMILIES))
    assert job.status == "done", job.message
    assert (job.rows, job.accepted, job.rejected) == (8, 8, 0)
    for entry in RULES:
        found = people_named(db.session.scalars(matching_people(entry, job.id)))
        assert found == EXPECTED[entry.name], entry.name
        listed = db.session.scalars(select(OutreachItem.person_id).where(OutreachItem.rule == entry.name))
        assert people_named(listed) == EXPECTED[entry.name], entry.name


def test_a_rule_added_to_the_table_lists_at_the_next_import(tmp_path, monkeypatch):
    from casemgmt.population import importer, rules

    extra = rules.OutreachRule("infant_no_certificate", "Bayi", "Kunjungi",
                               "p.age < 1 AND NOT p.has_birth_certificate")
    rules.validate(rules.RULES + (extra,))
    monkeypatch.setattr(importer, "RULES", rules.RULES + (extra,))
    baby = person(nik(9), KK2, "BAYI SEMBILAN", "1", born(0, 20), "6", certificate="1", mother=nik(6, True))
    job = run_import(write_csv(tmp_path / "x.csv", FAMILIES + [baby]))
    listed = db.session.scalars(select(OutreachItem.person_id).where(OutreachItem.rule == "infant_no_certificate"))
    assert people_named(listed) == {"BAYI SEMBILAN"}
    assert job.status == "done"


def test_a_rule_table_that_does_not_hold_together_is_refused():
    from casemgmt.population import rules

    with pytest.raises(rules.BadRuleTable):
        rules.validate(rules.RULES + (rules.RULES[0],))
    with pytest.raises(rules.BadRuleTable):
        rules.validate((rules.OutreachRule("bad_rule", "x", "y", "p.age < 1; DELETE FROM case_record"),))


# ---- dirty values -------------------------------------------------------------------------------

def test_dirty_values_are_read_or_reported_never_guessed(tmp_path):
    rows = [
        person(nik(11), KK1, "  Nama   Campur  ", "Perempuan ", born(6), "anak", mother=nik(1, True),
               NO_KAB="6", NO_KEC="1"),  # mixed case, spaces, labels, region parts as numbers
        person(nik(12), KK1, "TANGGAL KOSONG", "1", "00-00-0000", "4"),
        person("7.30601E+15", KK1, "NIK EXCEL", "1", born(4), "4"),
        person(nik(11), KK1, "NIK GANDA", "1", born(4), "4"),
        person(nik(13), KK1, "", "1", born(4), "4"),
        person(nik(14), KK1, "=HYPERLINK(\"http://x\")", "1", (TODAY - timedelta(days=900)).isoformat(), "4"),
        person(nik(15), KK1, "KODE ANEH", "3", born(4), "4"),
        person(nik(16), KK1, "DESA LAIN", "1", born(4), "4", village="73.71.01.1001"),
    ]
    job = run_import(write_csv(tmp_path / "x.csv", [FAMILIES[0]] + rows))
    assert job.status == "done"
    assert (job.rows, job.accepted, job.rejected) == (9, 3, 6)
    by_row = {error["row"]: error["message"] for error in job.errors}
    assert set(by_row) == {4, 5, 6, 7, 9, 10}
    assert "TGL_LHR" in by_row[4] and "7.30601E+15" in by_row[5] and "NIK" in by_row[6]
    assert "NAMA_LGKP" in by_row[7] and "JENIS_KLMIN" in by_row[9] and "73.71" in by_row[10]
    mixed = db.session.scalars(select(PopulationPerson).where(PopulationPerson.nik == nik(11))).one()
    assert (mixed.name, mixed.sex, mixed.relationship, mixed.area_code) == ("Nama Campur", "F", 4, VILLAGE)
    formula = db.session.scalars(select(PopulationPerson).where(PopulationPerson.nik == nik(14))).one()
    assert formula.name == "=HYPERLINK(\"http://x\")"  # text, never evaluated


def test_a_generated_extract_imports_from_csv_and_xlsx_alike(tmp_path):
    made = siak.generate(tmp_path / "g.csv", 200, "73.06", seed=5, share=0.05, extract_date=TODAY)
    siak.generate(tmp_path / "g.xlsx", 200, "73.06", seed=5, share=0.05, extract_date=TODAY)
    first = run_import(tmp_path / "g.csv")
    counts = (first.rows, first.accepted, first.rejected)
    assert first.status == "done" and made == 200 and first.rows == 200 and 0 < first.rejected < 40
    outreach = db.session.scalar(select(func.count()).select_from(OutreachItem).where(
        OutreachItem.import_id == first.id))
    second = run_import(tmp_path / "g.xlsx")
    assert second.status == "done", second.message
    assert (second.rows, second.accepted, second.rejected) == counts
    assert db.session.get(PopulationCurrent, "73.06").import_id == second.id
    # The replaced extract is gone; the new one lists the same children.
    assert db.session.scalar(select(func.count()).select_from(PopulationPerson).where(
        PopulationPerson.import_id == first.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutreachItem).where(
        OutreachItem.import_id == second.id)) == outreach > 0


# ---- refused files: nothing half-imported, the previous extract still in use ------------------

@pytest.fixture
def in_use(tmp_path):
    job = run_import(write_csv(tmp_path / "first.csv", FAMILIES))
    assert job.status == "done"
    return job


def refused(path: Path, district: str = "73.06") -> PopulationImport:
    job = run_import(path, district)
    assert job.status == "failed"
    assert db.session.scalar(select(func.count()).select_from(PopulationPerson).where(
        PopulationPerson.import_id == job.id)) == 0
    return job


def assert_still_in_use(first):
    assert db.session.get(PopulationCurrent, "73.06").import_id == first.id
    assert db.session.scalar(select(func.count()).select_from(PopulationPerson).where(
        PopulationPerson.import_id == first.id)) == len(FAMILIES)


def test_a_file_that_is_no_extract_is_refused(tmp_path, in_use):
    path = tmp_path / "x.pdf"
    path.write_bytes(b"%PDF-1.4 not an extract")
    assert "CSV" in refused(path).message
    assert_still_in_use(in_use)


def test_missing_columns_are_named(tmp_path, in_use):
    columns = [c for c in COLUMNS if c not in ("TGL_LHR", "NO_KEL", "AKTA_LHR", "NO_AKTA_LHR")]
    job = refused(write_csv(tmp_path / "x.csv", FAMILIES, columns))
    assert "TGL_LHR" in job.message and "NO_KEL" in job.message and "AKTA_LHR" in job.message
    assert "NIK," not in job.message
    assert_still_in_use(in_use)


def test_another_districts_extract_is_refused(tmp_path, in_use):
    rows = [dict(row, NO_KAB="71", NO_KEC="01", NO_KEL="1001") for row in FAMILIES]
    job = refused(write_csv(tmp_path / "x.csv", rows))
    assert "73.06" in job.message
    assert_still_in_use(in_use)


def test_a_zip_bomb_dressed_as_xlsx_is_refused_unread(tmp_path, in_use):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/workbook.xml", "<workbook/>")
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:  # 16 MB of zeros in some 16 kB
            block = b"\0" * (1024 * 1024)
            for _ in range(16):
                sheet.write(block)
    assert path.stat().st_size < 200_000
    assert "XLSX" in refused(path).message
    assert_still_in_use(in_use)


def test_a_failure_midway_leaves_nothing(tmp_path, in_use, monkeypatch):
    from casemgmt.population import importer

    monkeypatch.setattr(importer, "BATCH", 2)
    monkeypatch.setattr(importer, "list_rows", lambda import_id: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_import(write_csv(tmp_path / "x.csv", FAMILIES))
    failed = db.session.scalars(select(PopulationImport).order_by(PopulationImport.id.desc())).first()
    assert failed.status == "failed"
    assert db.session.scalar(select(func.count()).select_from(PopulationPerson).where(
        PopulationPerson.import_id == failed.id)) == 0
    assert_still_in_use(in_use)


def test_the_command_line_imports_and_reports_rows(app, tmp_path):
    bad = dict(FAMILIES[1], TGL_LHR="00-00-0000")
    path = write_csv(tmp_path / "x.csv", [FAMILIES[0], bad])
    result = app.test_cli_runner().invoke(args=["population", "import", str(path), "--district", "73.06"])
    assert result.exit_code == 0, result.output
    assert "2 rows, 1 accepted, 1 rejected" in result.output and "row 3:" in result.output
    result = app.test_cli_runner().invoke(args=["population", "import", str(path), "--district", "73.71"])
    assert result.exit_code != 0 and "73.71" in result.output


# ---- the API ------------------------------------------------------------------------------------

@pytest.fixture
def queue(app, monkeypatch):
    from casemgmt import jobs

    jobs.use_app(app)
    monkeypatch.setattr(jobs.huey, "immediate", True)


def upload(api, user, content: bytes, name="extract.csv", area="73.06"):
    return api("post", "/api/v1/population/imports", user,
               data={"file": (io.BytesIO(content), name), "area_code": area}, content_type="multipart/form-data")


def csv_bytes(rows, columns=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_a_coordinator_uploads_and_follows_an_import(api, queue):
    from casemgmt.storage import StoredFile

    response = upload(api, "koordinator", csv_bytes(FAMILIES + [dict(FAMILIES[1], TGL_LHR="00-00-0000")]))
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["status"] == "queued"
    answer = api("get", f"/api/v1/population/imports/{response.get_json()['id']}", "koordinator").get_json()
    assert {k: answer[k] for k in ("status", "rows", "accepted", "rejected")} == {
        "status": "done", "rows": 9, "accepted": 8, "rejected": 1}
    assert answer["errors"] == [{"row": 10, "message": answer["errors"][0]["message"]}]
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0  # the upload is not kept


@pytest.mark.parametrize("user", ["social_worker", "village_worker", "analyst", "agency_officer"])
def test_only_the_districts_coordinators_and_admins_import(api, queue, users, user):
    response = upload(api, users[user].username, csv_bytes(FAMILIES))
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(PopulationImport)) == 0


def test_a_coordinator_may_not_import_another_district(api, queue):
    assert upload(api, "koordinator", csv_bytes(FAMILIES), area="73.71").status_code == 403


def test_an_upload_over_the_limit_is_refused_by_its_size_unread(api, app, queue, monkeypatch):
    monkeypatch.setitem(app.config, "POPULATION_MAX_BYTES", 1000)
    response = upload(api, "koordinator", csv_bytes(FAMILIES * 10))
    assert response.status_code == 413
    assert "MB" in response.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(PopulationImport)) == 0


def test_a_file_that_is_no_extract_is_refused_at_upload(api, queue):
    response = upload(api, "koordinator", b"%PDF-1.4\n", name="x.pdf")
    assert response.status_code == 422
    assert "CSV" in response.get_json()["error"]["message"]


@pytest.fixture
def imported(tmp_path, users):
    job = run_import(write_csv(tmp_path / "x.csv", FAMILIES + [
        person(nik(20), "7306070000000003", "ANAK DESA LAIN", "1", born(8), "4", certificate="1",
               village=OTHER_VILLAGE)]))
    assert job.status == "done"
    return job


def outreach(api, user, query=""):
    response = api("get", f"/api/v1/outreach{query}", user)
    return response.status_code, response.get_json()


def test_the_coordinator_lists_the_district_a_village_worker_their_village(api, imported):
    status, page = outreach(api, "koordinator", "?rule=no_birth_certificate")
    assert status == 200
    assert {item["name"] for item in page["items"]} == {"ANAK TIGA", "ANAK DESA LAIN"}
    item = page["items"][0]
    assert set(item) == {"id", "rule", "name", "sex", "birth_date", "area_code", "kk_number", "status", "case_id"}
    status, page = outreach(api, "desa", "?rule=no_birth_certificate")
    assert status == 200 and [item["name"] for item in page["items"]] == ["ANAK TIGA"]
    assert outreach(api, "desa", f"?area_code={OTHER_VILLAGE}")[0] == 403
    for user in ("peksos", "analis", "dukcapil", "admin"):
        assert outreach(api, user)[0] == 403, user
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.action == "outreach_list")) == 2


def test_the_outreach_list_pages_by_keyset(api, imported):
    seen, cursor = [], None
    while True:
        status, page = outreach(api, "koordinator", "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 9


def test_a_status_change_keeps_history_and_not_applicable_needs_a_reason(api, imported):
    from casemgmt.population.models import OutreachEvent

    _status, page = outreach(api, "desa", "?rule=out_of_school")
    item_id = page["items"][0]["id"]
    url = f"/api/v1/outreach/{item_id}/status"
    assert api("post", url, "desa", json={"status": "not_applicable"}).status_code == 422
    response = api("post", url, "desa", json={"status": "not_applicable", "note": "Pindah ke Makassar"})
    assert response.status_code == 200 and response.get_json()["status"] == "not_applicable"
    assert api("post", url, "desa", json={"status": "resolved", "note": None}).status_code == 200
    assert [e.status for e in db.session.scalars(select(OutreachEvent).where(
        OutreachEvent.outreach_id == item_id).order_by(OutreachEvent.id))] == ["not_applicable", "resolved"]
    other = db.session.scalars(select(OutreachItem.id).where(OutreachItem.area_code == OTHER_VILLAGE)).first()
    assert api("post", f"/api/v1/outreach/{other}/status", "desa", json={"status": "resolved"}).status_code == 404


def test_an_outreach_row_becomes_a_case_and_survives_the_next_extract(api, imported, tmp_path):
    from casemgmt.cases.models import Case

    _status, page = outreach(api, "koordinator", "?rule=no_birth_certificate&area_code=" + VILLAGE)
    item_id = page["items"][0]["id"]
    response = api("post", f"/api/v1/outreach/{item_id}/case", "koordinator",
                   json={"concerns": ["no_birth_certificate"], "description": "Belum punya akta."})
    assert response.status_code == 201, response.get_data(as_text=True)
    case = db.session.get(Case, response.get_json()["id"])
    assert case.stage == "report" and case.complaint.channel == "outreach"
    assert db.session.get(OutreachItem, item_id).case_id == case.id
    second = run_import(write_csv(tmp_path / "again.csv", FAMILIES))
    assert second.status == "done"
    assert db.session.get(OutreachItem, item_id).case_id == case.id  # kept past the replacement
    carried = db.session.scalars(select(OutreachItem).where(OutreachItem.import_id == second.id,
                                                            OutreachItem.case_id == case.id)).one()
    assert carried.status == "in_progress"
    assert db.session.scalar(select(func.count()).select_from(PopulationPerson).where(
        PopulationPerson.import_id == imported.id)) == 1


def test_the_summary_counts_and_hides_small_counts_from_analysts(api, imported):
    status, coordinator = outreach(api, "koordinator", "/summary")
    assert status == 200
    assert coordinator["by_area"][VILLAGE]["female_headed_household"] == 2
    assert coordinator["by_area"][OTHER_VILLAGE] == {"no_birth_certificate": 1, "no_parent_in_household": 1}
    assert coordinator["children"] == 5
    status, analyst = outreach(api, "analis", "/summary?area_code=73.06")
    assert status == 200 and analyst["children"] == 5
    assert analyst["by_area"][VILLAGE]["female_headed_household"] == "<5"
    assert outreach(api, "peksos", "/summary")[0] == 403


def test_retention_removes_the_extract_but_the_rows_that_became_cases(imported, users):
    from casemgmt.dbtypes import utcnow

    item = db.session.scalars(select(OutreachItem).where(OutreachItem.rule == "out_of_school")).one()
    case = services.open_case(users["coordinator"], item, ["out_of_school"], "Tidak sekolah.")
    db.session.commit()
    assert runs.sweep_retention(utcnow() + timedelta(days=179)) == 0
    assert runs.sweep_retention(utcnow() + timedelta(days=181)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutreachItem)) == 1
    assert db.session.scalars(select(PopulationPerson.name)).all() == ["ANAK TIGA"]
    assert db.session.get(OutreachItem, item.id).case_id == case.id


# ---- pages --------------------------------------------------------------------------------------

def test_the_coordinator_uploads_on_the_page_and_watches_it_finish(web, users, queue):
    web.login("koordinator")
    page = web.get("/population").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "73.06" in page
    response = web.post("/population/imports", {"area_code": "73.06",
                                                "file": (io.BytesIO(csv_bytes(FAMILIES)), "extract.csv")},
                        content_type="multipart/form-data")
    assert response.status_code == 302
    progress = web.get(response.headers["Location"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert progress.startswith('<div id="import-progress"') and "hx-get" not in progress  # done: no more polling
    assert "8" in progress and "<script" not in progress
    refused_page = web.post("/population/imports", {"area_code": "73.06",
                                                    "file": (io.BytesIO(b"\x00\x01garbage"), "x.csv")},
                            content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "CSV" in refused_page and "XLSX" in refused_page
    assert db.session.scalar(select(func.count()).select_from(PopulationImport)) == 1


def test_the_village_worker_sees_a_lean_list_of_their_village_and_updates_a_row(web, imported):
    web.login("desa")
    page = web.get("/outreach").get_data(as_text=True)
    assert "list-group" in page and "<table" not in page
    assert "ANAK TIGA" in page and "ANAK DESA LAIN" not in page
    item = db.session.scalars(select(OutreachItem).where(OutreachItem.rule == "out_of_school")).one()
    row_page = web.get(f"/outreach/{item.id}").get_data(as_text=True)
    assert "ANAK TIGA" in row_page and "Barembeng" in row_page and f">{VILLAGE}<" not in row_page
    response = web.post(f"/outreach/{item.id}/status", {"status": "not_applicable", "note": ""},
                        follow_redirects=True)
    assert db.session.get(OutreachItem, item.id).status == "open"
    web.post(f"/outreach/{item.id}/status", {"status": "resolved", "note": "Sudah sekolah lagi"})
    db.session.expire_all()
    assert db.session.get(OutreachItem, item.id).status == "resolved"
    assert response.status_code == 200
    other = db.session.scalars(select(OutreachItem.id).where(OutreachItem.area_code == OTHER_VILLAGE)).first()
    assert web.get(f"/outreach/{other}").status_code == 404


def test_the_coordinator_filters_the_district_list_by_village_and_rule(web, imported):
    web.login("koordinator")
    # The place picker sends one value per level: the deepest chosen is the filter.
    page = web.get(f"/outreach?area=73.06&area=73.06.07&area={OTHER_VILLAGE}&rule=no_birth_certificate"
                   ).get_data(as_text=True)
    assert "ANAK DESA LAIN" in page and "ANAK TIGA" not in page
    # Places by their names, sexes in words; the chosen village stays chosen in the picker.
    assert "Panakkukang" in page and f">{OTHER_VILLAGE}<" not in page
    assert f'<option value="{OTHER_VILLAGE}" selected>' in page
    assert ("Perempuan" in page or "Laki-laki" in page) and "· F ·" not in page and "· M ·" not in page
    assert 'name="area" value' not in page  # no code typed into a text box
    # Another district's area is refused, naming the coordinator's own by its name.
    refused = web.get("/outreach?area=73.09")
    assert refused.status_code == 403 and "Kabupaten Gowa" in refused.get_data(as_text=True)


def test_an_outreach_row_given_to_a_village_worker_is_in_their_tasks(imported, users):
    from casemgmt.home.tasks import my_tasks

    item = db.session.scalars(select(OutreachItem).where(OutreachItem.rule == "out_of_school")).one()
    from casemgmt.errors import Forbidden

    with pytest.raises(Forbidden):
        services.assign(users["village_worker"], item, users["village_worker"])  # only the coordinator gives
    db.session.rollback()
    item = db.session.scalars(select(OutreachItem).where(OutreachItem.rule == "out_of_school")).one()
    services.assign(users["coordinator"], item, users["village_worker"])
    db.session.commit()
    tasks, _cursor = my_tasks(users["village_worker"])
    assert [(t.kind, t.row_id) for t in tasks] == [("outreach", item.id)]
    assert "ANAK" not in tasks[0].description  # no child's name in a task line
    from casemgmt.notify.models import Notification

    told = db.session.scalars(select(Notification).where(Notification.kind == "outreach_assigned")).all()
    assert [(n.user_id, n.link, n.data) for n in told] == [(users["village_worker"].id, f"/outreach/{item.id}",
                                                            {"count": 1})]
    services.set_status(users["village_worker"], item, "resolved", "Sudah sekolah")
    db.session.commit()
    assert my_tasks(users["village_worker"])[0] == []


# ---- coverage -----------------------------------------------------------------------------------

def test_indicators_gain_birth_certificate_coverage(api, imported):
    data = api("get", "/api/v1/indicators?area_code=73.06", "koordinator").get_json()
    coverage = data["birth_certificate_coverage"]
    # Under 18: ANAK DUA, ANAK TIGA (none), ANAK ENAM, CUCU DELAPAN; ANAK DESA LAIN (none) elsewhere.
    assert (coverage["children"], coverage["with_certificate"]) == (5, 3)
    assert coverage["by_sex"]["F"] == {"children": 2, "with_certificate": 1, "percent": 50.0}
    assert coverage["by_area"] == {"73.06.01": {"children": 4, "with_certificate": 3, "percent": 75.0},
                                   "73.06.07": {"children": 1, "with_certificate": 0, "percent": 0.0}}
    assert set(coverage["by_age_group"]) == {"0-4", "5-9", "10-14", "15-17"}
    analyst = api("get", "/api/v1/indicators?area_code=73.06", "analis").get_json()["birth_certificate_coverage"]
    assert analyst["children"] == 5 and analyst["with_certificate"] == "<5"
    assert analyst["by_area"]["73.06.07"] == {"children": "<5", "with_certificate": 0, "percent": None}
    maros = api("get", "/api/v1/indicators?area_code=73.09", "analis").get_json()
    assert "birth_certificate_coverage" not in maros  # no extract there


def test_the_indicators_page_and_quarterly_pdf_show_coverage(web, imported, monkeypatch):
    from casemgmt.reports import views

    web.login("koordinator")
    page = web.get("/reports/indicators?area=73.06").get_data(as_text=True)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 6 and "75.0" in page  # the five case charts and coverage by kecamatan
    assert "ANAK" not in page
    rendered = []
    monkeypatch.setattr(views, "html_to_pdf", lambda html: rendered.append(html) or (b"%PDF-", None))
    assert web.get("/reports/quarterly.pdf?area=73.06").status_code == 200
    assert "75.0" in rendered[0] and "ANAK" not in rendered[0]
    # The same six, and the five month-by-month trends of the management indicators.
    assert rendered[0].count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 11


def test_only_the_coordinator_downloads_the_list_and_formulas_stay_inert(web, make_web, tmp_path, users):
    rows = FAMILIES + [person(nik(30), KK1, '=HYPERLINK("http://x","klik")', "1", born(7), "4", certificate="1")]
    assert run_import(write_csv(tmp_path / "x.csv", rows)).status == "done"
    web.login("koordinator")
    response = web.get("/outreach.csv?rule=no_birth_certificate")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 3 and {line[0] for line in lines[1:]} == {"ANAK TIGA", "'=HYPERLINK(\"http://x\",\"klik\")"}
    village = make_web()
    village.login("desa")
    assert village.get("/outreach.csv").status_code == 403


def test_counts_outlive_the_retention_without_names(imported):
    from casemgmt.dbtypes import utcnow
    from casemgmt.population.models import PopulationCount

    before = services.coverage("73.06", False)
    assert runs.sweep_retention(utcnow() + timedelta(days=181)) == 1
    assert db.session.scalar(select(func.count()).select_from(PopulationPerson)) == 0
    assert services.coverage("73.06", False) == before  # anonymised counts stay
    assert db.session.scalar(select(func.count()).select_from(PopulationCount)) > 0


def test_an_upload_waits_for_a_queue_that_is_away_and_runs_once_it_is_back(api, app, monkeypatch):
    from casemgmt import jobs

    def away(import_id):
        raise ConnectionError("queue away")

    monkeypatch.setattr(jobs, "import_population", away)
    response = upload(api, "koordinator", csv_bytes(FAMILIES))
    assert response.status_code == 202
    job = db.session.get(PopulationImport, response.get_json()["id"])
    assert job.status == "queued"
    monkeypatch.setattr(jobs, "import_population", lambda import_id: runs.run_queued(import_id))
    assert runs.requeue_waiting(0) == 1
    db.session.expire_all()
    assert db.session.get(PopulationImport, job.id).status == "done"


def test_an_xlsx_keeps_a_formula_as_text_and_refuses_a_nik_stored_as_a_number(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in (FAMILIES[0], dict(FAMILIES[1], NAMA_LGKP="=1+1"), dict(FAMILIES[2], NIK=int(FAMILIES[2]["NIK"]))):
        sheet.append([row[c] for c in COLUMNS])
    book.save(tmp_path / "x.xlsx")
    job = run_import(tmp_path / "x.xlsx")
    assert (job.status, job.accepted, job.rejected) == ("done", 2, 1)
    assert "NIK" in job.errors[0]["message"] and job.errors[0]["row"] == 4
    assert db.session.scalars(select(PopulationPerson.name).where(PopulationPerson.nik == nik(2))).one() == "=1+1"


def test_the_coordinator_gives_a_row_to_a_village_worker_on_its_page(web, make_web, imported, users):
    item = db.session.scalars(select(OutreachItem).where(OutreachItem.rule == "out_of_school")).one()
    web.login("koordinator")
    assert users["village_worker"].full_name in web.get(f"/outreach/{item.id}").get_data(as_text=True)
    web.post(f"/outreach/{item.id}/assign", {"worker_id": users["village_worker"].id})
    db.session.expire_all()
    assert db.session.get(OutreachItem, item.id).assigned_user_id == users["village_worker"].id
    village = make_web()
    village.login("desa")
    assert village.post(f"/outreach/{item.id}/assign", {"worker_id": users["village_worker"].id}).status_code == 403
