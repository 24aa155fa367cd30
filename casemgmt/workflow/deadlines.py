"""The SOP's clocks (DOMAIN.md defaults): how long each step may take, by risk level.

Defaults, not law; the workflow issue lets a district's admin change them per district.
"""
from __future__ import annotations

from datetime import datetime, timedelta

# clock -> {risk level or "urgent"/"normal" -> duration}
DEFAULT_CLOCKS: dict[str, dict[str, timedelta]] = {
    "triage": {"urgent": timedelta(hours=24), "normal": timedelta(hours=72)},
    "assessment": {"high": timedelta(days=3), "medium": timedelta(days=7), "low": timedelta(days=14)},
    "plan": {"high": timedelta(days=7), "medium": timedelta(days=14), "low": timedelta(days=30)},
    "monitoring_visit": {"high": timedelta(days=14), "medium": timedelta(days=30), "low": timedelta(days=90)},
    "referral_answer": {"urgent": timedelta(hours=24), "normal": timedelta(hours=72)},
}


def triage_due(received_at: datetime, urgent: bool) -> datetime:
    """A new complaint is triaged within 24 hours when urgent, 72 hours otherwise."""
    return received_at + DEFAULT_CLOCKS["triage"]["urgent" if urgent else "normal"]
