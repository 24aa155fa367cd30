"""The service directory: organisations everyone can look up, edited by the admin."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from casemgmt.access import district_of, requires
from casemgmt.codes import ORGANISATION_KINDS, SERVICES
from casemgmt.directory import services
from casemgmt.directory.forms import DistrictSettingsForm, OrganisationForm
from casemgmt.directory.models import Organisation
from casemgmt.errors import StaleVersion, ValidationFailed
from casemgmt.extensions import db
from casemgmt.forms import deepest_place, refused, show_current_version
from casemgmt.referrals.pathway import group_by_tier

bp = Blueprint("directory", __name__, url_prefix="/directory")


@bp.get("/organisations")
@requires("directory.view")
def organisations():
    kind = request.args.get("kind") if request.args.get("kind") in ORGANISATION_KINDS else None
    service = request.args.get("service") if request.args.get("service") in SERVICES else None
    area_code = deepest_place(request.args.getlist("area")) or None
    text = (request.args.get("q") or "").strip() or None
    area = services.get_area(area_code) if area_code else None
    rows = services.list_organisations(kind=kind, service=service, area_code=area_code, text=text)
    return render_template("directory/organisations.html", groups=group_by_tier(rows), total=len(rows), kind=kind, service=service,
                           area_code=area_code or "", area=area, q=text or "")


@bp.get("/organisations/<int:org_id>")
@requires("directory.view")
def organisation(org_id: int):
    org = db.session.get(Organisation, org_id) or abort(404)
    return render_template("directory/organisation.html", org=org,
                           lineage=services.lineage(org.area_code))


def _covered(form: OrganisationForm) -> list[str]:
    """The areas the form covers: those ticked and the one picked to add, each once."""
    codes = services.parse_area_codes(", ".join(form.covers.data or []))
    if form.covers_add.data:
        codes.append(form.covers_add.data)
    return list(dict.fromkeys(codes))


def _cover_choices(form: OrganisationForm, codes: list[str]) -> None:
    """Each area covered as a ticked box named by its place (an unknown code as itself)."""
    areas = {a.code: a for a in services.areas_by_code(codes)}
    form.covers.choices = [(code, areas[code].display_name if code in areas else code) for code in codes]
    form.covers.data = codes


def _org_data(form: OrganisationForm) -> dict:
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "area_code": (form.area_code.data or "").strip(),
        "services": form.services.data or [],
        "covers": _covered(form),
        "contact_person": form.contact_person.data,
        "phone": form.phone.data,
        "email": form.email.data,
        "address": form.address.data,
        "active": form.active.data,
    }


@bp.route("/organisations/new", methods=["GET", "POST"])
@requires("organisations.manage")
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            org = services.create_organisation(_org_data(form), current_user)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            flash(_("Organisation %(name)s created.", name=org.name), "success")
            return redirect(url_for("directory.organisation", org_id=org.id))
    _cover_choices(form, _covered(form))
    return render_template("directory/organisation_form.html", form=form, org=None), 422 if form.errors else 200


@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@requires("organisations.manage")
def edit_organisation(org_id: int):
    org = db.session.get(Organisation, org_id) or abort(404)
    form = OrganisationForm()
    if request.method == "GET":
        form.process(obj=org, services=org.services, covers=org.covered_area_codes)
    conflict = False
    if form.validate_on_submit():
        try:
            services.update_organisation(org, _org_data(form), form.version.data or 0, current_user)
        except StaleVersion as exc:
            refused(exc)
            conflict = True
            form.form_errors.append(exc.message)
            # The page now shows their values beside ours; saving again is a deliberate overwrite.
            show_current_version(form.version, org.version)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("directory.organisation", org_id=org.id))
    _cover_choices(form, _covered(form) if request.method == "POST" else org.covered_area_codes)
    status = 409 if conflict else (422 if form.errors or form.form_errors else 200)
    return render_template("directory/organisation_form.html", form=form, org=org,
                           current=org if conflict else None), status


@bp.route("/districts/settings", methods=["GET", "POST"])
@requires("districts.settings")
def district_settings_page():
    """A coordinator's own district; an administrator picks one (?district=73.06)."""
    district = (request.values.get("district") if current_user.role == "admin"
                else district_of(current_user.area_code)) or "73.06"
    if services.get_area(district) is None or district_of(district) != district:
        abort(404)
    current = services.district_settings(district)
    saved_version = current.version if current in db.session else 0
    form = DistrictSettingsForm()
    if request.method == "GET":
        form.process(obj=current, version=saved_version)
    conflict = False
    if form.validate_on_submit():
        data = {"digest_time": form.digest_time.data, "caseload_threshold": form.caseload_threshold.data,
                "population_retention_days": form.population_retention_days.data}
        try:
            services.save_district_settings(current_user, district, data, form.version.data or 0)
        except StaleVersion as exc:
            refused(exc)
            conflict = True
            form.form_errors.append(exc.message)
            show_current_version(form.version, saved_version)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            flash(_("Settings of %(district)s saved.", district=services.get_area(district).name), "success")
            return redirect(url_for("directory.district_settings_page", district=district))
    districts = services.children("73") if current_user.role == "admin" else []
    status = 409 if conflict else (422 if form.errors or form.form_errors else 200)
    return render_template("directory/district_settings.html", form=form, area=services.get_area(district),
                           districts=districts), status


@bp.get("/areas/options")
@requires("directory.view")
def area_options():
    """The next level's places for a place picker (htmx, templates/_place_picker.html): the
    children of the place chosen in ``field``, and the deeper levels emptied (out of band)."""
    levels = services.PLACE_LEVELS
    level = request.args.get("level") if request.args.get("level") in levels else "village"
    last = request.args.get("last") if request.args.get("last") in levels else "village"
    picker = request.args.get("id", "")
    if not re.fullmatch(r"[A-Za-z][\w-]{0,60}", picker):
        abort(404)
    parent = deepest_place(request.args.getlist(request.args.get("field", "")))
    options = [a for a in services.children(parent) if a.level == level] if parent else []
    emptied = levels[levels.index(level) + 1:levels.index(last) + 1]
    return render_template("directory/_place_options.html", options=options, id=picker, emptied=emptied)


@bp.get("/areas/search")
@requires("directory.view")
def area_search():
    """Options for an area picker (htmx): places in the user's own kabupaten/kota come first."""
    own = getattr(current_user, "area_code", None)
    areas = services.search_areas(request.args.get("q", ""), level=request.args.get("level") or None,
                                  within=request.args.get("within") or None,
                                  prefer=district_of(own))
    return render_template("directory/_area_options.html", areas=areas)
