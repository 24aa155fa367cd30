"""The district's and province's indicators for a period, from the case records.

Counts of fewer than five are shown as "<5" to analysts and in anything they download
(``suppress``), so that no child can be recognised from a small number.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_, select

from casemgmt.cases.identity import age_on
from casemgmt.cases.models import Case, CaseConcern, CaseEvent, Child, Complaint
from casemgmt.extensions import db

AGE_GROUPS = ("0-4", "5-9", "10-14", "15-17")
DELIVERED_SERVICES = ("birth_certificate", "education", "health", "psychosocial", "legal_aid")
SMALL = 5


def age_group(age: int) -> str:
    return AGE_GROUPS[min(max(age, 0) // 5, 3)]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def bounds(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        start = datetime.combine(self.start, time.min, tzinfo=zone).astimezone(ZoneInfo("UTC"))
        end = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone).astimezone(ZoneInfo("UTC"))
        return start, end


def quarter(year: int, q: int) -> Period:
    start = date(year, 3 * (q - 1) + 1, 1)
    end = date(year + (q == 4), (3 * q) % 12 + 1, 1) - timedelta(days=1)
    return Period(start, end)


def _in_area(column, area_code: str):
    return or_(column == area_code, column.like(area_code + ".%"))


def _local_month(dt: datetime) -> str:
    return dt.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y-%m")


def _days(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 86400, 1)


def _median(values):
    return round(median(values), 1) if values else None


def compute(area_code: str, period: Period) -> dict:
    """Every indicator for the cases whose complaint was received in the period within the area."""
    start, end = period.bounds()
    cases = list(db.session.execute(
        select(Case.id, Case.stage, Case.status, Case.closure_reason, Case.closed_at, Case.area_code,
               Child.sex, Child.birth_date, Complaint.id, Complaint.channel, Complaint.received_at)
        .join(Child, Child.id == Case.child_id).join(Complaint, Complaint.id == Case.complaint_id)
        .where(_in_area(Case.area_code, area_code), Complaint.received_at >= start, Complaint.received_at < end)))
    ids = [row[0] for row in cases]
    complaints = {row[8]: (row[9], row[10]) for row in cases}
    result: dict = {
        "area_code": area_code, "from": period.start.isoformat(), "to": period.end.isoformat(),
        "complaints": len(complaints), "cases": len(cases),
        "complaints_by_month": dict(sorted(Counter(_local_month(r) for _c, r in complaints.values()).items())),
        "complaints_by_channel": dict(Counter(c for c, _r in complaints.values())),
        "by_sex": dict(Counter(row[6] for row in cases)),
        "by_age_group": {g: 0 for g in AGE_GROUPS},
        "by_stage": dict(Counter(row[1] for row in cases)),
        "by_area": dict(Counter(".".join(row[5].split(".")[:3]) for row in cases)),
        "by_village": dict(Counter(row[5] for row in cases)),
    }
    for row in cases:
        if row[7] is not None:
            result["by_age_group"][age_group(age_on(row[7], row[10].date()))] += 1
    concerns = Counter()
    for chunk in _chunks(ids):
        concerns.update(db.session.scalars(select(CaseConcern.concern).where(CaseConcern.case_id.in_(chunk))))
    result["by_concern"] = dict(concerns)
    # Closures in the period, whatever the period of the complaint.
    closed = db.session.execute(select(Case.closure_reason).where(
        _in_area(Case.area_code, area_code), Case.closed_at >= start, Case.closed_at < end)).scalars()
    result["closed_by_reason"] = dict(Counter(r or "unknown" for r in closed))
    result["median_days"] = _median_days(cases)
    result["referrals"], result["referrals_by_service"], result["referrals_by_agency"] = _referrals(area_code, start, end)
    result["services_delivered"] = _delivered(area_code, start, end)
    return result


def _chunks(ids, size=900):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _median_days(cases) -> dict:
    """Days from the complaint to triage, to the assessment submitted, to the plan approved."""
    received = {row[0]: row[10] for row in cases}
    firsts: dict[str, dict[int, datetime]] = defaultdict(dict)
    wanted = {"report": "triage", "assessment": "assessment", "intervention_plan": "approved_plan"}
    for chunk in _chunks(list(received)):
        rows = db.session.execute(select(CaseEvent.case_id, CaseEvent.from_stage, CaseEvent.to_stage, CaseEvent.at)
                                  .where(CaseEvent.case_id.in_(chunk), CaseEvent.kind == "transition")
                                  .order_by(CaseEvent.at))
        for case_id, from_stage, to_stage, at in rows:
            key = wanted.get(from_stage)
            if key == "approved_plan" and to_stage != "intervention":
                continue
            if key and case_id not in firsts[key]:
                firsts[key][case_id] = at
    return {key: _median([_days(received[c], at) for c, at in firsts[key].items()])
            for key in ("triage", "assessment", "approved_plan")}


def _referrals(area_code: str, start: datetime, end: datetime):
    from casemgmt.referrals.models import Referral

    rows = list(db.session.execute(
        select(Referral.service, Referral.to_organisation_id, Referral.status, Referral.created_at,
               Referral.responded_at)
        .join(Case, Case.id == Referral.case_id)
        .where(_in_area(Case.area_code, area_code), Referral.created_at >= start, Referral.created_at < end)))

    def summary(group):
        accepted = sum(1 for r in group if r[2] in ("accepted", "completed"))
        declined = sum(1 for r in group if r[2] == "declined")
        completed = sum(1 for r in group if r[2] == "completed")
        answered = accepted + declined
        hours = [round((r[4] - r[3]).total_seconds() / 3600, 1) for r in group if r[4] is not None]
        return {"sent": len(group), "accepted": accepted, "declined": declined, "completed": completed,
                "acceptance_rate": round(accepted / answered, 3) if answered else None,
                "completion_rate": round(completed / accepted, 3) if accepted else None,
                "median_response_hours": _median(hours)}

    by_service, by_agency = defaultdict(list), defaultdict(list)
    for r in rows:
        by_service[r[0]].append(r)
        by_agency[r[1]].append(r)
    from casemgmt.directory.models import Organisation

    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(list(by_agency) or [0]))).all())
    return (summary(rows), {s: summary(g) for s, g in sorted(by_service.items())},
            {names.get(a, str(a)): summary(g) for a, g in sorted(by_agency.items(), key=lambda kv: names.get(kv[0], ""))})


def _delivered(area_code: str, start: datetime, end: datetime) -> dict:
    """Services delivered in the period: plan actions done, and referrals completed outside a plan."""
    from casemgmt.referrals.models import Referral
    from casemgmt.workflow.models import PlanAction

    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    first, last = start.astimezone(zone).date(), (end - timedelta(seconds=1)).astimezone(zone).date()
    counts = {s: 0 for s in DELIVERED_SERVICES}
    actions = db.session.execute(select(PlanAction.service).join(Case, Case.id == PlanAction.case_id).where(
        _in_area(Case.area_code, area_code), PlanAction.status == "done", PlanAction.done_on >= first,
        PlanAction.done_on <= last)).scalars()
    referrals = db.session.execute(select(Referral.service).join(Case, Case.id == Referral.case_id).where(
        _in_area(Case.area_code, area_code), Referral.status == "completed", Referral.plan_action_id.is_(None),
        and_(Referral.delivered_on >= first, Referral.delivered_on <= last))).scalars()
    for service in list(actions) + list(referrals):
        if service in counts:
            counts[service] += 1
    return counts


def suppress(value):
    """Small counts hidden: 1 to 4 become "<5"; zero stays zero (it identifies nobody)."""
    if isinstance(value, dict):
        return {k: suppress(v) for k, v in value.items()}
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return "<5" if 0 < value < SMALL else value


COUNT_KEYS = ("complaints", "cases", "complaints_by_month", "complaints_by_channel", "by_sex", "by_age_group",
              "by_stage", "by_area", "by_village", "by_concern", "closed_by_reason", "services_delivered")


def for_viewer(result: dict, user) -> dict:
    """The indicators as this user may see them: analysts get small counts suppressed."""
    if user.role != "analyst":
        return result
    out = dict(result)
    for key in COUNT_KEYS:
        out[key] = suppress(result[key])
    out["referrals"] = _suppress_group(result["referrals"])
    for key in ("referrals_by_service", "referrals_by_agency"):
        out[key] = {name: _suppress_group(group) for name, group in result[key].items()}
    if isinstance(out["cases"], str):  # medians of fewer than five cases would point at them
        out["median_days"] = {k: None for k in result["median_days"]}
    return out


def _suppress_group(group: dict) -> dict:
    small = 0 < group["sent"] < SMALL
    return {k: (suppress(v) if k in ("sent", "accepted", "declined", "completed") else (None if small else v))
            for k, v in group.items()}
