"""Sensitive details, who saw a record, subject access, retention and backup."""
from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from casemgmt.cases import attachments, records
from casemgmt.cases.models import Attachment, Case, CaseSensitive, Child
from casemgmt.dbtypes import utcnow
from casemgmt.errors import Forbidden
from casemgmt.extensions import db
from casemgmt.reports import indicators
from casemgmt.workflow import services as workflow
from tests.factories import bearer_for, make_case

SECRET = "Paman tiri korban"


@pytest.fixture
def case(users):
    case = make_case(users["village_worker"])
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "high", "assigned_worker_id": users["social_worker"].id})
    records.save_sensitive(case, users["social_worker"], {"alleged_perpetrator": SECRET, "hiv_status": "not_disclosed",
                                                        "sexual_violence_details": "Rincian rahasia."})
    return case


def test_sensitive_details_only_for_the_assigned_worker_and_coordinator(make_web, users, case):
    for username, sees in (("peksos", True), ("koordinator", True), ("desa", False)):
        web = make_web()
        web.login(username)
        page = web.get(f"/cases/{case.id}").get_data(as_text=True)
        assert (SECRET in page) == sees, username
    with pytest.raises(Forbidden):
        records.save_sensitive(case, users["village_worker"], {"alleged_perpetrator": "x"})
    web = make_web()
    web.login("desa")
    assert web.post(f"/cases/{case.id}/sensitive", {"sensitive-alleged_perpetrator": "x"}).status_code == 403


