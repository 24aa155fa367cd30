"""Households (Kartu Keluarga): siblings meeting in one, who sees what of it, bad KK numbers, the API."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from casemgmt.audit.models import AccessLogEntry
from casemgmt.cases import intake
from casemgmt.cases.identity import check_kk
from casemgmt.cases.models import Case, Child, Household
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.referrals import services as referrals
from casemgmt.workflow import services as workflow
from tests.factories import OrganisationFactory, UserFactory, child_input, complaint_input, make_case
from tests.test_cases_intake import GIRL_NIK, form_data

KK = "7306012345670001"  # issued in Gowa (73.06.01)


def household_of(case_id: int) -> Household | None:
    db.session.expire_all()
    return db.session.get(Case, case_id).child.household


def siblings(users, registrar_a=None, registrar_b=None):
    """Two children of one family, registered in separate complaints (by the village worker unless
    told otherwise)."""
    a = make_case(registrar_a or users["village_worker"], name="Nurul Aisyah", kk_number=KK, relationship_to_head="4")
    b = make_case(registrar_b or users["village_worker"], name="Andi Baso", sex="M", kk_number="7306 0123 4567 0001",
                  relationship_to_head=4)
    return a.id, b.id


# ---- model and intake ---------------------------------------------------------------------------

def test_siblings_in_separate_complaints_meet_in_one_household(users):
    a, b = siblings(users)
    household = household_of(a)
    assert household is not None and household.kk_number == KK and household.area_code == "73.06.01.2006"
    assert household_of(b).id == household.id
    assert db.session.get(Case, a).complaint_id != db.session.get(Case, b).complaint_id
    children = db.session.scalars(select(Child).where(Child.household_id == household.id)).all()
    assert sorted(c.relationship_to_head for c in children) == ["4", "4"]


def test_a_case_without_a_kk_number_has_no_household(api, users):
    case = make_case(users["village_worker"])
    assert household_of(case.id) is None
    assert api("get", f"/api/v1/cases/{case.id}", "koordinator").get_json()["household"] is None


@pytest.mark.parametrize("value, code", [
    ("730601234567000", "length"),        # 15 digits
    ("73060123456700011", "length"),      # 17 digits
    ("7306O12345670001", "letters"),      # a letter O for a zero
    ("KK 7306012345670001", "letters"),
    ("9906012345670001", "region"),       # no kabupaten/kota 99.06
])
def test_bad_kk_numbers_are_refused_with_the_reason(value, code):
    assert check_kk(value) == (None, code)


def test_kk_numbers_are_read_as_people_write_them():
    assert check_kk("7306.0123.4567.0001") == (KK, None)
    assert check_kk(" 7306-012345-670001 ") == (KK, None)


@pytest.mark.parametrize("value, message", [
    ("730601234567", "Nomor KK terdiri dari tepat 16 angka."),
    ("73060I2345670001", "Nomor KK hanya berisi angka"),
    ("9906012345670001", "Empat angka pertama nomor KK bukan kode kabupaten/kota yang dikenal."),
])
def test_a_bad_kk_number_is_explained_in_indonesian_and_nothing_is_saved(api, users, value, message):
    before = db.session.scalar(select(db.func.count(Case.id)))
    response = api("post", "/api/v1/cases", "desa", json={
        "channel": "phone", "reporter": {"name": "Pak Amir"}, "concerns": ["out_of_school"],
        "description": "Tidak sekolah.",
        "child": {"name": "Andi", "sex": "M", "age_years": 9, "area_code": "73.06.01.2006", "kk_number": value}})
    assert response.status_code == 422, response.get_data(as_text=True)
    fields = response.get_json()["error"]["details"]["fields"]
    assert message in str(fields["child.kk_number"])
    assert db.session.scalar(select(db.func.count(Case.id))) == before
    assert db.session.scalar(select(db.func.count(Household.id))) == 0


def test_an_unknown_relationship_is_refused(users):
    with pytest.raises(ValidationFailed) as refused:
        intake.register_complaint(complaint_input([child_input(kk_number=KK, relationship_to_head="12")]),
                                  users["village_worker"])
    assert "children.0.relationship_to_head" in refused.value.errors


def test_the_web_form_joins_a_known_kk_and_tells_only_what_the_worker_may_see(web, users):
    first = make_case(users["coordinator"], name="Kakak Nurul", kk_number=KK)
    web.login("desa")
    # The village worker sees no case of that family: the child joins it, and nothing is said.
    page = web.post("/cases/new", form_data(**{"children-0-kk_number": KK, "children-0-relationship_to_head": "4"}))
    assert page.status_code == 302, page.get_data(as_text=True)[:3000]
    new_id = int(page.headers["Location"].rsplit("/", 1)[1])
    assert household_of(new_id).id == household_of(first.id).id
    # The coordinator, who sees both, is told which family the next child joins.
    web.logout()
    web.login("koordinator")
    page = web.post("/cases/new", form_data(**{"children-0-name": "Adik Nurul", "children-0-kk_number": KK}))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nomor KK ini sudah tercatat" in text
    assert first.number in text and db.session.get(Case, new_id).number in text


def test_a_known_nik_offers_its_household_naming_only_the_case(web, users):
    first = make_case(users["coordinator"], nik=GIRL_NIK, kk_number=KK)
    web.login("desa")
    page = web.post("/cases/new", form_data(**{"children-0-nik": GIRL_NIK}))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Kasus {first.number}, milik anak dengan NIK yang sama" in text
    assert KK not in text  # the family's number is not told
    response = web.post("/cases/new", form_data(**{"children-0-nik": GIRL_NIK, "reviewed": "1",
                                                   "children-0-duplicate": "new",
                                                   "children-0-join_household": "y"}))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert household_of(new_id).id == household_of(first.id).id


def test_a_known_nik_joins_nothing_unless_the_worker_says_so(web, users):
    make_case(users["coordinator"], nik=GIRL_NIK, kk_number=KK)
    web.login("desa")
    web.post("/cases/new", form_data(**{"children-0-nik": GIRL_NIK}))
    response = web.post("/cases/new", form_data(**{"children-0-nik": GIRL_NIK, "reviewed": "1",
                                                   "children-0-duplicate": "new"}))
    assert response.status_code == 302
    assert household_of(int(response.headers["Location"].rsplit("/", 1)[1])) is None


def test_the_edit_page_sets_and_changes_the_kk(web, users):
    case = make_case(users["village_worker"])
    workflow.apply_transition(case, "accept", users["coordinator"], {"risk_level": "low",
                                                                     "assigned_worker_id": users["social_worker"].id})
    db.session.commit()
    web.login("peksos")
    page = web.get(f"/cases/{case.id}/edit").get_data(as_text=True)
    version = int(db.session.get(Case, case.id).version)
    data = {"name": "Nurul Aisyah", "sex": "F", "birth_date": "2014-03-09", "area_code": "73.06.01.2006",
            "concerns_welfare": ["out_of_school", "no_birth_certificate"], "version": version,
            "description": "Anak perempuan tidak bersekolah sejak kelas 4 dan belum punya akta kelahiran.",
            "kk_number": "12345", "relationship_to_head": "4"}
    assert 'name="kk_number"' in page
    response = web.post(f"/cases/{case.id}/edit", data)
    assert response.status_code == 422 and "Nomor KK terdiri dari tepat 16 angka." in response.get_data(as_text=True)
    assert household_of(case.id) is None
    response = web.post(f"/cases/{case.id}/edit", {**data, "kk_number": KK})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    household = household_of(case.id)
    assert household.kk_number == KK and db.session.get(Case, case.id).child.relationship_to_head == "4"
    other = "7306019999990001"
    response = web.post(f"/cases/{case.id}/edit", {**data, "kk_number": other,
                                                  "version": db.session.get(Case, case.id).version})
    assert response.status_code == 302
    assert household_of(case.id).kk_number == other


# ---- who sees what ----------------------------------------------------------------------------

@pytest.fixture
def family(users):
    """Nurul's case registered by the village worker, assigned to the social worker and referred to
    Dukcapil; her brother Andi's registered by another village worker and still in report."""
    other = UserFactory(username="desa2", role="village_worker",
                        organisation=OrganisationFactory(name="PATBM Bontomarannu", kind="patbm",
                                                         area_code="73.06.01.2006"))
    a, b = siblings(users, registrar_b=other)
    nurul = db.session.get(Case, a)
    workflow.apply_transition(nurul, "accept", users["coordinator"], {"risk_level": "high",
                                                                      "assigned_worker_id": users["social_worker"].id})
    referrals.make_referral(nurul, users["coordinator"], to_organisation_id=users["agency_officer"].organisation_id,
                            service="birth_certificate", reason="Akta kelahiran.",
                            consent={"given_by": "caregiver", "recorded_on": nurul.created_at.date()})
    household = household_of(a)
    household.head_name, household.head_sex = "Daeng Ngai", "F"
    db.session.commit()
    return {"nurul": a, "andi": b, "household": household.id}


