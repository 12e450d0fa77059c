"""`branchdesk compliance ...`: start the scheduled checklist runs."""

from __future__ import annotations

import typer

compliance_app = typer.Typer(no_args_is_help=True, help="Compliance checks: scheduled runs.")


@compliance_app.command("schedule")
def schedule_command(url: str | None = typer.Option(None, help="Database URL.")) -> None:
    """Start this period's run of every active checklist at every active branch (run daily)."""
    from branchdesk.compliance.service import open_scheduled_runs
    from branchdesk.core.clock import utcnow
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database

    database = Database(url or get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            started = open_scheduled_runs(db, now=utcnow())
    finally:
        database.dispose()
    typer.echo(f"started {started} runs")
