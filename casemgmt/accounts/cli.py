"""flask users ... for deployment scripts."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from casemgmt.codes import ROLES, SEXES
from casemgmt.directory.cli import fail_with
from casemgmt.errors import ValidationFailed
from casemgmt.transactions import commit


@click.group("users", help="User accounts.")
def users_cli():
    pass


@users_cli.command("create")
@click.option("--username", required=True, help="Log-in name (letters, digits, . _ -).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Initial password (asked for when left out, so it stays out of the shell history).")
@click.option("--full-name", required=True, help="The person's full name.")
@click.option("--sex", required=True, type=click.Choice(list(SEXES)), help="F or M.")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="Role code.")
@click.option("--organisation", default=None, help="Exact name of the user's organisation.")
@click.option("--area", default=None, help="Region code the user answers for (default: the organisation's).")
@click.option("--must-change-password", is_flag=True, help="Make the user choose a new password at first log-in.")
@with_appcontext
def create_user_command(username, password, full_name, sex, role, organisation, area, must_change_password):
    """Create a user. Fails with the reason on a weak password, unknown organisation or taken username."""
    from casemgmt.accounts.services import create_user
    from casemgmt.directory.services import find_organisation

    org = None
    if organisation:
        org = find_organisation(organisation)
        if org is None:
            raise click.ClickException(f"No organisation is named {organisation!r}.")
    data = {"username": username, "full_name": full_name, "sex": sex, "role": role,
            "organisation_id": org.id if org else None, "area_code": area}
    try:
        user = create_user(data, password, actor=None, must_change=must_change_password)
    except ValidationFailed as exc:
        fail_with(exc)
    commit()
    click.echo(f"Created user {user.id}: {user.username} ({user.role}"
               f"{', ' + org.name if org else ''}; area {user.area_code or '-'}).")
