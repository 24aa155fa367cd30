"""Pages for complaints and cases: intake, lists, the case page, edits, notes, attachments."""
from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from casemgmt import paging, storage
from casemgmt.access import case_access, case_accesses, case_or_404, district_of, requires
from casemgmt.cases import attachments, households, intake, records, timeline
from casemgmt.cases.forms import (
    HIV_LABELS,
    AttachmentForm,
    CaseEditForm,
    CaseFilterForm,
    ComplaintForm,
    HouseholdHeadForm,
    NoteForm,
    SensitiveForm,
)
from casemgmt.cases.identity import initials
from casemgmt.cases.models import Attachment, Complaint
from casemgmt.codes import CONCERNS, SPECIAL_PROTECTION, WELFARE_NEEDS
from casemgmt.dbtypes import utcnow
from casemgmt.directory.services import get_area, search_areas, villages_near
from casemgmt.errors import StaleVersion, ValidationFailed
from casemgmt.extensions import db
from casemgmt.forms import refused, show_current_version
from casemgmt.i18n import local_zone
from casemgmt.referrals.services import referrals_of_case
from casemgmt.transfers.presenters import transfer_panel
from casemgmt.workflow.presenters import juvenile_panel, panel
from casemgmt.workflow.stages import STAGES

bp = Blueprint("cases", __name__)


def village_choices(selected: str | None = None) -> list[SelectChoice]:
    """The user's kabupaten/kota's villages by kecamatan (their own first), plus the selected one."""
    out = [SelectChoice("", _("Choose a village"))]
    seen = set()
    for kecamatan, villages in villages_near(current_user.area_code):
        for village in villages:
            out.append(SelectChoice(village.code, village.display_name, optgroup=kecamatan.display_name))
            seen.add(village.code)
    if selected and selected not in seen:
        area = get_area(selected)
        if area is not None:
            out.insert(1, SelectChoice(area.code, f"{area.display_name} ({area.code})"))
    return out


# ---- intake -----------------------------------------------------------------------------------

def _complaint_input(form: ComplaintForm) -> dict:
    received = form.received_at.data
    if received is not None:
        received = received.replace(tzinfo=local_zone())
    return {
        "channel": form.channel.data,
        "received_at": received,
        "reporter": {"anonymous": form.reporter_anonymous.data, "name": form.reporter_name.data,
                     "phone": form.reporter_phone.data, "relationship": form.reporter_relationship.data},
        "children": [{
            "name": entry.form.name.data, "sex": entry.form.sex.data, "birth_date": entry.form.birth_date.data,
            "age_years": entry.form.age_years.data, "nik": entry.form.nik.data,
            "area_code": entry.form.area_code.data, "address": entry.form.address.data,
            "caregiver_name": entry.form.caregiver_name.data,
            "caregiver_relationship": entry.form.caregiver_relationship.data,
            "caregiver_phone": entry.form.caregiver_phone.data,
            "kk_number": entry.form.kk_number.data, "relationship_to_head": entry.form.relationship_to_head.data,
        } for entry in form.children],
        "concerns": (form.concerns_special.data or []) + (form.concerns_welfare.data or []),
        "description": form.description.data,
        "urgent": form.urgent.data,
    }


# Where the complaint form shows what the service names otherwise.
COMPLAINT_ERROR_FIELDS = {"concerns": "concerns_special", "reporter.name": "reporter_name"}


