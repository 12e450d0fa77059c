"""`branchdesk operations ...`: load the built-in emergency plans."""

from __future__ import annotations

import typer

operations_app = typer.Typer(no_args_is_help=True, help="Operations: emergency plans.")


@operations_app.command("load-plans")
def load_plans_command(
    replace: bool = typer.Option(False, "--replace", help="Overwrite plans already present."),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Write the built-in emergency plans (system outage, cash shortage, robbery, fire, network)."""
    from branchdesk.core.clock import utcnow
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database
    from branchdesk.operations.incidents import load_default_plans

    database = Database(url or get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            written = load_default_plans(db, now=utcnow(), replace=replace)
    finally:
        database.dispose()
    typer.echo(f"wrote {written} plans")
