"""The SOP as data: stages, transitions, who may take them, their guards, forms, effects,
approvals and clocks.

Changing the SOP means editing these tables (and, for a new kind of step, adding its form to
``workflow.forms.TRANSITION_FORMS`` or its effect to ``workflow.effects.EFFECTS``). ``validate()``
runs when the app starts and refuses a definition with an unknown stage, an unreachable stage, or
a guard, role, actor rule, form, effect or clock that does not exist.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from casemgmt.codes import ROLES
from casemgmt.workflow.stages import STAGES, Stage

OPEN_STAGES_AFTER_REPORT = ("assessment", "intervention_plan", "intervention", "monitoring")

DISMISS_REASONS = {
    "not_child_protection": _l("Not a child-protection matter"),
    "duplicate": _l("Duplicate of another case"),
    "referred_elsewhere": _l("Referred elsewhere"),
    "insufficient_information": _l("Not enough information to act on"),
}
# Reasons to close a case, and the stages each may close from.
TERMINATION_REASONS = {
    "goals_met": _l("The plan's goals are met"),
    "family_declined": _l("The family declined further services"),
    "child_died": _l("The child died"),
    "moved_away": _l("The child moved away"),
    "turned_18": _l("The child turned 18"),
    "transferred": _l("Transferred to another service"),
}
TERMINATION_FROM = {
    "goals_met": ("monitoring",),
    "family_declined": ("monitoring",),
    "child_died": OPEN_STAGES_AFTER_REPORT,
    "moved_away": OPEN_STAGES_AFTER_REPORT,
    "turned_18": OPEN_STAGES_AFTER_REPORT,
    "transferred": OPEN_STAGES_AFTER_REPORT,
}

# Who, besides having the role, may take a transition on a given case.
ACTOR_RULES = {
    "district_coordinator": _l("the PKSAI coordinator of the case's district"),
    "assigned_worker": _l("the social worker assigned to the case"),
    "assigned_worker_or_coordinator": _l("the assigned social worker or the district coordinator"),
}


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    from_stages: tuple[str, ...]
    to_stage: str
    roles: frozenset[str]
    actor: str            # key of ACTOR_RULES
    guard: str            # key of workflow.guards.GUARDS
    needs_approval: bool = False
    clock: str | None = None  # the deadline clock started on arrival (workflow.deadlines)
    form: str = "plain"       # key of workflow.forms.TRANSITION_FORMS: what the step asks for
    effects: tuple[str, ...] = ()  # keys of workflow.effects.EFFECTS, run in this order on arrival

    @property
    def closes(self) -> bool:
        return "close" in self.effects


TRANSITIONS: tuple[Transition, ...] = (
    Transition("accept", _l("Accept and assign"), ("report",), "assessment", frozenset({"coordinator"}),
               "district_coordinator", "triage_accept", clock="assessment", form="accept", effects=("triage",)),
    Transition("dismiss", _l("Dismiss"), ("report",), "termination", frozenset({"coordinator"}),
               "district_coordinator", "dismiss_reason", form="dismiss", effects=("close",)),
    Transition("submit_assessment", _l("Submit the assessment"), ("assessment",), "intervention_plan",
               frozenset({"social_worker"}), "assigned_worker", "assessment_complete", clock="plan",
               effects=("risk_from_assessment",)),
    Transition("submit_plan", _l("Submit the plan for approval"), ("intervention_plan",), "intervention",
               frozenset({"social_worker"}), "assigned_worker", "plan_complete", needs_approval=True,
               clock="actions"),
    Transition("start_monitoring", _l("Start monitoring"), ("intervention",), "monitoring",
               frozenset({"social_worker"}), "assigned_worker", "actions_settled", clock="monitoring_visit"),
    Transition("revise_plan", _l("Revise the plan"), ("intervention", "monitoring"), "intervention_plan",
               frozenset({"social_worker", "coordinator"}), "assigned_worker_or_coordinator", "comment_given",
               clock="plan"),
    Transition("terminate", _l("Request termination"), OPEN_STAGES_AFTER_REPORT, "termination",
               frozenset({"social_worker"}), "assigned_worker", "termination_ready", needs_approval=True,
               form="terminate", effects=("close",)),
    Transition("reopen", _l("Reopen"), ("termination",), "assessment", frozenset({"coordinator"}),
               "district_coordinator", "comment_given", clock="assessment", effects=("reopen",)),
)

BY_NAME: dict[str, Transition] = {t.name: t for t in TRANSITIONS}


class DefinitionError(RuntimeError):
    """The SOP definition is broken; the app refuses to start with it."""


def validate(stages: tuple[Stage, ...] | None = None, transitions: tuple[Transition, ...] | None = None,
             guards: dict | None = None, clocks: set[str] | None = None, roles: set[str] | None = None,
             forms: dict | None = None, effects: dict | None = None) -> None:
    """Raise DefinitionError naming every problem of the definition (the module's tables by default)."""
    from casemgmt.workflow.deadlines import CLOCKS
    from casemgmt.workflow.effects import EFFECTS
    from casemgmt.workflow.forms import TRANSITION_FORMS
    from casemgmt.workflow.guards import GUARDS

    forms = TRANSITION_FORMS if forms is None else forms
    effects = EFFECTS if effects is None else effects
    stages = STAGES if stages is None else stages
    transitions = globals()["TRANSITIONS"] if transitions is None else transitions
    guards = GUARDS if guards is None else guards
    clocks = set(CLOCKS) if clocks is None else clocks
    roles = set(ROLES) if roles is None else roles
    codes = [s.code for s in stages]
    problems = []
    if len(set(codes)) != len(codes):
        problems.append("a stage code appears twice")
    names = [t.name for t in transitions]
    if len(set(names)) != len(names):
        problems.append("a transition name appears twice")
    for t in transitions:
        for stage in (*t.from_stages, t.to_stage):
            if stage not in codes:
                problems.append(f"transition {t.name!r} names unknown stage {stage!r}")
        for role in t.roles - roles:
            problems.append(f"transition {t.name!r} names unknown role {role!r}")
        if t.actor not in ACTOR_RULES:
            problems.append(f"transition {t.name!r} names unknown actor rule {t.actor!r}")
        if t.guard not in guards:
            problems.append(f"transition {t.name!r} names guard {t.guard!r}, which does not exist")
        if t.clock is not None and t.clock not in clocks:
            problems.append(f"transition {t.name!r} starts unknown clock {t.clock!r}")
        if t.form not in forms:
            problems.append(f"transition {t.name!r} names form {t.form!r}, which does not exist")
        for effect in t.effects:
            if effect not in effects:
                problems.append(f"transition {t.name!r} names effect {effect!r}, which does not exist")
    if codes:
        reached, queue = {codes[0]}, deque([codes[0]])
        while queue:
            stage = queue.popleft()
            for t in transitions:
                if stage in t.from_stages and t.to_stage in codes and t.to_stage not in reached:
                    reached.add(t.to_stage)
                    queue.append(t.to_stage)
        for code in codes:
            if code not in reached:
                problems.append(f"stage {code!r} cannot be reached from {codes[0]!r}")
    if problems:
        raise DefinitionError("The SOP definition in casemgmt/workflow is broken: " + "; ".join(problems))


def available_from(stage: str) -> list[Transition]:
    return [t for t in TRANSITIONS if stage in t.from_stages]
