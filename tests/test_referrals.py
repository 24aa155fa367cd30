"""Referrals: routing, consent, statuses, the agency's access, escalation, the letter."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgmt.transactions import commit
from casemgmt.cases.models import Case, CaseEvent
from casemgmt.errors import Forbidden, ValidationFailed
from casemgmt.extensions import db
from casemgmt.referrals import services
from casemgmt.referrals.routing import suggest_destinations
from casemgmt.workflow import services as workflow
from casemgmt.workflow import sweep
from casemgmt.workflow.models import Notification, PlanAction
from tests.factories import OrganisationFactory, UserFactory, make_case
from tests.test_api import assert_error

CONSENT = {"given_by": "caregiver", "recorded_on": date.today()}


@pytest.fixture
def network(users):
    """Gowa and Maros organisations as in the pilot."""
    o = OrganisationFactory
    orgs = {
        "puskesos_barembeng": users["village_worker"].organisation,
        "pksai_gowa": users["coordinator"].organisation,
        "dukcapil_gowa": users["agency_officer"].organisation,
        "uptppa_gowa": o(name="UPT PPA Kabupaten Gowa", kind="upt_ppa", area_code="73.06",
                         services=["psychosocial", "legal_aid"], covers=["73.06"]),
        "puskesmas_bontonompo": o(name="Puskesmas Bontonompo", kind="puskesmas", area_code="73.06.01",
                                  services=["health"], covers=["73.06.01"]),
        "puskesmas_pallangga": o(name="Puskesmas Pallangga", kind="puskesmas", area_code="73.06.07",
                                 services=["health"], covers=["73.06.07"]),
        "dinkes_sulsel": o(name="Dinas Kesehatan Provinsi", kind="dinas_kesehatan", area_code="73",
                           services=["health"], covers=["73"]),
        "puskesos_family": o(name="Puskesos Barembeng Keluarga", kind="puskesos", area_code="73.06.01.2006",
                             services=["family_support"], covers=["73.06.01.2006"]),
        "dinsos_gowa": o(name="Dinas Sosial Kabupaten Gowa", kind="dinas_sosial", area_code="73.06",
                         services=["family_support", "social_assistance"], covers=["73.06"]),
        "pksai_maros": o(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09",
                         services=["case_management"], covers=["73.09"]),
        "puskesmas_mandai": o(name="Puskesmas Mandai", kind="puskesmas", area_code="73.09.01",
                              services=["health"], covers=["73.09.01"]),
    }
    UserFactory(username="puskesmas", role="agency_officer", organisation=orgs["puskesmas_bontonompo"])
    return orgs


def assigned_case(users, **child):
    case = make_case(users["village_worker"], **child)
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "medium", "assigned_worker_id": users["social_worker"].id})
    return case


# ---- routing --------------------------------------------------------------------------------------

def test_suggestions_in_barembeng_gowa(users, network):
    case = make_case(users["village_worker"])  # Desa Barembeng, Kecamatan Bontonompo
    health = [(s.organisation.name, s.reason) for s in suggest_destinations(case, "health")]
    assert health == [("Puskesmas Bontonompo", "mencakup Kecamatan Bontonompo"),
                      ("Dinas Kesehatan Provinsi", "mencakup seluruh provinsi")]
    family = [s.organisation.name for s in suggest_destinations(case, "family_support")]
    assert family == ["Puskesos Barembeng Keluarga", "Dinas Sosial Kabupaten Gowa"]  # village level first
    case_management = [(s.organisation.name, s.reason) for s in suggest_destinations(case, "case_management")]
    assert case_management == [("PKSAI Kabupaten Gowa", "PKSAI kabupaten/kota")]


def test_suggestions_in_baji_mangngai_maros(users, network):
    case = make_case(users["village_worker"], area_code="73.09.01.2006")
    assert [s.organisation.name for s in suggest_destinations(case, "health")] == [
        "Puskesmas Mandai", "Dinas Kesehatan Provinsi"]
    assert [s.organisation.name for s in suggest_destinations(case, "case_management")] == ["PKSAI Kabupaten Maros"]
    assert suggest_destinations(case, "birth_certificate") == []  # Gowa's Dukcapil does not cover Maros


# ---- consent ---------------------------------------------------------------------------------------

def test_consent_is_required(users, network):
    case = assigned_case(users)
    base = dict(to_organisation_id=network["dukcapil_gowa"].id, service="birth_certificate", reason="Akta.")
    with pytest.raises(services.ConsentRequired):
        services.make_referral(case, users["social_worker"], **base)
    with pytest.raises(services.ConsentRequired):
        services.make_referral(case, users["social_worker"], **base,
                               consent={"given_by": "neighbour", "recorded_on": date.today()})
    with pytest.raises(services.ConsentRequired):
        services.make_referral(case, users["social_worker"], **base,
                               consent={"given_by": "child", "recorded_on": date.today() + timedelta(days=1)})
    referral = services.make_referral(case, users["social_worker"], **base, consent=CONSENT)
    assert referral.consent_given_by == "caregiver" and referral.status == "sent"


def test_only_the_coordinator_may_override_consent(users, network):
    case = assigned_case(users)
    base = dict(to_organisation_id=network["uptppa_gowa"].id, service="psychosocial", reason="Trauma.",
                urgency="urgent")
    with pytest.raises(Forbidden):
        services.make_referral(case, users["social_worker"], **base, consent_override={"reason": "Darurat"})
    with pytest.raises(services.ConsentRequired):
        services.make_referral(case, users["coordinator"], **base, consent_override={"reason": " "})
    referral = services.make_referral(case, users["coordinator"], **base,
                                      consent_override={"reason": "Anak dalam bahaya; pengasuh adalah terduga pelaku."})
    assert referral.consent_override_by_id == users["coordinator"].id
    assert referral.respond_by - referral.created_at == timedelta(hours=24)


def test_the_organisation_must_offer_the_service(users, network):
    case = assigned_case(users)
    with pytest.raises(ValidationFailed) as exc:
        services.make_referral(case, users["social_worker"], to_organisation_id=network["dukcapil_gowa"].id,
                               service="health", reason="x", consent=CONSENT)
    assert "to_organisation_id" in exc.value.errors


# ---- statuses --------------------------------------------------------------------------------------

@pytest.fixture
def referral(users, network):
    case = assigned_case(users)
    return services.make_referral(case, users["social_worker"], to_organisation_id=network["dukcapil_gowa"].id,
                                  service="birth_certificate", reason="Belum punya akta kelahiran.", consent=CONSENT)


ILLEGAL = {  # status -> what may not happen from it
    "sent": ["complete"],
    "accepted": ["accept", "decline"],
    "declined": ["accept", "decline", "complete", "cancel"],
    "completed": ["accept", "decline", "complete", "cancel"],
    "cancelled": ["accept", "decline", "complete", "cancel"],
}


def move(referral, action, users):
    officer, worker = users["agency_officer"], users["social_worker"]
    if action == "accept":
        return services.accept(referral, officer)
    if action == "decline":
        return services.decline(referral, officer, "Bukan wewenang kami.")
    if action == "complete":
        return services.complete(referral, officer, "Akta terbit.", date.today())
    return services.cancel(referral, worker, "Tidak diperlukan lagi.")


def bring_to(referral, status, users):
    path = {"sent": [], "accepted": ["accept"], "declined": ["decline"], "completed": ["accept", "complete"],
            "cancelled": ["cancel"]}[status]
    for action in path:
        move(referral, action, users)


@pytest.mark.parametrize("status, action", [(s, a) for s, actions in ILLEGAL.items() for a in actions])
def test_every_illegal_status_move_is_a_conflict(users, referral, status, action):
    bring_to(referral, status, users)
    with pytest.raises(services.WrongStatus) as exc:
        move(referral, action, users)
    assert exc.value.status == 409 and referral.status == status


def test_only_the_recipient_answers_and_only_the_sender_cancels(users, referral):
    with pytest.raises(Forbidden):
        services.accept(referral, users["social_worker"])
    with pytest.raises(Forbidden):
        services.cancel(referral, users["agency_officer"], "x")
    with pytest.raises(ValidationFailed):
        services.decline(referral, users["agency_officer"], "  ")


def test_completing_a_referral_from_a_plan_action_completes_the_action(users, network):
    case = assigned_case(users)
    worker = users["social_worker"]
    workflow.save_assessment(case, worker, "medium", ["birth_certificate"], "Ringkasan.")
    workflow.apply_transition(case, "submit_assessment", worker)
    workflow.save_plan(case, worker, [{"description": "Akta", "actions": [
        {"description": "Urus akta", "service": "birth_certificate", "organisation_id": network["dukcapil_gowa"].id,
         "due_date": date.today() + timedelta(days=10)}]}])
    workflow.decide_approval(workflow.apply_transition(case, "submit_plan", worker).approval,
                             users["coordinator"], "approve")
    action = db.session.scalars(select(PlanAction).where(PlanAction.case_id == case.id)).one()
    referral = services.make_referral(case, worker, to_organisation_id=network["dukcapil_gowa"].id,
                                      service="birth_certificate", reason="Akta.", consent=CONSENT,
                                      plan_action_id=action.id)
    services.accept(referral, users["agency_officer"])
    services.complete(referral, users["agency_officer"], "Akta kelahiran terbit.", date.today())
    assert action.status == "done" and action.done_on == date.today()
    workflow.apply_transition(case, "start_monitoring", worker)  # every action is settled now
    kinds = [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert {"referral_sent", "referral_accepted", "referral_completed", "action_done"} <= set(kinds)


def test_counter_referral_goes_back_linked(users, referral):
    services.accept(referral, users["agency_officer"])
    back = services.refer_back(referral, users["agency_officer"], "case_management", "Perlu pendampingan lanjutan.")
    assert back.parent_referral_id == referral.id
    assert back.to_organisation_id == referral.from_organisation_id
    assert back.from_organisation_id == users["agency_officer"].organisation_id


# ---- who sees what ----------------------------------------------------------------------------------

def test_agency_access_before_during_and_after(make_web, users, network):
    case = assigned_case(users)
    officer = make_web()
    officer.login("dukcapil")
    assert officer.get(f"/cases/{case.id}").status_code == 404  # before any referral
    referral = services.make_referral(case, users["social_worker"], to_organisation_id=network["dukcapil_gowa"].id,
                                      service="birth_certificate", reason="Belum punya akta.", consent=CONSENT)
    other = make_web()
    other.login("puskesmas")
    assert other.get(f"/referrals/{referral.id}").status_code == 404  # another agency
    page = officer.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Nurul Aisyah" in page and "Daeng Ngai" in page  # the service's fields
    assert "Ibu Rahma" not in page and "tidak bersekolah" not in page.lower()  # no reporter, no narrative
    assert "Putus sekolah" not in page  # no other concerns
    response = officer.get(f"/cases/{case.id}")
    assert response.status_code == 302 and f"/referrals/{referral.id}" in response.headers["Location"]
    services.accept(referral, users["agency_officer"])
    services.complete(referral, users["agency_officer"], "Akta terbit.", date.today())
    page = officer.get(f"/referrals/{referral.id}").get_data(as_text=True)  # read-only for 30 days
    for action in ("accept", "decline", "complete"):
        assert f'action="/referrals/{referral.id}/{action}"' not in page
    referral.completed_at = referral.completed_at - timedelta(days=31)
    db.session.commit()
    assert officer.get(f"/referrals/{referral.id}").status_code == 404
    assert officer.get(f"/cases/{case.id}").status_code == 404


def test_inbox_and_outbox(make_web, users, referral):
    officer, worker = make_web(), make_web()
    officer.login("dukcapil")
    worker.login("peksos")
    assert referral.reference in officer.get("/referrals?box=inbox").get_data(as_text=True)
    assert referral.reference not in officer.get("/referrals?box=outbox").get_data(as_text=True)
    assert referral.reference in worker.get("/referrals?box=outbox").get_data(as_text=True)


def _box_of_seven(users, network):
    """Seven referrals to Dukcapil Gowa: three waiting (deadlines out of their sending order), one
    accepted, one completed lately, one completed long ago and one declined (the last two no
    longer the agency's to see)."""
    from casemgmt.dbtypes import utcnow

    made = [services.make_referral(assigned_case(users), users["social_worker"],
                                   to_organisation_id=network["dukcapil_gowa"].id, service="birth_certificate",
                                   reason=f"Akta {i}.", consent=CONSENT) for i in range(7)]
    officer, now = users["agency_officer"], utcnow()
    for referral, hours in zip(made[:3], (30, 40, 20)):
        referral.respond_by = now + timedelta(hours=hours)
    services.accept(made[3], officer)
    for referral in made[4:6]:
        services.accept(referral, officer)
        services.complete(referral, officer, "Akta terbit.", date.today())
    made[5].completed_at = now - timedelta(days=31)
    services.decline(made[6], officer, "Bukan wewenang kami.")
    for hours, referral in enumerate(made[3:], start=1):
        referral.created_at = now - timedelta(hours=hours)
    db.session.commit()
    return made


def _walk(client, headers, limit, query=""):
    from tests.factories import api_pages

    return api_pages(lambda url: client.get(url, headers=headers), f"/api/v1/referrals?limit={limit}{query}",
                     lambda item: item["reference"])


def test_the_inbox_is_read_a_page_at_a_time_waiting_ones_first(app, users, network):
    """GET /api/v1/referrals pages as every list of the contract does (limit, cursor): the
    waiting ones by answer deadline, then the rest newest first, none twice, none left out
    (the box was cut at 200, next_cursor always null)."""
    from tests.factories import bearer_for

    made = _box_of_seven(users, network)
    ref = [r.reference for r in made]
    client = app.test_client()
    officer = bearer_for(client, "dukcapil")
    expected = [ref[2], ref[0], ref[1], ref[3], ref[4]]  # not the old completed one, not the declined one
    assert _walk(client, officer, 2) == [expected[0:2], expected[2:4], expected[4:]]
    assert _walk(client, officer, 3) == [expected[0:3], expected[3:]]  # a page of waiting ones only, then the rest
    assert _walk(client, officer, 25) == [expected]
    assert _walk(client, officer, 1, "&status=completed") == [[ref[4]]]
    assert _walk(client, officer, 2, "&status=declined") == [[]]  # no longer the agency's
    assert _walk(client, officer, 2, "&status=sent") == [expected[0:2], expected[2:3]]
    worker = bearer_for(client, "peksos")
    assert _walk(client, worker, 4, "&box=outbox") == [expected[:3] + [ref[3]], [ref[4], ref[5], ref[6]]]
    # A cursor not made by this list is refused in the caller's language, not a 500.
    for bad in ("abc", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgNV0", "WyJlbHNld2hlcmUiLCAiMjAyNi0wMS0wMSIsIDFd"):
        error = assert_error(client.get(f"/api/v1/referrals?cursor={bad}", headers=officer), 422, "validation_error")
        assert error["details"]["fields"]["cursor"] == ["Tautan halaman ini tidak valid; mulailah dari halaman pertama."]
    assert_error(client.get("/api/v1/referrals?limit=101", headers=officer), 422, "validation_error")


def test_the_inbox_page_links_to_the_next(make_web, users, network, monkeypatch):
    from functools import partial

    made = _box_of_seven(users, network)
    monkeypatch.setattr(services, "box", partial(services.box, limit=3))
    officer = make_web()
    officer.login("dukcapil")
    first = officer.get("/referrals?box=inbox").get_data(as_text=True)
    assert [r.reference in first for r in made[:5]] == [True, True, True, False, False]
    link = first.split('href="/referrals?box=inbox&amp;cursor=')[1].split('"')[0]
    second = officer.get(f"/referrals?box=inbox&cursor={link}").get_data(as_text=True)
    assert [r.reference in second for r in made[:5]] == [False, False, False, True, True]
    assert "cursor=" not in second.split("<main")[-1]
    spoiled = officer.get("/referrals?box=inbox&cursor=abc")
    assert spoiled.status_code == 200
    assert "Tautan halaman ini tidak valid" in spoiled.get_data(as_text=True)
    assert made[2].reference in spoiled.get_data(as_text=True)  # the first page, with the warning


def test_a_box_lists_what_its_reader_may_open(app, users, network):
    """A box holds the referrals its reader may open (access.scope_referrals, as referral_or_404):
    a PKSAI colleague who does not work on a case does not see its referral's reason in the
    outbox; the coordinator's inbox keeps a referral they declined (the agencies' 30 days are
    theirs, not a PKSAI's)."""
    from tests.factories import bearer_for

    colleague = UserFactory(username="peksos.lain", role="social_worker",
                            organisation=users["coordinator"].organisation, area_code="73.06")
    case = assigned_case(users)
    sent = services.make_referral(case, users["social_worker"], to_organisation_id=network["dukcapil_gowa"].id,
                                  service="birth_certificate", reason="Alasan yang rahasia.", consent=CONSENT)
    client = app.test_client()
    for username, listed in (("peksos", True), (colleague.username, False), ("koordinator", True)):
        box = client.get("/api/v1/referrals?box=outbox", headers=bearer_for(client, username)).get_json()
        assert (sent.id in [item["id"] for item in box["items"]]) is listed, username
        status = client.get(f"/api/v1/referrals/{sent.id}", headers=bearer_for(client, username)).status_code
        assert (status == 200) is listed, username  # the list and the record agree
    asked = services.make_referral(make_case(users["village_worker"]), users["village_worker"],
                                   to_organisation_id=network["pksai_gowa"].id, service="case_management",
                                   reason="Mohon ditangani.", consent=CONSENT)
    services.decline(asked, users["coordinator"], "Sudah ditangani di tempat lain.")
    coordinator = bearer_for(client, "koordinator")
    declined = client.get("/api/v1/referrals?box=inbox&status=declined", headers=coordinator).get_json()["items"]
    assert [item["id"] for item in declined] == [asked.id]
    assert client.get(f"/api/v1/referrals/{asked.id}", headers=coordinator).status_code == 200


# ---- escalation --------------------------------------------------------------------------------------

def test_unanswered_referral_is_escalated_to_the_sending_districts_coordinator(users, referral):
    assert sweep.sweep_overdue_referrals(referral.respond_by - timedelta(minutes=1))["referrals"] == 0
    later = referral.respond_by + timedelta(minutes=1)
    assert referral.overdue(later)
    assert sweep.sweep_overdue_referrals(later) == {"referrals": 1, "notifications": 1}
    assert sweep.sweep_overdue_referrals(later + timedelta(hours=1))["referrals"] == 0
    note = db.session.scalars(select(Notification).where(Notification.kind == "deadline_overdue")).one()
    assert note.user_id == users["coordinator"].id and note.data["reference"] == referral.reference


def test_escalation_works_a_batch_at_a_time(users, network, referral, monkeypatch):

    monkeypatch.setattr(sweep, "SWEEP_BATCH", 1)
    case = db.session.get(Case, referral.case_id)
    second = services.make_referral(case, users["social_worker"], to_organisation_id=network["dukcapil_gowa"].id,
                                    service="birth_certificate", reason="Lagi.", consent=CONSENT)
    later = max(referral.respond_by, second.respond_by) + timedelta(minutes=1)
    assert sweep.sweep_overdue_referrals(later) == {"referrals": 2, "notifications": 2}
    assert sweep.sweep_overdue_referrals(later)["referrals"] == 0


# ---- the letter ----------------------------------------------------------------------------------------

def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_letter_carries_the_reference_and_only_what_the_service_needs(make_web, users, network):
    case = assigned_case(users, nik="7306014903140002")
    referral = services.make_referral(case, users["social_worker"], to_organisation_id=network["uptppa_gowa"].id,
                                      service="psychosocial", reason="Pendampingan psikososial.", consent=CONSENT)
    officer = make_web()
    UserFactory(username="uptppa", role="agency_officer", organisation=network["uptppa_gowa"])
    officer.login("uptppa")
    response = officer.get(f"/referrals/{referral.id}/letter.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert referral.reference in text and "Nurul Aisyah" in text and "UPT PPA Kabupaten Gowa" in text
    assert "7306014903140002" not in text  # the NIK is not needed for psychosocial support
    assert "Ibu Rahma" not in text and "Dusun Barembeng" not in text  # no reporter, no address
    assert "pengasuh" in text.lower()  # the consent statement names who gave it


# ---- API ---------------------------------------------------------------------------------------------------



def test_referrals_through_the_api(api, users, network):
    case = assigned_case(users)
    items = api("get", f"/api/v1/cases/{case.id}/referral-suggestions?service=health", "peksos").get_json()["items"]
    assert items[0]["organisation"]["name"] == "Puskesmas Bontonompo" and items[0]["reason"]
    body = {"to_organisation_id": network["dukcapil_gowa"].id, "service": "birth_certificate", "reason": "Akta.",
            "urgency": "normal"}
    assert_error(api("post", f"/api/v1/cases/{case.id}/referrals", "peksos", json=body), 422, "consent_required")
    assert_error(api("post", f"/api/v1/cases/{case.id}/referrals", "peksos",
                     json={**body, "consent_override": {"reason": "x"}}), 403, "forbidden")
    made = api("post", f"/api/v1/cases/{case.id}/referrals", "peksos",
               json={**body, "consent": {"given_by": "both", "recorded_on": date.today().isoformat()}})
    assert made.status_code == 201
    referral = made.get_json()
    assert referral["status"] == "sent" and referral["overdue"] is False and referral["version"] == 1
    inbox = api("get", "/api/v1/referrals?box=inbox", "dukcapil").get_json()["items"]
    assert [r["id"] for r in inbox] == [referral["id"]]
    assert_error(api("post", f"/api/v1/referrals/{referral['id']}/complete", "dukcapil",
                     json={"outcome": "x", "delivered_on": date.today().isoformat()}), 409, "wrong_status")
    accepted = api("post", f"/api/v1/referrals/{referral['id']}/accept", "dukcapil", json={})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert_error(api("post", f"/api/v1/referrals/{referral['id']}/accept", "dukcapil", json={}), 409, "wrong_status")
    done = api("post", f"/api/v1/referrals/{referral['id']}/complete", "dukcapil",
               json={"outcome": "Akta terbit.", "delivered_on": date.today().isoformat()})
    assert done.get_json()["status"] == "completed"
    pdf = api("get", f"/api/v1/referrals/{referral['id']}/letter.pdf", "peksos")
    assert pdf.status_code == 200 and referral["reference"] in pdf_text(pdf.data)
    assert_error(api("get", f"/api/v1/referrals/{referral['id']}", "puskesmas"), 404, "not_found")


def test_a_refused_plan_action_is_told_on_the_referral_page(make_web, users, network):
    """The action a referral is made for travels in a hidden field: the service's refusal of it is
    shown with the form's own messages (forms.apply_errors), not lost behind a general one."""
    case = assigned_case(users)
    worker = make_web()
    worker.login("peksos")
    response = worker.post(f"/cases/{case.id}/referrals/new", {
        "step": "send", "service": "birth_certificate", "to_organisation_id": str(network["dukcapil_gowa"].id),
        "reason": "Belum punya akta.", "consent_given_by": "caregiver",
        "consent_recorded_on": date.today().isoformat(), "plan_action_id": "999999"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Pilih tindakan yang masih terbuka dalam rencana kasus ini." in page
    assert "Belum punya akta." in page  # what was typed is kept


# ---- the page offers what access allows ---------------------------------------------------------

_OFFERED = re.compile(r'action="/referrals/(\d+)/([a-z_]+)"')


@pytest.mark.parametrize("status", ["sent", "accepted", "completed", "declined", "cancelled"])
def test_the_referral_page_offers_exactly_what_access_allows(users, network, make_web, status):
    """The buttons of the referral page are access.referral_actions for the reader and the
    referral as it is: nothing the service would refuse, nothing it allows left out."""
    from casemgmt.access import referral_actions

    case = assigned_case(users)
    referral = services.make_referral(case, users["social_worker"], to_organisation_id=network["dukcapil_gowa"].id,
                                      service="birth_certificate", reason="Akta.", consent=CONSENT)
    officer = users["agency_officer"]
    if status != "sent":
        if status == "cancelled":
            services.cancel(referral, users["social_worker"], "Tidak perlu.")
        elif status == "declined":
            services.decline(referral, officer, "Bukan wewenang.")
        else:
            services.accept(referral, officer)
            if status == "completed":
                services.complete(referral, officer, "Akta terbit.", date.today())
    commit()
    offered_somewhere = set()
    for username, user in (("dukcapil", officer), ("peksos", users["social_worker"]),
                           ("koordinator", users["coordinator"])):
        web = make_web()
        web.login(username)
        page = web.get(f"/referrals/{referral.id}")
        assert page.status_code in (200, 404)  # a closed referral is no longer the agency's to open
        offered = {action for rid, action in _OFFERED.findall(page.get_data(as_text=True)) if int(rid) == referral.id}
        db.session.expire_all()
        allowed = referral_actions(user, db.session.get(type(referral), referral.id))
        assert offered == allowed, (username, status)
        offered_somewhere |= offered
    expected = {"sent": {"accept", "decline", "cancel"}, "accepted": {"complete", "refer_back", "cancel"},
                "completed": {"refer_back"}, "declined": set(), "cancelled": set()}[status]
    assert offered_somewhere == expected
