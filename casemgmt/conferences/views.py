"""Conference pages: schedule, the meeting (attendance, decisions), close, minutes; my tasks."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from casemgmt.access import district_of, may_manage_conference, may_view_conference, owns_task, requires
from casemgmt.cases.identity import initials
from casemgmt.codes import SEXES
from casemgmt.conferences import minutes, services
from casemgmt.conferences.forms import AttendanceForm, CloseForm, DecisionForm, ScheduleForm
from casemgmt.conferences.models import CaseConference, Task
from casemgmt.dbtypes import utcnow
from casemgmt.directory.services import list_organisations
from casemgmt.errors import ServiceError, ValidationFailed
from casemgmt.extensions import db
from casemgmt.forms import apply_errors, refused
from casemgmt.i18n import local_zone
from casemgmt.workflow.labels import transition_label
from casemgmt.workflow.services import pending_approvals

bp = Blueprint("conferences", __name__)


def _conference_or_404(conference_id: int) -> CaseConference:
    conf = db.session.get(CaseConference, conference_id)
    if conf is None or not may_view_conference(current_user, conf):
        abort(404)
    return conf


def _org_choices(orgs, blank=True):
    return ([SelectChoice("", "—")] if blank else []) + [SelectChoice(str(o.id), o.name) for o in orgs]


@bp.get("/conferences")
@requires("conferences.view")
def index():
    return render_template("conferences/index.html", conferences=services.conferences_for(current_user),
                           now=utcnow())


@bp.route("/conferences/new", methods=["GET", "POST"])
@requires("conferences.manage")
def new():
    district = district_of(current_user.area_code)
    form = ScheduleForm()
    suggestions = services.suggest_cases(current_user)
    form.case_ids.choices = [SelectChoice(str(s.case.id), s.case.number) for s in suggestions]
    form.organisation_ids.choices = _org_choices(list_organisations(area_code=district), blank=False)
    if form.validate_on_submit():
        when = form.scheduled_at.data
        try:
            conf = services.schedule(current_user, title=form.title.data or "",
                                     scheduled_at=when.replace(tzinfo=local_zone()) if when else None,
                                     area_code=district, location=form.location.data or "",
                                     case_ids=[i for i in form.case_ids.data or [] if i],
                                     organisation_ids=[i for i in form.organisation_ids.data or [] if i])
        except ValidationFailed as exc:
            refused(exc, form)
        else:
            flash(_("Conference scheduled."), "success")
            return redirect(url_for("conferences.show", conference_id=conf.id))
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/new.html", form=form, suggestions=suggestions), status


def _decision_forms(conf, cases, orgs=None) -> dict[int, DecisionForm]:
    """The decision form of each case on the agenda. The organisations, people and pending
    approvals are read once for the whole agenda, not once per case."""
    orgs = list_organisations(area_code=conf.district_code) if orgs is None else orgs
    org_choices, people = _org_choices(orgs), _people_choices(orgs)
    pending = pending_approvals(cases)
    forms = {}
    for case in cases:
        form = forms[case.id] = DecisionForm(prefix=f"d{case.id}", case_id=case.id)
        approval = pending.get(case.id)
        form.approve.choices = [SelectChoice("", _("No decision on a request"))] + (
            [SelectChoice(str(approval.id), _("Approve: %(step)s", step=transition_label(approval.transition)))]
            if approval else [])
        for action in form.actions:
            action.form.owner_organisation_id.choices = org_choices
            action.form.owner_user_id.choices = people
    return forms


def _people_choices(orgs):
    """Users of the district's organisations, named with their organisation."""
    names = {o.id: o.name for o in orgs}
    return [SelectChoice("", "—")] + [SelectChoice(str(u.id), f"{u.full_name} ({names[u.organisation_id]})")
                                      for u in services.people_of(orgs)]


@bp.get("/conferences/<int:conference_id>")
@login_required
def show(conference_id: int):
    return _conference_page(_conference_or_404(conference_id))


