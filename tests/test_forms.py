"""Shared form helpers: a service's error keys land next to the fields they name."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from casemgmt.errors import ValidationFailed
from casemgmt.forms import WTFORMS_HTML_PARAMS, apply_errors, field_at, html_params


def test_service_errors_land_on_the_fields_of_repeated_sub_forms(app):
    from casemgmt.workflow.forms import PlanForm

    with app.test_request_context():
        form = PlanForm(meta={"csrf": False})
        form.goals.append_entry()
        form.goals[1].form.actions.append_entry()
        apply_errors(form, ValidationFailed({
            "goals.1.actions.1.description": ["Describe the action."], "goals.0.description": ["Name the goal."],
            "goals.7.description": ["Out of range."], "plan": ["Something about the plan as a whole."]}))
        assert form.goals[1].form.actions[1].form.description.errors == ["Describe the action."]
        assert form.goals[0].form.description.errors == ["Name the goal."]
        assert form.form_errors == ["Out of range.", "Something about the plan as a whole."]
        assert field_at(form, "goals") is form.goals and field_at(form, "goals.0") is None  # a sub-form is no field
        assert field_at(form, "goals.0.nothing") is None


_NAMES = st.sampled_from(["class", "class_", "id", "name", "value", "for_", "data_x_y", "aria_describedby",
                          "required", "checked", "rows", "maxlength", "x<y", "on\"click"])
_VALUES = st.one_of(st.booleans(), st.integers(), st.none(), st.text(), st.text().map(Markup))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_NAMES, _VALUES, max_size=6))
def test_html_params_writes_what_wtforms_writes(attributes):
    """The fast html_params is WTForms' own, character for character, Markup for Markup."""
    ours, theirs = html_params(**attributes), WTFORMS_HTML_PARAMS(**attributes)
    assert isinstance(ours, Markup)
    assert str(ours) == str(theirs)


def test_rendered_fields_go_through_the_fast_html_params(app):
    from wtforms import widgets
    from wtforms.widgets import core

    from casemgmt.workflow.forms import AcceptForm

    # Every way WTForms reaches it: selects and text areas, inputs, buttons, labels.
    assert core.html_params is widgets.html_params is core.Input.html_params is core.Button.html_params is html_params
    with app.test_request_context():
        form = AcceptForm(prefix="accept", version=3, risk_level="medium", meta={"csrf": False})
        form.assigned_worker_id.choices = [("", "—"), ("7", 'Andi "Ucok" <Rahman>')]
        html = str(form.assigned_worker_id(class_="form-select", required=True))
        assert str(form.version()) == '<input id="accept-version" name="accept-version" type="hidden" value="3">'
        assert str(form.comment.label(class_="form-label")) == (
            '<label class="form-label" for="accept-comment">Komentar</label>')
    assert html.startswith('<select class="form-select" id="accept-assigned_worker_id" name="accept-assigned_worker_id" required>')
    assert '<option value="7">Andi &#34;Ucok&#34; &lt;Rahman&gt;</option>' in html


def test_errors_of_a_hidden_field_are_the_forms_own(app):
    """A hidden field's message would be shown nowhere: it goes with the form's own messages."""
    from casemgmt.workflow.forms import DecisionForm

    with app.test_request_context():
        form = DecisionForm(prefix="decision", meta={"csrf": False})
        apply_errors(form, ValidationFailed({"decision": ["Choose approve or reject."], "comment": ["Say why."]}))
    assert form.form_errors == ["Choose approve or reject."]
    assert not form.decision.errors and form.comment.errors == ["Say why."]


def test_wtforms_own_messages_follow_the_users_language(app):
    """WTForms has no Indonesian: its messages (a field too long, a date that is none, a value
    required) come from the app's wtforms catalogue, in a page's form and in a sub-form alike, and
    stay English for English."""
    from casemgmt.workflow.forms import AssessmentForm, PlanForm

    from werkzeug.datastructures import MultiDict

    data = MultiDict({"summary": "x" * 20001})
    with app.test_request_context():
        form = AssessmentForm(data, meta={"csrf": False})
        assert not form.validate() and form.summary.errors == ["Paling banyak 20000 karakter."]
    from flask import session
    from flask_babel import refresh

    with app.test_request_context():
        session["lang"] = "en"  # the page's language switch
        refresh()  # the test's app context outlives its request contexts, and Flask-Babel keeps the locale there
        form = AssessmentForm(data, meta={"csrf": False})
        assert not form.validate() and form.summary.errors == ["Field cannot be longer than 20000 characters."]
    with app.test_request_context():
        refresh()
        plan = PlanForm(MultiDict({"goals-0-description": "Akta", "goals-0-actions-0-due_date": "31/02/2026"}),
                        meta={"csrf": False})
        assert not plan.validate()
        assert plan.goals[0].form.actions[0].form.due_date.errors == ["Tanggal tidak valid."]


def test_every_form_of_the_app_takes_its_messages_from_the_app():
    """A form on FlaskForm or wtforms.Form directly would answer in English on Indonesian pages:
    every form class of casemgmt derives from casemgmt.forms.Form or PlainForm."""
    import casemgmt
    import pkgutil
    import importlib

    from wtforms.form import BaseForm

    from casemgmt.forms import Form, PlainForm

    for module in pkgutil.walk_packages(casemgmt.__path__, "casemgmt."):
        if module.name.endswith(".forms") or module.name.endswith(".views"):
            importlib.import_module(module.name)

    def every(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from every(sub)

    ours = {cls for cls in every(BaseForm) if cls.__module__.startswith("casemgmt.")} - {Form, PlainForm}
    assert len(ours) > 25
    assert [cls.__qualname__ for cls in ours if not issubclass(cls, (Form, PlainForm))] == []
