"""What of a child a receiving organisation sees: only what its service needs (UU SPPA Art. 19)."""
from __future__ import annotations

# Child fields disclosed by service. Never: the reporter, the narrative, other concerns.
BASE = ("name", "sex", "birth_date", "area")
FIELDS_BY_SERVICE: dict[str, tuple[str, ...]] = {
    "birth_certificate": BASE + ("nik", "address", "caregiver"),
    "education": BASE + ("caregiver",),
    "health": BASE + ("address", "caregiver"),
    "psychosocial": BASE + ("caregiver",),
    "legal_aid": BASE + ("caregiver",),
    "police": BASE + ("address", "caregiver"),
    "safe_house": BASE + ("caregiver",),
    "family_support": BASE + ("address", "caregiver"),
    "social_assistance": BASE + ("nik", "address", "caregiver"),
    "rehabilitation": BASE + ("caregiver",),
    "diversion": BASE + ("nik", "caregiver"),
    "reintegration": BASE + ("address", "caregiver"),
    "case_management": BASE + ("nik", "address", "caregiver"),
}


def fields_for(service: str) -> tuple[str, ...]:
    return FIELDS_BY_SERVICE.get(service, BASE)
