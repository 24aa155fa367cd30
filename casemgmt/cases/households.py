"""Households (Kartu Keluarga): a child joining one, its head, what a viewer is shown of it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casemgmt.access import CaseAccess, HouseholdAccess, household_access
from casemgmt.audit import services as audit
from casemgmt.cases import listing
from casemgmt.cases.identity import initials
from casemgmt.cases.models import Case, Child, Complaint, Household
from casemgmt.codes import RELATIONSHIPS_TO_HEAD, SEXES
from casemgmt.errors import Forbidden, ValidationFailed
from casemgmt.extensions import db


def relationship_code(value) -> str | None:
    """A STAT_HBKEL code as stored ("4"), from "4", 4 or " 04 "; None when none was given.
    ValueError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    text = str(value).strip()
    code = str(int(text)) if text.isdigit() else text
    if code not in RELATIONSHIPS_TO_HEAD:
        raise ValueError(value)
    return code


def by_kk(kk_number: str | None) -> Household | None:
    if not kk_number:
        return None
    return db.session.scalar(select(Household).where(Household.kk_number == kk_number))


def household_for(kk_number: str, area_code: str) -> Household:
    """The household of a KK number, recorded now if it is new. Two complaints giving the same new
    number at once both end in the one household (the unique number decides, not a check first)."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    found = by_kk(kk_number)
    if found is not None:
        return found
    db.session.flush()
    db.session.execute(insert(Household.__table__).values(
        kk_number=kk_number, area_code=area_code, version=1, created_at=_now(), updated_at=_now())
        .on_conflict_do_nothing(index_elements=["kk_number"]))
    return by_kk(kk_number)


def _now():
    from casemgmt.dbtypes import utcnow

    return utcnow()


def place(child: Child, kk_number: str | None, relationship: str | None) -> Household | None:
    """Put the child in the household of ``kk_number`` (recorded when new) with its relationship to
    the head; no number takes the child out of any. The caller checks who may, and audits."""
    household = household_for(kk_number, child.area_code) if kk_number else None
    child.household = household
    child.household_id = household.id if household is not None else None
    child.relationship_to_head = relationship if household is not None else None
    return household


# ---- the offer at intake ----------------------------------------------------------------------

@dataclass(frozen=True)
class HouseholdOffer:
    """A household a new complaint's child may belong to. ``same_kk``: the KK number given is
    known and the child joins it; the cases named are only those the worker may already see.
    ``same_nik``: no KK number was given and a child of the same NIK belongs to a household,
    named by that case's number alone (what the duplicate check shows anyway); the worker says
    whether to add the child to it."""
    household_id: int
    reason: str
    case_numbers: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        if self.reason == "same_nik":
            return _("Case %(number)s, of a child with the same NIK, belongs to a family (Kartu Keluarga) "
                     "recorded here. Add this child to that family?", number=self.case_numbers[0])
        return _("This KK number is already recorded: the child joins the family of cases %(numbers)s.",
                 numbers=", ".join(self.case_numbers))


_HOUSEHOLD_CASES = (select(Case.id, Case.number, Case.district_code, Case.assigned_worker_id, Case.stage,
                           Complaint.registered_by_id)
                    .join(Child, Child.id == Case.child_id).join(Complaint, Complaint.id == Case.complaint_id)
                    .where(Child.household_id == bindparam("household_id")).order_by(Case.id))


@dataclass
class _Facts:
    id: int
    number: str
    district_code: str
    assigned_worker_id: int | None
    stage: str
    registered_by_id: int


def household_offer(user, child: dict) -> HouseholdOffer | None:
    """What the complaint form tells the worker about the child's household (HouseholdOffer)."""
    household = by_kk(child.get("kk_number"))
    if household is not None:
        facts = [_Facts(*row) for row in db.session.execute(_HOUSEHOLD_CASES, {"household_id": household.id})]
        accesses = household_access(user, facts).cases
        seen = tuple(f.number for f in facts if accesses[f.id].view)
        return HouseholdOffer(household.id, "same_kk", seen) if seen else None
    if child.get("kk_number") or not child.get("nik"):
        return None
    row = db.session.execute(select(Child.household_id, Case.number).join(Case, Case.child_id == Child.id)
                             .where(Child.nik == child["nik"], Child.household_id.is_not(None))
                             .order_by(Case.id.desc()).limit(1)).first()
    return HouseholdOffer(row.household_id, "same_nik", (row.number,)) if row else None


