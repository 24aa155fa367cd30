"""The Berita Acara (minutes) of a conference as a PDF: numbers and initials, never full names."""
from __future__ import annotations

from flask import render_template

from casemgmt.cases.identity import initials
from casemgmt.conferences import services
from casemgmt.extensions import db
from casemgmt.pdf import html_to_pdf


def render(conf, viewer) -> bytes:
    cases = services.agenda_cases(conf)
    decisions = services.decisions(conf)
    by_case = {c.id: [d for d in decisions if d.case_id == c.id] for c in cases}
    tasks = [t for d in decisions for t in d.tasks]
    from casemgmt.directory.services import get_area

    district = get_area(conf.district_code)
    html = render_template("pdf/conference_minutes.html", conf=conf, cases=cases, by_case=by_case, tasks=tasks,
                           district_name=district.name if district else conf.district_code,
                           totals=services.totals_by_sex(conf), initials=initials,
                           numbers={c.id: c.number for c in cases})
    pdf = html_to_pdf(html)[0]
    from casemgmt.audit import services as audit

    audit.log_access(viewer, "download_minutes", "conference", conf.id)
    db.session.flush()
    return pdf
