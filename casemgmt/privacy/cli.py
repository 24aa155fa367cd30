"""flask privacy ... and flask backup."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from flask.cli import with_appcontext


@click.group("privacy", help="Duties to the child under UU PDP.")
def privacy_cli():
    pass


@privacy_cli.command("anonymise")
@click.option("--older-than", "years", type=click.IntRange(1, 100), required=True,
              help="Anonymise cases closed more than this many years ago.")
@click.option("--dry-run", is_flag=True, help="Only count what would be anonymised.")
@with_appcontext
def anonymise_command(years: int, dry_run: bool):
    """Replace identifying fields of long-closed cases, keeping what the indicators count."""
    from casemgmt.privacy.services import anonymise
    from casemgmt.transactions import commit

    result = anonymise(years, dry_run=dry_run)
    commit()
    verb = "Would anonymise" if dry_run else "Anonymised"
    click.echo(f"{verb} {result['cases']} cases closed more than {years} years ago "
               f"({result['attachments']} attachments {'to delete' if dry_run else 'deleted'}).")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path):
    """Write a consistent copy of the SQLite database to PATH while the app runs.

    PostgreSQL: use pg_dump (see the README)."""
    from casemgmt.extensions import db

    if db.engine.dialect.name != "sqlite":
        raise click.ClickException("This database is PostgreSQL: back it up with "
                                   "pg_dump --format=custom --file=casemgmt.dump \"$CASEMGMT_DATABASE_URL\".")
    if path.exists():
        raise click.ClickException(f"{path} exists already; choose a new file.")
    source_path = db.engine.url.database
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(path)
    try:
        with target:
            source.backup(target)  # SQLite's online backup: consistent while others write
    finally:
        target.close()
        source.close()

    click.echo(f"Backed up {source_path} to {path} ({path.stat().st_size} bytes).")
