"""`branchdesk feedback ...`: send survey invitations, print a roll-up."""

from __future__ import annotations

import json
import time

import typer

from branchdesk.core.config import get_settings
from branchdesk.core.db import Database

feedback_app = typer.Typer(
    help="Post-service surveys: SMS/e-mail invitations for remote tickets, roll-ups.",
    no_args_is_help=True,
)


@feedback_app.command("invite")
def invite_command(
    base_url: str | None = typer.Option(
        None, help="Public address of the app for the links (default BRANCHDESK_SURVEY_BASE_URL)."
    ),
    loop: bool = typer.Option(False, help="Keep running, one round every --interval seconds."),
    interval: float = typer.Option(60.0, min=1.0, help="Seconds between rounds with --loop."),
    deliver: bool = typer.Option(
        False, help="Also deliver them now (otherwise `branchdesk worker` sends them)."
    ),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Queue one survey invitation per completed remote ticket with a phone or e-mail (once)."""
    from branchdesk.core.clock import utcnow
    from branchdesk.core.events import deliver_outbox
    from branchdesk.feedback.service import send_invitations
    from branchdesk.feedback.tokens import survey_settings, tokens_for_secret

    settings = get_settings()
    survey = survey_settings()
    tokens = tokens_for_secret(settings.resolved_secret_key())
    database = Database(url or settings.database_url)
    try:
        while True:
            with database.unit_of_work() as db:
                queued = send_invitations(
                    db, tokens=tokens, base_url=base_url or survey.base_url, now=utcnow(),
                    expiry_days=survey.expiry_days,
                )  # fmt: skip
            typer.echo(f"queued {queued} survey invitations")
            if deliver:
                with database.unit_of_work() as db:
                    typer.echo(f"delivered {deliver_outbox(db, now=utcnow())}")
            if not loop:
                return
            time.sleep(interval)
    finally:
        database.dispose()


@feedback_app.command("summary")
def summary_command(
    group_by: str = typer.Option("branch", help="teller, counter, service, branch, region, day"),
    start: str | None = typer.Option(None, "--from", help="First business day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, "--to", help="Last business day (YYYY-MM-DD)."),
    branch: str | None = typer.Option(None, help="Branch code."),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Print the survey roll-up as JSON (bank-wide, as an administrator would see it)."""
    import uuid
    from datetime import date

    from branchdesk.core.clock import utcnow
    from branchdesk.core.errors import DomainError
    from branchdesk.feedback.schemas import GroupBy
    from branchdesk.feedback.service import default_range, summarize
    from branchdesk.identity.principal import Principal
    from branchdesk.identity.roles import Role

    try:
        grouping = GroupBy(group_by)
        first, last = default_range(utcnow())
        from_on = date.fromisoformat(start) if start else first
        to_on = date.fromisoformat(end) if end else last
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    batch = Principal(
        user_id=uuid.UUID(int=0), username="cli", display_name="CLI", role=Role.admin,
        branch_ids=frozenset(),
    )  # fmt: skip
    database = Database(url or get_settings().database_url)
    try:
        with database.read_only() as db:
            result = summarize(
                db, actor=batch, group_by=grouping, from_on=from_on, to_on=to_on,
                branch_code=branch,
            )  # fmt: skip
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()
    typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