@bp.route("/cases/new", methods=["GET", "POST"])
@requires("cases.register")
def new_complaint():
    form = ComplaintForm()
    if request.method == "GET":
        form.received_at.data = utcnow().astimezone(local_zone()).replace(tzinfo=None, second=0, microsecond=0)
        form.children[0].form.area_code.data = current_user.area_code if (current_user.area_code or "").count(".") == 3 else ""
    action = request.form.get("action", "save")
    for entry in form.children:
        entry.form.area_code.choices = village_choices(entry.form.area_code.data)
    review = None
    if request.method == "POST" and action == "add_child":
        if len(form.children) < form.children.max_entries:
            form.children.append_entry()
            last = form.children[-1].form
            last.area_code.data = form.children[0].form.area_code.data  # siblings usually live together
            last.kk_number.data = form.children[0].form.kk_number.data  # on one family card
            last.area_code.choices = village_choices(last.area_code.data)
        form.reviewed.data = ""
        return render_template("cases/new.html", form=form, review=None)
    if request.method == "POST" and action.startswith("remove_child:"):
        index = int(action.split(":", 1)[1]) if action.split(":", 1)[1].isdigit() else -1
        if 0 <= index < len(form.children) and len(form.children) > 1:
            kept = [e.data for i, e in enumerate(form.children) if i != index]
            while len(form.children):
                form.children.pop_entry()
            for data in kept:
                form.children.append_entry(data)
            for entry in form.children:
                entry.form.area_code.choices = village_choices(entry.form.area_code.data)
        form.reviewed.data = ""
        return render_template("cases/new.html", form=form, review=None)
    if form.validate_on_submit():
        raw = _complaint_input(form)
        try:
            data, checks = intake.validate_complaint(raw)
            review = {i: {"duplicates": intake.find_duplicates(check.data), "warnings": check.warnings,
                          "household": households.household_offer(current_user, check.data)}
                      for i, check in enumerate(checks)}
            # A likely duplicate is answered by the worker: no answer is chosen for them, and a
            # confirmation without one shows the question again.
            undecided = [i for i, r in review.items() if r["duplicates"] and not form.children[i].form.duplicate.data]
            if any(r["duplicates"] or r["warnings"] or r["household"] for r in review.values()) and (
                    form.reviewed.data != "1" or undecided):
                status = 200
                if form.reviewed.data == "1":
                    for i in undecided:
                        form.children[i].form.duplicate.errors = [_("Say whether this is the same child.")]
                    status = 422
                form.reviewed.data = "1"
                for i, entry in enumerate(form.children):
                    entry.form.duplicate.choices = (
                        [SelectChoice(str(c.case_id), c.description) for c in review[i]["duplicates"]]
                        + [SelectChoice("new", _("No, a different child: open a new case"))])
                return render_template("cases/new.html", form=form, review=review), status
            joins = {i: r["household"].household_id for i, r in review.items()
                     if r["household"] and r["household"].reason == "same_nik"
                     and form.children[i].form.join_household.data}
            review = None
            decisions = {i: entry.form.duplicate.data for i, entry in enumerate(form.children)
                         if entry.form.duplicate.data}
            result = intake.register_complaint(raw, current_user, decisions, join_households=joins)
        except ValidationFailed as exc:
            refused(exc, form, COMPLAINT_ERROR_FIELDS)
            form.reviewed.data = ""
        else:
            if result.numbers:
                flash(_("Complaint registered: %(numbers)s. The PKSAI coordinator will triage it.",
                        numbers=", ".join(result.numbers)), "success")
            for number in result.linked_numbers:
                flash(_("Linked to the existing case %(number)s.", number=number), "info")
            if result.case_ids:
                return redirect(url_for("cases.show", case_id=result.case_ids[0]))
            return redirect(url_for("cases.my_complaints"))
    status = 422 if (request.method == "POST" and (form.errors or form.form_errors)) else 200
    return render_template("cases/new.html", form=form, review=review), status


@bp.get("/cases/villages")
@login_required
def village_options():
    """Villages matching a name, as <option>s for the village picker (htmx)."""
    own = current_user.area_code or ""
    areas = search_areas(request.args.get("q", ""), level="village",
                         prefer=district_of(own), limit=30)
    return render_template("cases/_village_options.html", areas=areas)


# ---- lists ------------------------------------------------------------------------------------

@bp.get("/complaints/mine")
@requires("complaints.mine")
def my_complaints():
    complaints = list(db.session.scalars(
        select(Complaint).where(Complaint.registered_by_id == current_user.id)
        .options(selectinload(Complaint.cases))
        .order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(100)))
    rows = []
    for complaint in complaints:
        for case in complaint.cases:
            rows.append((complaint, case, case_access(current_user, case)))
    return render_template("cases/my_complaints.html", rows=rows, initials=initials)


