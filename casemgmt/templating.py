"""What every template can use: hashed asset URLs, navigation, labels, dates."""
from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for
from flask_babel import format_date, get_locale
from flask_login import current_user

from casemgmt import codes, i18n
from casemgmt.access import can
from casemgmt.home.navigation import items_for


@lru_cache(maxsize=256)
def _digest(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    path = Path(current_app.static_folder) / filename
    return url_for("static", filename=filename, v=_digest(str(path), path.stat().st_mtime))


def stage_label(code: str) -> str:
    from casemgmt.workflow.stages import STAGES

    return next((str(s.label) for s in STAGES if s.code == code), code)


def stage_names() -> dict[str, str]:
    from casemgmt.workflow.stages import STAGES

    return {s.code: str(s.label) for s in STAGES}


def field_label(key: str) -> str:
    from casemgmt.cases.forms import FIELD_LABELS

    return str(FIELD_LABELS.get(key, key))


def birth_date(child, fmt: str = "medium") -> str:
    """A child's birth date as people read it: an estimated one always says so ("(perkiraan)")."""
    from flask_babel import gettext as _

    def read(name):  # a Child, or the dict a referral discloses (referrals.letters.child_view)
        return child.get(name) if isinstance(child, dict) else getattr(child, name, None)

    if child is None or not read("birth_date"):
        return ""
    text = format_date(read("birth_date"), fmt)
    return _("%(date)s (estimated)", date=text) if read("birth_date_estimated") else text


def place_levels(code, top: str = "regency", last: str = "village"):
    from casemgmt.directory.services import picker_levels

    return picker_levels(code or None, top, last)


def init_app(app) -> None:
    from casemgmt.offline.text import offline_text
    from casemgmt.offline.views import offline_keep

    app.jinja_env.globals.update(
        asset_url=asset_url,
        offline_text=offline_text,
        offline_keep=offline_keep,
        can=lambda permission: can(current_user, permission),
        nav_items=lambda: items_for(current_user),
        codes=codes,
        current_locale=lambda: str(get_locale()),
        stage_label=stage_label,
        stage_names=stage_names,
        place_levels=place_levels,
    )
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        i18n.format_datetime(value, fmt) if value else "")
    from casemgmt.workflow.labels import template_globals

    app.jinja_env.globals.update(template_globals())
    app.jinja_env.filters["date_format"] = lambda value, fmt="medium": format_date(value, fmt) if value else ""
    app.jinja_env.filters["field_label"] = field_label
    app.jinja_env.filters["birth_date"] = birth_date
    app.jinja_env.filters["iso_datetime"] = lambda value, fmt="short": (
        i18n.format_datetime(datetime.fromisoformat(value), fmt) if value else "")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