def test_a_refused_sensitive_form_comes_back_open_with_its_error_and_what_was_typed(make_web, users, case):
    web = make_web()
    web.login("peksos")
    response = web.post(f"/cases/{case.id}/sensitive", {"sensitive-alleged_perpetrator": "Tetangga",
                                                        "sensitive-hiv_status": "bogus"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<details open>" in page and 'value="Tetangga"' in page
    assert 'id="sensitive-hiv_status-error"' in page  # the error next to the field refused
    assert records.sensitive_of(case).alleged_perpetrator == SECRET  # nothing saved


def test_sensitive_details_never_in_exports_letters_or_audit(make_web, users, case):
    web = make_web()
    web.login("koordinator")
    export = web.get(web.post("/exports", {"format": "csv"}).headers["Location"]).data.decode("utf-8-sig")
    assert SECRET not in export
    from casemgmt.audit.models import AuditEntry

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sensitive_updated")).one()
    assert SECRET not in json.dumps(entry.after) and "alleged_perpetrator" in entry.after["fields"]


def test_who_has_seen_or_changed_the_record(make_web, users, case):
    worker = make_web()
    worker.login("peksos")
    worker.get(f"/cases/{case.id}")
    coordinator = make_web()
    coordinator.login("koordinator")
    page = coordinator.get(f"/cases/{case.id}/access-log").get_data(as_text=True)
    assert users["social_worker"].full_name in page and "view_case" in page and "sensitive_updated" in page
    csv_text = coordinator.get(f"/cases/{case.id}/access-log?format=csv").data.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "Kapan,Pelaksana,Peran,Dilihat atau diubah,Apa" and "transition:accept" in csv_text
    assert "Koordinator PKSAI" in csv_text and ",coordinator," not in csv_text
    assert worker.get(f"/cases/{case.id}/access-log").status_code == 403


def test_subject_access_export(make_web, users, case):
    coordinator = make_web()
    coordinator.login("koordinator")
    data = json.loads(coordinator.get(f"/cases/{case.id}/subject-access.json").data)
    assert data["child"]["name"] == "Nurul Aisyah" and data["cases"][0]["number"] == case.number
    assert data["cases"][0]["sensitive"]["alleged_perpetrator"] == SECRET
    assert "Ibu Rahma" not in json.dumps(data)  # the reporter is withheld
    pdf = coordinator.get(f"/cases/{case.id}/subject-access.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    worker = make_web()
    worker.login("peksos")
    assert worker.get(f"/cases/{case.id}/subject-access.json").status_code == 403


def close_long_ago(case, users, years=6):
    workflow.apply_transition(case, "terminate", users["social_worker"], {"reason": "moved_away", "summary": "Pindah."})
    workflow.decide_approval(workflow.pending_approval(case), users["coordinator"], "approve")
    case.closed_at = utcnow() - timedelta(days=365 * years)
    db.session.commit()


def test_anonymise_old_closed_cases_keeping_the_counts(app, users, case, runner):
    attachments.add_attachment(case, io.BytesIO(b"%PDF-1.4 x"), "surat.pdf", users["social_worker"])
    close_long_ago(case, users)
    recent = make_case(users["village_worker"], name="Anak Baru")
    period = indicators.Period(date(2000, 1, 1), utcnow().date())
    before = indicators.compute("73.06", period)
    result = runner.invoke(args=["privacy", "anonymise", "--older-than", "5", "--dry-run"])
    assert result.exit_code == 0 and "Would anonymise 1 cases" in result.output
    assert db.session.get(Child, case.child_id).name == "Nurul Aisyah"
    result = runner.invoke(args=["privacy", "anonymise", "--older-than", "5"])
    assert "Anonymised 1 cases" in result.output and "1 attachments deleted" in result.output
    db.session.expire_all()
    child = db.session.get(Child, case.child_id)
    assert (child.name, child.nik, child.address, child.caregiver_name) == ("Anonim", None, None, None)
    saved = db.session.get(Case, case.id)
    assert saved.complaint.reporter_name is None and saved.complaint.description == ""
    assert db.session.get(CaseSensitive, case.id) is None
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert db.session.get(Child, recent.child_id).name == "Anak Baru"
    after = indicators.compute("73.06", period)
    for key in ("complaints", "cases", "by_sex", "by_age_group", "by_concern", "by_area", "closed_by_reason"):
        assert after[key] == before[key], key
    listed, _ = records.list_cases(users["coordinator"], records.CaseFilters(q="nurul"))
    assert listed == []
    serial = saved.number.split("-")[-1]  # still found by its number, as search writes it on both databases
    listed, _ = records.list_cases(users["coordinator"], records.CaseFilters(q=serial))
    assert saved.id in [c.id for c in listed]


def test_backup_is_consistent_and_restores(app, runner, users, tmp_path):
    from casemgmt import create_app

    made = [make_case(users["village_worker"], name=f"Anak {i}") for i in range(3)]
    target = tmp_path / "backup.db"
    result = runner.invoke(args=["backup", str(target)])
    if db.engine.dialect.name == "postgresql":
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    assert result.exit_code == 0, result.output
    restored = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}"})
    with restored.app_context():
        numbers = set(db.session.scalars(select(Case.number)))
        assert numbers == {c.number for c in made}
        assert db.session.scalar(select(func.count(Child.id))) == 3
        db.engine.dispose()
    assert runner.invoke(args=["backup", str(target)]).exit_code != 0  # never overwrites


def test_api_shows_sensitive_only_to_those_who_may(app, users, case):
    client = app.test_client()

    def get(username):
        return client.get(f"/api/v1/cases/{case.id}", headers=bearer_for(client, username)).get_json()

    assert get("peksos")["sensitive"]["alleged_perpetrator"] == SECRET
    assert "sensitive" not in get("desa")


def test_api_case_list_masks_sensitive_details_as_the_case_does(app, users, case):
    """The list reads every case's row in one select (cases.listing.FULL); masking is per viewer."""
    client = app.test_client()

    def listed(username):
        items = client.get("/api/v1/cases", headers=bearer_for(client, username)).get_json()["items"]
        return {item["id"]: item for item in items}

    assert listed("peksos")[case.id]["sensitive"]["alleged_perpetrator"] == SECRET
    assert listed("koordinator")[case.id]["sensitive"]["hiv_status"] == "not_disclosed"
    mine = listed("desa")
    assert case.id in mine and "sensitive" not in mine[case.id]


def test_sensitive_text_is_cut_to_what_its_column_holds(users, case):
    row = records.save_sensitive(case, users["social_worker"], {"perpetrator_relationship": "p" * 150,
                                                             "alleged_perpetrator": "a" * 300})
    db.session.expire_all()
    assert len(row.perpetrator_relationship) == 80 and len(row.alleged_perpetrator) == 200