def get_household(api, family, username):
    return api("get", f"/api/v1/households/{family['household']}", username)


def test_the_contract_for_the_district_coordinator(api, family):
    response = get_household(api, family, "koordinator")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["id", "kk_number", "area_code", "head", "members"]
    assert body["id"] == family["household"] and body["kk_number"] == KK and body["area_code"] == "73.06.01.2006"
    assert body["head"] == {"name": "Daeng Ngai", "sex": "F"}
    assert body["members"] == [
        {"name": "Nurul Aisyah", "sex": "F", "birth_date": "2014-03-09", "relationship": "4",
         "case_ids": [family["nurul"]]},
        {"name": "Andi Baso", "sex": "M", "birth_date": "2014-03-09", "relationship": "4",
         "case_ids": [family["andi"]]},
    ]
    case = api("get", f"/api/v1/cases/{family['andi']}", "koordinator").get_json()
    assert case["household"] == {"id": family["household"], "kk_number": KK}


def test_the_social_worker_plans_for_the_family_but_sees_only_their_case(api, family):
    body = get_household(api, family, "peksos").get_json()
    assert body["kk_number"] == KK and body["head"]["name"] == "Daeng Ngai"
    assert [(m["name"], m["birth_date"], m["case_ids"]) for m in body["members"]] == [
        ("Nurul Aisyah", "2014-03-09", [family["nurul"]]),
        ("A. B.", None, []),  # the brother is family; his case is another worker's
    ]


