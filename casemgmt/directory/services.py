"""Loading region codes, finding areas, and managing organisations."""
from __future__ import annotations

from dataclasses import dataclass

import csv
import gzip
import io
from importlib import resources

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from casemgmt.access import within as area_within
from casemgmt.audit import services as audit
from casemgmt.codes import ORGANISATION_KINDS, SERVICES
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import (
    Area,
    DistrictSettings,
    Organisation,
    OrganisationCoverage,
    OrganisationService,
    level_of,
    parent_of,
)
from casemgmt.errors import StaleVersion, ValidationFailed
from casemgmt.extensions import db

ORG_FIELDS = ("name", "kind", "area_code", "phone", "email", "address", "contact_person", "active")


# ---- areas --------------------------------------------------------------------------------

def read_region_codes(province: str | None = None):
    """Rows (code, name) of the shipped Kemendagri list, parents before children.

    The package carries the whole national list (Kepmendagri 300.2.2-2138/2025, compiled by
    cahyadsn/wilayah, MIT); ``province`` keeps one province's rows.
    """
    raw = resources.files("casemgmt.directory").joinpath("data/wilayah.csv.gz").read_bytes()
    reader = csv.reader(io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="utf-8"))
    next(reader)  # header
    rows = []
    for code, name in reader:
        if province and code != province and not code.startswith(province + "."):
            continue
        rows.append((code, name))
    rows.sort(key=lambda r: (r[0].count("."), r[0]))
    return rows


def load_areas(province: str | None = "73") -> dict[str, int]:
    """Insert missing areas and correct changed names. Returns counts."""
    rows = read_region_codes(province)
    if not rows:
        raise ValidationFailed({"province": _("No region codes start with %(code)s.", code=province)})
    existing = dict(db.session.execute(select(Area.code, Area.name)).all())
    to_insert, renamed = [], 0
    for code, name in rows:
        if code not in existing:
            to_insert.append({"code": code, "name": name, "level": level_of(code),
                              "parent_code": parent_of(code)})
        elif existing[code] != name:
            db.session.execute(Area.__table__.update().where(Area.code == code).values(name=name))
            renamed += 1
    for start in range(0, len(to_insert), 5000):
        db.session.execute(Area.__table__.insert(), to_insert[start:start + 5000])
    db.session.flush()
    return {"read": len(rows), "inserted": len(to_insert), "renamed": renamed}


def area_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Area)) or 0


def get_area(code: str | None) -> Area | None:
    return db.session.get(Area, code) if code else None


def children(parent: str | None) -> list[Area]:
    query = select(Area).order_by(Area.code)
    query = query.where(Area.parent_code == parent) if parent else query.where(Area.level == "province")
    return list(db.session.scalars(query))


def areas_by_code(codes: list[str]) -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.code.in_(codes)))) if codes else []


def lineage(code: str) -> list[Area]:
    """The area and its parents, province first."""
    codes = []
    parts = code.split(".")
    for depth in range(1, len(parts) + 1):
        codes.append(".".join(parts[:depth]))
    found = {a.code: a for a in db.session.scalars(select(Area).where(Area.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


def search_areas(text: str, *, within: str | None = None, level: str | None = None,
                 prefer: str | None = None, limit: int = 20) -> list[Area]:
    """Areas whose name or code matches, those inside ``prefer`` first (a worker's own area)."""
    text = (text or "").strip()
    if not text:
        return []
    pattern = f"%{text.lower()}%"
    query = select(Area).where(or_(func.lower(Area.name).like(pattern), Area.code.like(text + "%")))
    if within:
        query = query.where(area_within(Area.code, within))
    if level:
        query = query.where(Area.level == level)
    candidates = list(db.session.scalars(query.order_by(Area.code).limit(limit * 5)))

    def rank(area: Area):
        inside = bool(prefer) and (area.code == prefer or area.code.startswith(prefer + "."))
        starts = area.name.lower().startswith(text.lower())
        return (not inside, not starts, area.code)

    return sorted(candidates, key=rank)[:limit]


def parse_area_codes(text: str) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").replace("\n", ",").split(",")
            if part.strip()]


# ---- organisations ------------------------------------------------------------------------

def find_organisation(name: str) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == (name or "").strip().lower())
    )


