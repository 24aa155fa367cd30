"""Pages for moving caseloads and transferring cases between districts."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from casemgmt.access import (
    case_or_404,
    coordinates,
    district_of,
    may_reassign_caseload,
    may_request_transfer,
    requires,
)
from casemgmt.accounts.models import User
from casemgmt.errors import ServiceError
from casemgmt.extensions import db
from casemgmt.forms import refused
from casemgmt.transfers import caseload, services
from casemgmt.transfers.forms import (
    CaseloadForm,
    TransferAcceptForm,
    TransferCancelForm,
    TransferDeclineForm,
    TransferRequestForm,
)
from casemgmt.transfers.presenters import STATUS_LABELS
from casemgmt.workflow.forms import worker_choices

bp = Blueprint("transfers", __name__)

CASELOAD_PAGE = 500


# ---- caseloads ----------------------------------------------------------------------------------

def _worker_or_404(worker_id: int) -> User:
    """A social worker whose caseload the user may move (the coordinator of their district)."""
    worker = db.session.get(User, worker_id)
    if not may_reassign_caseload(current_user, worker):
        abort(404)
    return worker


def _caseload_page(worker, form, message=None, status=200):
    form.to_worker_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(u.id), u.full_name) for u in caseload.workers_to_receive(district_of(worker.area_code),
                                                                                  but=worker.id)]
    cases = caseload.open_cases_of(worker.id, limit=CASELOAD_PAGE)
    total = caseload.open_case_count(worker.id)
    return render_template("transfers/caseload.html", worker=worker, form=form, cases=cases, total=total,
                           shown=len(cases), message=message), status


@bp.get("/workers/<int:worker_id>/caseload")
@login_required
def caseload_page(worker_id: int):
    worker = _worker_or_404(worker_id)
    return _caseload_page(worker, CaseloadForm())


@bp.post("/workers/<int:worker_id>/caseload")
@login_required
def reassign_caseload(worker_id: int):
    worker = _worker_or_404(worker_id)
    form = CaseloadForm()
    if not form.validate_on_submit():
        return _caseload_page(worker, form, _("Some fields need correcting."), 422)
    ids = None if form.all_cases.data else (form.case_ids.data or [])
    try:
        moved = caseload.reassign_caseload(current_user, worker.id, form.to_worker_id.data, form.reason.data,
                                           case_ids=ids)
    except ServiceError as exc:
        message = refused(exc, form, {"to_worker_id": "to_worker_id", "case_ids": "case_ids"},
                          shows_forbidden=True)
        return _caseload_page(worker, form, message, exc.status)
    target = db.session.get(User, form.to_worker_id.data)
    flash(_("%(num)d cases are now with %(name)s.", num=moved, name=target.full_name), "success")
    return redirect(url_for("transfers.caseload_page", worker_id=worker.id))


# ---- transfers ----------------------------------------------------------------------------------

def _request_page(case, form, message=None, status=200):
    form.to_organisation_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(o.id), o.name) for o in services.pksai_choices(case)]
    return render_template("transfers/request.html", case=case, form=form, message=message), status


@bp.get("/cases/<int:case_id>/transfer")
@login_required
def request_form(case_id: int):
    case, _access = case_or_404(current_user, case_id)
    if not may_request_transfer(current_user, case):
        abort(404)
    return _request_page(case, TransferRequestForm(version=case.version))


@bp.post("/cases/<int:case_id>/transfer")
@login_required
def request_transfer(case_id: int):
    case, _access = case_or_404(current_user, case_id)
    if not coordinates(current_user, case.district_code):
        abort(404)
    form = TransferRequestForm()
    if not form.validate_on_submit():
        return _request_page(case, form, _("Some fields need correcting."), 422)
    try:
        transfer = services.request_transfer(case, current_user, form.to_organisation_id.data, form.reason.data,
                                             form.version.data)
    except ServiceError as exc:
        return _request_page(case, form, refused(exc, form, shows_forbidden=True), exc.status)
    flash(_("Transfer asked of %(org)s. The case stays with this district until they accept.",
            org=transfer.to_organisation.name), "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="transfer"))


@bp.get("/transfers")
@requires("transfers.manage")
def index():
    """The coordinator's caseloads (each worker's open cases, to move) and the transfers waiting
    for their answer."""
    return render_template("transfers/index.html", incoming=services.incoming(current_user),
                           caseloads=caseload.caseloads(district_of(current_user.area_code)))


def _transfer_page(transfer, accept_form=None, decline_form=None, message=None, status=200):
    actions = services.transfer_actions(current_user, transfer)
    accept_form = accept_form or TransferAcceptForm(version=transfer.version)
    decline_form = decline_form or TransferDeclineForm(version=transfer.version)
    accept_form.assigned_worker_id.choices = worker_choices(transfer.to_district_code)
    referrals = services.open_referrals(db.session.get(services.Case, transfer.case_id)) if "accept" in actions else []
    accept_form.cancel_referral_ids.choices = [
        SelectChoice(str(r.id), f"{r.reference} · {r.to_organisation.name}") for r in referrals]
    return render_template("transfers/show.html", transfer=transfer, actions=actions, accept_form=accept_form,
                           decline_form=decline_form, cancel_form=TransferCancelForm(version=transfer.version),
                           referrals=referrals, number=services.case_number(transfer), message=message,
                           status_label=STATUS_LABELS[transfer.status]), status


@bp.get("/transfers/<int:transfer_id>")
@login_required
def show(transfer_id: int):
    return _transfer_page(services.transfer_or_404(current_user, transfer_id))


@bp.post("/transfers/<int:transfer_id>/accept")
@login_required
def accept(transfer_id: int):
    transfer = services.transfer_or_404(current_user, transfer_id)
    form = TransferAcceptForm()
    if not form.validate_on_submit():
        return _transfer_page(transfer, accept_form=form, message=_("Some fields need correcting."), status=422)
    try:
        services.accept_transfer(transfer, current_user, form.assigned_worker_id.data, form.version.data,
                                 cancel_referral_ids=form.cancel_referral_ids.data or [])
    except ServiceError as exc:
        message = refused(exc, form, shows_forbidden=True)
        return _transfer_page(transfer, accept_form=form, message=message, status=exc.status)
    flash(_("The case is now this district's."), "success")
    return redirect(url_for("cases.show", case_id=transfer.case_id))


@bp.post("/transfers/<int:transfer_id>/decline")
@login_required
def decline(transfer_id: int):
    transfer = services.transfer_or_404(current_user, transfer_id)
    form = TransferDeclineForm()
    if not form.validate_on_submit():
        return _transfer_page(transfer, decline_form=form, message=_("Some fields need correcting."), status=422)
    try:
        services.decline_transfer(transfer, current_user, form.reason.data, form.version.data)
    except ServiceError as exc:
        message = refused(exc, form, shows_forbidden=True)
        return _transfer_page(transfer, decline_form=form, message=message, status=exc.status)
    flash(_("Transfer declined. The sending district keeps the case."), "success")
    return redirect(url_for("transfers.index"))


@bp.post("/transfers/<int:transfer_id>/cancel")
@login_required
def cancel(transfer_id: int):
    transfer = services.transfer_or_404(current_user, transfer_id)
    form = TransferCancelForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.cancel_transfer(transfer, current_user, version=form.version.data)
    except ServiceError as exc:
        message = refused(exc, form, shows_forbidden=True)
        return _transfer_page(transfer, message=message, status=exc.status)
    flash(_("Transfer request withdrawn."), "success")
    return redirect(url_for("cases.show", case_id=transfer.case_id, _anchor="transfer"))
