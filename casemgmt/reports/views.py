"""Indicators page, the quarterly report (PDF), and case-list exports."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casemgmt import storage
from casemgmt.access import can, indicator_area, kpi_area, requires, sees_worker_names, small_counts_hidden
from casemgmt.cases.records import CaseFilters
from casemgmt.codes import CONCERNS, SERVICES
from casemgmt.dbtypes import utcnow
from casemgmt.directory.services import get_area, pickable_areas
from casemgmt.errors import ServiceError, ValidationFailed
from casemgmt.extensions import db
from casemgmt.forms import refused
from casemgmt.pdf import html_to_pdf
from casemgmt.reports import charts, exports, indicators, kpis, services

bp = Blueprint("reports", __name__)


def _labels():
    from casemgmt.cases.forms import CHANNEL_LABELS
    from casemgmt.codes import SEXES
    from casemgmt.templating import stage_names
    from casemgmt.workflow.labels import CLOSURE_LABELS

    return {"concern": CONCERNS, "service": SERVICES, "sex": SEXES, "channel": CHANNEL_LABELS,
            "stage": stage_names(), "closure": CLOSURE_LABELS}


def _indicators_from_request():
    area = indicator_area(current_user, request.args.get("area"))
    year, q = request.args.get("year", type=int), request.args.get("quarter", type=int)
    period = services.parse_period(request.args.get("from"), request.args.get("to"), year, q)
    data = indicators.for_viewer(indicators.compute(area, period), current_user)
    _add_population(data, area)
    return area, period, data


def _add_population(data: dict, area: str) -> None:
    """Birth-certificate coverage and outreach counts, where an extract covers the area."""
    from casemgmt.population import services as population

    coverage = population.coverage_indicator(area, current_user)
    if coverage is None:
        return
    data["birth_certificate_coverage"] = coverage
    data["outreach"] = population.summary(current_user, area)
    data["outreach_resolved_by_month"] = population.resolved_per_month(area)
    from casemgmt.reports.suppression import any_secondary

    data["population_secondary"] = any_secondary([coverage, data["outreach"]])


def _charts(data, labels):
    coverage = data.get("birth_certificate_coverage")
    extra = {}
    if coverage:
        extra["coverage"] = charts.bar_chart(
            {code: entry["percent"] for code, entry in coverage["by_area"].items() if entry["percent"] is not None},
            title=_("Children with a birth certificate (%) by area"))
        if data.get("outreach_resolved_by_month"):
            extra["outreach_resolved"] = charts.bar_chart(data["outreach_resolved_by_month"],
                                                          title=_("Outreach rows resolved by month"))
    return extra | {
        "month": charts.bar_chart(data["complaints_by_month"], title=_("Complaints by month")),
        "concern": charts.bar_chart(dict(sorted(data["by_concern"].items(), key=lambda kv: str(kv[0]))),
                                    {k: str(v) for k, v in labels["concern"].items()}, _("Cases by concern")),
        "age": charts.bar_chart(data["by_age_group"], title=_("Cases by age group")),
        "stage": charts.bar_chart(data["by_stage"], {k: str(v) for k, v in labels["stage"].items()},
                                  _("Cases by stage")),
        "delivered": charts.bar_chart(data["services_delivered"], {k: str(v) for k, v in labels["service"].items()},
                                      _("Services delivered")),
    }


@bp.get("/reports/indicators")
@requires("indicators.view")
def indicators_page():
    try:
        area, period, data = _indicators_from_request()
    except ValidationFailed as exc:
        refused(exc)
        flash(exc.said, "warning")
        return redirect(url_for("reports.indicators_page"))
    labels = _labels()
    return render_template("reports/indicators.html", data=data, area=get_area(area), period=period,
                           labels=labels, charts=_charts(data, labels), args=request.args,
                           area_names=_area_names(data), small_counts_hidden=small_counts_hidden(current_user),
                           outreach_rules=_outreach_rules())


def _outreach_rules():
    from casemgmt.population.rules import RULES

    return RULES


def _area_names(data) -> dict:
    """Kecamatan named, not coded, in the tables."""
    from sqlalchemy import select

    from casemgmt.directory.models import Area

    codes = list(data["by_area"]) + list(data.get("birth_certificate_coverage", {}).get("by_area", {})) + list(
        data.get("outreach", {}).get("by_area", {}))
    return dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(codes or ["-"]))).all())


@bp.get("/reports/quarterly.pdf")
@requires("indicators.view")
def quarterly_pdf():
    area, period, data = _indicators_from_request()
    labels = _labels()
    try:
        management = kpi_context(current_user, area, period)
    except ValidationFailed:  # a period too long for the monthly trends: the report without them
        management = {}
    html = render_template("pdf/quarterly_report.html", data=data, area=get_area(area), period=period, labels=labels,
                           charts=_charts(data, labels), generated=utcnow(), area_names=_area_names(data),
                           outreach_rules=_outreach_rules(), **management)
    pdf = html_to_pdf(html)[0]
    services.record_report_download(current_user, area)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="laporan-pksai-{area}-{period.start}-{period.end}.pdf"'})


def kpi_charts(data) -> dict:
    """The management indicators' month-by-month trends."""
    return {
        "triage": charts.bar_chart(data["triage"]["by_month"], title=_("Triaged within the deadline (%)"),
                                   suffix="%"),
        "assessment": charts.bar_chart(data["assessment"]["by_month"],
                                       title=_("Assessments within the deadline (%)"), suffix="%"),
        "plan": charts.bar_chart(data["plan"]["by_month"], title=_("Plans within the deadline (%)"), suffix="%"),
        "closed": charts.bar_chart(data["closure"]["closed_by_month"], title=_("Cases closed")),
        "referrals": charts.bar_chart(data["referrals"]["by_month"],
                                      title=_("Referrals answered within the deadline (%)"), suffix="%"),
    }