def list_organisations(*, kind: str | None = None, service: str | None = None,
                       area_code: str | None = None, text: str | None = None,
                       active_only: bool = True) -> list[Organisation]:
    """Organisations filtered by kind, service offered and area (their own or one they cover)."""
    # The directory names each one's area: joined here, not read one organisation at a time.
    query = (select(Organisation).options(joinedload(Organisation.area), selectinload(Organisation.service_rows),
                                          selectinload(Organisation.coverage_rows))
             .order_by(Organisation.area_code, Organisation.name))
    if active_only:
        query = query.where(Organisation.active.is_(True))
    if kind:
        query = query.where(Organisation.kind == kind)
    if service:
        query = query.where(Organisation.service_rows.any(OrganisationService.service == service))
    if area_code:
        inside = area_within(Organisation.area_code, area_code)
        covers = Organisation.coverage_rows.any(area_within(OrganisationCoverage.area_code, area_code))
        query = query.where(or_(inside, covers))
    if text:
        query = query.where(func.lower(Organisation.name).like(f"%{text.strip().lower()}%"))
    return list(db.session.scalars(query))


def organisation_snapshot(org: Organisation) -> dict:
    data = {field: getattr(org, field) for field in ORG_FIELDS}
    data["services"] = org.services
    data["covers"] = org.covered_area_codes
    return data


