"""Who has seen or changed a child's record; everything held about a child; anonymising old cases."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from casemgmt.audit import services as audit
from casemgmt.audit.models import AccessLogEntry, AuditEntry
from casemgmt.cases.models import Attachment, Case, CaseConcern, CaseEvent, Child
from casemgmt.cases.search import build_search_text
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db


@dataclass
class Trace:
    at: datetime
    who: str
    role: str
    kind: str      # "viewed" or "changed"
    what: str


def who_saw(case: Case, viewer=None) -> list[Trace]:
    """Every view and change of the case's record, and of its referrals, newest first: what a
    coordinator needs within hours when a breach must be reported (3x24 hours under UU PDP).
    Looking is itself logged when a ``viewer`` asks."""
    if viewer is not None:
        audit.log_access(viewer, "view_access_log", "case", case.id, case_id=case.id)
        db.session.flush()
    from casemgmt.accounts.models import User
    from casemgmt.referrals.models import Referral

    referral_ids = [str(i) for i in db.session.scalars(select(Referral.id).where(Referral.case_id == case.id))]
    views = list(db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.case_id == case.id)))
    changes = list(db.session.scalars(select(AuditEntry).where(or_(
        (AuditEntry.object_type == "case") & (AuditEntry.object_id == str(case.id)),
        (AuditEntry.object_type == "referral") & (AuditEntry.object_id.in_(referral_ids or ["-"]))))))
    named = {e.user_id for e in views} | {e.actor_id for e in changes}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(named - {None} or {0})))}
    traces = []
    for entry in views:
        user = users.get(entry.user_id)
        traces.append(Trace(entry.at, user.full_name if user else "?", user.role if user else "", "viewed",
                            f"{entry.action} {entry.object_type} {entry.object_id or ''}".strip()))
    for entry in changes:
        user = users.get(entry.actor_id)
        traces.append(Trace(entry.at, user.full_name if user else "system", user.role if user else "", "changed",
                            f"{entry.action} {entry.object_type} {entry.object_id}"))
    traces.sort(key=lambda t: t.at, reverse=True)
    return traces


def _iso(value):
    return value.isoformat() if value is not None else None


def subject_access(case: Case, viewer=None) -> dict:
    """Everything held about the child of this case, across every case of the same child.

    The reporter's identity is a third party's data and stays confidential; it is withheld here.
    The export is logged and audited when a ``viewer`` asks.
    """
    if viewer is not None:
        audit.log_access(viewer, "subject_access_export", "case", case.id, case_id=case.id)
        audit.record("subject_access_export", "case", case.id, actor=viewer)
        db.session.flush()
    from casemgmt.cases.records import sensitive_of
    from casemgmt.referrals.models import Referral
    from casemgmt.workflow.models import Assessment, MonitoringVisit, PlanGoal

    child = case.child
    cases = list(db.session.scalars(select(Case).where(Case.child_id == child.id).order_by(Case.id)))
    out = {
        "generated_at": utcnow().isoformat(),
        "child": {"name": child.name, "sex": child.sex, "birth_date": _iso(child.birth_date),
                  "birth_date_estimated": child.birth_date_estimated, "nik": child.nik, "area_code": child.area_code,
                  "address": child.address, "caregiver_name": child.caregiver_name,
                  "caregiver_relationship": child.caregiver_relationship, "caregiver_phone": child.caregiver_phone,
                  "kk_number": child.household.kk_number if child.household_id else None,
                  "relationship_to_head": child.relationship_to_head},
        "reporter": "withheld: the identity of whoever reported is confidential (third-party data)",
        "cases": [],
    }
    for c in cases:
        sensitive = sensitive_of(c)
        assessment = db.session.scalar(select(Assessment).where(Assessment.case_id == c.id))
        goals = list(db.session.scalars(select(PlanGoal).where(PlanGoal.case_id == c.id)))
        out["cases"].append({
            "number": c.number, "stage": c.stage, "status": c.status, "risk_level": c.risk_level,
            "opened": _iso(c.created_at), "closed": _iso(c.closed_at), "closure_reason": c.closure_reason,
            "closure_summary": c.closure_summary,
            "concerns": list(db.session.scalars(select(CaseConcern.concern).where(CaseConcern.case_id == c.id))),
            "complaint": {"received_at": _iso(c.complaint.received_at), "channel": c.complaint.channel,
                          "description": c.complaint.description},
            "sensitive": ({"alleged_perpetrator": sensitive.alleged_perpetrator,
                           "perpetrator_relationship": sensitive.perpetrator_relationship,
                           "sexual_violence_details": sensitive.sexual_violence_details,
                           "hiv_status": sensitive.hiv_status} if sensitive else None),
            "assessment": ({"risk_level": assessment.risk_level, "needs": assessment.needs,
                            "summary": assessment.summary} if assessment else None),
            "plan": [{"goal": g.description, "actions": [
                {"description": a.description, "service": a.service, "status": a.status,
                 "due_date": _iso(a.due_date), "done_on": _iso(a.done_on)} for a in g.actions]} for g in goals],
            "monitoring_visits": [{"visited_on": _iso(v.visited_on), "progress": v.progress, "notes": v.notes}
                                  for v in db.session.scalars(select(MonitoringVisit).where(
                                      MonitoringVisit.case_id == c.id))],
            "referrals": [{"reference": r.reference, "service": r.service, "to": r.to_organisation.name,
                           "status": r.status, "created_at": _iso(r.created_at), "outcome": r.outcome}
                          for r in db.session.scalars(select(Referral).where(Referral.case_id == c.id))],
            "timeline": [{"at": _iso(e.at), "action": e.kind, "from_stage": e.from_stage, "to_stage": e.to_stage,
                          "comment": e.comment}
                         for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == c.id)
                                                     .order_by(CaseEvent.at, CaseEvent.id))],
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                             "uploaded_at": _iso(a.uploaded_at)}
                            for a in db.session.scalars(select(Attachment).where(Attachment.case_id == c.id))],
            "seen_or_changed_by": [{"at": _iso(t.at), "who": t.who, "role": t.role, "kind": t.kind, "what": t.what}
                                   for t in who_saw(c)],
        })
    return out


ANONYMOUS = "Anonim"


def anonymise(older_than_years: int, *, dry_run: bool = False, now: datetime | None = None) -> dict[str, int]:
    """Replace the identifying fields of cases closed more than ``older_than_years`` ago.

    Kept, so the indicators still count them: sex, birth year, village, concerns, stages, dates,
    referrals' services and statuses, closure reasons. Removed: names, NIK, address, family,
    the reporter, narratives, notes, sensitive details and attachments.
    """
    from casemgmt.cases.models import CaseSensitive, ComplaintLink
    from casemgmt import storage
    from casemgmt.referrals.models import Referral

    now = now or utcnow()
    cutoff = now - timedelta(days=round(365.25 * older_than_years))
    cases = list(db.session.scalars(select(Case).where(Case.status == "closed", Case.closed_at < cutoff,
                                                       Case.anonymised_at.is_(None))))
    result = {"cases": len(cases), "attachments": 0}
    if dry_run:
        result["attachments"] = db.session.scalar(select(func.count(Attachment.id)).where(
            Attachment.case_id.in_([c.id for c in cases] or [0])))
        return result
    for case in cases:
        child: Child = case.child
        if child.birth_date:
            child.birth_date = child.birth_date.replace(month=7, day=1)  # keeps the age group, not the day
            child.birth_date_estimated = True
        child.name, child.name_key, child.nik, child.address = ANONYMOUS, "", None, None
        child.caregiver_name = child.caregiver_relationship = child.caregiver_phone = None
        child.household, child.relationship_to_head = None, None  # the family card links to the family
        complaint = case.complaint
        complaint.reporter_name = complaint.reporter_phone = complaint.reporter_relationship = None
        complaint.description = ""
        case.closure_summary = None
        for event in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)):
            event.comment = None
        for link in db.session.scalars(select(ComplaintLink).where(ComplaintLink.case_id == case.id)):
            link.child_name = ANONYMOUS
        for referral in db.session.scalars(select(Referral).where(Referral.case_id == case.id)):
            referral.reason, referral.outcome = "-", None
            referral.decline_reason = referral.cancel_reason = referral.consent_override_reason = None
        sensitive = db.session.get(CaseSensitive, case.id)
        if sensitive is not None:
            db.session.delete(sensitive)
        for attachment in db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)):
            storage.delete_file(attachment.storage_key)
            db.session.delete(attachment)
            result["attachments"] += 1
        # The number and the placeholder name; the child's old words leave search_word with it.
        case.search_text = build_search_text(case)
        case.anonymised_at = now
        audit.record("case_anonymised", "case", case.id, actor=None)
    return result
