"""The referral pathway of DOMAIN.md as data: village level, then the district PKSAI, then agencies."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from casemgmt.codes import ORGANISATION_KINDS


@dataclass(frozen=True)
class Tier:
    code: str
    label: str
    kinds: frozenset[str]


_COMMUNITY = frozenset({"patbm", "puskesos", "shelter_warga"})
_PKSAI = frozenset({"pksai"})

TIERS: tuple[Tier, ...] = (
    Tier("community", _l("Village level: PATBM, Puskesos, Shelter Warga"), _COMMUNITY),
    Tier("pksai", _l("District case management: PKSAI"), _PKSAI),
    Tier("agency", _l("Services and agencies"), frozenset(ORGANISATION_KINDS) - _COMMUNITY - _PKSAI),
)


def tier_of(kind: str) -> Tier:
    for tier in TIERS:
        if kind in tier.kinds:
            return tier
    raise KeyError(kind)


def group_by_tier(organisations) -> list[tuple[Tier, list]]:
    """Organisations grouped along the pathway, empty tiers left out."""
    groups = {tier.code: [] for tier in TIERS}
    for org in organisations:
        groups[tier_of(org.kind).code].append(org)
    return [(tier, groups[tier.code]) for tier in TIERS if groups[tier.code]]
