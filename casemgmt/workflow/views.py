"""Pages of the SOP's steps: transitions, assessment, plan, actions, visits, approvals,
the coordinator's triage queue, the SOP diagram, and per-district deadlines."""
from __future__ import annotations


from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from casemgmt import paging
from casemgmt.access import case_or_404, coordinates, may_reassign, requires, works_on_case
from casemgmt.cases.identity import initials
from casemgmt.cases.models import Case
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Area
from casemgmt.errors import ServiceError, StaleVersion, ValidationFailed
from casemgmt.extensions import db
from casemgmt.forms import refused
from casemgmt.templating import stage_label
from casemgmt.workflow import definition, diagram, forms, services
from casemgmt.workflow.deadlines import (CLOCK_LABELS, DEFAULT_HOURS, LEVEL_LABELS, STATUTORY, hours_for,
                                         save_district_hours)
from casemgmt.workflow.guards import MISSING_LABELS
from casemgmt.workflow.models import Approval, PlanAction
from casemgmt.workflow.presenters import organisation_choices, reassign_form, service_choices
from casemgmt.workflow.triage import approvals_with_cases, triage_board


bp = Blueprint("workflow", __name__)


def _back(case: Case):
    return redirect(url_for("cases.show", case_id=case.id, _anchor="next-step"))


def _problem_page(case: Case, title: str, form, message: str, missing: list[str] | None = None, status=422,
                  retry: bool = True):
    """A failed step shows the form again with what was typed and what is wrong; nothing is lost.
    Without ``retry`` (sending it again cannot succeed now), a way back to the case instead. A
    form that did not validate may always be sent again corrected; a refusal says (_refused)."""
    return render_template("workflow/problem.html", case=case, title=title, form=form, message=message,
                           missing=[MISSING_LABELS.get(m, m) for m in (missing or [])], retry=retry), status


def _refused(case: Case, title: str, form, exc: ServiceError):
    """A step the service refused: the form again, errors next to their fields (those of no field
    above them, form_errors), the right status."""
    refused(exc, form, shows_forbidden=True)
    if isinstance(exc, services.GuardFailed):
        return _problem_page(case, title, form, exc.message, exc.missing, retry=exc.retry)
    if isinstance(exc, StaleVersion):
        # What was typed is kept and the form now carries the case's version (refused): told of
        # the change, the user may open the case, or send the step again, checked against it.
        return _problem_page(case, title, form, _(
            "Someone else changed this case after you opened it; it is now at the stage %(stage)s. "
            "Open the case to see the changes, or send this again to apply it to the case as it is now.",
            stage=stage_label(case.stage)), status=409, retry=exc.retry)
    return _problem_page(case, title, form, exc.message, status=exc.status, retry=exc.retry)


@bp.post("/cases/<int:case_id>/transitions/<name>")
@login_required
def transition(case_id: int, name: str):
    case, _access = case_or_404(current_user, case_id)
    step = definition.BY_NAME.get(name) or abort(404)
    form = forms.transition_form(step, case)
    if not form.validate_on_submit():
        return _problem_page(case, step.label, form, _("Some fields need correcting."))
    data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "version")}
    try:
        outcome = services.apply_transition(case, name, current_user, data, form.version.data)
    except ServiceError as exc:
        return _refused(case, step.label, form, exc)
    if outcome.moved:
        flash(_("Done: %(step)s.", step=step.label), "success")
    else:
        flash(_("Sent to the coordinator for approval. The case moves on once it is approved."), "info")
    return _back(case)


@bp.route("/cases/<int:case_id>/worker", methods=["GET", "POST"])
@login_required
def reassign(case_id: int):
    case, _access = case_or_404(current_user, case_id)
    # Only the district's coordinator hands cases over: anyone else finds no such page. The form
    # is served only while the hand-over is offered (may_reassign); a post made from a form that
    # the case has outgrown since (a request now waits, the case closed) gets the service's reason.
    if not coordinates(current_user, case.district_code):
        abort(404)
    title = _("Hand the case to another social worker")
    if request.method == "GET":  # the form, fetched when the case page's section is opened
        if not may_reassign(current_user, case, services.pending_approval(case)):
            abort(404)
        template = "workflow/_reassign.html" if request.headers.get("HX-Request") else "workflow/reassign.html"
        form = reassign_form(case, version=request.args.get("version", type=int))
        return render_template(template, case=case, form=form, title=title)
    form = reassign_form(case, forms.ReassignForm(prefix="reassign"))
    if not form.validate_on_submit():
        return _problem_page(case, title, form, _("Some fields need correcting."))
    try:
        services.reassign(case, current_user, form.assigned_worker_id.data, form.reason.data, form.version.data)
    except ServiceError as exc:
        return _refused(case, title, form, exc)
    flash(_("The case is now with %(name)s.", name=case.assigned_worker.full_name), "success")
    return _back(case)


