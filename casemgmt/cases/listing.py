"""Cases read as plain rows, not ORM objects: the list page, the API and the exports.

Building Case objects with their joined complaint, child, village and worker is a large part of
a list request on a big database; a row of named columns costs a fraction of that.
A CaseRow answers what the list's readers ask of a case: its columns by name, its concerns,
whether it is overdue (models.CaseState), its village's name, and the five facts
access.case_access decides on, so masking is decided exactly as for a Case.
"""
from __future__ import annotations

from sqlalchemy import func, join, select

from casemgmt.accounts.models import User
from casemgmt.cases.models import Case, CaseConcern, CaseSensitive, CaseState, Child, Complaint, Household
from casemgmt.directory.models import Area, area_label, level_of
from casemgmt.extensions import db

# Each case's concern codes in one text (sorted when read): a correlated lookup on
# case_concern's primary key, so a page needs no second query.
_CONCERNS = (select(func.aggregate_strings(CaseConcern.concern, ","))
             .where(CaseConcern.case_id == Case.id).scalar_subquery().label("concern_codes"))

# The village's name and the worker's are looked up per row rather than joined: PostgreSQL plans
# a select afresh on each call, and each relation joined multiplies the join orders it weighs
# (with six relations, planning the list's select costs several times what running it does).
_AREA_NAME = select(Area.name).where(Area.code == Case.area_code).scalar_subquery().label("area_name")
_WORKER_NAME = (select(User.full_name).where(User.id == Case.assigned_worker_id)
                .scalar_subquery().label("worker_name"))

_FROM = (join(Case, Complaint, Complaint.id == Case.complaint_id)
         .join(Child, Child.id == Case.child_id))

_LIST_COLUMNS = (
    Case.id, Case.number, Case.stage, Case.status, Case.risk_level, Case.urgent, Case.district_code,
    Case.area_code, Case.assigned_worker_id, Case.due_at, Case.created_at, Complaint.registered_by_id,
    Child.name.label("child_name"), Child.sex.label("child_sex"), Child.birth_date.label("child_birth_date"),
    _AREA_NAME, _WORKER_NAME, _CONCERNS,
)

# The selects the readers start from (access.scope_cases and the filters add their conditions).
# What a list shows: the list page and the exports.
LIST = select(*_LIST_COLUMNS).select_from(_FROM)

# Everything the API's case body may carry; api.cases.case_json masks it by access.
FULL = select(
    *_LIST_COLUMNS, Case.updated_at, Case.version, Case.complaint_id,
    Child.birth_date_estimated.label("child_birth_date_estimated"), Child.nik.label("child_nik"),
    Child.area_code.label("child_area_code"), Child.address.label("child_address"),
    Child.caregiver_name.label("child_caregiver_name"),
    Child.caregiver_relationship.label("child_caregiver_relationship"),
    Child.caregiver_phone.label("child_caregiver_phone"),
    Child.household_id.label("household_id"),
    select(Household.kk_number).where(Household.id == Child.household_id).scalar_subquery().label("household_kk"),
    Complaint.description, Complaint.channel, Complaint.received_at, Complaint.reporter_anonymous,
    Complaint.reporter_name, Complaint.reporter_phone, Complaint.reporter_relationship,
    CaseSensitive.case_id.label("sensitive_case_id"), CaseSensitive.alleged_perpetrator,
    CaseSensitive.perpetrator_relationship, CaseSensitive.sexual_violence_details, CaseSensitive.hiv_status,
).select_from(_FROM.outerjoin(CaseSensitive, CaseSensitive.case_id == Case.id))


class CaseRow(CaseState):
    """One case of a list: the row's columns as attributes, and ``concerns``, its sorted codes."""

    def __init__(self, values: dict):
        # Plain attributes: a list reads some forty of them per case, an export millions.
        self.__dict__ = values
        codes = self.__dict__.pop("concern_codes")
        self.concerns = sorted(codes.split(",")) if codes else []

    @property
    def area_display(self) -> str:
        return area_label(self.area_code, level_of(self.area_code), self.area_name)


# Rows are read by position and their names (never row._mapping[Case.id]), so SQLAlchemy need not
# map the cached select's columns onto each new select's: for a select built afresh, that mapping
# hashes each column into the cached one's, and annotated columns compare with == (an SQL
# expression built and tested per column), a large share of a list request. The ORM sets the
# same (private, but harmless if ever dropped: the mapping would just come back).
_BY_POSITION = {"_result_disable_adapt_to_context": True}


def read(statement, params: dict | None = None) -> list[CaseRow]:
    """Run a select that starts from LIST or FULL (with ``params``, the values of its bindparams)."""
    # Core, not the ORM's execution: these are plain columns, and the ORM's result processing
    # would be a sizeable share of a list request. (The session's connection: same transaction;
    # flushed first, as the ORM would autoflush.)
    db.session.flush()
    result = db.session.connection().execute(statement, params, execution_options=_BY_POSITION)
    keys = list(result.keys())  # once: Row._asdict() builds them again for each row
    return [CaseRow(dict(zip(keys, row))) for row in result]


def one(case_id: int) -> CaseRow:
    """One case as FULL reads it (the API answers a single case in the shape of its list)."""
    return read(FULL.where(Case.id == case_id))[0]
