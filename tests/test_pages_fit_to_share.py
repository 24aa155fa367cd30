"""No raw code where a person reads: the pages a coordinator and a worker open, and the exports."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

from openpyxl import load_workbook

from casemgmt import codes
from casemgmt.conferences import services as conferences
from casemgmt.referrals import services as referrals
from casemgmt.transactions import commit
from casemgmt.workflow import services as workflow
from casemgmt.workflow.labels import EVENT_LABELS
from casemgmt.workflow.stages import STAGE_CODES
from tests.factories import make_case

# Codes a person must never read as such. Codes that are also ordinary words of the page's
# language ("PKSAI") differ from them by case, so the match is case-sensitive, on whole words.
RAW_CODES = (set(codes.ROLES) | set(codes.SEXES) | set(codes.ORGANISATION_KINDS) | set(codes.SERVICES)
             | set(codes.CONCERNS) | set(codes.AREA_LEVELS) | set(STAGE_CODES) | set(EVENT_LABELS)
             | {"open", "closed", "high", "medium", "low", "sent", "accepted", "scheduled"})
RAW = re.compile(r"(?<![\w.-])(" + "|".join(sorted(map(re.escape, RAW_CODES), key=len, reverse=True))
                 + r")(?![\w-])")


class VisibleText(HTMLParser):
    """The text a page shows: its text nodes, outside scripts, styles and templates."""

    HIDDEN = {"script", "style", "template", "head"}

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def raw_codes_in(html: str, username: str = "") -> list[str]:
    """Raw codes in the page's visible text (the signed-in user's own login name aside)."""
    parser = VisibleText()
    parser.feed(html)
    parts = [part.replace(f"({username})", "") if username else part for part in parser.parts]
    return [f"{m.group(1)!r} in {part!r}" for part in parts for m in RAW.finditer(part)]


def test_raw_code_finder_finds_codes_and_spares_words():
    assert raw_codes_in("<p>Risiko: high</p><li>conference_scheduled</li><td>F</td>") == [
        "'high' in 'Risiko: high'", "'conference_scheduled' in 'conference_scheduled'", "'F' in 'F'"]
    assert raw_codes_in('<p class="risk-high">Risiko: Tinggi · PKSAI</p><script>var open = 1</script>') == []


def _dataset(users):
    """A high-risk ABH case with an assessment, a referral, a conference with a decision, and a
    closed case: each kind of row the pages and exports write."""
    coordinator, worker = users["coordinator"], users["social_worker"]
    case = make_case(users["village_worker"], name="Nurul Aisyah")
    from casemgmt.cases.models import CaseConcern

    case.concern_rows.append(CaseConcern(concern="abh_victim"))
    workflow.apply_transition(case, "accept", coordinator, {"risk_level": "high", "assigned_worker_id": worker.id})
    workflow.save_assessment(case, worker, "high", ["birth_certificate"], "Ringkasan asesmen.")
    dukcapil = users["agency_officer"].organisation
    referrals.make_referral(case, worker, to_organisation_id=dukcapil.id, service="birth_certificate",
                            reason="Akta kelahiran.", consent={"given_by": "caregiver",
                                                               "recorded_on": datetime.now(timezone.utc).date()})
    when = datetime.now(timezone.utc) + timedelta(days=2)
    conf = conferences.schedule(coordinator, title="Konferensi kasus", scheduled_at=when, area_code="73.06",
                                location="Kantor PKSAI", case_ids=[case.id], organisation_ids=[dukcapil.id])
    conferences.add_decision(conf, coordinator, case_id=case.id, summary="Lanjutkan pendampingan.",
                             actions=[{"description": "Urus akta", "owner_organisation_id": dukcapil.id,
                                       "due_date": when.date()}])
    from casemgmt.workflow import juvenile

    started = juvenile.record_investigator_request(case, worker, datetime.now(timezone.utc) - timedelta(days=4))
    juvenile.stop_clock(started[0], worker)
    from casemgmt.workflow.sweep import sweep_juvenile_clocks

    sweep_juvenile_clocks()
    closed = make_case(users["village_worker"], name="Baso", sex="M")
    workflow.apply_transition(closed, "dismiss", coordinator, {"reason": "not_child_protection"})
    commit()
    return case, conf


def test_pages_and_exports_a_coordinator_and_a_worker_read_carry_no_raw_code(make_web, users):
    case, conf = _dataset(users)
    found = {}
    for username, paths in {
        "koordinator": ["/", "/tasks", f"/cases/{case.id}", "/cases", "/cases?status=closed", "/triage",
                        "/conferences", f"/conferences/{conf.id}", "/conferences/new", "/referrals",
                        "/approvals"],
        "peksos": ["/", "/tasks", f"/cases/{case.id}", "/cases", "/referrals"],
        "dukcapil": ["/", "/referrals"],
        "desa": ["/", "/complaints/mine"],
    }.items():
        web = make_web()
        web.login(username)
        for path in paths:
            response = web.get(path)
            assert response.status_code == 200, (username, path, response.status_code)
            found.update({(username, path): hits for hits in [raw_codes_in(response.get_data(as_text=True), username)] if hits})
        if username == "dukcapil":
            referral = re.search(r'href="/referrals/(\d+)"', web.get("/referrals").get_data(as_text=True))
            page = web.get(f"/referrals/{referral.group(1)}").get_data(as_text=True)
            found.update({(username, "referral"): hits for hits in [raw_codes_in(page, username)] if hits})
    coordinator = make_web()
    coordinator.login("koordinator")
    page = coordinator.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Tenggat terlewati: Laporan sosial" in page and "Permintaan dari penyidik diterima" in page
    home = coordinator.get("/").get_data(as_text=True)
    assert "&#34;Laporan sosial" in home and "seharusnya selesai paling lambat" in home
    for fmt in ("csv", "xlsx"):
        data = coordinator.get(coordinator.post("/exports", {"format": fmt}).headers["Location"]).data
        if fmt == "csv":
            cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
        else:
            cells = [str(c.value) for row in load_workbook(io.BytesIO(data)).active.iter_rows() for c in row
                     if c.value is not None]
        assert len(cells) > 30
        hits = [f"{m.group(1)!r} in {cell!r}" for cell in cells for m in RAW.finditer(cell)]
        if hits:
            found[("export", fmt)] = hits
    assert found == {}


def test_every_timeline_kind_written_has_a_label_in_both_languages():
    from pathlib import Path

    from babel.messages.pofile import read_po

    import casemgmt

    written = set()
    for path in Path(casemgmt.__file__).parent.rglob("*.py"):
        written |= set(re.findall(r'add_event\(\w+, "(\w+)"', path.read_text()))
    assert {"conference_scheduled", "registered", "overdue"} <= written
    assert written <= set(EVENT_LABELS), written - set(EVENT_LABELS)
    catalogue = Path(casemgmt.__file__).parent / "translations/id/LC_MESSAGES/messages.po"
    with catalogue.open("rb") as fh:
        indonesian = read_po(fh, locale="id")
    assert all(indonesian.get(str(label._args[0])).string for label in EVENT_LABELS.values())


def test_an_estimated_birth_date_says_so_wherever_it_is_shown(make_web, users):
    from casemgmt.referrals.letters import child_view
    from casemgmt.templating import birth_date

    case = make_case(users["village_worker"], name="Baso", birth_date=None, age_years=7)
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "low", "assigned_worker_id": users["social_worker"].id})
    referral = referrals.make_referral(case, users["social_worker"],
                                       to_organisation_id=users["agency_officer"].organisation_id,
                                       service="birth_certificate", reason="Akta kelahiran.",
                                       consent={"given_by": "caregiver",
                                                "recorded_on": datetime.now(timezone.utc).date()})
    commit()
    shown = birth_date(case.child)
    assert shown.endswith("(perkiraan)") and str(case.child.birth_date.year) in shown
    for username, path in (("koordinator", f"/cases/{case.id}"), ("dukcapil", f"/referrals/{referral.id}")):
        web = make_web()
        web.login(username)
        assert shown in web.get(path).get_data(as_text=True), path
    exact = make_case(users["village_worker"], name="Nurul Aisyah")
    assert "perkiraan" not in birth_date(exact.child) and birth_date(exact.child)
    view = child_view(case, referral, type("Access", (), {"identity": False, "details": False,
                                                          "referral_fields": True})())
    assert birth_date(view, "long").endswith("(perkiraan)")


def test_the_assessments_risk_starts_at_the_level_triage_set(make_web, users):
    case = make_case(users["village_worker"])
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "high", "assigned_worker_id": users["social_worker"].id})
    workflow.save_assessment(case, users["social_worker"], None, ["birth_certificate"], "")  # a draft, no risk yet
    commit()
    web = make_web()
    web.login("peksos")

    def selected():
        page = web.get(f"/cases/{case.id}").get_data(as_text=True)
        select = re.search(r'<select[^>]*name="assessment-risk_level".*?</select>', page, re.S).group(0)
        return re.findall(r'<option selected value="(\w*)"', select)

    assert selected() == ["high"]
    workflow.save_assessment(case, users["social_worker"], "low", ["birth_certificate"], "", version=1)
    commit()
    assert selected() == ["low"]


def test_a_place_is_picked_level_by_level_not_typed(make_web, users):
    from casemgmt.forms import deepest_place

    assert deepest_place(["73.06", "73.06.01", ""]) == "73.06.01" and deepest_place(["", ""]) == ""
    web = make_web()
    web.login("admin")
    # Choosing Gowa loads its kecamatan and empties the village select (out of band).
    page = web.get("/directory/areas/options?field=area_code&id=area_code&level=district&last=village"
                   "&area_code=73.06").get_data(as_text=True)
    assert '<option value="73.06.01">Kecamatan Bontonompo</option>' in page
    assert '<select id="area_code-village" hx-swap-oob="innerHTML">' in page and "73.09" not in page
    assert web.get("/directory/areas/options?field=area&id=a%22b&level=district&area=73.06").status_code == 404
    # The user form shows the place chosen, level by level, and no box to type a code in.
    page = web.get(f"/admin/users/{users['village_worker'].id}").get_data(as_text=True)
    assert 'name="area_code" type="text"' not in page
    for code in ("73.06", "73.06.01", "73.06.01.2006"):
        assert f'<option value="{code}" selected>' in page, code
    # The selects send each level; the deepest chosen is the place.
    data = {"name": "Puskesmas Pallangga", "kind": "puskesmas", "area_code": ["73.06", "73.06.07", ""],
            "services": ["health"], "covers": "", "contact_person": "", "phone": "", "email": "", "address": "",
            "active": "y"}
    response = web.post("/directory/organisations/new", data)
    assert response.status_code == 302
    from casemgmt.directory.models import Organisation
    from casemgmt.extensions import db

    assert db.session.scalar(db.select(Organisation.area_code).where(
        Organisation.name == "Puskesmas Pallangga")) == "73.06.07"
    listing = web.get("/directory/organisations?area=73.06&area=73.06.07&area=").get_data(as_text=True)
    assert "Puskesmas Pallangga" in listing and '<option value="73.06.07" selected>' in listing


def test_agencies_are_invited_with_checkboxes(make_web, users):
    web = make_web()
    web.login("koordinator")
    page = web.get("/conferences/new").get_data(as_text=True)
    dukcapil = users["agency_officer"].organisation
    assert f'type="checkbox" value="{dukcapil.id}"' in page and "multiple" not in page
    response = web.post("/conferences/new", {"title": "Konferensi", "scheduled_at": "2030-01-10T09:00",
                                             "location": "Kantor", "organisation_ids": [str(dukcapil.id)]})
    assert response.status_code == 302
    from casemgmt.conferences.models import ConferenceOrganisation
    from casemgmt.extensions import db

    assert db.session.scalars(db.select(ConferenceOrganisation.organisation_id)).all() == [dukcapil.id]


def test_areas_covered_are_ticked_places_and_one_more_is_picked(make_web, users):
    from casemgmt.directory.models import Organisation
    from casemgmt.extensions import db
    from tests.factories import OrganisationFactory

    org = OrganisationFactory(name="UPT PPA Gowa", kind="upt_ppa", area_code="73.06", services=["psychosocial"],
                              covers=["73.06.01", "73.06.07"])
    commit()
    web = make_web()
    web.login("admin")
    page = web.get(f"/directory/organisations/{org.id}/edit").get_data(as_text=True)
    for code, name in (("73.06.01", "Kecamatan Bontonompo"), ("73.06.07", "Kecamatan Pallangga")):
        assert re.search(rf'<input checked[^>]*value="{code}">\s*<label[^>]*>{name}</label>', page), code
    assert not re.search(r'<textarea[^>]*name="covers', page)
    data = {"name": org.name, "kind": "upt_ppa", "area_code": "73.06", "services": ["psychosocial"],
            "covers": ["73.06.07"], "covers_add": ["73.09", "73.09.01", ""], "contact_person": "", "phone": "",
            "email": "", "address": "", "active": "y", "version": str(org.version)}
    assert web.post(f"/directory/organisations/{org.id}/edit", data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).covered_area_codes == ["73.06.07", "73.09.01"]
