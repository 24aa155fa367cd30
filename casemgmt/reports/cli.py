"""``flask reports rebuild``: recount the indicator buckets from the records."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from casemgmt.extensions import db

reports_cli = AppGroup("reports", help="Indicators.")


@reports_cli.command("rebuild")
def rebuild_command() -> None:
    """Recount every indicator bucket from the records (after bulk loads or a restore)."""
    from casemgmt.reports import tally

    started = time.monotonic()
    districts = tally.rebuild()
    db.session.commit()
    click.echo(f"Indicator buckets recounted for {districts} districts in {time.monotonic() - started:.1f} s.")
