"""The outreach rules over a population extract, as data beside the SOP table.

Each rule is a name, a label, the action it asks for and a predicate: an SQL condition over one
extract row ``p`` (population_person) that may look at the rest of its Kartu Keluarga through
the same table (same ``import_id`` and ``kk_number``). Ages are whole years at the extract's
date (``p.age``). A district adds a rule by adding an entry here; validate() refuses to start
with a table that does not hold together, and tests/test_population.py checks each predicate
row by row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import text


@dataclass(frozen=True)
class OutreachRule:
    name: str
    label: object
    action: object  # what the village worker is asked to do
    predicate: str


# The KK's other members: the same extract, the same KK number.
_SAME_KK = "m.import_id = p.import_id AND m.kk_number = p.kk_number"

RULES: tuple[OutreachRule, ...] = (
    OutreachRule("no_birth_certificate", _l("No birth certificate"),
                 _l("Send a referral letter to Dukcapil for a birth certificate, or open a case."),
                 "p.age < 18 AND NOT p.has_birth_certificate"),
    OutreachRule("female_headed_household", _l("Household headed by a woman"),
                 _l("Visit the family and assess what support it needs."),
                 "p.age < 18 AND EXISTS (SELECT 1 FROM population_person m WHERE " + _SAME_KK
                 + " AND m.relationship = 1 AND m.sex = 'F')"),
    OutreachRule("child_marriage", _l("Married before 19"),
                 _l("Visit the child and open a case if the child needs protection."),
                 "p.age < 19 AND p.marital_status IS NOT NULL AND p.marital_status <> 1"),
    OutreachRule("no_parent_in_household", _l("No parent in the household"),
                 _l("Visit the household and check who cares for the child."),
                 "p.age < 18 AND NOT EXISTS (SELECT 1 FROM population_person m WHERE " + _SAME_KK
                 + " AND (m.nik = p.nik_mother OR m.nik = p.nik_father))"),
    OutreachRule("out_of_school", _l("Out of school"),
                 _l("Visit the family and arrange a return to school with the school or Dinas Pendidikan."),
                 "p.age BETWEEN 10 AND 17 AND p.education = 1"),
)

RULE_NAMES = tuple(rule.name for rule in RULES)
_NAME = re.compile(r"^[a-z][a-z0-9_]{2,39}$")
# A predicate reads the extract only: no statement separator, no comment, no writing keyword.
_FORBIDDEN = re.compile(r";|--|/\*|\b(insert|update|delete|drop|alter|create|attach|pragma)\b", re.I)


class BadRuleTable(RuntimeError):
    pass


def rule(name: str) -> OutreachRule:
    for candidate in RULES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def validate(rules=RULES) -> None:
    """Refuse a table with a duplicated or malformed name, or a predicate that is not a plain
    condition over ``p``."""
    seen = set()
    for entry in rules:
        if not _NAME.match(entry.name) or entry.name in seen:
            raise BadRuleTable(f"outreach rule name {entry.name!r} is malformed or repeated")
        seen.add(entry.name)
        if _FORBIDDEN.search(entry.predicate) or "p." not in entry.predicate:
            raise BadRuleTable(f"outreach rule {entry.name!r}: its predicate must be a condition over p")


def matching_people(entry: OutreachRule, import_id: int):
    """SQL: the ids of the people of an extract that the rule lists."""
    return text(f"SELECT p.id FROM population_person p WHERE p.import_id = :import_id AND ({entry.predicate})"
                ).bindparams(import_id=import_id)


def list_outreach(entry: OutreachRule, import_id: int):
    """SQL: one open outreach row per person the rule lists (run at import)."""
    return text("INSERT INTO outreach_item (import_id, person_id, rule, area_code, status, version) "
                f"SELECT p.import_id, p.id, :rule, p.area_code, 'open', 1 FROM population_person p "
                f"WHERE p.import_id = :import_id AND ({entry.predicate})"
                ).bindparams(import_id=import_id, rule=entry.name)


validate()
