"""Every route x every role x a record in scope and one out of scope.

A route added without an entry here fails test_every_route_is_in_the_matrix. Out of scope
always answers 404 (never a hint that the record exists), on pages, API, PDFs, exports and
attachments alike.
"""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from casemgmt.access import can
from casemgmt.cases.attachments import add_attachment
from casemgmt.conferences import services as conferences
from casemgmt.reports.models import ExportJob
from casemgmt.extensions import db
from casemgmt.referrals import services as referrals
from casemgmt.transfers import services as transfers
from casemgmt.workflow import services as workflow
from casemgmt.notify.models import Notification
from casemgmt.workflow.models import PlanAction
from tests.factories import OrganisationFactory, UserFactory, bearer_for, make_case

ROLES = ["village_worker", "social_worker", "coordinator", "agency_officer", "analyst", "admin"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TODAY = date.today().isoformat()
CONSENT = {"given_by": "caregiver", "recorded_on": date.today()}

# endpoint -> (method, path, json body for API calls). {case}, {referral}, ... are filled from a world.
RECORD_ROUTES = {
    "cases.show": ("GET", "/cases/{case}", None),
    "cases.edit": ("GET", "/cases/{case}/edit", None),
    "cases.add_note": ("POST", "/cases/{case}/notes", None),
    "cases.add_attachment": ("POST", "/cases/{case}/attachments", None),
    "cases.save_sensitive": ("POST", "/cases/{case}/sensitive", None),
    "cases.access_log": ("GET", "/cases/{case}/access-log", None),
    "cases.summary_pdf": ("GET", "/cases/{case}/summary.pdf", None),
    "api_cases.summary_pdf": ("GET", "/api/v1/cases/{case}/summary.pdf", None),
    "cases.subject_access": ("GET", "/cases/{case}/subject-access.json", None),
    "cases.download_attachment": ("GET", "/cases/{case}/attachments/{attachment}", None),
    "cases.save_household_head": ("POST", "/cases/{case}/household/head", None),
    "api_households.get_household": ("GET", "/api/v1/households/{household}", None),
    "population.import_status": ("GET", "/population/imports/{population_import}", None),
    "population.outreach_row": ("GET", "/outreach/{outreach}", None),
    "population.outreach_status": ("POST", "/outreach/{outreach}/status", None),
    "population.outreach_case": ("POST", "/outreach/{outreach}/case", None),
    "population.outreach_assign": ("POST", "/outreach/{outreach}/assign", None),
    "population.outreach_letter": ("POST", "/outreach/{outreach}/letter", None),
    "population.outreach_letter_pdf": ("GET", "/outreach/letters/{outreach_letter}.pdf", None),
    "api_population.get_import": ("GET", "/api/v1/population/imports/{population_import}", None),
    "api_population.outreach_status": ("POST", "/api/v1/outreach/{outreach}/status", {"status": "in_progress"}),
    "api_population.outreach_case": ("POST", "/api/v1/outreach/{outreach}/case",
                                     {"concerns": ["no_birth_certificate"], "description": "Belum punya akta."}),
    "workflow.update_action": ("POST", "/cases/{case}/actions/{action}", None),
    "workflow.save_assessment": ("POST", "/cases/{case}/assessment", None),
    "workflow.plan": ("GET", "/cases/{case}/plan", None),
    "workflow.transition": ("POST", "/cases/{case}/transitions/revise_plan", None),
    "workflow.record_visit": ("POST", "/cases/{case}/visits", None),
    "workflow.reassign": ("POST", "/cases/{case}/worker", None),
    "workflow.investigator_request": ("POST", "/cases/{case}/juvenile", None),
    "workflow.juvenile_step": ("POST", "/cases/{case}/juvenile/1", None),
    "workflow.decide": ("POST", "/approvals/{approval}", None),
    "referrals.new": ("GET", "/cases/{case}/referrals/new", None),
    "referrals.show": ("GET", "/referrals/{referral}", None),
    "referrals.answer": ("POST", "/referrals/{referral}/accept", None),
    "referrals.letter": ("GET", "/referrals/{referral}/letter.pdf", None),
    "conferences.show": ("GET", "/conferences/{conference}", None),
    "conferences.attendance": ("POST", "/conferences/{conference}/attendance", None),
    "conferences.close": ("POST", "/conferences/{conference}/close", None),
    "conferences.decide": ("POST", "/conferences/{conference}/decisions/{case}", None),
    "conferences.minutes_pdf": ("GET", "/conferences/{conference}/minutes.pdf", None),
    "conferences.task_done": ("POST", "/tasks/{task}/done", None),
    "reports.export_status": ("GET", "/exports/{export}", None),
    "reports.download_export": ("GET", "/exports/{export}/download", None),
    "api_cases.get_case": ("GET", "/api/v1/cases/{case}", None),
    "notify.read": ("POST", "/notifications/{notification}/read", None),
    "api_notifications.read_notification": ("POST", "/api/v1/notifications/{notification}/read", None),
    "api_cases.patch_case": ("PATCH", "/api/v1/cases/{case}", {"version": 1, "urgent": True}),
    "api_cases.history": ("GET", "/api/v1/cases/{case}/history", None),
    "api_cases.add_note": ("POST", "/api/v1/cases/{case}/notes", {"text": "x"}),
    "api_workflow.list_transitions": ("GET", "/api/v1/cases/{case}/transitions", None),
    "api_workflow.take_transition": ("POST", "/api/v1/cases/{case}/transitions", {"name": "revise_plan",
                                                                                  "version": 1, "comment": "x"}),
    "api_workflow.put_assessment": ("PUT", "/api/v1/cases/{case}/assessment", {"needs": []}),
    "api_workflow.get_plan": ("GET", "/api/v1/cases/{case}/plan", None),
    "api_workflow.put_plan": ("PUT", "/api/v1/cases/{case}/plan", {"goals": []}),
    "api_workflow.post_action": ("POST", "/api/v1/cases/{case}/actions/{action}", {"status": "done"}),
    "api_workflow.post_monitoring": ("POST", "/api/v1/cases/{case}/monitoring", {"visited_on": TODAY,
                                                                                 "progress": "same"}),
    "api_workflow.decide": ("POST", "/api/v1/approvals/{approval}", {"decision": "approve"}),
    "api_referrals.suggestions": ("GET", "/api/v1/cases/{case}/referral-suggestions?service=health", None),
    "api_referrals.make": ("POST", "/api/v1/cases/{case}/referrals", {
        "to_organisation_id": 1, "service": "health", "reason": "x",
        "consent": {"given_by": "child", "recorded_on": TODAY}}),
    "api_referrals.get_referral": ("GET", "/api/v1/referrals/{referral}", None),
    "api_referrals.accept": ("POST", "/api/v1/referrals/{referral}/accept", {}),
    "api_referrals.decline": ("POST", "/api/v1/referrals/{referral}/decline", {"reason": "x"}),
    "api_referrals.complete": ("POST", "/api/v1/referrals/{referral}/complete", {"outcome": "x",
                                                                                  "delivered_on": TODAY}),
    "api_referrals.cancel": ("POST", "/api/v1/referrals/{referral}/cancel", {"reason": "x"}),
    "api_referrals.letter": ("GET", "/api/v1/referrals/{referral}/letter.pdf", None),
    "api_conferences.get_conference": ("GET", "/api/v1/conferences/{conference}", None),
    "api_conferences.attendance": ("POST", "/api/v1/conferences/{conference}/attendance", {"attendees": []}),
    "api_conferences.decision": ("POST", "/api/v1/conferences/{conference}/decisions", {"case_id": 1,
                                                                                        "summary": "x"}),
    "api_conferences.close": ("POST", "/api/v1/conferences/{conference}/close", None),
    "api_conferences.minutes_pdf": ("GET", "/api/v1/conferences/{conference}/minutes.pdf", None),
    "transfers.caseload_page": ("GET", "/workers/{worker}/caseload", None),
    "transfers.reassign_caseload": ("POST", "/workers/{worker}/caseload", None),
    "transfers.request_form": ("GET", "/cases/{case}/transfer", None),
    "transfers.request_transfer": ("POST", "/cases/{case}/transfer", None),
    "transfers.show": ("GET", "/transfers/{transfer}", None),
    "transfers.accept": ("POST", "/transfers/{transfer}/accept", None),
    "transfers.decline": ("POST", "/transfers/{transfer}/decline", None),
    "transfers.cancel": ("POST", "/transfers/{transfer}/cancel", None),
    "api_transfers.request_transfer": ("POST", "/api/v1/cases/{case}/transfers", {"to_organisation_id": 1,
                                                                                  "reason": "x"}),
    "api_transfers.get_transfer": ("GET", "/api/v1/transfers/{transfer}", None),
    "api_transfers.accept": ("POST", "/api/v1/transfers/{transfer}/accept", {"assigned_worker_id": 1}),
    "api_transfers.decline": ("POST", "/api/v1/transfers/{transfer}/decline", {"reason": "x"}),
    "api_transfers.cancel": ("POST", "/api/v1/transfers/{transfer}/cancel", {}),
}

# endpoint -> permission a page needs (GET answers 200 with it, 403 without).
PERMISSION_PAGES = {
    "home.index": None, "accounts.change_password": None, "accounts.two_factor": None, "workflow.sop_help": None, "workflow.sop_svg": None,
    "cases.village_options": None,
    "accounts.account": None,
    "accounts.users": "users.manage", "accounts.new_user": "users.manage", "accounts.edit_user": "users.manage",
    "workflow.deadlines": "deadlines.manage", "directory.organisations": "directory.view",
    "directory.organisation": "directory.view", "directory.area_search": "directory.view",
    "directory.area_options": "directory.view",
    "directory.new_organisation": "organisations.manage", "directory.edit_organisation": "organisations.manage",
    "cases.index": "cases.list", "cases.new_complaint": "cases.register", "cases.my_complaints": "complaints.mine",
    "workflow.approvals": "approvals.view", "workflow.triage": "triage.view", "referrals.index": "referrals.box",
    "conferences.index": "conferences.view", "conferences.new": "conferences.manage",
    "conferences.review": "conferences.manage", "home.tasks": "tasks.view",
    "reports.indicators_page": "indicators.view", "reports.quarterly_pdf": "indicators.view",
    "reports.kpis_page": "kpis.view",
    "offline.outbox": "cases.register", "offline.session_token": None, "offline.field_cases": "cases.offline",
    "notify.index": None, "notify.preferences": None, "notify.delivery_log": "notifications.log",
    "transfers.index": "transfers.manage",
    "population.imports_page": "population.import", "population.outreach": "outreach.view",
    "directory.district_settings_page": "districts.settings",
    "population.outreach_csv": "outreach.export",
}
PAGE_PATHS = {
    "home.index": "/", "accounts.change_password": "/account/password", "accounts.two_factor": "/account/two-factor", "workflow.sop_help": "/help/sop",
    "workflow.sop_svg": "/help/sop.svg", "cases.village_options": "/cases/villages?q=bar",
    "accounts.account": "/account",
    "accounts.users": "/admin/users", "accounts.new_user": "/admin/users/new", "accounts.edit_user": "/admin/users/{user}",
    "workflow.deadlines": "/admin/deadlines", "directory.organisations": "/directory/organisations",
    "directory.organisation": "/directory/organisations/{org}", "directory.area_search": "/directory/areas/search?q=go",
    "directory.area_options": "/directory/areas/options?field=area&id=area&level=district&area=73.06",
    "directory.new_organisation": "/directory/organisations/new",
    "directory.edit_organisation": "/directory/organisations/{org}/edit", "cases.index": "/cases",
    "cases.new_complaint": "/cases/new", "cases.my_complaints": "/complaints/mine", "workflow.approvals": "/approvals",
    "workflow.triage": "/triage", "referrals.index": "/referrals", "conferences.index": "/conferences",
    "conferences.new": "/conferences/new", "conferences.review": "/conferences/review", "home.tasks": "/tasks",
    "reports.indicators_page": "/reports/indicators", "reports.quarterly_pdf": "/reports/quarterly.pdf",
    "reports.kpis_page": "/reports/kpis",
    "offline.outbox": "/app/outbox", "offline.session_token": "/app/session", "offline.field_cases": "/app/cases",
    "notify.index": "/notifications", "notify.preferences": "/account/notifications",
    "notify.delivery_log": "/admin/notifications",
    "transfers.index": "/transfers",
    "population.imports_page": "/population", "population.outreach": "/outreach",
    "directory.district_settings_page": "/directory/districts/settings",
    "population.outreach_csv": "/outreach.csv",
}
# POST-only actions that need a permission, and the ones any logged-in user may post.
PERMISSION_POSTS = {
    "accounts.toggle_active": ("/admin/users/{user}/active", "users.manage"),
    "accounts.reset_password": ("/admin/users/{user}/password", "users.manage"),
    "accounts.unlock": ("/admin/users/{user}/unlock", "users.manage"),
    "accounts.reset_two_factor": ("/admin/users/{user}/two-factor-reset", "users.manage"),
    "reports.start_export": ("/exports", "cases.list"),
    "population.upload": ("/population/imports", "population.import"),
    "home.mark_notifications_read": ("/notifications/read", None),
    "accounts.logout": ("/logout", None),
}
PUBLIC = {"offline.service_worker", "offline.manifest", "home.health", "home.ready", "home.set_language", "accounts.login", "accounts.login_code", "api-docs.openapi_json", "api_auth.issue_token"}
# API calls without a record in the path: the token is all they need; what they answer is scoped.
API_LISTS = {"api_auth.whoami", "api_auth.revoke_token", "api_directory.areas", "api_directory.organisations",
             "api_cases.create_case", "api_cases.list_cases", "api_workflow.list_approvals", "api_referrals.box",
             "api_conferences.tasks", "api_conferences.schedule", "api_reports.get_indicators", "api_reports.get_kpis",
             "api_offline.offline_bundle", "api_notifications.list_notifications",
             "api_notifications.get_preferences", "api_notifications.put_preferences",
             "api_auth.update_me", "api_push.push_key", "api_push.subscribe", "api_push.unsubscribe",
             "api_transfers.incoming", "api_transfers.reassign",
             "api_population.start_import", "api_population.outreach_list",
             "api_population.outreach_summary"}


def test_every_route_is_in_the_matrix(app):
    listed = set(RECORD_ROUTES) | set(PERMISSION_PAGES) | set(PERMISSION_POSTS) | PUBLIC | API_LISTS
    routes = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"}
    assert routes - listed == set(), "add the new routes to the authorization matrix"
    assert listed - routes == set(), "the matrix names routes that no longer exist"


@pytest.fixture
def world(users):
    """A Gowa world every Gowa user has some part in, and a Maros world none of them may see."""
    maros_pksai = OrganisationFactory(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09",
                                      services=["case_management"], covers=["73.09"])
    maros_health = OrganisationFactory(name="Puskesmas Mandai", kind="puskesmas", area_code="73.09.01",
                                       services=["health"], covers=["73.09.01"])
    m_coordinator = UserFactory(username="koordinator.maros", role="coordinator", organisation=maros_pksai)
    m_worker = UserFactory(username="peksos.maros", role="social_worker", organisation=maros_pksai)
    UserFactory(username="puskesmas.mandai", role="agency_officer", organisation=maros_health)
    # Both worlds ask Takalar's PKSAI to take a case over: a third district, neither world's.
    takalar = OrganisationFactory(name="PKSAI Kabupaten Takalar", kind="pksai", area_code="73.05",
                                  services=["case_management"], covers=["73.05"])

    def build(registrar, coordinator, worker, org, area, district, service, kk_number):
        case = make_case(registrar, name="Anak Dunia", area_code=area, kk_number=kk_number, relationship_to_head="4")
        workflow.apply_transition(case, "accept", coordinator, {"risk_level": "high",
                                                                "assigned_worker_id": worker.id})
        workflow.save_assessment(case, worker, "high", [service], "Ringkasan.")
        workflow.apply_transition(case, "submit_assessment", worker)
        workflow.save_plan(case, worker, [{"description": "Sehat", "actions": [
            {"description": "Periksa", "service": service, "organisation_id": org.id,
             "due_date": date.today() + timedelta(days=9)}]}])
        approval = workflow.apply_transition(case, "submit_plan", worker).approval
        action = db.session.query(PlanAction).filter_by(case_id=case.id).one()
        referral = referrals.make_referral(case, worker, to_organisation_id=org.id, service=service,
                                           reason="Periksa kesehatan.", consent=CONSENT)
        attachment = add_attachment(case, io.BytesIO(PNG), "foto.png", worker)
        conference = conferences.schedule(coordinator, title="Konferensi", scheduled_at=datetime.now(timezone.utc),
                                          area_code=district, location="PKSAI", case_ids=[case.id],
                                          organisation_ids=[org.id])
        decision = conferences.add_decision(conference, coordinator, case_id=case.id, summary="Lanjut.", actions=[
            {"description": "Periksa anak", "owner_organisation_id": org.id, "due_date": date.today()}])
        export = ExportJob(user_id=coordinator.id, format="csv", filters={}, status="queued")
        db.session.add(export)
        transfer = transfers.request_transfer(case, coordinator, takalar.id, "Keluarga pindah.")
        population_import, outreach, outreach_letter = extract_of(district, area, org.id)
        db.session.commit()
        notification = db.session.scalar(select(Notification.id).where(Notification.user_id == worker.id).limit(1))
        return {"notification": notification, "population_import": population_import, "outreach": outreach,
                "outreach_letter": outreach_letter,
                "case": case.id, "approval": approval.id, "action": action.id, "referral": referral.id,
                "attachment": attachment.id, "conference": conference.id, "task": decision.tasks[0].id,
                "export": export.id, "household": case.child.household_id, "worker": worker.id,
                "transfer": transfer.id}

    maros_village_worker = UserFactory(username="patbm.maros", role="village_worker", organisation=maros_pksai,
                                       area_code="73.09.01.2006")
    out = build(maros_village_worker, m_coordinator, m_worker, maros_health, "73.09.01.2006", "73.09", "health",
                "7309010101200001")
    inside = build(users["village_worker"], users["coordinator"], users["social_worker"],
                   users["agency_officer"].organisation, "73.06.01.2006", "73.06", "birth_certificate",
                   "7306010101200001")
    inside.update(user=users["social_worker"].id, org=users["agency_officer"].organisation_id)
    return {"in": inside, "out": out}


def extract_of(district: str, village: str, office_id: int) -> tuple[int, int, int]:
    """A district's extract in use, of one child without a birth certificate: (import, outreach row,
    the row's letter to ``office_id``)."""
    from casemgmt.population.models import (
        OutreachItem,
        OutreachLetter,
        PopulationCurrent,
        PopulationImport,
        PopulationPerson,
    )

    job = PopulationImport(district_code=district, status="done", extract_date=date.today(), errors=[])
    db.session.add(job)
    db.session.flush()
    child = PopulationPerson(import_id=job.id, row_number=2, nik=village.replace(".", "")[:6] + "5003140001",
                             kk_number=village.replace(".", "")[:6] + "0000000001", name="Anak Ekstrak", sex="F",
                             birth_date=date(2014, 3, 10), age=10, relationship=4, area_code=village,
                             has_birth_certificate=False)
    db.session.add(child)
    db.session.flush()
    item = OutreachItem(import_id=job.id, person_id=child.id, rule="no_birth_certificate", area_code=village,
                        status="open")
    db.session.add_all([item, PopulationCurrent(district_code=district, import_id=job.id)])
    db.session.flush()
    letter = OutreachLetter(outreach_id=item.id, number=f"AKTA/{district.replace('.', '')}/2026/00001",
                            district_code=district, from_organisation_id=office_id, to_organisation_id=office_id,
                            issued_by_name="Petugas", child={"name": child.name, "nik": child.nik,
                                                             "kk_number": child.kk_number, "sex": "F",
                                                             "birth_date": "2014-03-10", "area_code": village,
                                                             "village": village})
    db.session.add(letter)
    db.session.flush()
    return job.id, item.id, letter.id


def request(web, api_token, method, path, body):
    if path.startswith("/api/"):
        return getattr(web.client, method.lower())(path, json=body, headers=api_token)
    if method == "GET":
        return web.get(path)
    return web.post(path, {})


@pytest.mark.parametrize("role", ROLES)
def test_out_of_scope_records_are_404_everywhere(app, make_web, users, world, role):
    web = make_web()
    web.login(users[role].username)
    token = bearer_for(web.client, users[role].username)
    wrong = []
    for endpoint, (method, template, body) in RECORD_ROUTES.items():
        path = template.format(**world["out"])
        status = request(web, token, method, path, body).status_code
        if status != 404:
            wrong.append((endpoint, status))
    assert wrong == []


def test_anonymous_callers_get_nothing(app, make_web, world):
    web = make_web()
    ids = world["in"]
    for endpoint, (method, template, body) in RECORD_ROUTES.items():
        response = request(web, {}, method, template.format(**ids), body)
        if template.startswith("/api/"):
            assert response.status_code == 401, endpoint
        elif method == "GET":
            assert response.status_code == 302 and "/login" in response.headers["Location"], endpoint
        else:
            assert response.status_code in (302, 400), endpoint  # no CSRF token, or sent to log in
    for endpoint, template in PAGE_PATHS.items():
        response = web.get(template.format(**ids))
        assert response.status_code == 302 and "/login" in response.headers["Location"], endpoint
    for endpoint in API_LISTS - {"api_cases.create_case", "api_conferences.schedule"}:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        assert getattr(web.client, method.lower())(rule.rule).status_code == 401, endpoint


@pytest.mark.parametrize("role", ROLES)
def test_pages_answer_by_permission(make_web, users, world, role):
    web = make_web()
    web.login(users[role].username)
    user = users[role]
    wrong = []
    for endpoint, permission in PERMISSION_PAGES.items():
        expected = 200 if permission is None or can(user, permission) else 403
        status = web.get(PAGE_PATHS[endpoint].format(**world["in"])).status_code
        if status != expected:
            wrong.append((endpoint, status, expected))
    for endpoint, (template, permission) in PERMISSION_POSTS.items():
        if permission is None or can(user, permission):
            continue
        status = web.post(template.format(**world["in"]), {}).status_code
        if status != 403:
            wrong.append((endpoint, status, 403))
    assert wrong == []


# In scope: what each role gets on the Gowa world's record pages.
IN_SCOPE = {
    # A notification is its recipient's (the world's social worker) alone.
    "notify.read": {"village_worker": 404, "social_worker": 302, "coordinator": 404, "agency_officer": 404,
                    "analyst": 404, "admin": 404},
    "api_notifications.read_notification": {"village_worker": 404, "social_worker": 200, "coordinator": 404,
                                            "agency_officer": 404, "analyst": 404, "admin": 404},
    "cases.show": {"village_worker": 200, "social_worker": 200, "coordinator": 200, "agency_officer": 302,
                   "analyst": 404, "admin": 404},
    "cases.edit": {"village_worker": 403, "social_worker": 200, "coordinator": 200, "agency_officer": 403,
                   "analyst": 404, "admin": 404},
    "cases.download_attachment": {"village_worker": 404, "social_worker": 200, "coordinator": 200,
                                  "agency_officer": 404, "analyst": 404, "admin": 404},
    "referrals.show": {"village_worker": 404, "social_worker": 200, "coordinator": 200, "agency_officer": 200,
                       "analyst": 404, "admin": 404},
    "referrals.letter": {"village_worker": 404, "social_worker": 200, "coordinator": 200, "agency_officer": 200,
                         "analyst": 404, "admin": 404},
    "conferences.show": {"village_worker": 404, "social_worker": 404, "coordinator": 200, "agency_officer": 200,
                         "analyst": 404, "admin": 404},
    "conferences.minutes_pdf": {"village_worker": 404, "social_worker": 404, "coordinator": 200,
                                "agency_officer": 200, "analyst": 404, "admin": 404},
    "reports.export_status": {"village_worker": 404, "social_worker": 404, "coordinator": 200,
                              "agency_officer": 404, "analyst": 404, "admin": 404},
    "cases.access_log": {"village_worker": 403, "social_worker": 403, "coordinator": 200, "agency_officer": 403,
                         "analyst": 404, "admin": 404},
    "cases.subject_access": {"village_worker": 403, "social_worker": 403, "coordinator": 200,
                             "agency_officer": 403, "analyst": 404, "admin": 404},
    "cases.summary_pdf": {"village_worker": 200, "social_worker": 200, "coordinator": 200, "agency_officer": 404,
                          "analyst": 404, "admin": 404},
    "api_cases.summary_pdf": {"village_worker": 200, "social_worker": 200, "coordinator": 200,
                              "agency_officer": 404, "analyst": 404, "admin": 404},
    "api_cases.get_case": {"village_worker": 200, "social_worker": 200, "coordinator": 200, "agency_officer": 200,
                           "analyst": 404, "admin": 404},
    "api_households.get_household": {"village_worker": 200, "social_worker": 200, "coordinator": 200,
                                     "agency_officer": 200, "analyst": 404, "admin": 404},
    "cases.save_household_head": {"village_worker": 403, "social_worker": 302, "coordinator": 302,
                                  "agency_officer": 403, "analyst": 404, "admin": 404},
    "api_cases.history": {"village_worker": 403, "social_worker": 200, "coordinator": 200, "agency_officer": 403,
                          "analyst": 404, "admin": 404},
    # Caseloads and transfers: the district's coordinator alone.
    "transfers.caseload_page": {"village_worker": 404, "social_worker": 404, "coordinator": 200,
                                "agency_officer": 404, "analyst": 404, "admin": 404},
    "transfers.request_form": {"village_worker": 404, "social_worker": 404, "coordinator": 200,
                               "agency_officer": 404, "analyst": 404, "admin": 404},
    "transfers.show": {"village_worker": 404, "social_worker": 404, "coordinator": 200, "agency_officer": 404,
                       "analyst": 404, "admin": 404},
    "api_transfers.get_transfer": {"village_worker": 404, "social_worker": 404, "coordinator": 200,
                                   "agency_officer": 404, "analyst": 404, "admin": 404},
    "population.import_status": {"village_worker": 404, "social_worker": 404, "coordinator": 200,
                                 "agency_officer": 404, "analyst": 404, "admin": 404},
    "population.outreach_row": {"village_worker": 200, "social_worker": 404, "coordinator": 200,
                                "agency_officer": 404, "analyst": 404, "admin": 404},
    # The letter: issued by whoever works the row (an issued one answers again); read by them and
    # by the Dukcapil office it is addressed to.
    "population.outreach_letter": {"village_worker": 302, "social_worker": 404, "coordinator": 302,
                                   "agency_officer": 404, "analyst": 404, "admin": 404},
    "population.outreach_letter_pdf": {"village_worker": 200, "social_worker": 404, "coordinator": 200,
                                       "agency_officer": 200, "analyst": 404, "admin": 404},
    "api_population.get_import": {"village_worker": 404, "social_worker": 404, "coordinator": 200,
                                  "agency_officer": 404, "analyst": 404, "admin": 404},
    "api_population.outreach_status": {"village_worker": 200, "social_worker": 404, "coordinator": 200,
                                       "agency_officer": 404, "analyst": 404, "admin": 404},
    "api_population.outreach_case": {"village_worker": 201, "social_worker": 404, "coordinator": 201,
                                     "agency_officer": 404, "analyst": 404, "admin": 404},
}


@pytest.mark.parametrize("role", ROLES)
def test_in_scope_records_answer_by_role(make_web, users, world, role):
    web = make_web()
    web.login(users[role].username)
    token = bearer_for(web.client, users[role].username)
    wrong = []
    for endpoint, expected in IN_SCOPE.items():
        method, template, body = RECORD_ROUTES[endpoint]
        status = request(web, token, method, template.format(**world["in"]), body).status_code
        if status != expected[role]:
            wrong.append((endpoint, status, expected[role]))
    assert wrong == []
