"""flask workflow ...: the deadline sweep and a check of the SOP definition."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("workflow", help="The SOP engine: deadlines and the definition.")
def workflow_cli():
    pass


@workflow_cli.command("sweep")
@with_appcontext
def sweep_command():
    """Mark cases past their due date and tell the assigned worker and the district coordinators.
    The background worker runs this every 15 minutes; run it by hand or from cron as well."""
    from casemgmt.workflow.sweep import (sweep_due_soon, sweep_juvenile_clocks, sweep_overdue,
                                         sweep_overdue_referrals)

    result = sweep_overdue()
    click.echo(f"Overdue sweep: {result['cases']} cases newly overdue, {result['notifications']} notifications.")
    result = sweep_overdue_referrals()
    click.echo(f"Referral sweep: {result['referrals']} unanswered referrals escalated, "
               f"{result['notifications']} notifications.")
    result = sweep_due_soon()
    click.echo(f"Due-soon sweep: {result['due_soon']} cases and referrals due within a day, "
               f"{result['notifications']} notifications.")
    result = sweep_juvenile_clocks()
    click.echo(f"Juvenile-justice sweep: {result['clocks']} clocks run out escalated, "
               f"{result['notifications']} notifications.")


@workflow_cli.command("check")
@with_appcontext
def check_command():
    """Validate the SOP definition (the app also does this when it starts)."""
    from casemgmt.workflow.definition import TRANSITIONS, validate

    validate()
    click.echo(f"The SOP definition is valid: {len(TRANSITIONS)} transitions.")
