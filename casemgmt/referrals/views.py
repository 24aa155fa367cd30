"""Referral pages: make one from a case, the inbox and outbox, answering, the letter (PDF)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from casemgmt import paging
from casemgmt.access import answers_referral, case_or_404, coordinates, referral_actions, referral_or_404, requires
from casemgmt.cases.identity import initials
from casemgmt.codes import SERVICES
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ServiceError, ValidationFailed
from casemgmt.forms import refused
from casemgmt.referrals import letters, services
from casemgmt.referrals.forms import AnswerForm, ReferralForm
from casemgmt.referrals.routing import suggest_destinations

bp = Blueprint("referrals", __name__)


def _service_choices():
    return [SelectChoice("", _("Choose a service"))] + [SelectChoice(c, label) for c, label in SERVICES.items()]


@bp.route("/cases/<int:case_id>/referrals/new", methods=["GET", "POST"])
@login_required
def new(case_id: int):
    case, access = case_or_404(current_user, case_id)
    if not access.add_notes:
        abort(403)
    form = ReferralForm()
    if request.method == "GET":
        form.service.data = request.args.get("service", "")
        if request.args.get("action", "").isdigit():
            form.plan_action_id.data = int(request.args["action"])
    form.service.choices = _service_choices()
    service = form.service.data if form.service.data in SERVICES else None
    suggestions = suggest_destinations(case, service, current_user.organisation_id) if service else []
    form.to_organisation_id.choices = [SelectChoice(str(s.organisation.id), s.organisation.name) for s in suggestions]
    may_override = coordinates(current_user, case.district_code)
    if request.method == "POST" and request.form.get("step") == "send" and form.validate_on_submit():
        consent = override = None
        if form.override.data:
            override = {"reason": form.override_reason.data}
        elif form.consent_given_by.data:
            consent = {"given_by": form.consent_given_by.data, "recorded_on": form.consent_recorded_on.data}
        try:
            referral = services.make_referral(
                case, current_user, to_organisation_id=form.to_organisation_id.data, service=service or "",
                reason=form.reason.data or "", urgency=form.urgency.data, consent=consent, consent_override=override,
                plan_action_id=form.plan_action_id.data)
        except ValidationFailed as exc:
            refused(exc, form)
        except ServiceError as exc:
            refused(exc)
            form.form_errors.append(exc.message)
        else:
            flash(_("Referral %(reference)s sent to %(org)s.", reference=referral.reference,
                    org=referral.to_organisation.name), "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    status = 422 if request.method == "POST" and request.form.get("step") == "send" else 200
    return render_template("referrals/new.html", case=case, form=form, suggestions=suggestions, service=service,
                           may_override=may_override), status


@bp.get("/referrals")
@requires("referrals.box")
def index():
    which = "outbox" if request.args.get("box") == "outbox" else "inbox"
    (rows, next_cursor), cursor = paging.or_first_page(
        lambda cursor: services.box(current_user, which, cursor=cursor), request.args.get("cursor"))
    return render_template("referrals/index.html", rows=rows, box=which, next_cursor=next_cursor, cursor=cursor,
                           now=utcnow())


@bp.get("/referrals/<int:referral_id>")
@login_required
def show(referral_id: int):
    referral, case, access = referral_or_404(current_user, referral_id)
    services.record_view(current_user, referral)
    form = AnswerForm(version=referral.version)
    form.service.choices = _service_choices()
    return render_template("referrals/show.html", referral=referral, case=case, access=access, form=form,
                           actions=referral_actions(current_user, referral, case),
                           recipient=answers_referral(current_user, referral), now=utcnow(), initials=initials,
                           child=letters.child_view(case, referral, access))


@bp.post("/referrals/<int:referral_id>/<action>")
@login_required
def answer(referral_id: int, action: str):
    referral, case, _access = referral_or_404(current_user, referral_id)
    form = AnswerForm()
    form.service.choices = _service_choices()
    if not form.validate_on_submit():
        abort(400)
    version = form.version.data
    try:
        if action == "accept":
            services.accept(referral, current_user, version)
        elif action == "decline":
            services.decline(referral, current_user, form.reason.data, version)
        elif action == "complete":
            services.complete(referral, current_user, form.outcome.data, form.delivered_on.data, version)
        elif action == "cancel":
            services.cancel(referral, current_user, form.reason.data, version)
        elif action == "refer_back":
            back = services.refer_back(referral, current_user, form.service.data, form.reason.data or "")
            flash(_("Counter-referral %(reference)s sent.", reference=back.reference), "success")
            return redirect(url_for("referrals.show", referral_id=back.id))
        else:
            abort(404)
    except ServiceError as exc:
        refused(exc)
        for message in exc.messages:
            flash(message, "danger")
        return redirect(url_for("referrals.show", referral_id=referral.id)), 303
    flash(_("Referral updated."), "success")
    return redirect(url_for("referrals.show", referral_id=referral.id))


@bp.get("/referrals/<int:referral_id>/letter.pdf")
@login_required
def letter(referral_id: int):
    referral, case, access = referral_or_404(current_user, referral_id)
    pdf = letters.referral_letter(referral, case, access, current_user)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="surat-rujukan-{referral.reference.replace("/", "-")}.pdf"'})
