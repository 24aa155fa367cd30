"""Pages: the coordinator's extract upload with its progress, the outreach lists (the
coordinator's per village, a village worker's own village on a phone), an outreach row."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casemgmt import access
from casemgmt.access import requires
from casemgmt.codes import CONCERNS, SEXES
from casemgmt.directory.services import areas_by_code, get_area
from casemgmt.errors import ServiceError
from casemgmt.extensions import db
from casemgmt.forms import deepest_place, refused
from casemgmt.paging import or_first_page
from casemgmt.population import services
from casemgmt.population.models import PopulationImport, PopulationPerson
from casemgmt.population.rules import RULES

bp = Blueprint("population", __name__)

def _labels():
    from flask_babel import lazy_gettext as _l

    return {"open": _l("Open"), "in_progress": _l("In progress"), "resolved": _l("Resolved"),
            "not_applicable": _l("Not applicable")}


@bp.get("/population")
@requires("population.import")
def imports_page():
    from sqlalchemy import select

    district = access.district_of(current_user.area_code)
    recent = list(db.session.scalars(select(PopulationImport).where(PopulationImport.district_code == district)
                                     .order_by(PopulationImport.id.desc()).limit(10))) if district else []
    return render_template("population/imports.html", district=district, recent=recent,
                           max_mb=services.size_limit_mb(), current=services.current_of(district))


@bp.post("/population/imports")
@requires("population.import")
def upload():
    try:
        job = services.start_import(current_user, request.files.get("file"), request.form.get("area_code"))
    except ServiceError as exc:
        refused(exc)
        flash(exc.said, "danger")
        return redirect(url_for("population.imports_page"))
    return redirect(url_for("population.import_status", import_id=job.id))


@bp.get("/population/imports/<int:import_id>")
@login_required  # a record out of the user's scope is 404, whatever the role
def import_status(import_id: int):
    job = services.import_of(current_user, import_id)
    template = "population/_progress.html" if request.headers.get("HX-Request") else "population/import.html"
    return render_template(template, job=job)


@bp.get("/outreach")
@requires("outreach.view")
def outreach():
    filters = _outreach_filters()
    try:
        (rows, next_cursor), cursor = or_first_page(
            lambda c: services.outreach_page(current_user, filters, 50, c), request.args.get("cursor"))
    except ServiceError as exc:
        refused(exc)
        flash(exc.said, "warning")
        return redirect(url_for("population.outreach"))
    lean = current_user.role == "village_worker"
    places = {a.code: a.display_name for a in areas_by_code(sorted({row.area_code for row in rows}))}
    return render_template("population/outreach.html", rows=rows, next_cursor=next_cursor, cursor=cursor,
                           filters=filters, rules=RULES, statuses=_labels(), lean=lean, places=places,
                           sexes=SEXES, picked=filters.area_code or access.district_of(current_user.area_code),
                           letter_rule=services.LETTER_RULE,
                           rule_labels={r.name: r.label for r in RULES})


def _outreach_filters() -> services.OutreachFilters:
    """The list's filters as asked: the area is the deepest place the place picker chose."""
    return services.OutreachFilters(request.args.get("rule") or None,
                                    deepest_place(request.args.getlist("area")) or None,
                                    request.args.get("status") or None)


@bp.get("/outreach.csv")
@requires("outreach.export")
def outreach_csv():
    """The coordinator's outreach list as CSV (cells that would start a formula made inert). A
    district's list is some tens of thousands of rows: written whole, then sent."""
    from itertools import chain

    from flask import Response

    from casemgmt.csvcells import csv_bytes

    filters = _outreach_filters()
    rows = services.export_rows(current_user, filters)
    try:
        first = next(rows, None)  # refusals (403, bad filters) are answered before the download starts
    except ServiceError as exc:
        refused(exc)
        flash(exc.said, "warning")
        return redirect(url_for("population.outreach"))
    rule_labels = {r.name: str(r.label) for r in RULES}
    statuses = {k: str(v) for k, v in _labels().items()}
    header = [_("Child"), _("Sex"), _("Born"), _("Village"), _("KK"), _("Rule"), _("Status"), _("Case")]

    every = chain([] if first is None else [first], rows)
    body = csv_bytes(header, ([row.name, row.sex, row.birth_date.isoformat(), row.area_code, row.kk_number,
                               rule_labels.get(row.rule, row.rule), statuses.get(row.status, row.status),
                               row.case_id or ""] for row in every))
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="outreach.csv"'})