def _conference_page(conf, *, refused: ValidationFailed | None = None, case_id: int | None = None):
    """The conference page. After a refused decision (on ``case_id``) or attendance list, that
    form comes back open with what was typed and each error next to its field (422)."""
    manage = may_manage_conference(current_user, conf)
    cases = services.agenda_cases(conf)
    orgs = list_organisations(area_code=conf.district_code)
    attendance = AttendanceForm(data={"attendees": [
        {"name": a.name, "organisation_id": a.organisation_id, "sex": a.sex} for a in conf.attendees] + [{}] * 3})
    org_choices = _org_choices(orgs)
    sex_choices = [SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in SEXES.items()]
    for entry in attendance.attendees:
        entry.form.organisation_id.choices = org_choices
        entry.form.sex.choices = sex_choices
    decision_forms = _decision_forms(conf, cases, orgs) if manage else {}
    refused_form = None
    if refused is not None:
        refused_form = decision_forms.get(case_id) if case_id is not None else attendance
        apply_errors(refused_form, refused, {"approve_approval_id": "approve"})
        flash(refused.said, "danger")
    named = services.identities_visible(current_user, cases)
    return render_template(
        "conferences/show.html", conf=conf, manage=manage, cases=cases, initials=initials,
        sees=lambda case: case.id in named, totals=services.totals_by_sex(conf),
        decisions=services.decisions(conf), attendance=attendance, close_form=CloseForm(version=conf.version),
        decision_forms=decision_forms, refused_form=refused_form), 422 if refused is not None else 200


def _problem(conf, message: str):
    """Refused: back to the conference page with the reason (303, so a reload does not resend)."""
    flash(message, "danger")
    return redirect(url_for("conferences.show", conference_id=conf.id), code=303)


@bp.post("/conferences/<int:conference_id>/attendance")
@login_required
def attendance(conference_id: int):
    conf = _conference_or_404(conference_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    rows = [{"name": e.form.name.data, "organisation_id": e.form.organisation_id.data, "sex": e.form.sex.data or None}
            for e in form.attendees]
    try:
        services.record_attendance(conf, current_user, rows)
    except ValidationFailed as exc:
        refused(exc)
        return _conference_page(conf, refused=exc)
    except ServiceError as exc:
        refused(exc)
        return _problem(conf, exc.message)
    flash(_("Attendance saved."), "success")
    return redirect(url_for("conferences.show", conference_id=conf.id, _anchor="attendance"))


@bp.post("/conferences/<int:conference_id>/decisions/<int:case_id>")
@login_required
def decide(conference_id: int, case_id: int):
    conf = _conference_or_404(conference_id)
    case = services.on_agenda(conf, case_id) or abort(404)  # any other case is not found here
    form = _decision_forms(conf, [case])[case.id]
    if not form.validate_on_submit():
        abort(400)
    actions = [{"description": a.form.description.data, "owner_organisation_id": a.form.owner_organisation_id.data,
                "owner_user_id": a.form.owner_user_id.data, "due_date": a.form.due_date.data} for a in form.actions]
    try:
        services.add_decision(conf, current_user, case_id=case.id, summary=form.summary.data or "", actions=actions,
                              approve_approval_id=int(form.approve.data) if (form.approve.data or "").isdigit()
                              else None)
    except ValidationFailed as exc:
        refused(exc)
        return _conference_page(conf, refused=exc, case_id=case.id)
    except ServiceError as exc:
        refused(exc)
        return _problem(conf, exc.message)
    flash(_("Decision recorded for %(number)s.", number=case.number), "success")
    return redirect(url_for("conferences.show", conference_id=conf.id, _anchor=f"case-{case.id}"))


@bp.post("/conferences/<int:conference_id>/close")
@login_required
def close(conference_id: int):
    conf = _conference_or_404(conference_id)
    form = CloseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.close(conf, current_user, form.version.data)
    except ServiceError as exc:
        refused(exc)
        return _problem(conf, exc.message)
    flash(_("The conference is closed; its minutes are ready."), "success")
    return redirect(url_for("conferences.show", conference_id=conf.id))


@bp.get("/conferences/<int:conference_id>/minutes.pdf")
@login_required
def minutes_pdf(conference_id: int):
    conf = _conference_or_404(conference_id)
    pdf = minutes.render(conf, current_user)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="berita-acara-{conf.id}.pdf"'})


REVIEW_PAGE = 200  # the longest waiting; the count says how many more there are


@bp.get("/conferences/review")
@requires("conferences.manage")
def review():
    cases = services.not_reviewed(current_user, limit=REVIEW_PAGE)
    return render_template("conferences/review.html", cases=cases, initials=initials,
                           total=services.count_not_reviewed(current_user) if len(cases) == REVIEW_PAGE
                           else len(cases))


@bp.post("/tasks/<int:task_id>/done")
@login_required  # a task that is not yours is 404, whatever your role
def task_done(task_id: int):
    task = db.session.get(Task, task_id)
    if task is None or not owns_task(current_user, task):
        abort(404)
    try:
        services.complete_task(task, current_user)
    except ServiceError as exc:
        refused(exc)
        flash(exc.message, "danger")
    return redirect(url_for("home.tasks"))
