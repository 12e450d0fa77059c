"""`branchdesk portal ...`: enrol customers in online banking."""

from __future__ import annotations

import sys

import typer

from branchdesk.core.config import get_settings
from branchdesk.core.db import Database

portal_app = typer.Typer(
    help="Customer portal and mobile banking: enrol customers.", no_args_is_help=True
)


@portal_app.callback()
def _group() -> None:
    """Customer portal and mobile banking."""


@portal_app.command("enrol")
def enrol_command(
    customer_number: str = typer.Argument(..., help="The customer's number."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin: the login is active at once."
    ),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Set up (or reset) a customer's login. Without --password-stdin an activation code is
    sent to the customer's phone / e-mail (delivered by `branchdesk worker`)."""
    from branchdesk.core.clock import utcnow
    from branchdesk.core.errors import DomainError
    from branchdesk.core.security import Signer
    from branchdesk.portal.config import get_portal_settings
    from branchdesk.portal.service import enrol

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            typer.echo("error: no password on stdin", err=True)
            raise typer.Exit(2)
    settings = get_settings()
    database = Database(url or settings.database_url)
    try:
        with database.unit_of_work() as db:
            done = enrol(
                db, customer_number=customer_number, actor=None,
                signer=Signer(settings.resolved_secret_key()), settings=get_portal_settings(),
                now=utcnow(), password=password, actor_label="cli",
            )  # fmt: skip
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()
    where = f", activation code sent to {done.sent.sent_to}" if done.sent else ""
    typer.echo(f"customer {done.customer_number}: {done.status}{where}")