def _filter_choices(form: CaseFilterForm) -> None:
    form.stage.choices = [SelectChoice("", _("All stages"))] + [SelectChoice(s.code, s.label) for s in STAGES]
    form.status.choices = [SelectChoice("", _("Open and closed")), SelectChoice("open", _("Open")),
                           SelectChoice("closed", _("Closed"))]
    form.risk_level.choices = [SelectChoice("", _("Any risk"))] + [
        SelectChoice(r, label) for r, label in risk_labels().items()]
    form.concern.choices = [SelectChoice("", _("Any concern"))] + [
        SelectChoice(code, label, optgroup=_("Special protection")) for code, label in SPECIAL_PROTECTION.items()
    ] + [SelectChoice(code, label, optgroup=_("Welfare needs")) for code, label in WELFARE_NEEDS.items()]


def risk_labels() -> dict[str, str]:
    return {"high": _("High"), "medium": _("Medium"), "low": _("Low")}


@bp.get("/cases")
@requires("cases.list")
def index():
    form = CaseFilterForm(request.args)
    _filter_choices(form)
    filters = records.CaseFilters.from_args(request.args)
    try:
        (cases, next_cursor), cursor = paging.or_first_page(
            lambda cursor: records.list_cases(current_user, filters, cursor=cursor), request.args.get("cursor"))
    except ValidationFailed as exc:  # a bad filter: its message, no list
        refused(exc)
        flash(exc.said, "warning")
        (cases, next_cursor), cursor = ([], None), None
    accesses = case_accesses(current_user, cases)
    rows = [(case, accesses[case.id]) for case in cases]
    args = {k: v for k, v in request.args.items() if k != "cursor" and v}
    filters_active = any(k != "q" for k in args)
    return render_template("cases/index.html", form=form, rows=rows, next_cursor=next_cursor, cursor=cursor,
                           args=args, filters_active=filters_active,
                           now=utcnow(), initials=initials, risk_labels=risk_labels())


# ---- the case -----------------------------------------------------------------------------------

def _household_of(case):
    """The household panel's content: the child's household as the viewer is shown it."""
    return households.view(current_user, case.child.household_id) if case.child.household_id else None


def _case_page(case, access, *, note_form=None, attachment_form=None, sensitive_form=None, head_form=None,
               household=None, status=200):
    sensitive = records.sensitive_of(case) if access.sensitive else None
    household = household or _household_of(case)
    if household is not None and head_form is None and access.edit:
        # formdata=None: on a page re-shown after another form's refusal, not that form's post
        head_form = HouseholdHeadForm(formdata=None, head_name=household.household.head_name,
                                      head_sex=household.head_sex, prefix="head")
    return render_template(
        "cases/show.html", case=case, access=access, stages=STAGES, now=utcnow(),
        siblings=[(c, case_access(current_user, c)) for c in records.siblings(case)],
        events=timeline.timeline(case, until=access.until) if access.details else [],
        attachments=attachments.attachments(case, until=access.until) if access.details else [],
        note_form=note_form or NoteForm(), attachment_form=attachment_form or AttachmentForm(),
        initials=initials, risk_labels=risk_labels(), concerns=CONCERNS,
        wf=panel(case, current_user) if access.edit else None,
        juvenile=juvenile_panel(case, current_user) if access.details else None,
        referrals=referrals_of_case(case, until=access.until) if access.details else [],
        sensitive=sensitive,
        transfer=transfer_panel(case, current_user, access),
        sensitive_form=(sensitive_form or _sensitive_form(sensitive)) if access.sensitive else None,
        hiv_labels=HIV_LABELS, household=household, head_form=head_form,
    ), status


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id: int):
    case, access = case_or_404(current_user, case_id)
    if access.referral_fields and not access.details:
        # An agency sees the case through its referrals, and only what the service needs.
        latest = next(r for r in referrals_of_case(case) if r.to_organisation_id == access.referral_org_id)
        return redirect(url_for("referrals.show", referral_id=latest.id))
    household = _household_of(case)
    page = _case_page(case, access, household=household)
    # Logged once the page is built: the log's commit would otherwise expire the case and every
    # object the page reads, so each would be read again while the page renders.
    if household is not None:
        households.record_view(current_user, household, "view_household", except_case_id=case.id, flush=False)
    records.record_view(current_user, case)
    return page


