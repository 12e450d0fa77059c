"""`branchdesk appointments ...`: generate slots, queue reminders, sweep no-shows."""

from __future__ import annotations

from datetime import date

import typer

from branchdesk.core.config import get_settings
from branchdesk.core.db import Database

appointments_app = typer.Typer(
    help="Appointments: generate slots from opening hours, send reminders, record no-shows.",
    no_args_is_help=True,
)


def _database(url: str | None) -> Database:
    return Database(url or get_settings().database_url)


@appointments_app.command("generate")
def generate_command(
    branch: str = typer.Option(..., "--branch", help="Branch code."),
    start: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD (branch-local)."),
    days: int = typer.Option(7, "--days", min=1, max=92, help="Number of days."),
    minutes: int = typer.Option(30, "--minutes", min=5, max=240, help="Slot length."),
    capacity: int = typer.Option(1, "--capacity", min=1, max=100, help="Places per slot."),
    service: list[str] = typer.Option(
        [], "--service", help="Service code (repeatable; default: every service offered)."
    ),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Create the slots of a date range from the branch's opening hours (holidays skipped)."""
    from branchdesk.appointments.service import generate_slots
    from branchdesk.catalog.service import get_branch_by_code
    from branchdesk.core.clock import utcnow
    from branchdesk.core.errors import DomainError

    try:
        start_on = date.fromisoformat(start)
    except ValueError:
        typer.echo(f"error: --from {start!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(2) from None
    database = _database(url)
    try:
        with database.unit_of_work() as db:
            created = generate_slots(
                db, branch=get_branch_by_code(db, branch), start_on=start_on, days=days,
                minutes=minutes, capacity=capacity, service_codes=service, now=utcnow(),
            )  # fmt: skip
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()
    typer.echo(f"created {created} slots at {branch.upper()}")


@appointments_app.command("remind")
def remind_command(
    deliver: bool = typer.Option(
        False, help="Also deliver them now (otherwise `branchdesk worker` sends them)."
    ),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Queue one reminder per booking that starts within its branch's reminder lead (once)."""
    from branchdesk.appointments.service import queue_reminders
    from branchdesk.core.clock import utcnow
    from branchdesk.core.events import deliver_outbox

    database = _database(url)
    try:
        with database.unit_of_work() as db:
            queued = queue_reminders(db, now=utcnow())
        typer.echo(f"queued {queued} reminders")
        if deliver:
            with database.unit_of_work() as db:
                typer.echo(f"delivered {deliver_outbox(db, now=utcnow())}")
    finally:
        database.dispose()


@appointments_app.command("sweep")
def sweep_command(url: str | None = typer.Option(None, help="Database URL.")) -> None:
    """Mark bookings of past days no_show; close checked-in ones whose ticket ended."""
    from branchdesk.appointments.service import sweep_no_shows
    from branchdesk.core.clock import utcnow

    database = _database(url)
    try:
        with database.unit_of_work() as db:
            result = sweep_no_shows(db, now=utcnow())
    finally:
        database.dispose()
    typer.echo(f"no_show {result.no_show}, completed {result.completed}")
