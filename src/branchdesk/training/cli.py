"""`branchdesk training ...`: send the reminders of assigned courses."""

from __future__ import annotations

import typer

training_app = typer.Typer(
    no_args_is_help=True, help="Staff training: reminders of assigned and annual courses."
)


@training_app.command("remind")
def remind_command(
    lead_days: int = typer.Option(14, "--lead-days", min=0, max=365, help="Days before due."),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Remind everyone whose assigned course is due within --lead-days or overdue (once each)."""
    from branchdesk.core.clock import utcnow
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database
    from branchdesk.training.service import queue_reminders

    database = Database(url or get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            sent = queue_reminders(db, now=utcnow(), lead_days=lead_days)
    finally:
        database.dispose()
    typer.echo(f"sent {sent} reminders")
