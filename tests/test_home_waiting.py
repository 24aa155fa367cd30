"""Home pages lead with what waits: an agency's referrals to answer, a coordinator's approvals
and complaints to triage, each counted and linked to its list."""
from __future__ import annotations

import re
from datetime import date, timedelta

from casemgmt.access import scope_referrals, waiting_referrals
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.home.waiting import waiting_for
from casemgmt.referrals import services as referrals
from casemgmt.referrals.models import Referral
from casemgmt.transactions import commit
from casemgmt.workflow import services as workflow
from casemgmt.workflow.models import Approval
from tests.factories import OrganisationFactory, UserFactory, make_case

CONSENT = {"given_by": "caregiver", "recorded_on": date.today()}


def assigned_case(users):
    case = make_case(users["village_worker"])
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": "medium", "assigned_worker_id": users["social_worker"].id})
    return case


def refer(users, to):
    return referrals.make_referral(assigned_case(users), users["social_worker"], to_organisation_id=to.id,
                                   service="birth_certificate", reason="Belum punya akta kelahiran.", consent=CONSENT)


def first_section(page: str) -> str:
    """The page's main content up to the role's own text: what a user sees first."""
    main = page.split("<main", 1)[1]
    return main.split("</p>", 1)[1].split("<section", 2)[1]


def test_agency_home_starts_with_referrals_to_answer_and_overdue(web, users):
    dukcapil = users["agency_officer"].organisation
    on_time, late, answered = refer(users, dukcapil), refer(users, dukcapil), refer(users, dukcapil)
    late.respond_by = utcnow() - timedelta(hours=2)
    referrals.accept(answered, users["agency_officer"])
    other = OrganisationFactory(name="UPT PPA Kabupaten Gowa", kind="upt_ppa", area_code="73.06",
                                services=["birth_certificate"], covers=["73.06"])
    refer(users, other)  # another agency's: not Dukcapil's to answer
    commit()
    assert waiting_for(users["agency_officer"]) == [
        {"what": "referrals", "count": 2, "overdue": 1, "endpoint": "referrals.index"}]
    # The short way to the agency's waiting referrals finds what its inbox scope finds.
    for user in (users["agency_officer"], users["coordinator"], users["social_worker"]):
        scoped = set(db.session.scalars(scope_referrals(user, "inbox").where(Referral.status == "sent")
                                        .with_only_columns(Referral.id)))
        assert set(db.session.scalars(waiting_referrals(user).with_only_columns(Referral.id))) == scoped
    assert set(db.session.scalars(waiting_referrals(users["agency_officer"]).with_only_columns(Referral.id))) == {
        on_time.id, late.id}

    web.login("dukcapil")
    page = web.get("/").get_data(as_text=True)
    first = first_section(page)
    assert 'data-waiting="referrals"' in first and 'href="/referrals"' in first
    assert re.search(r"data-count>2<", first) and 'data-overdue="1"' in first
    assert page.index('data-waiting="referrals"') < page.index('id="your-work"')


def test_coordinator_home_starts_with_approvals_and_triage(web, users):
    make_case(users["village_worker"])
    late = make_case(users["village_worker"])
    late.due_at = utcnow() - timedelta(hours=1)
    plan = assigned_case(users)  # accepted: out of triage
    for requester in (users["social_worker"], users["coordinator"]):  # one's own request waits for another
        db.session.add(Approval(case_id=plan.id, transition="submit_plan", requested_by_id=requester.id))
    db.session.add(Approval(case_id=plan.id, transition="submit_plan", requested_by_id=users["social_worker"].id,
                            status="approved"))
    commit()
    assert waiting_for(users["coordinator"]) == [
        {"what": "approvals", "count": 1, "overdue": 0, "endpoint": "workflow.approvals"},
        {"what": "triage", "count": 2, "overdue": 1, "endpoint": "workflow.triage"}]

    web.login("koordinator")
    first = first_section(web.get("/").get_data(as_text=True))
    assert first.index('data-waiting="approvals"') < first.index('data-waiting="triage"')
    assert 'href="/approvals"' in first and 'href="/triage"' in first
    assert re.search(r'data-waiting="triage".*?data-count>2<.*?data-overdue="1"', first, re.S)


def test_nothing_waits_on_other_roles_and_a_coordinator_of_another_district_sees_none(users):
    make_case(users["village_worker"])
    commit()
    for role in ("village_worker", "social_worker", "analyst", "admin"):
        assert waiting_for(users[role]) == []
    maros = OrganisationFactory(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09",
                                services=["case_management"], covers=["73.09"])
    other = UserFactory(username="koormaros", role="coordinator", organisation=maros)
    assert [(i["what"], i["count"]) for i in waiting_for(other)] == [("approvals", 0), ("triage", 0)]