@bp.get("/outreach/<int:item_id>")
@login_required  # a record out of the user's scope is 404, whatever the role
def outreach_row(item_id: int):
    item = services.outreach_or_404(current_user, item_id)
    person = db.session.get(PopulationPerson, item.person_id)
    rule = next((r for r in RULES if r.name == item.rule), None)
    workers = (access.active_users_in(item.area_code, "village_worker")
               if access.coordinates(current_user, access.district_of(item.area_code)) else [])
    area = get_area(item.area_code)
    return render_template("population/row.html", item=item, person=person, rule=rule, statuses=_labels(),
                           place=area.display_name if area else item.area_code,
                           history=services.history(item), concerns=CONCERNS, workers=workers,
                           suggested=item.rule if item.rule in CONCERNS else None,
                           letter_rule=services.LETTER_RULE,
                           letter=services.letter_of(item) if item.rule == services.LETTER_RULE else None)


@bp.post("/outreach/<int:item_id>/assign")
@login_required  # a record out of the user's scope is 404, whatever the role
def outreach_assign(item_id: int):
    from casemgmt.accounts.models import User

    item = services.outreach_or_404(current_user, item_id)
    worker = db.session.get(User, request.form.get("worker_id", type=int) or 0)
    try:
        services.assign(current_user, item, worker)
    except ServiceError as exc:
        refused(exc)
        flash(exc.said, "danger")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("population.outreach_row", item_id=item_id))


@bp.post("/outreach/<int:item_id>/status")
@login_required  # a record out of the user's scope is 404, whatever the role
def outreach_status(item_id: int):
    item = services.outreach_or_404(current_user, item_id)
    try:
        services.set_status(current_user, item, request.form.get("status", ""), request.form.get("note"))
    except ServiceError as exc:
        refused(exc)
        flash(exc.said, "danger")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("population.outreach_row", item_id=item_id))


@bp.post("/outreach/<int:item_id>/case")
@login_required  # a record out of the user's scope is 404, whatever the role
def outreach_case(item_id: int):
    item = services.outreach_or_404(current_user, item_id)
    concerns = [c for c in request.form.getlist("concerns") if c in CONCERNS]
    try:
        case = services.open_case(current_user, item, concerns, request.form.get("description"))
    except ServiceError as exc:
        refused(exc)
        flash(exc.said, "danger")
        return redirect(url_for("population.outreach_row", item_id=item_id))
    return redirect(url_for("cases.show", case_id=case.id))



@bp.post("/outreach/<int:item_id>/letter")
@login_required  # a record out of the user's scope is 404, whatever the role
def outreach_letter(item_id: int):
    """Issue the row's birth-certificate letter to Dukcapil (or find the one issued), then show
    the row with the letter's download."""
    item = services.outreach_or_404(current_user, item_id)
    try:
        letter, made = services.issue_letter(current_user, item)
    except ServiceError as exc:
        refused(exc)
        flash(exc.said, "danger")
    else:
        flash(_("Letter %(number)s to Dukcapil issued.", number=letter.number) if made else
              _("This row's letter is %(number)s; it was issued before.", number=letter.number), "success")
    return redirect(url_for("population.outreach_row", item_id=item_id))


@bp.get("/outreach/letters/<int:letter_id>.pdf")
@login_required  # a record out of the user's scope is 404, whatever the role
def outreach_letter_pdf(letter_id: int):
    from flask import Response

    letter = services.letter_or_404(current_user, letter_id)
    pdf = services.letter_pdf(current_user, letter)
    name = letter.number.replace("/", "-").lower()
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="surat-akta-{name}.pdf"'})
