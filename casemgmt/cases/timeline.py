"""A case's timeline: what happened to it, written with each change and read on its page."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from casemgmt.cases.models import (
    Case,
    CaseEvent,
)
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db

def add_event(case: Case, kind: str, actor=None, *, comment: str | None = None, from_stage=None,
              to_stage=None, data: dict | None = None, at: datetime | None = None) -> CaseEvent:
    event = CaseEvent(case_id=case.id, kind=kind, actor_id=getattr(actor, "id", None), comment=comment,
                      from_stage=from_stage, to_stage=to_stage, data=data, at=at or utcnow())
    db.session.add(event)
    return event


_TIMELINE = {
    True: select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id"))
    .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()),
    False: select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id")).order_by(CaseEvent.at, CaseEvent.id),
}


def timeline(case: Case, newest_first: bool = True, until: datetime | None = None) -> list[CaseEvent]:
    """The case's events; ``until``: those up to that moment only (access.CaseAccess.until, a
    district that transferred the case out)."""
    if until is not None:
        query = _TIMELINE[newest_first].where(CaseEvent.at <= until)
        return list(db.session.scalars(query, {"case_id": case.id}))
    return list(db.session.scalars(_TIMELINE[newest_first], {"case_id": case.id}))