@bp.post("/cases/<int:case_id>/notes")
@login_required
def add_note(case_id: int):
    case, access = case_or_404(current_user, case_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            records.add_note(case, form.text.data, current_user)
        except ValidationFailed as exc:
            refused(exc)
            form.text.errors = list(form.text.errors) + exc.errors.get("text", [])
        else:
            flash(_("Note added."), "success")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="timeline"))
    return _case_page(case, access, note_form=form, status=422)


@bp.post("/cases/<int:case_id>/attachments")
@login_required
def add_attachment(case_id: int):
    case, access = case_or_404(current_user, case_id)
    if not access.add_notes:
        abort(403)
    form = AttachmentForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            attachments.add_attachment(case, upload.stream if upload else io.BytesIO(), getattr(upload, "filename", ""),
                                    current_user, form.description.data)
        except ValidationFailed as exc:
            refused(exc)
            form.file.errors = list(form.file.errors) + exc.errors.get("file", [])
        else:
            flash(_("File attached."), "success")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="attachments"))
    return _case_page(case, access, attachment_form=form, status=422)


def _sensitive_form(row) -> SensitiveForm:
    form = SensitiveForm(obj=row, prefix="sensitive") if request.method == "GET" else SensitiveForm(prefix="sensitive")
    form.hiv_status.choices = [SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in HIV_LABELS.items()]
    return form


@bp.post("/cases/<int:case_id>/sensitive")
@login_required
def save_sensitive(case_id: int):
    case, access = case_or_404(current_user, case_id)
    form = _sensitive_form(None)
    if form.validate_on_submit():
        try:
            records.save_sensitive(case, current_user, {f: getattr(form, f).data for f in records.SENSITIVE_FIELDS})
        except ValidationFailed as exc:
            refused(exc)
            form.hiv_status.errors = list(form.hiv_status.errors) + exc.errors.get("hiv_status", [])
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="sensitive"))
    return _case_page(case, access, sensitive_form=form, status=422)


@bp.post("/cases/<int:case_id>/household/head")
@login_required
def save_household_head(case_id: int):
    case, access = case_or_404(current_user, case_id)
    if not access.edit:
        abort(403)
    form = HouseholdHeadForm(prefix="head")
    if form.validate_on_submit():
        try:
            households.set_head(case, form.head_name.data, form.head_sex.data, current_user)
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="household"))
    return _case_page(case, access, head_form=form, status=422)


@bp.get("/cases/<int:case_id>/summary.pdf")
@login_required
def summary_pdf(case_id: int):
    from casemgmt.cases.summary import render

    case, access = case_or_404(current_user, case_id)
    pdf = render(case, access, current_user)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="ringkasan-{case.number}.pdf"'})


