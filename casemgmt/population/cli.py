"""flask population import|sweep: load a district's SIAK extract from the server's disk."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("population", help="SIAK population extracts and their outreach lists.")
def population_cli():
    pass


@population_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--district", required=True, help="The kabupaten/kota the extract covers, e.g. 73.06.")
@with_appcontext
def import_command(path: Path, district: str):
    """Import PATH (CSV or XLSX) as DISTRICT's extract, replacing the one in use when complete."""
    from casemgmt.population.importer import BadExtract
    from casemgmt.population.runs import import_file

    try:
        job = import_file(None, path, district.strip(), as_admin=True)
    except BadExtract as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"import {job.id}: {job.status}, {job.rows} rows, {job.accepted} accepted, {job.rejected} rejected")
    for error in job.errors[:20]:
        click.echo(f"  row {error['row']}: {error['message']}")
    if job.status != "done":
        raise click.ClickException(job.message or "failed")


@population_cli.command("sweep")
@with_appcontext
def sweep_command():
    """Remove the extracts past their district's retention now (the worker does it nightly)."""
    from casemgmt.population.runs import sweep_retention

    click.echo(f"{sweep_retention()} extracts purged")