@bp.post("/cases/<int:case_id>/assessment")
@login_required
def save_assessment(case_id: int):
    case, _access = case_or_404(current_user, case_id)
    form = forms.AssessmentForm(prefix="assessment")
    if form.validate_on_submit():
        try:
            services.save_assessment(case, current_user, form.risk_level.data, form.needs.data or [],
                                     form.summary.data or "", form.version.data)
        except ServiceError as exc:
            return _refused(case, _("Assessment"), form, exc)
        flash(_("Assessment saved."), "success")
        return _back(case)
    return _problem_page(case, _("Assessment"), form, _("Some fields need correcting."))


@bp.post("/cases/<int:case_id>/juvenile")
@login_required
def investigator_request(case_id: int):
    """Record an investigator's request: starts the case's juvenile-justice clocks."""
    from casemgmt.i18n import local_zone
    from casemgmt.workflow import juvenile

    case, _access = case_or_404(current_user, case_id)
    title = _("Request from the investigator")
    form = forms.InvestigatorRequestForm(prefix="juvenile")
    if not form.validate_on_submit():
        return _problem_page(case, title, form, _("Some fields need correcting."))
    try:
        juvenile.record_investigator_request(case, current_user, form.received_at.data.replace(tzinfo=local_zone()))
    except ServiceError as exc:
        return _refused(case, title, form, exc)
    flash(_("The juvenile-justice deadlines are running."), "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="juvenile"))


@bp.post("/cases/<int:case_id>/juvenile/<int:run_id>")
@login_required
def juvenile_step(case_id: int, run_id: int):
    """Record the step a juvenile-justice clock waits for; it stops the clock."""
    from casemgmt.workflow import juvenile

    case, _access = case_or_404(current_user, case_id)
    run = juvenile.run_of_case(case, run_id)
    if run is None:
        abort(404)
    form = forms.ClockStepForm(prefix="step")
    title = _("Juvenile justice deadline")
    if not form.validate_on_submit():
        return _problem_page(case, title, form, _("Some fields need correcting."))
    try:
        juvenile.stop_clock(run, current_user)
    except ServiceError as exc:
        return _refused(case, title, form, exc)
    flash(_("Recorded."), "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="juvenile"))


def _plan_form_choices(form: forms.PlanForm, case: Case) -> None:
    services_ = service_choices(_("Choose a service"))
    orgs = organisation_choices(case.district_code, _("Choose an organisation"))
    for goal in form.goals:
        for action in goal.form.actions:
            action.form.service.choices = services_
            action.form.organisation_id.choices = orgs


def _plan_input(form: forms.PlanForm) -> list[dict]:
    goals = []
    for goal in form.goals:
        actions = [{"description": a.form.description.data or "", "service": a.form.service.data or None,
                    "organisation_id": a.form.organisation_id.data, "due_date": a.form.due_date.data}
                   for a in goal.form.actions
                   if (a.form.description.data or a.form.service.data or a.form.organisation_id.data
                       or a.form.due_date.data)]
        if (goal.form.description.data or "").strip() or actions:
            goals.append({"description": goal.form.description.data or "", "actions": actions})
    return goals


@bp.route("/cases/<int:case_id>/plan", methods=["GET", "POST"])
@login_required
def plan(case_id: int):
    case, _access = case_or_404(current_user, case_id)
    if not works_on_case(current_user, case):
        abort(403)
    form = forms.PlanForm()
    if request.method == "GET":
        goals = services.plan_goals(case)
        data = [{"description": g.description, "actions": [
            {"description": a.description, "service": a.service or "", "organisation_id": a.organisation_id,
             "due_date": a.due_date} for a in g.actions if a.status == "open"] or [{}]} for g in goals]
        form = forms.PlanForm(data={"goals": data or [{"actions": [{}]}], "version": services.plan_version(case)})
    action = request.form.get("action", "save")
    if request.method == "POST" and action.startswith("add_action:"):
        index = int(action.split(":")[1]) if action.split(":")[1].isdigit() else -1
        if 0 <= index < len(form.goals) and len(form.goals[index].form.actions) < 15:
            form.goals[index].form.actions.append_entry()
    elif request.method == "POST" and action == "add_goal" and len(form.goals) < 10:
        form.goals.append_entry()
    _plan_form_choices(form, case)
    editable = case.stage == "intervention_plan"
    status = 200
    if request.method == "POST" and action == "save" and form.validate_on_submit():
        try:
            services.save_plan(case, current_user, _plan_input(form), form.version.data)
        except ValidationFailed as exc:
            refused(exc, form)  # goals.0.actions.1.description and the like
        except ServiceError as exc:  # a stale plan: the form takes its version; saving again is deliberate
            form.form_errors.append(refused(exc, form))
            status = exc.status
        else:
            flash(_("Plan saved."), "success")
            return _back(case)
    if status == 200 and request.method == "POST" and (form.errors or form.form_errors):
        status = 422
    return render_template("workflow/plan.html", case=case, form=form, editable=editable), status


@bp.post("/cases/<int:case_id>/actions/<int:action_id>")
@login_required
def update_action(case_id: int, action_id: int):
    case, _access = case_or_404(current_user, case_id)
    action = db.session.get(PlanAction, action_id)
    if action is None or action.case_id != case.id:
        abort(404)
    form = forms.ActionUpdateForm(prefix="action")
    if form.validate_on_submit():
        try:
            services.update_action(case, action, current_user, form.status.data, form.note.data, form.done_on.data)
        except ServiceError as exc:
            return _refused(case, action.description or _("Action"), form, exc)
        flash(_("Action updated."), "success")
        return _back(case)
    return _problem_page(case, _("Action"), form, _("Some fields need correcting."))


@bp.post("/cases/<int:case_id>/visits")
@login_required
def record_visit(case_id: int):
    case, _access = case_or_404(current_user, case_id)
    form = forms.VisitForm(prefix="visit")
    if form.validate_on_submit():
        try:
            services.record_visit(case, current_user, form.visited_on.data, form.progress.data, form.notes.data or "")
        except ServiceError as exc:
            return _refused(case, _("Monitoring visit"), form, exc)
        flash(_("Visit recorded."), "success")
        return _back(case)
    return _problem_page(case, _("Monitoring visit"), form, _("Some fields need correcting."))


@bp.post("/approvals/<int:approval_id>")
@login_required
def decide(approval_id: int):
    approval = db.session.get(Approval, approval_id) or abort(404)
    case, _access = case_or_404(current_user, approval.case_id)
    form = forms.DecisionForm(prefix="decision")
    if form.validate_on_submit():
        try:
            services.decide_approval(approval, current_user, form.decision.data, form.comment.data)
        except ServiceError as exc:
            return _refused(case, _("Decision"), form, exc)
        flash(_("Approved: the case moved on.") if approval.status == "approved"
              else _("Sent back to the social worker with your comment."), "success")
        return _back(case)
    return _problem_page(case, _("Decision"), form, _("Some fields need correcting."))


@bp.get("/approvals")
@requires("approvals.view")
def approvals():
    return render_template("workflow/approvals.html", rows=approvals_with_cases(current_user),
                           initials=initials)


@bp.get("/triage")
@requires("triage.view")
def triage():
    """New complaints, urgent first then oldest, a page at a time; overdue cases by stage and by
    worker, and the most overdue of them."""
    now = utcnow()
    board, cursor = paging.or_first_page(lambda cursor: triage_board(current_user, now, cursor=cursor),
                                         request.args.get("cursor"))
    return render_template("workflow/triage.html", board=board, cursor=cursor,
                           by_worker=[(name or _("Not assigned yet"), n) for name, n in board.by_worker],
                           now=now, initials=initials)


@bp.get("/help/sop")
@login_required
def sop_help():
    return render_template("workflow/sop.html", transitions=definition.TRANSITIONS, missing_labels=MISSING_LABELS)


@bp.get("/help/sop.svg")
@login_required
def sop_svg():
    return Response(diagram.svg(), mimetype="image/svg+xml")


@bp.route("/admin/deadlines", methods=["GET", "POST"])
@requires("deadlines.manage")
def deadlines():

    districts = list(db.session.scalars(select(Area).where(Area.level == "regency").order_by(Area.code)))
    form = forms.DeadlineForm(request.args if request.method == "GET" else None)
    form.district.choices = [SelectChoice(a.code, a.name) for a in districts]
    code = request.values.get("district") or (districts[0].code if districts else None)
    if request.method == "POST":
        values, errors = {}, {}
        for clock, levels in DEFAULT_HOURS.items():
            if clock in STATUTORY:
                continue
            for level in levels:
                raw = (request.form.get(f"{clock}.{level}") or "").strip()
                if raw == "":
                    continue
                try:
                    hours = int(raw)
                    if not 1 <= hours <= 24 * 366:
                        raise ValueError
                except ValueError:
                    errors[f"{clock}.{level}"] = _("Whole hours, from 1 to 8,784.")
                    continue
                values[(clock, level)] = hours
        if errors:
            flash(_("Some values need correcting; nothing was saved."), "danger")
        else:
            try:
                save_district_hours(code, values, current_user)
            except ValidationFailed as exc:
                refused(exc)
                flash(exc.said, "danger")
            else:
                flash(_("Deadlines of %(district)s saved.", district=code), "success")
                return redirect(url_for("workflow.deadlines", district=code))
    table = [(clock, CLOCK_LABELS[clock], [(level, LEVEL_LABELS[level], DEFAULT_HOURS[clock][level],
                                            hours_for(clock, level, code)) for level in levels])
             for clock, levels in DEFAULT_HOURS.items() if clock not in STATUTORY]
    statutory = [(CLOCK_LABELS[clock], DEFAULT_HOURS[clock]["abh"]) for clock in DEFAULT_HOURS if clock in STATUTORY]
    return render_template("workflow/deadlines.html", form=form, code=code, table=table, statutory=statutory,
                           values=request.form if request.method == "POST" else None)