def kpi_context(user, area: str, period) -> dict:
    """What the management indicators' page, the coordinator's home and the quarterly PDF show."""
    data = kpis.for_viewer(kpis.compute(area, period), user)
    return {"kpi": data, "kpi_charts": kpi_charts(data), "kpi_names": sees_worker_names(user),
            # The data-quality figures link to the case list only for whom it lists those cases.
            "kpi_links": can(user, "cases.list") and user.role == "coordinator"}


@bp.get("/reports/kpis")
@requires("kpis.view")
def kpis_page():
    try:
        area = kpi_area(current_user, request.args.get("area"))
        period = services.parse_period(request.args.get("from"), request.args.get("to"))
        context = kpi_context(current_user, area, period)
    except ValidationFailed as exc:
        refused(exc)
        flash(exc.said, "warning")
        return redirect(url_for("reports.kpis_page"))
    return render_template("reports/kpis.html", area=get_area(area), period=period,
                           areas=pickable_areas(kpi_area(current_user, None)),
                           small_counts_hidden=small_counts_hidden(current_user), **context)


@bp.post("/exports")
@requires("cases.list")
def start_export():
    # CSRFProtect has checked the token before we get here, as for every POST.
    try:
        job, done = exports.start(current_user, CaseFilters.from_args(request.form), request.form.get("format", "csv"))
    except ServiceError as exc:  # the list page shows the messages without their fields
        refused(exc)
        flash(exc.said, "danger")
        return redirect(url_for("cases.index"))
    if done:
        return redirect(url_for("reports.download_export", job_id=job.id))
    return redirect(url_for("reports.export_status", job_id=job.id))


@bp.get("/exports/<int:job_id>")
@login_required
def export_status(job_id: int):
    job = exports.job_of(current_user, job_id)
    template = "reports/_export_progress.html" if request.headers.get("HX-Request") else "reports/export.html"
    return render_template(template, job=job)


@bp.get("/exports/<int:job_id>/download")
@login_required
def download_export(job_id: int):
    job = exports.job_of(current_user, job_id)
    if job.status != "done":
        return redirect(url_for("reports.export_status", job_id=job.id))
    key = exports.open_download(job, current_user)
    mime = "text/csv" if job.format == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return storage.send(key, mimetype=mime, download_name=f"kasus-{job.created_at:%Y%m%d-%H%M}.{job.format}")
