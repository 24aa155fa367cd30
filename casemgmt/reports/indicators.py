"""The district's and province's indicators for a period, from the case records.

Counts of fewer than five are shown as "<5" to analysts and in anything they download
(``suppress``), so that no child can be recognised from a small number.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_, select

from casemgmt.access import small_counts_hidden, within
from casemgmt.extensions import db
from casemgmt.reports import tally
from casemgmt.reports.models import IndicatorBucket
from casemgmt.reports.tally import AGE_GROUPS

DELIVERED_SERVICES = ("birth_certificate", "education", "health", "psychosocial", "legal_aid")
SMALL = 5


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive


def quarter(year: int, q: int) -> Period:
    start = date(year, 3 * (q - 1) + 1, 1)
    end = date(year + (q == 4), (3 * q) % 12 + 1, 1) - timedelta(days=1)
    return Period(start, end)


def _median(histogram: dict) -> float | None:
    """The median of values counted by their tenths ({"3.4": 2, ...}), as statistics.median gives."""
    values = sorted((float(v), n) for v, n in histogram.items() if n > 0)
    total = sum(n for _v, n in values)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found, seen = [], 0
    for value, n in values:
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return round(sum(found) / 2, 1)


def _whole_months(period: Period) -> tuple[date, date] | None:
    """The first and last whole calendar months inside the period, if any."""
    first = period.start if period.start.day == 1 else tally.next_month(period.start)
    last = tally.month_of(period.end)
    if (period.end + timedelta(days=1)).day != 1:
        last = tally.month_of(last - timedelta(days=1))
    return (first, last) if first <= last else None


def _buckets(area_code: str, period: Period, sections=tally.SECTIONS):
    """(grain, start, section, data) of the buckets covering the period: whole months from the
    monthly roll-up, the days at either end from the daily buckets."""
    table = IndicatorBucket.__table__
    where = [within(table.c.district_code, area_code), table.c.section.in_(sections)]
    months = _whole_months(period)
    if months:
        first, last = months
        spans = [and_(table.c.grain == "month", table.c.start >= first, table.c.start <= last)]
        if period.start < first:
            spans.append(and_(table.c.grain == "day", table.c.start >= period.start, table.c.start < first))
        if tally.next_month(last) <= period.end:
            spans.append(and_(table.c.grain == "day", table.c.start >= tally.next_month(last),
                              table.c.start <= period.end))
    else:
        spans = [and_(table.c.grain == "day", table.c.start >= period.start, table.c.start <= period.end)]
    return db.session.execute(select(table.c.grain, table.c.start, table.c.section, table.c.data)
                              .where(*where, or_(*spans)))


def compute(area_code: str, period: Period) -> dict:
    """Every indicator for the cases whose complaint was received in the period within the area
    (closures, referrals and services by their own dates in the period), read from the buckets
    that ``casemgmt.reports.tally`` keeps."""
    tally.ensure_current(area_code)
    totals = {section: defaultdict(Counter) for section in tally.SECTIONS}
    by_month: Counter = Counter()
    for grain, start, section, data in _buckets(area_code, period):
        decoded = tally.merge_into(totals[section], data)
        if section == "intake":
            by_month[start.strftime("%Y-%m")] += sum(decoded.get("complaints", {}).values())
    intake = totals["intake"]
    by_area: Counter = Counter()
    for village, n in intake["village"].items():
        by_area[".".join(village.split(".")[:3])] += n
    by_age = {g: 0 for g in AGE_GROUPS}
    by_age.update(intake["age"])
    result: dict = {
        "area_code": area_code, "from": period.start.isoformat(), "to": period.end.isoformat(),
        "complaints": sum(intake["complaints"].values()), "cases": intake["cases"][""],
        "complaints_by_month": {m: n for m, n in sorted(by_month.items()) if n},
        "complaints_by_channel": dict(intake["complaints"]),
        "by_sex": dict(intake["sex"]),
        "by_age_group": by_age,
        "by_stage": dict(intake["stage"]),
        "by_area": dict(by_area),
        "by_village": dict(intake["village"]),
        "by_concern": dict(intake["concern"]),
        "closed_by_reason": dict(totals["closure"]["closed"]),
        "median_days": {key: _median(intake[key]) for key in ("triage", "assessment", "approved_plan")},
    }
    result["referrals"], result["referrals_by_service"], result["referrals_by_agency"] = _referrals(
        totals["referral"])
    delivered = totals["delivered"]["delivered"]
    result["services_delivered"] = {s: delivered.get(s, 0) for s in DELIVERED_SERVICES}
    return result


def answer_hours(area_code: str, period: Period) -> dict[str, float]:
    """The median hours each agency took to answer the referrals sent in the period within the
    area (agency's name -> hours, those that answered any), as ``compute`` gives them, from the
    referral buckets alone: the coordinator's home reads them instead of every referral of the
    last 90 days, which is slow in a large district. As every indicator, a referral counts
    where its child lives (the case's village), and by the local day it was sent.
    Read as the background worker last counted them (every minute), not recounted first as
    ``compute`` does: a home page does not write, and its other figures are not held up by a
    recount."""
    totals: dict = defaultdict(Counter)
    for _grain, _start, _section, data in _buckets(area_code, period, sections=("referral",)):
        tally.merge_into(totals, data)
    _all, _by_service, by_agency = _referrals(totals)
    return {name: group["median_response_hours"] for name, group in by_agency.items()
            if group["median_response_hours"] is not None}


def _agency_names(ids) -> dict[int, str]:
    from casemgmt.directory.models import Organisation

    return dict(db.session.execute(select(Organisation.id, Organisation.name)
                                   .where(Organisation.id.in_(list(ids) or [0]))).all())


def _referrals(counts: dict):
    """Sent, answered and completed referrals with rates and the median hours to an answer:
    in all, by service and by agency."""
    groups: dict = defaultdict(lambda: {"status": Counter(), "hours": Counter()})
    for key, n in counts["referral"].items():
        service, agency, status = key.split(tally.SEP)
        for group in ("all", ("service", service), ("agency", int(agency))):
            groups[group]["status"][status] += n
    for key, n in counts["hours"].items():
        service, agency, hours = key.split(tally.SEP)
        for group in ("all", ("service", service), ("agency", int(agency))):
            groups[group]["hours"][hours] += n

    def summary(group):
        status = group["status"]
        accepted = status["accepted"] + status["completed"]
        declined, completed = status["declined"], status["completed"]
        answered = accepted + declined
        return {"sent": sum(status.values()), "accepted": accepted, "declined": declined, "completed": completed,
                "acceptance_rate": round(accepted / answered, 3) if answered else None,
                "completion_rate": round(completed / accepted, 3) if accepted else None,
                "median_response_hours": _median(group["hours"])}

    agencies = [g[1] for g in groups if g != "all" and g[0] == "agency"]
    names = _agency_names(agencies)
    by_service = {g[1]: summary(v) for g, v in sorted(groups.items(), key=str) if g != "all" and g[0] == "service"}
    by_agency = {names.get(a, str(a)): summary(groups[("agency", a)])
                 for a in sorted(agencies, key=lambda a: names.get(a, ""))}
    return summary(groups["all"]), by_service, by_agency


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
    if not small_counts_hidden(user):
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
