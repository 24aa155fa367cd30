"""The one place that answers "may this user do X" and scopes queries to what a user may see.

Pages, API, PDFs, exports and attachments all ask here. A permission is a plain string;
roles grant sets of them. Record-level scope (which cases a user sees) is answered by the
``scope_*`` functions, so a view never filters by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import and_, any_, exists, false, func, or_, select
from sqlalchemy.orm import aliased

from casemgmt.accounts.models import User
from casemgmt.cases.models import Case, Complaint
from casemgmt.codes import ROLES
from casemgmt.dbtypes import utcnow
from casemgmt.errors import Forbidden
from casemgmt.extensions import db
from casemgmt.referrals.disclosure import fields_for
from casemgmt.referrals.models import Referral

# What each role may do. The admin manages accounts and the directory but sees no case
# contents; the analyst sees aggregates only.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "village_worker": frozenset({"directory.view", "cases.register", "complaints.mine", "referrals.box",
                                 "tasks.view", "conferences.view", "outreach.view"}),
    "social_worker": frozenset({"directory.view", "cases.register", "cases.list", "cases.offline", "approvals.view",
                                "referrals.box", "tasks.view", "conferences.view"}),
    "coordinator": frozenset({"directory.view", "cases.register", "cases.list", "approvals.view", "triage.view",
                              "referrals.box", "tasks.view", "conferences.view", "conferences.manage",
                              "indicators.view", "transfers.manage", "kpis.view", "outreach.view",
                              "outreach.export", "population.import", "districts.settings"}),
    "agency_officer": frozenset({"directory.view", "referrals.box", "tasks.view", "conferences.view"}),
    "analyst": frozenset({"directory.view", "indicators.view", "kpis.view"}),
    "admin": frozenset({"directory.view", "users.manage", "organisations.manage", "deadlines.manage",
                        "notifications.log", "kpis.view", "population.import", "districts.settings"}),
}

assert set(ROLE_PERMISSIONS) == set(ROLES), "every role needs a permission set"

ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


def can(user, permission: str) -> bool:
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    return permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def requires(permission: str):
    """View decorator: log in first, then 403 without the permission."""
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def area_contains(outer: str | None, inner: str | None) -> bool:
    """Whether region ``inner`` lies within (or is) region ``outer``: 73.06 contains 73.06.01.2006."""
    if not outer or not inner:
        return False
    return inner == outer or inner.startswith(outer + ".")


def within(column, area_code: str):
    """SQL for area_contains(area_code, column): the region itself or any region inside it,
    written as a range in byte order ("73.06." < code < "73.06/"; "/" follows "." in ASCII).
    ``column`` is a region code column (dbtypes.byte_ordered), so its index serves the range."""
    return or_(column == area_code, and_(column > area_code + ".", column < area_code + "/"))


def district_of(area_code: str | None) -> str | None:
    """The kabupaten/kota an area lies in: 73.06.01.2006 -> 73.06."""
    if not area_code or area_code.count(".") < 1:
        return None
    return ".".join(area_code.split(".")[:2])


# ---- cases --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseAccess:
    """What of one case a user may see and do. Nothing at all means 404, not 403."""

    view: bool = False
    identity: bool = False   # the child's full name, NIK, birth date, address, family
    reporter: bool = False   # who reported: confidential
    details: bool = False    # concerns, what happened, notes, timeline, attachments
    edit: bool = False
    add_notes: bool = False
    # Alleged perpetrator, sexual-violence details, HIV status: assigned worker and coordinator only.
    sensitive: bool = False
    # The coordinator answers for the record: who saw it, the subject-access export.
    answerable: bool = False
    # An agency officer's view: the child as far as the referred service needs, and the referrals.
    referral_fields: tuple[str, ...] = ()
    referral_org_id: int | None = None
    # A district that transferred the case out: what happened up to this moment only (timeline,
    # notes, documents, referrals), and nothing of who holds the case now.
    until: datetime | None = None

    @property
    def summary(self) -> bool:
        """The case summary PDF. Not for an agency: its referral letter holds what its service needs;
        not for a district that transferred the case out: the summary tells how it stands now."""
        return self.view and not (self.referral_fields and not self.details) and self.until is None


NO_ACCESS = CaseAccess()
FULL_ACCESS = CaseAccess(view=True, identity=True, reporter=True, details=True, edit=True, add_notes=True,
                         sensitive=True)
COORDINATOR_ACCESS = replace(FULL_ACCESS, answerable=True)
# The coordinator of a district that transferred the case out reads its record as it was then.
TRANSFERRED_OUT_ACCESS = CaseAccess(view=True, identity=True, reporter=True, details=True)


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.active


def scope_cases(user, query=None, assigned_to_me: bool = False, transferred_out: bool = False):
    """The cases a user may see, as a query: every case list, search and export starts here.

    coordinator: every case of their kabupaten/kota; social worker: cases assigned to them and
    complaints they registered; village worker: the complaints they registered. Agency officers
    see cases only through referrals (added with referrals); analyst and admin see none.
    ``assigned_to_me``: only those of them assigned to the user.
    ``transferred_out``: instead, the cases a coordinator's district transferred to another
    district (read up to the transfer: case_access); nobody else has any. Not part of the work
    scope: the district no longer answers for them (triage, tasks, counts leave them out).
    """

    query = select(Case) if query is None else query
    if not _active(user):
        return query.where(false())
    if transferred_out:
        district = scope_district(user)
        if district is None or assigned_to_me:
            return query.where(false())
        return query.where(Case.id.in_(transferred_out_ids(district)), Case.district_code != district)
    role = user.role
    if assigned_to_me:
        if role == "social_worker":  # all of them visible: the rest of the scope would only mislead
            # the planner, which took "(assigned OR registered) AND assigned" for a rarer condition
            # than it is and chose a plan for a few rows
            return query.where(Case.assigned_worker_id == user.id)
        query = query.where(Case.assigned_worker_id == user.id)
    if role == "coordinator":
        district = scope_district(user)
        return query.where(Case.district_code == district) if district else query.where(false())
    registered = _among(Case.complaint_id, select(Complaint.id).where(Complaint.registered_by_id == user.id))
    if role == "social_worker":
        return query.where(or_(Case.assigned_worker_id == user.id, registered))
    if role == "village_worker":
        return query.where(registered)
    if role == "agency_officer" and user.organisation_id:
        return query.where(Case.id.in_(referred_case_ids(user.organisation_id)))
    return query.where(false())


def sees_case_text(user):
    """SQL, over the cases of scope_cases(user): those whose child's full name, NIK and narrative
    the user is shown (case_access's identity and details), which search may match on those; on
    the rest search matches only what every viewer is shown (cases.search.shown_match). None
    when that is every case of the scope (a coordinator's district). Mirrors case_access; each
    term is true or false, never NULL, so that its negation holds the rest exactly."""
    from casemgmt.cases.models import Case

    if not _active(user):
        return false()
    if user.role == "coordinator":
        return None
    # Whoever registered a complaint sees the child until a social worker holds the case.
    unassigned_report = and_(Case.assigned_worker_id.is_(None), Case.stage == "report")
    if user.role == "social_worker":
        return or_(and_(Case.assigned_worker_id.is_not(None), Case.assigned_worker_id == user.id), unassigned_report)
    if user.role == "village_worker":
        return unassigned_report
    return false()  # an agency: initials and the number, as its lists show


def scope_referrals(user, which: str):
    """The referrals of a user's inbox (sent to their organisation) or outbox (sent from it) that
    they may open (referral_or_404): those whose case they may see (scope_cases). A PKSAI social
    worker's outbox is not every referral the PKSAI sent, only those of their cases; an agency's
    inbox holds a referral while its case is the agency's (still_the_agencys).

    How the case is asked depends on who asks, each read through an index a page at a time on the
    million-case database (a box page 1-20 ms; bench/RESULTS.md, review of the ninth session)."""

    query = select(Referral)
    if not _active(user) or user.organisation_id is None:
        return query.where(false())
    column = Referral.to_organisation_id if which == "inbox" else Referral.from_organisation_id
    if user.role == "agency_officer":
        # The case is the agency's while a referral of it to the agency is, asked of each listed
        # referral's case through its own referrals (the list of every case the agency holds,
        # referred_case_ids, was made again for each row: 1.4 -> 190 ms a page).
        other = aliased(Referral)
        return query.where(column == user.organisation_id, exists().where(
            other.case_id == Referral.case_id, other.to_organisation_id == user.organisation_id,
            still_the_agencys(other)))
    if user.role == "coordinator":
        # Each listed referral's case tested against the district by its primary key: nearly
        # every referral of a PKSAI is of its own district's cases, so a page is found at once.
        return query.where(column == user.organisation_id,
                           scope_cases(user, select(Case.id)).where(Case.id == Referral.case_id).exists())
    # A worker's cases are few beside their organisation's referrals: read from the cases, their
    # referrals then sorted. "+ 0": not the organisation's index, which the planner took to skip
    # the sort and then tested referral by referral (a worker with no case read a PKSAI's
    # 260,000: 1.1 s).
    return query.where(column + 0 == user.organisation_id, Referral.case_id.in_(scope_cases(user, select(Case.id))))


def waiting_referrals(user):
    """The referrals of the user's inbox waiting for their organisation's answer: scope_referrals
    (user, "inbox") narrowed to status "sent". An agency's per-referral test is left out, for a
    referral waiting at the agency is itself what keeps its case the agency's (still_the_agencys):
    a count then reads the organisation's index alone (home.waiting)."""
    if user.role == "agency_officer" and _active(user) and user.organisation_id is not None:
        return select(Referral).where(Referral.to_organisation_id == user.organisation_id,
                                      Referral.status == "sent")
    return scope_referrals(user, "inbox").where(Referral.status == "sent")


def _among(column, ids):
    """``column IN (ids)``. On PostgreSQL ``= ANY(ARRAY(ids))``: read once, it is a list an index
    can look up, so "assigned to me OR registered by me" is answered by two indexes (BitmapOr).
    As a subquery it was a hashed subplan no index answers, and a social worker's search read
    the whole table (290 ms on the million-case database; 22 ms so)."""

    if db.engine.dialect.name == "postgresql":
        return column == any_(func.array(ids.scalar_subquery()))
    return column.in_(ids)


def scope_district(user) -> str | None:
    """The kabupaten/kota whose every case the user sees, when that is the whole of what they see
    (a coordinator's scope in scope_cases); None for anyone else."""
    if _active(user) and user.role == "coordinator":
        return district_of(user.area_code)
    return None


AGENCY_READ_DAYS = 30


def still_the_agencys(referral=None):
    """The condition on a referral (``referral``: Referral or an alias of it) under which the
    organisation it was sent to still sees it and its case: open or accepted, or completed in the
    last 30 days (then read-only)."""
    from datetime import timedelta

    r = referral if referral is not None else Referral
    return or_(r.status.in_(("sent", "accepted")),
               and_(r.status == "completed", r.completed_at >= utcnow() - timedelta(days=AGENCY_READ_DAYS)))


def referred_case_ids(organisation_id: int):
    """Cases an organisation may see: a referral to it that is still the agency's."""

    return select(Referral.case_id).where(Referral.to_organisation_id == organisation_id, still_the_agencys())


def transferred_out_ids(district_code: str):
    """The ids of the cases a district transferred to another (an accepted transfer)."""
    from casemgmt.transfers.models import Transfer

    return select(Transfer.case_id).where(Transfer.from_district_code == district_code,
                                          Transfer.status == "accepted")


def transferred_out_until(user, case_ids) -> dict[int, datetime]:
    """For a coordinator: of ``case_ids``, those their district transferred out, each with the
    moment of its last transfer out (what the district still sees ends there)."""
    from casemgmt.transfers.models import Transfer

    district = scope_district(user)
    if district is None or not case_ids:
        return {}
    return dict(db.session.execute(
        select(Transfer.case_id, func.max(Transfer.transferred_at))
        .where(Transfer.from_district_code == district, Transfer.status == "accepted",
               Transfer.case_id.in_(list(case_ids)))
        .group_by(Transfer.case_id)).all())


def case_access(user, case) -> CaseAccess:
    """What ``user`` may do with a case. It reads five facts of the case and nothing else: id,
    district_code, assigned_worker_id, stage and registered_by_id, so a Case and a plain row of a
    list (cases.listing.CaseRow) are decided alike; a coordinator's access to a case of another
    district also reads whether their district transferred it out."""
    if not _active(user) or case is None:
        return NO_ACCESS
    if coordinates(user, case.district_code):
        return COORDINATOR_ACCESS
    if user.role == "coordinator":
        until = transferred_out_until(user, [case.id]).get(case.id)
        return replace(TRANSFERRED_OUT_ACCESS, until=until) if until else NO_ACCESS
    if user.role == "social_worker" and case.assigned_worker_id == user.id:
        return FULL_ACCESS
    if user.role == "agency_officer" and user.organisation_id:
        return _agency_access(user, case)
    if user.role in ("social_worker", "village_worker") and case.registered_by_id == user.id:
        # Whoever registered the complaint follows it. Once a social worker holds the case,
        # they see what became of it, not the child's details (UU SPPA Art. 19).
        if case.assigned_worker_id is None and case.stage == "report":
            return CaseAccess(view=True, identity=True, reporter=True, details=True, add_notes=True)
        return CaseAccess(view=True)
    return NO_ACCESS


def case_accesses(user, cases) -> dict[int, CaseAccess]:
    """case_access of each case of a list, by case id, in a fixed number of queries: an agency's
    access is read from its referrals, which are fetched for all the cases at once."""
    if _active(user) and user.role == "agency_officer" and user.organisation_id:
        return _agency_accesses(user, cases)
    if _active(user) and user.role == "coordinator":
        out = transferred_out_until(user, [case.id for case in cases if not coordinates(user, case.district_code)])
        return {case.id: (replace(TRANSFERRED_OUT_ACCESS, until=out[case.id]) if case.id in out
                          else case_access(user, case)) for case in cases}
    return {case.id: case_access(user, case) for case in cases}


@dataclass(frozen=True)
class HouseholdAccess:
    """What of a household (Kartu Keluarga) a user may see, decided by case_access on each of its
    cases (``cases``: case id -> CaseAccess). Nothing at all means 404."""

    cases: dict

    @property
    def view(self) -> bool:
        """Whoever may see one of the family's cases sees the household."""
        return any(a.view for a in self.cases.values())

    @property
    def identity(self) -> bool:
        """The KK number and the head's name: for whoever sees one of the children in full."""
        return any(a.identity for a in self.cases.values())

    @property
    def family(self) -> bool:
        """Works on one of the family's cases (its social worker, the coordinator), and so plans
        for the family: is shown every member, if not every member's case."""
        return any(a.edit for a in self.cases.values())

    def shows_member(self, case_ids) -> bool:
        """A member (a child, by the ids of their cases) is listed to whoever sees one of the
        member's cases, and to those who work for the family; not to a village worker or an
        agency for the children they have no case of."""
        return self.family or any(self.cases[i].view for i in case_ids)

    def member_identity(self, case_ids) -> bool:
        """A member's full name and birth date: where one of the member's own cases shows them."""
        return any(self.cases[i].identity for i in case_ids)


def household_access(user, cases) -> HouseholdAccess:
    """HouseholdAccess from the household's cases (Case or CaseRow: the five facts case_access reads)."""
    return HouseholdAccess(case_accesses(user, cases))


def _agency_access(user, case) -> CaseAccess:
    return _agency_accesses(user, [case])[case.id]


def _agency_accesses(user, cases) -> dict[int, CaseAccess]:

    ids = [case.id for case in cases]
    visible = set(db.session.scalars(referred_case_ids(user.organisation_id).where(Referral.case_id.in_(ids))))
    services: dict[int, list[str]] = {}
    if visible:
        for case_id, service in db.session.execute(select(Referral.case_id, Referral.service).where(
                Referral.case_id.in_(visible), Referral.to_organisation_id == user.organisation_id)
                .order_by(Referral.id)):
            services.setdefault(case_id, []).append(service)
    out = {}
    for case_id in ids:
        if case_id not in visible:
            out[case_id] = NO_ACCESS
            continue
        fields = tuple(dict.fromkeys(f for service in services.get(case_id, []) for f in fields_for(service)))
        out[case_id] = CaseAccess(view=True, referral_fields=fields, referral_org_id=user.organisation_id)
    return out


def offline_cases(user) -> str | None:
    """Which cases a user takes onto the phone: a social worker the open cases assigned to them
    ("assigned": to record visits and notes and correct the child's details at the family's
    house), a village worker the complaints they registered ("registered": their status only);
    other roles none."""
    if not _active(user):
        return None
    return {"social_worker": "assigned", "village_worker": "registered"}.get(user.role)


def case_or_404(user, case_id, options=()):
    """The case if the user may see it; otherwise 404, never a hint that it exists. ``options``:
    how to load it (a change that reads few of its relations loads them as it reads them)."""

    case = db.session.get(Case, case_id, options=options) if isinstance(case_id, int) else None
    access = case_access(user, case)
    if not access.view:
        abort(404)
    return case, access


def referral_or_404(user, referral_id):
    """A referral the user may see: the sending side with the case's details, or the receiving
    organisation while it may see the case. Otherwise 404."""

    referral = db.session.get(Referral, referral_id) if isinstance(referral_id, int) else None
    if referral is None:
        abort(404)
    case, access = case_or_404(user, referral.case_id)
    if access.until is not None and referral.created_at > access.until:
        abort(404)  # made after the case left the user's district
    if not (access.details or referral.to_organisation_id == user.organisation_id
            or referral.from_organisation_id == user.organisation_id and access.view):
        abort(404)
    return referral, case, access


def coordinates(user, district_code: str | None) -> bool:
    """Whether the user is the PKSAI coordinator of this kabupaten/kota."""
    return (_active(user) and user.role == "coordinator" and district_code is not None
            and district_of(user.area_code) == district_code)


def may_set_district(user, district_code: str | None) -> bool:
    """What a district sets for itself (directory.models.DistrictSettings): its coordinator, or an
    administrator for any district."""
    return can(user, "districts.settings") and (user.role == "admin" or coordinates(user, district_code))


def active_users_in(district_code: str, role: str) -> list:
    """The active users of a role who work in a district, by name, chosen by the database (a
    province has thousands of users)."""

    return list(db.session.scalars(select(User).where(User.role == role, User.active.is_(True),
                                                      within(User.area_code, district_code))
                                   .order_by(User.full_name)))


def coordinators_of(district_code: str) -> list:
    """The users for whom ``coordinates(user, district_code)`` holds."""
    return active_users_in(district_code, "coordinator")


def answers_referral(user, referral) -> bool:
    """A member of the organisation a referral was sent to: they accept, decline, complete."""
    return _active(user) and user.organisation_id == referral.to_organisation_id


def sent_referral(user, referral, case) -> bool:
    """A member of the sending organisation who works on the case: they may cancel."""
    return (_active(user) and user.organisation_id == referral.from_organisation_id
            and case_access(user, case).add_notes)


# What each party to a referral may do to it, and in which statuses: the referral page's
# buttons, the services' checks and the API all read this one table.
REFERRAL_ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "accept": ("recipient", frozenset({"sent"})),
    "decline": ("recipient", frozenset({"sent"})),
    "complete": ("recipient", frozenset({"accepted"})),
    "refer_back": ("recipient", frozenset({"accepted", "completed"})),
    "cancel": ("sender", frozenset({"sent", "accepted"})),
}


def referral_parties(user, referral, case=None) -> frozenset[str]:
    """Which side of a referral the user is on: "recipient", "sender", both or neither."""
    parties = set()
    if answers_referral(user, referral):
        parties.add("recipient")
    if _active(user) and user.organisation_id == referral.from_organisation_id:
        if case is None:

            case = db.session.get(Case, referral.case_id)
        if sent_referral(user, referral, case):
            parties.add("sender")
    return frozenset(parties)


def may_act_on_referral(user, referral, action: str, case=None) -> bool:
    """Whether the user is the party who takes ``action`` (whatever the referral's status)."""
    return REFERRAL_ACTIONS[action][0] in referral_parties(user, referral, case)


def referral_actions(user, referral, case=None) -> frozenset[str]:
    """What the user may do to the referral now, its status included."""
    parties = referral_parties(user, referral, case)
    return frozenset(action for action, (party, statuses) in REFERRAL_ACTIONS.items()
                     if party in parties and referral.status in statuses)


# ---- workflow and conferences ---------------------------------------------------------------

def may_take(user, transition, case) -> bool:
    """Whether the user may take an SOP transition on the case: their role is among the step's
    and they are who the step's actor rule names (definition.ACTOR_RULES)."""
    if not _active(user) or user.role not in transition.roles:
        return False
    is_coordinator = coordinates(user, case.district_code)
    is_worker = user.role == "social_worker" and case.assigned_worker_id == user.id
    return {
        "district_coordinator": is_coordinator,
        "assigned_worker": is_worker,
        "assigned_worker_or_coordinator": is_coordinator or is_worker,
    }[transition.actor]


def may_reassign(user, case, pending) -> bool:
    """Whether the user may hand this case to another worker: its district's coordinator, while
    the case is open, held by someone (triage assigns the first worker) and no request of it
    waits for approval (``pending``: the case's pending approval or None; decided first, since a
    rejection would go back to a worker who no longer sees the case)."""
    return (case.status == "open" and case.assigned_worker_id is not None
            and coordinates(user, case.district_code) and pending is None)


def may_reassign_caseload(user, worker) -> bool:
    """Whether the user may hand a worker's open cases to others at once (the worker leaves or is
    on leave): the coordinator of the social worker's district. The worker need not be active:
    a deactivated worker's cases are moved this way."""
    return (worker is not None and worker.role == "social_worker"
            and coordinates(user, district_of(worker.area_code)))


def may_request_transfer(user, case) -> bool:
    """Whether the user may ask another district to take the case over: the coordinator of the
    case's district, while the case is open."""
    return case.status == "open" and coordinates(user, case.district_code)


def receives_transfer(user, transfer) -> bool:
    """A coordinator of the receiving district who works for the receiving PKSAI: they accept or
    decline the request."""
    return (coordinates(user, transfer.to_district_code)
            and user.organisation_id == transfer.to_organisation_id)


def sent_transfer(user, transfer) -> bool:
    """A coordinator of the district that asked: they may withdraw the request while it is open."""
    return coordinates(user, transfer.from_district_code)


def transfer_actions(user, transfer) -> frozenset[str]:
    """What the user may do to a transfer now, its status included."""
    if transfer.status != "requested":
        return frozenset()
    actions = set()
    if receives_transfer(user, transfer):
        actions |= {"accept", "decline"}
    if sent_transfer(user, transfer):
        actions.add("cancel")
    return frozenset(actions)


def may_manage_conference(user, conf) -> bool:
    """Whether the user may change the conference's record now: its district's coordinator,
    until it is closed."""
    return coordinates(user, conf.district_code) and conf.status != "closed"


def may_view_conference(user, conf) -> bool:
    """The district's coordinator, and users of invited organisations (they see the agenda)."""
    if not _active(user):
        return False
    if coordinates(user, conf.district_code):
        return True
    return user.organisation_id is not None and user.organisation_id in {o.organisation_id for o in conf.invited}


def works_on_case(user, case) -> bool:
    """Whether the user does the SOP's work on this case: its assigned social worker, or the
    coordinator of its district (assessment, plan, actions, visits)."""
    if not _active(user) or case is None:
        return False
    if user.role == "social_worker":
        return case.assigned_worker_id == user.id
    return coordinates(user, case.district_code)


def owns_task(user, task) -> bool:
    """A conference action is its owning organisation's, or the person it names."""
    return _active(user) and (user.id == task.owner_user_id
                              or (user.organisation_id is not None
                                  and user.organisation_id == task.owner_organisation_id))


# ---- indicators and exports -------------------------------------------------------------------

def indicator_area(user, asked: str | None) -> str:
    """The area a user asks for, if they may see its indicators (Forbidden otherwise): a
    coordinator their district, an analyst anything within their own area (the province),
    down to a kabupaten/kota."""
    from flask_babel import gettext as _

    if user.role == "coordinator":
        own = district_of(user.area_code)
    elif user.role == "analyst":
        own = user.area_code or "73"
    else:
        raise Forbidden()
    area_code = (asked or own or "").strip()
    if not area_contains(own, area_code) or area_code.count(".") > 1:
        raise Forbidden(_("You may see the indicators of %(area)s only.", area=own))
    return area_code


def kpi_area(user, asked: str | None) -> str:
    """The area whose management indicators a user asks for, if they may see them (Forbidden
    otherwise): as ``indicator_area``, and an admin any district or the province of their own
    area (all of it without one)."""
    from flask_babel import gettext as _

    if user.role != "admin":
        return indicator_area(user, asked)
    own = (user.area_code or "").split(".")[0] or None
    area_code = (asked or own or "73").strip()
    if (own and not area_contains(own, area_code)) or area_code.count(".") > 1:
        raise Forbidden(_("You may see the indicators of %(area)s only.", area=own))
    return area_code


def sees_worker_names(user) -> bool:
    """Who may see the management indicators worker by worker: the coordinator and admins."""
    return user.role in ("coordinator", "admin")


def small_counts_hidden(user) -> bool:
    """Analysts see counts of 1 to 4 as "<5", in anything they see or download."""
    return user.role == "analyst"


def owns_export(user, job) -> bool:
    """An export belongs to whoever asked for it, while their account is active."""
    return _active(user) and job is not None and job.user_id == user.id


# ---- population extract and outreach ----------------------------------------------------------

def imports_population(user, district_code: str | None) -> bool:
    """Whether the user may load a district's SIAK extract: its coordinators and admins."""
    return (_active(user) and user.role in ("coordinator", "admin") and district_code is not None
            and district_code.count(".") == 1 and district_of(user.area_code) == district_code)


def outreach_scope(user) -> tuple[str, str] | None:
    """Whose outreach rows a user sees by name, as (district, area within it): a coordinator
    every row of their district, a village worker the rows of their own village; nobody else
    (an analyst sees counts only: counts_outreach)."""
    if not _active(user) or not user.area_code:
        return None
    district = district_of(user.area_code)
    if user.role == "coordinator" and district:
        return district, district
    if user.role == "village_worker" and district and user.area_code.count(".") == 3:
        return district, user.area_code
    return None


def works_outreach(user, area_code: str | None) -> bool:
    """Whether the user may act on an outreach row of this village (change its status, open a
    case, issue a letter): whoever sees it by name (outreach_scope)."""
    scope = outreach_scope(user)
    return scope is not None and area_contains(scope[1], area_code)


def reads_outreach_letter(user, letter, area_code: str) -> bool:
    """A birth-certificate letter to Dukcapil: whoever may act on its row, and the members of the
    Dukcapil office it is addressed to (that letter only, nothing else of the extract)."""
    return works_outreach(user, area_code) or (
        _active(user) and user.role == "agency_officer" and user.organisation_id == letter.to_organisation_id)


def counts_outreach(user) -> str | None:
    """The area whose outreach counts the user may see (coordinators and village workers as
    outreach_scope; an analyst their whole area, with small counts hidden)."""
    scope = outreach_scope(user)
    if scope:
        return scope[1]
    if _active(user) and user.role == "analyst":
        return user.area_code or "73"
    return None