# ---- the head ----------------------------------------------------------------------------------

def set_head(case: Case, name: str | None, sex: str | None, actor) -> Household:
    """Record the head of the household of ``case``'s child, as the Kartu Keluarga names them: for
    whoever may edit the case."""
    from casemgmt.access import case_access
    from casemgmt.cases.intake import text_or_none

    if not case_access(actor, case).edit:
        raise Forbidden()
    household = case.child.household
    if household is None:
        raise ValidationFailed({"household": _("Give the child's KK number first.")})
    name = text_or_none(name, 120)
    sex = sex or None
    if sex is not None and sex not in SEXES:
        raise ValidationFailed({"head_sex": _("Choose female or male.")})
    before = {"head_name": household.head_name, "head_sex": household.head_sex}
    household.head_name, household.head_sex = name, sex
    after = {"head_name": name, "head_sex": sex}
    if before != after:
        # The names stay out of the audit row, as the sensitive details' do: which fields changed.
        audit.record("household_head_set", "household", household.id, actor=actor,
                     after={"fields": sorted(k for k in after if before[k] != after[k]), "case_id": case.id})
    db.session.flush()
    return household


# ---- what a viewer sees ---------------------------------------------------------------------------

_MEMBERS = (listing.LIST.add_columns(Case.child_id, Child.relationship_to_head.label("relationship"))
            .where(Child.household_id == bindparam("household_id")).order_by(Case.id))


@dataclass
class Member:
    child_id: int
    name: str                 # initials unless the viewer sees the child in full on one of their cases
    sex: str
    birth_date: date | None   # None unless as for the name
    relationship: str | None
    cases: list[tuple[listing.CaseRow, CaseAccess]] = field(default_factory=list)  # those the viewer sees


@dataclass
class HouseholdView:
    household: Household
    access: HouseholdAccess
    kk_number: str | None     # None unless the viewer sees one of its children in full
    head_name: str | None
    head_sex: str | None
    members: list[Member]

    @property
    def visible_case_ids(self) -> list[int]:
        return [row.id for member in self.members for row, access in member.cases]


def _rank(relationship: str | None) -> int:
    return int(relationship) if relationship else 99


def view(user, household_id) -> HouseholdView | None:
    """The household as ``user`` is shown it, or None when they may see none of its cases (then
    it is a 404, never a hint that it exists).

    A member is listed to whoever may see one of the member's cases, and to whoever works on one
    of the family's cases (its social worker or coordinator: they plan for the family); each
    member's cases only as far as the viewer may see them (access.household_access)."""
    household = db.session.get(Household, household_id) if isinstance(household_id, int) else None
    if household is None:
        return None
    rows = listing.read(_MEMBERS, {"household_id": household.id})
    access = household_access(user, rows)
    if not access.view:
        return None
    by_child: dict[int, list[listing.CaseRow]] = {}
    for row in rows:
        by_child.setdefault(row.child_id, []).append(row)
    members = []
    for child_rows in by_child.values():
        ids = [row.id for row in child_rows]
        if not access.shows_member(ids):
            continue
        first = child_rows[0]
        full = access.member_identity(ids)
        members.append(Member(
            child_id=first.child_id, name=first.child_name if full else initials(first.child_name),
            sex=first.child_sex, birth_date=first.child_birth_date if full else None,
            relationship=first.relationship,
            cases=[(row, access.cases[row.id]) for row in child_rows if access.cases[row.id].view]))
    members.sort(key=lambda m: (_rank(m.relationship), m.birth_date or date.max, m.child_id))
    head_name = household.head_name
    if head_name and not access.identity:
        head_name = initials(head_name)
    return HouseholdView(household, access, household.kk_number if access.identity else None, head_name,
                         household.head_sex, members)


def record_view(user, shown: HouseholdView, action: str, except_case_id: int | None = None,
                flush: bool = True) -> None:
    """An access-log row for each case of the household the viewer was shown (a child's record
    seen is logged on that child's case), but the one the page itself logs (``except_case_id``;
    ``flush=False``: that log's flush writes these rows too)."""
    audit.log_accesses(user, action, "household", shown.household.id,
                       [case_id for case_id in shown.visible_case_ids if case_id != except_case_id])
    if flush:
        db.session.flush()