def _validate_org(data: dict, existing: Organisation | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = _("Enter the organisation's name.")
    else:
        other = find_organisation(name)
        if other is not None and other is not existing:
            errors["name"] = _("An organisation with this name exists already.")
    if data.get("kind") not in ORGANISATION_KINDS:
        errors["kind"] = _("Choose a kind of organisation.")
    if get_area(data.get("area_code")) is None:
        errors["area_code"] = _("Unknown region code.")
    unknown_services = [s for s in data.get("services", []) if s not in SERVICES]
    if unknown_services:
        errors["services"] = _("Unknown services: %(codes)s", codes=", ".join(unknown_services))
    covers = data.get("covers", [])
    known = set(db.session.scalars(select(Area.code).where(Area.code.in_(covers)))) if covers else set()
    unknown_areas = [c for c in covers if c not in known]
    if unknown_areas:
        errors["covers"] = _("Unknown region codes: %(codes)s", codes=", ".join(unknown_areas))
    return errors


def _apply_org(org: Organisation, data: dict) -> None:
    for field in ORG_FIELDS:
        if field in data:
            value = data[field]
            if isinstance(value, str):
                value = value.strip() or (None if field not in ("name", "kind", "area_code") else value)
            setattr(org, field, value)
    if "services" in data:
        wanted = list(dict.fromkeys(data["services"]))
        org.service_rows = [row for row in org.service_rows if row.service in wanted] + [
            OrganisationService(service=s) for s in wanted if s not in org.services
        ]
    if "covers" in data:
        wanted = list(dict.fromkeys(data["covers"]))
        org.coverage_rows = [row for row in org.coverage_rows if row.area_code in wanted] + [
            OrganisationCoverage(area_code=c) for c in wanted if c not in org.covered_area_codes
        ]


def create_organisation(data: dict, actor) -> Organisation:
    data = {"services": [], "covers": [], **data}
    errors = _validate_org(data, None)
    if errors:
        raise ValidationFailed(errors)
    org = Organisation(name=data["name"].strip(), kind=data["kind"], area_code=data["area_code"])
    _apply_org(org, data)
    db.session.add(org)
    db.session.flush()
    audit.record("organisation_created", "organisation", org.id, actor=actor,
                 after=organisation_snapshot(org))
    db.session.flush()
    return org


def update_organisation(org: Organisation, data: dict, version: int, actor) -> Organisation:
    if version != org.version:
        raise StaleVersion()
    merged = {**organisation_snapshot(org), **data}
    errors = _validate_org(merged, org)
    if errors:
        raise ValidationFailed(errors)
    before = organisation_snapshot(org)
    _apply_org(org, data)
    b, a = audit.changes(before, organisation_snapshot(org))
    if a:
        # Touching the row makes the mapper bump its version even when only services or
        # coverage (other tables) changed, so a concurrent edit of those is caught too.
        org.updated_at = utcnow()
        audit.record("organisation_updated", "organisation", org.id, actor=actor, before=b, after=a)
    db.session.flush()
    return org


def villages_near(area_code: str | None) -> list[tuple[Area, list[Area]]]:
    """Villages of the kabupaten/kota around ``area_code``, grouped by kecamatan, the area's own
    kecamatan first: what a village worker is offered before searching."""
    if not area_code or "." not in area_code:
        return []
    parts = area_code.split(".")
    district, own_kecamatan = ".".join(parts[:2]), ".".join(parts[:3]) if len(parts) >= 3 else None
    kecamatans = children(district)
    villages = list(db.session.scalars(
        select(Area).where(Area.level == "village", area_within(Area.code, district)).order_by(Area.code)))
    by_parent: dict[str, list[Area]] = {}
    for village in villages:
        by_parent.setdefault(village.parent_code, []).append(village)
    kecamatans.sort(key=lambda k: (k.code != own_kecamatan, k.name))
    return [(k, by_parent.get(k.code, [])) for k in kecamatans]


def district_of(code: str | None) -> str | None:
    """The district (kabupaten/kota: a regency code such as 73.06) an area code lies in."""
    if not code or "." not in code:
        return None
    return ".".join(code.split(".")[:2])


def district_settings(code: str | None) -> DistrictSettings:
    """The settings of the district ``code`` lies in: its saved row, or an unsaved one holding
    the defaults when the district has not set anything (or ``code`` is above a district)."""
    district = district_of(code)
    saved = db.session.get(DistrictSettings, district) if district else None
    if saved is not None:
        return saved
    defaults = DistrictSettings(area_code=district)
    for column in DistrictSettings.__table__.columns:
        if column.default is not None and column.default.is_scalar:
            setattr(defaults, column.key, column.default.arg)
    return defaults


# The levels a place picker offers, widest first (Area.level).
PLACE_LEVELS = ("province", "regency", "district", "village")


@dataclass
class PickerLevel:
    level: str
    options: list  # Area rows to choose from (empty until the wider level is chosen)
    selected: str


def picker_levels(code: str | None, top: str = "regency", last: str = "village") -> list[PickerLevel]:
    """What a place picker shows for ``code``: for each level from ``top`` to ``last``, the places
    to choose from (the children of the place chosen one level up) and the one chosen."""
    levels = PLACE_LEVELS[PLACE_LEVELS.index(top):PLACE_LEVELS.index(last) + 1]
    chain = {a.level: a.code for a in lineage(code)} if code else {}
    first = (children(None) if top == "province"
             else list(db.session.scalars(select(Area).where(Area.level == top).order_by(Area.code))))
    result, parent = [], None
    for i, level in enumerate(levels):
        options = first if i == 0 else (children(parent) if parent else [])
        selected = chain.get(level, "")
        result.append(PickerLevel(level, options, selected))
        parent = selected or None
    return result


def pickable_areas(top: str | None) -> list[Area]:
    """The places an area picker offers under ``top`` (the widest area the user may choose): it
    and, for a province, its kabupaten/kota. Used with templates/_area_picker.html."""
    area = get_area(top)
    if area is None:
        return []
    return [area] + (children(area.code) if area.level == "province" else [])


SETTING_LIMITS = {"caseload_threshold": (1, 200), "population_retention_days": (1, 3650)}


def save_district_settings(user, district: str, data: dict, version: int | None) -> DistrictSettings:
    """Set a district's own values (digest_time, caseload_threshold, population_retention_days);
    all valid or nothing changes. Only its coordinator or an administrator."""
    from datetime import time

    from casemgmt.access import may_set_district
    from casemgmt.errors import Forbidden, check_version

    if district_of(district) != district or get_area(district) is None or not may_set_district(user, district):
        raise Forbidden()
    saved = db.session.get(DistrictSettings, district)
    check_version(saved, version)
    errors: dict[str, str] = {}
    if not isinstance(data.get("digest_time"), time):
        errors["digest_time"] = _("Give a time of day, for example 07:00.")
    for field, (low, high) in SETTING_LIMITS.items():
        value = data.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[field] = _("A whole number from %(low)d to %(high)d.", low=low, high=high)
    if errors:
        raise ValidationFailed(errors)
    current = district_settings(district)
    before = {f: str(getattr(current, f)) for f in ("digest_time", *SETTING_LIMITS)}
    if saved is None:
        saved = DistrictSettings(area_code=district)
        db.session.add(saved)
    for field in ("digest_time", *SETTING_LIMITS):
        setattr(saved, field, data[field])
    after = {f: str(getattr(saved, f)) for f in before}
    b, a = audit.changes(before, after)
    if a:
        audit.record("district_settings_changed", "area", district, actor=user, before=b, after=a)
    db.session.flush()
    return saved
