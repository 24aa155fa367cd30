"""flask areas ... and flask organisations ... for deployment scripts."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from casemgmt.codes import ORGANISATION_KINDS, SERVICES
from casemgmt.errors import ValidationFailed
from casemgmt.transactions import commit


def fail_with(exc: ValidationFailed) -> None:
    lines = [f"  {field}: {' '.join(messages)}" for field, messages in exc.errors.items()]
    raise click.ClickException("\n".join([str(exc.message), *lines]))


@click.group("areas", help="Kemendagri region codes (province, kabupaten/kota, kecamatan, desa/kelurahan).")
def areas_cli():
    pass


@areas_cli.command("load")
@click.option("--province", default="73", show_default=True,
              help="Two-digit province code to load (73 = Sulawesi Selatan).")
@click.option("--all", "load_all", is_flag=True, help="Load every province of Indonesia (about 91,600 areas).")
@with_appcontext
def load_areas_command(province: str, load_all: bool):
    """Load the region codes shipped with the package. Safe to repeat: adds what is missing,
    corrects names that changed."""
    from casemgmt.directory.services import load_areas

    if not load_all and not (len(province) == 2 and province.isdigit()):
        raise click.BadParameter("a province code is two digits, e.g. 73", param_hint="--province")
    try:
        result = load_areas(None if load_all else province)
    except ValidationFailed as exc:
        fail_with(exc)
    commit()
    scope = "all provinces" if load_all else f"province {province}"
    click.echo(f"Areas of {scope}: {result['read']} read, {result['inserted']} added, "
               f"{result['renamed']} renamed.")


@click.group("organisations", help="Organisations of the service directory.")
def organisations_cli():
    pass


def _codes(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@organisations_cli.command("create")
@click.option("--name", required=True, help="Unique name, e.g. 'PKSAI Kabupaten Gowa'.")
@click.option("--kind", required=True, type=click.Choice(list(ORGANISATION_KINDS)), help="Kind of organisation.")
@click.option("--area", required=True, help="Region code of its seat, e.g. 73.06.")
@click.option("--services", default="", help=f"Comma-separated service codes: {', '.join(SERVICES)}.")
@click.option("--covers", default="", help="Comma-separated region codes it serves (default: its seat).")
@click.option("--phone", default=None, help="Contact phone.")
@click.option("--email", default=None, help="Contact e-mail.")
@click.option("--address", default=None, help="Postal address.")
@with_appcontext
def create_organisation_command(name, kind, area, services, covers, phone, email, address):
    """Create an organisation with the services it offers and the areas it covers."""
    from casemgmt.directory.services import create_organisation

    data = {"name": name, "kind": kind, "area_code": area, "services": _codes(services),
            "covers": _codes(covers) or [area], "phone": phone, "email": email, "address": address}
    try:
        org = create_organisation(data, actor=None)
    except ValidationFailed as exc:
        fail_with(exc)
    commit()
    click.echo(f"Created organisation {org.id}: {org.name} ({org.kind}, {org.area_code}); "
               f"services: {', '.join(org.services) or '-'}; covers: {', '.join(org.covered_area_codes)}.")
