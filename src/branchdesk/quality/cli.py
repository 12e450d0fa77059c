"""`branchdesk quality ...`: export a daily/weekly quality report, e-mail reports to managers."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import typer

from branchdesk.core.config import get_settings
from branchdesk.core.db import Database
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role

quality_app = typer.Typer(
    help="Service quality: daily and weekly reports (HTML, PDF, CSV) and their e-mails.",
    no_args_is_help=True,
)


def _batch_principal() -> Principal:
    # A batch job reads the whole bank, like the quality officer it reports for.
    return Principal(
        user_id=uuid.UUID(int=0), username="cli", display_name="CLI", role=Role.admin,
        branch_ids=frozenset(),
    )  # fmt: skip


@quality_app.command("report")
def report_command(
    period: str = typer.Option("day", help="day or week (the ISO week holding --date)."),
    on: str = typer.Option(..., "--date", help="A business day, e.g. 2026-03-02."),
    branch: str | None = typer.Option(None, help="Branch code (default: the whole bank)."),
    fmt: str = typer.Option("html", "--format", help="html, pdf or csv."),
    out: Path = typer.Option(..., help="File to write."),
    locale: str = typer.Option("zh-Hant", help="zh-Hant, zh-Hans or en."),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Write one report file."""
    from branchdesk.core.clock import utcnow
    from branchdesk.core.errors import DomainError
    from branchdesk.core.i18n import set_locale
    from branchdesk.quality import reports

    try:
        chosen, kind = reports.ReportPeriod(period), reports.ReportFormat(fmt)
        day = date.fromisoformat(on)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    actor = _batch_principal()
    set_locale(locale)
    database = Database(url or get_settings().database_url)
    try:
        with database.read_only() as db:
            built = reports.build_report(
                db, actor=actor, period=chosen, on=day, branch_code=branch, now=utcnow()
            )
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()
    if kind == reports.ReportFormat.csv:
        out.write_text(reports.to_csv(built), encoding="utf-8")
    elif kind == reports.ReportFormat.pdf:
        out.write_bytes(reports.to_pdf(built, locale))
    else:
        out.write_text(reports.render_html(built, day, branch, locale), encoding="utf-8")
    typer.echo(f"wrote {out} ({built.board.scope}, {built.board.from_on} to {built.board.to_on})")


@quality_app.command("send-reports")
def send_reports_command(
    period: str = typer.Option("week", help="day or week."),
    on: str | None = typer.Option(
        None, "--date", help="A day of the period (default: yesterday, i.e. the last full one)."
    ),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Queue each branch manager's report for the period (once per period, branch, manager)."""
    from datetime import timedelta

    from branchdesk.core.clock import utcnow
    from branchdesk.quality import reports

    now = utcnow()
    try:
        chosen = reports.ReportPeriod(period)
        day = date.fromisoformat(on) if on else now.date() - timedelta(days=1)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    actor = _batch_principal()
    database = Database(url or get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            sent = reports.send_reports(db, actor=actor, period=chosen, on=day, now=now)
    finally:
        database.dispose()
    typer.echo(f"queued {sent} quality report(s)")


@quality_app.command("rollup")
def rollup_command(
    since: str | None = typer.Option(
        None, help="First business day to re-check, e.g. 2026-01-01 (default: all history)."
    ),
    recount: bool = typer.Option(
        False, help="Recount every day from --since, changed or not (e.g. after a target change)."
    ),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Count closed business days into the dashboard roll-up (only days whose rows changed)."""
    from branchdesk.core.clock import utcnow
    from branchdesk.quality import rollup

    try:
        first = date.fromisoformat(since) if since else None
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    database = Database(url or get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            result = rollup.rollup(db, now=utcnow(), since=first, recount=recount)
    finally:
        database.dispose()
    typer.echo(
        f"checked {result.days_checked} branch days, recounted {result.days_recomputed}, "
        f"wrote {result.rows_written} rows"
    )


@quality_app.command("bench")
def bench_command(
    url: str = typer.Option(..., help="URL of an empty, migrated database."),
    branches: int = typer.Option(20, min=1),
    days: int = typer.Option(365, min=30),
    tickets_per_day: int = typer.Option(120, min=1, help="Tickets per branch and day."),
    runs: int = typer.Option(3, min=1),
    skip_build: bool = typer.Option(False, help="Time an already built history."),
) -> None:
    """Build a history (tickets in every end state, complaints), fill the roll-up, time the
    dashboard."""
    import json
    import time
    from datetime import timedelta

    from branchdesk.core.clock import utcnow
    from branchdesk.quality import bench, rollup

    end_on = utcnow().date() - timedelta(days=1)
    database = Database(url)
    try:
        built = 0.0
        if not skip_build:
            started = time.perf_counter()
            with database.unit_of_work() as db:
                tickets, complaints = bench.build_history(
                    db, branches=branches, days=days, tickets_per_day=tickets_per_day,
                    end_on=end_on, seed=7,
                )  # fmt: skip
            built = time.perf_counter() - started
            typer.echo(f"built {tickets} tickets and {complaints} complaints in {built:.0f} s")
        started = time.perf_counter()
        with database.unit_of_work() as db:
            result = rollup.rollup(db, now=utcnow(), since=None)
        typer.echo(
            f"roll-up: {result.days_recomputed} of {result.days_checked} branch days counted "
            f"({result.rows_written} rows) in {time.perf_counter() - started:.1f} s"
        )
        if database.engine.dialect.name == "postgresql":
            autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
            with autocommit.connect() as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        else:
            with database.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
        with database.read_only() as db:
            timings = bench.time_dashboard(db, end_on=end_on, days=days, runs=runs)
    finally:
        database.dispose()
    typer.echo(json.dumps(timings, indent=2))