def test_a_village_worker_sees_only_the_children_they_reported(api, family):
    # desa registered Nurul, now held by a social worker: the case number, not the child.
    body = get_household(api, family, "desa").get_json()
    assert body["kk_number"] is None and body["head"] == {"name": "D. N.", "sex": "F"}
    assert body["members"] == [{"name": "N. A.", "sex": "F", "birth_date": None, "relationship": "4",
                                "case_ids": [family["nurul"]]}]
    # desa2 registered Andi, still in report: Andi in full, Nurul not at all.
    body = get_household(api, family, "desa2").get_json()
    assert body["kk_number"] == KK
    assert [(m["name"], m["case_ids"]) for m in body["members"]] == [("Andi Baso", [family["andi"]])]


def test_an_agency_with_one_referral_sees_that_child_only(api, family):
    body = get_household(api, family, "dukcapil").get_json()
    assert [m["case_ids"] for m in body["members"]] == [[family["nurul"]]]
    assert body["kk_number"] is None


def test_another_districts_coordinator_and_the_analyst_get_404(api, family):
    maros = OrganisationFactory(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09")
    UserFactory(username="koordinator.maros", role="coordinator", organisation=maros)
    db.session.commit()
    for username in ("koordinator.maros", "analis", "admin"):
        response = get_household(api, family, username)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found", username
    assert api("get", "/api/v1/households/999999", "koordinator").status_code == 404


def test_each_case_shown_is_in_the_access_log(api, family, users):
    get_household(api, family, "peksos")
    rows = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "api_view_household")).all()
    assert [(r.user_id, r.case_id, r.object_id) for r in rows] == [
        (users["social_worker"].id, family["nurul"], str(family["household"]))]
    get_household(api, family, "koordinator")
    rows = db.session.scalars(select(AccessLogEntry.case_id).where(
        AccessLogEntry.action == "api_view_household", AccessLogEntry.user_id == users["coordinator"].id)).all()
    assert sorted(rows) == sorted([family["nurul"], family["andi"]])


def test_the_case_page_shows_the_family_panel(web, family, users):
    web.login("koordinator")
    text = web.get(f"/cases/{family['nurul']}").get_data(as_text=True)
    andi = db.session.get(Case, family["andi"])
    assert 'id="household"' in text and KK in text and "Daeng Ngai" in text
    assert "Andi Baso" in text and f'href="/cases/{andi.id}"' in text and "Anak" in text
    # The brother's case was shown on his sister's page: logged on his case.
    assert db.session.scalar(select(AccessLogEntry.case_id).where(
        AccessLogEntry.action == "view_household", AccessLogEntry.user_id == users["coordinator"].id)) == andi.id
    web.logout()
    web.login("desa")
    text = web.get(f"/cases/{family['nurul']}").get_data(as_text=True)
    assert 'id="household"' in text and KK not in text and "Andi" not in text and andi.number not in text


