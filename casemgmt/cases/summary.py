"""The case summary as a PDF: what the case page shows this user, on A4."""
from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import NotFound

from casemgmt.cases import records, timeline
from casemgmt.cases.identity import initials
from casemgmt.dbtypes import utcnow
from casemgmt.pdf import html_to_pdf


def render(case, access, user) -> bytes:
    """404 for whom ``access.summary`` does not allow it (web and API alike)."""
    from casemgmt.referrals.services import referrals_of_case
    from casemgmt.workflow import services as workflow

    if not access.summary:
        raise NotFound()
    html = render_template(
        "pdf/case_summary.html", case=case, access=access, initials=initials, generated=utcnow(), user=user,
        assessment=workflow.get_assessment(case) if access.details else None,
        goals=workflow.plan_goals(case) if access.details else [],
        visits=workflow.visits(case) if access.details else [],
        referrals=referrals_of_case(case) if access.details else [],
        events=timeline.timeline(case, newest_first=False) if access.details else [])
    pdf = html_to_pdf(html)[0]
    records.record_view(user, case, "download_summary")
    return pdf
