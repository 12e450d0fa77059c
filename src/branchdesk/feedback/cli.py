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
        from_on = date.fromisoformat(start) if start else None
        to_on = date.fromisoformat(end) if end else None
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
            first, last = default_range(db, utcnow())
            result = summarize(
                db, actor=batch, group_by=grouping, from_on=from_on or first,
                to_on=to_on or last, branch_code=branch,
            )  # fmt: skip
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()
    typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))


@feedback_app.command("seed")
def seed_command(
    share: float = typer.Option(0.3, min=0.0, max=1.0, help="Share of visits that answer."),
    seed: int = typer.Option(7, help="Random seed (answers are deterministic per ticket)."),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Answer surveys for past completed tickets (demo history; opens no follow-up cases)."""
    from branchdesk.feedback.seed import seed_responses

    database = Database(url or get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            written = seed_responses(db, seed=seed, share=share)
    finally:
        database.dispose()
    typer.echo(f"seeded {written} survey responses")


@feedback_app.command("bench")
def bench_command(
    url: str = typer.Option(..., help="URL of an EMPTY database (it is migrated and filled)."),
    branches: int = typer.Option(20, min=1, max=500),
    days: int = typer.Option(365, min=1, max=731),
    tickets_per_day: int = typer.Option(120, min=1, max=2000, help="Per branch."),
    runs: int = typer.Option(3, min=1, max=20),
    seed: int = typer.Option(7),
) -> None:
    """Time the survey roll-ups (API and dashboard queries) on a generated year of history."""
    from datetime import timedelta

    from branchdesk.core.clock import utcnow
    from branchdesk.feedback.bench import build_history, time_queries
    from branchdesk.migrations import upgrade

    upgrade(url)
    database = Database(url)
    end_on = utcnow().date()
    start_on = end_on - timedelta(days=days - 1)
    try:
        started = time.perf_counter()
        with database.unit_of_work() as db:
            tickets, responses = build_history(
                db, branches=branches, days=days, tickets_per_day=tickets_per_day,
                end_on=end_on, seed=seed,
            )  # fmt: skip
        built = time.perf_counter() - started
        with database.engine.connect() as conn:  # fresh statistics, as after a nightly ANALYZE
            conn.exec_driver_sql("ANALYZE")
        with database.read_only() as db:
            timings = time_queries(
                db, from_on=start_on, to_on=end_on, branch_code="FB000", runs=runs
            )
    finally:
        database.dispose()
    typer.echo(f"{database.dialect}: {branches} branches x {days} days: {tickets} completed "
               f"tickets, {responses} responses (built in {built:.0f} s)")  # fmt: skip
    for label, ms in timings.items():
        typer.echo(f"  {label:<28} {ms:>9.1f} ms (median of {runs})")