def test_the_social_worker_records_the_head(web, family):
    web.login("peksos")
    response = web.post(f"/cases/{family['nurul']}/household/head", {"head-head_name": "Baso Daeng",
                                                                     "head-head_sex": "M"})
    assert response.status_code == 302
    db.session.expire_all()
    household = db.session.get(Household, family["household"])
    assert (household.head_name, household.head_sex) == ("Baso Daeng", "M")
    response = web.post(f"/cases/{family['nurul']}/household/head", {"head-head_name": "X", "head-head_sex": "Q"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Household, family["household"]).head_sex == "M"


def test_the_api_creates_and_patches_with_a_kk_number(api, users):
    response = api("post", "/api/v1/cases", "desa", json={
        "channel": "phone", "reporter": {"name": "Pak Amir"}, "concerns": ["out_of_school"],
        "description": "Tidak sekolah.", "child": {"name": "Andi", "sex": "M", "age_years": 9,
                                                   "area_code": "73.06.01.2006", "kk_number": KK,
                                                   "relationship_to_head": 4}})
    assert response.status_code == 201, response.get_data(as_text=True)
    case = response.get_json()
    household = household_of(case["id"])
    assert case["household"] == {"id": household.id, "kk_number": KK}
    assert db.session.get(Case, case["id"]).child.relationship_to_head == "4"
    other = make_case(users["coordinator"])
    response = api("patch", f"/api/v1/cases/{other.id}", "koordinator",
                   json={"version": other.version, "child": {"kk_number": KK, "relationship_to_head": "6"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["household"] == {"id": household.id, "kk_number": KK}
    response = api("patch", f"/api/v1/cases/{other.id}", "koordinator",
                   json={"version": other.version + 1, "child": {"relationship_to_head": "13"}})
    assert response.status_code == 422


def test_anonymising_a_case_takes_the_child_out_of_the_family(users):
    from datetime import timedelta

    from casemgmt.dbtypes import utcnow
    from casemgmt.privacy.services import anonymise

    a, b = siblings(users)
    case = db.session.get(Case, a)
    case.status, case.closed_at = "closed", utcnow() - timedelta(days=4000)
    db.session.commit()
    assert anonymise(5)["cases"] == 1
    db.session.commit()
    assert household_of(a) is None and household_of(b) is not None


def test_another_child_of_the_complaint_starts_on_the_same_family_card(web, users):
    web.login("desa")
    response = web.post("/cases/new", form_data(**{"children-0-kk_number": KK, "action": "add_child"}))
    text = response.get_data(as_text=True)
    kk_inputs = re.findall(r'<input[^>]*name="children-[01]-kk_number"[^>]*>', text)
    assert len(kk_inputs) == 2 and all(f'value="{KK}"' in tag for tag in kk_inputs)


@pytest.mark.parametrize("username", ["koordinator", "dukcapil"])
def test_the_household_api_reads_a_family_in_as_many_statements_for_six_children_as_for_two(api, users, username):
    from casemgmt.transactions import commit
    from tests.sql import counting

    counts = []
    for kk, children in (("7306010000000001", 2), ("7306010000000002", 6)):
        cases = [make_case(users["coordinator"], name=f"Anak {kk[-1]} {i}", kk_number=kk) for i in range(children)]
        for case in cases:  # the agency sees each child through its own referral
            referrals.make_referral(case, users["coordinator"], service="birth_certificate", reason="Akta.",
                                    to_organisation_id=users["agency_officer"].organisation_id,
                                    consent={"given_by": "caregiver", "recorded_on": case.created_at.date()})
        household = household_of(cases[0].id).id
        api("get", f"/api/v1/households/{household}", username)  # the token, before counting
        commit()
        with counting() as statements:
            body = api("get", f"/api/v1/households/{household}", username).get_json()
        assert len(body["members"]) == children
        counts.append(len(list(statements)))
    assert counts[0] == counts[1]


def test_the_api_offers_the_household_of_a_known_nik_when_asked(api, users):
    first = make_case(users["coordinator"], nik=GIRL_NIK, kk_number=KK)
    household = household_of(first.id).id
    complaint = {"channel": "phone", "reporter": {"name": "Pak Amir"}, "concerns": ["out_of_school"],
                 "description": "Tidak sekolah.", "duplicates": "ask",
                 "child": {"name": "Nurul", "sex": "F", "birth_date": "2014-03-09", "nik": GIRL_NIK,
                           "area_code": "73.06.01.2006"}}
    response = api("post", "/api/v1/cases", "desa", json=complaint)
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details["households"] == {"0": {"id": household, "case_number": first.number,
                                           "description": details["households"]["0"]["description"]}}
    assert KK not in str(details)
    wrong = api("post", "/api/v1/cases", "desa", json={**complaint, "decisions": {"0": "new"},
                                                        "join_households": {"0": household + 1}})
    assert wrong.status_code == 422 and "child.household" in wrong.get_json()["error"]["details"]["fields"]
    response = api("post", "/api/v1/cases", "desa", json={**complaint, "decisions": {"0": "new"},
                                                           "join_households": {"0": household}})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert household_of(response.get_json()["id"]).id == household