@bp.get("/cases/<int:case_id>/access-log")
@login_required
def access_log(case_id: int):
    """Who has seen or changed this child's record (the coordinator's, for breach reports)."""
    from casemgmt.privacy.services import who_saw

    case, access = case_or_404(current_user, case_id)
    if not access.answerable:
        abort(403)
    traces = who_saw(case, viewer=current_user)
    if request.args.get("format") == "csv":
        from casemgmt.csvcells import csv_bytes

        from casemgmt.codes import ROLES

        data = csv_bytes([_("When"), _("Who"), _("Role"), _("Seen or changed"), _("What")],
                         ((t.at.isoformat(), t.who, str(ROLES.get(t.role, t.role or "")),
                           _("seen") if t.kind == "viewed" else _("changed"), t.what) for t in traces))
        return Response(data, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="akses-{case.number}.csv"'})
    return render_template("cases/access_log.html", case=case, traces=traces)


@bp.get("/cases/<int:case_id>/subject-access.<format>")
@login_required
def subject_access(case_id: int, format: str):
    """Everything held about the child, for a subject-access request (UU PDP)."""
    import json

    from casemgmt.pdf import html_to_pdf
    from casemgmt.privacy.services import subject_access as collect

    case, access = case_or_404(current_user, case_id)
    if not access.answerable:
        abort(403)
    if format not in ("json", "pdf"):
        abort(404)
    data = collect(case, viewer=current_user)
    if format == "json":
        return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="data-anak-{case.number}.json"'})
    html = render_template("pdf/subject_access.html", data=data, case=case)
    return Response(html_to_pdf(html)[0], mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="data-anak-{case.number}.pdf"'})


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download_attachment(case_id: int, attachment_id: int):
    case, access = case_or_404(current_user, case_id)
    row = db.session.get(Attachment, attachment_id)
    if (not access.details or row is None or row.case_id != case.id
            or (access.until is not None and row.uploaded_at > access.until)):
        abort(404)
    return storage.send(attachments.open_attachment(row, current_user), mimetype=row.content_type,
                        download_name=row.filename)


# ---- editing ------------------------------------------------------------------------------------

def _edit_changes(form: CaseEditForm) -> dict:
    return {
        "child.name": form.name.data, "child.sex": form.sex.data,
        "child.birth_date": form.birth_date.data.isoformat() if form.birth_date.data else None,
        "child.nik": (form.nik.data or "").strip() or None, "child.area_code": form.area_code.data,
        "child.address": form.address.data or None, "child.caregiver_name": form.caregiver_name.data or None,
        "child.caregiver_relationship": form.caregiver_relationship.data or None,
        "child.caregiver_phone": form.caregiver_phone.data or None,
        "child.kk_number": (form.kk_number.data or "").strip() or None,
        "child.relationship_to_head": form.relationship_to_head.data or None,
        "case.concerns": sorted((form.concerns_special.data or []) + (form.concerns_welfare.data or [])),
        "complaint.description": form.description.data, "case.urgent": bool(form.urgent.data),
    }


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int):
    case, access = case_or_404(current_user, case_id)
    if not access.edit:
        abort(403)
    form = CaseEditForm()
    if request.method == "GET":
        child = case.child
        form.process(obj=child, description=case.complaint.description, urgent=case.urgent,
                     kk_number=child.household.kk_number if child.household_id else None,
                     concerns_special=[c for c in case.concerns if c in SPECIAL_PROTECTION],
                     concerns_welfare=[c for c in case.concerns if c in WELFARE_NEEDS])
        # The case's version, not the child's (obj wins over keywords in process): a case moved on
        # since registration has a child still at version 1, and every save would be a false
        # conflict.
        form.version.data = case.version
    form.area_code.choices = village_choices(form.area_code.data)
    conflict = None
    if form.validate_on_submit():
        snapshot = records.case_snapshot(case)
        changes = {k: v for k, v in _edit_changes(form).items() if snapshot.get(k) != v}
        try:
            records.update_case(case, changes, form.version.data or 0, current_user)
        except StaleVersion as exc:
            refused(exc)
            conflict = exc.details.get("changes_since", [])
            form.form_errors.append(exc.message)
            show_current_version(form.version, case.version)
        except ValidationFailed as exc:
            # The service names "child.name", "complaint.reporter_phone", "concerns": the form's
            # fields are the last part ("concerns" in two: the first shows it).
            fields = {key: key.rsplit(".", 1)[-1] for key in exc.errors}
            refused(exc, form, {**fields, "concerns": "concerns_special"})
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("cases.show", case_id=case.id))
    status = 409 if conflict is not None else (422 if form.errors or form.form_errors else 200)
    return render_template("cases/edit.html", form=form, case=case, conflict=conflict), status
