"""Where to refer a case for a service: along the pathway, nearest coverage first.

The rules are data: the pathway's tiers (referrals.pathway) and the coverage levels below.
An organisation is a candidate when it offers the service, is active, and covers the child's
village (through its coverage, or its seat when it lists none).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from casemgmt.directory.models import Organisation
from casemgmt.directory.services import get_area, list_organisations
from casemgmt.referrals.pathway import TIERS, tier_of

# How near a coverage code is to the child's village, by its depth: village first.
NEARNESS = {3: 0, 2: 1, 1: 2, 0: 3}


@dataclass(frozen=True)
class Suggestion:
    organisation: Organisation
    reason: str
    tier: str
    nearness: int


def _covering_code(org: Organisation, village: str) -> str | None:
    """The most specific of the organisation's areas that contains the village."""
    codes = org.covered_area_codes or [org.area_code]
    inside = [c for c in codes if village == c or village.startswith(c + ".")]
    return max(inside, key=lambda c: c.count(".")) if inside else None


def suggest_destinations(case, service: str, exclude_organisation_id: int | None = None) -> list[Suggestion]:
    village = case.child.area_code
    tier_order = {t.code: i for i, t in enumerate(TIERS)}
    out = []
    for org in list_organisations(service=service):
        if org.id == exclude_organisation_id:
            continue
        code = _covering_code(org, village)
        if code is None:
            continue
        tier = tier_of(org.kind).code
        area = get_area(code)
        if tier == "pksai":
            reason = _("district PKSAI")
        elif code.count(".") == 0:
            reason = _("covers the whole province")
        else:
            reason = _("covers %(area)s", area=area.display_name if area else code)
        out.append(Suggestion(org, reason, tier, NEARNESS[code.count(".")]))
    out.sort(key=lambda s: (tier_order[s.tier], s.nearness, s.organisation.name))
    return out
