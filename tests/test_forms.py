"""Shared form helpers: a service's error keys land next to the fields they name."""
from __future__ import annotations

from casemgmt.errors import ValidationFailed
from casemgmt.forms import apply_errors, field_at


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
