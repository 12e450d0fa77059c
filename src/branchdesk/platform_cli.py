"""Platform commands: demo, serve, db upgrade|check, seed, worker, users create, audit verify."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from branchdesk.core.config import get_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Staff users.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)


def _database_url(url: str | None) -> str:
    return url or get_settings().database_url


@db_app.command("upgrade")
def db_upgrade(
    url: str | None = typer.Option(None, help="Database URL (default BRANCHDESK_DATABASE_URL)."),
    revision: str = typer.Option("heads", help="Target revision."),
) -> None:
    """Migrate the database (SQLite or PostgreSQL) to the latest schema."""
    from branchdesk.migrations import upgrade

    upgrade(_database_url(url), revision)
    typer.echo(f"database at revision {revision}")


@db_app.command("check")
def db_check(url: str | None = typer.Option(None, help="Database URL.")) -> None:
    """Fail when the models and the migrations disagree."""
    from branchdesk.migrations import check

    check(_database_url(url))
    typer.echo("models and migrations agree")


@users_app.command("create")
def users_create(
    username: str = typer.Option(..., help="Login name (lower case)."),
    role: str = typer.Option(..., help="teller, lobby_manager, ..., admin."),
    branch: list[str] = typer.Option([], help="Branch code; repeat for several."),
    display_name: str | None = typer.Option(None, help="Name shown in the UI."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password."),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Provision a staff user (the first administrator included)."""
    from pydantic import ValidationError

    from branchdesk.core.clock import utcnow
    from branchdesk.core.db import Database
    from branchdesk.core.errors import DomainError
    from branchdesk.identity.schemas import UserCreate
    from branchdesk.identity.service import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(
            username=username,
            display_name=display_name or username,
            role=role,
            branch_codes=branch,
            password=password,
        )
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"error: {'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
    database = Database(_database_url(url))
    try:
        with database.unit_of_work() as db:
            user = create_user(
                db,
                data=data,
                actor=None,
                now=utcnow(),
                password_min_length=get_settings().password_min_length,
            )
            typer.echo(f"created {user.username} ({user.role})")
    except DomainError as exc:
        typer.echo(f"error: {exc.field + ': ' if exc.field else ''}{exc.detail}", err=True)
        raise typer.Exit(2) from exc
    finally:
        database.dispose()


@audit_app.command("verify")
def audit_verify(url: str | None = typer.Option(None, help="Database URL.")) -> None:
    """Exit 0 when the chain is intact; otherwise name the first bad entry and exit 1."""
    from branchdesk.core.db import Database
    from branchdesk.identity.audit import verify_chain

    database = Database(_database_url(url))
    try:
        with database.unit_of_work() as db:
            report = verify_chain(db)
    finally:
        database.dispose()
    if report.is_intact:
        typer.echo(f"audit chain intact: {report.entries_checked} entries")
        return
    typer.echo(f"audit chain BROKEN at entry {report.first_bad_seq}: {report.problem}", err=True)
    raise typer.Exit(1)


def _serve(host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from branchdesk.core.web import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    # Live screens hold streams open: do not let them delay a restart by more than a few seconds
    # (browsers reconnect and re-render). Several workers are several instances of the stateless
    # app on one host (each builds its app through the factory).
    uvicorn.run(
        "branchdesk.app:serve_app", factory=True, host=host, port=port, workers=workers,
        log_config=None, access_log=False, timeout_graceful_shutdown=5,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")

    @app.command()
    def version() -> None:
        """Print the installed version."""
        from branchdesk import __version__

        typer.echo(__version__)

    @app.command()
    def serve(
        host: str | None = typer.Option(None, help="Bind address (default BRANCHDESK_HOST)."),
        port: int | None = typer.Option(None, help="Port (default BRANCHDESK_PORT or 8000)."),
        workers: int = typer.Option(1, min=1, max=64, help="Worker processes (one per core)."),
    ) -> None:
        """Serve the web app and API. Never creates users: provision them with `users create`."""
        from branchdesk.migrations import is_current

        settings = get_settings()
        if not is_current(settings.database_url):
            typer.echo(
                "error: the database schema is not current: run `branchdesk db upgrade`", err=True
            )
            raise typer.Exit(2)
        _serve(host or settings.host, port or settings.port, workers)

    @app.command()
    def seed(
        profile: str = typer.Option("demo", help="demo or bench."),
        seed: int = typer.Option(7, help="Random seed: the same seed builds the same bank."),
        branches: int | None = typer.Option(None, help="Bench: number of branches."),
        customers: int | None = typer.Option(None, help="Bench: number of customers."),
        history_days: int = typer.Option(
            10, min=0, max=60, help="Demo: past working days of simulated queue traffic."
        ),
        url: str | None = typer.Option(None, help="Database URL."),
    ) -> None:
        """Build a deterministic synthetic bank (only into an empty database)."""
        from branchdesk.core.db import Database
        from branchdesk.seed import SeedError, seed_database

        database = Database(_database_url(url))
        try:
            summary = seed_database(
                database, profile=profile, seed=seed, branches=branches, customers=customers,
                history_days=history_days,
            )  # fmt: skip
        except SeedError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        finally:
            database.dispose()
        typer.echo(summary.describe())

    @app.command()
    def demo(
        port: int | None = typer.Option(None, help="Port (default BRANCHDESK_PORT or 8000)."),
        seed: int = typer.Option(7, help="Random seed of the demo bank."),
    ) -> None:
        """Migrate var/branchdesk.db, seed the demo bank if empty, print the logins, serve."""
        from branchdesk.core.db import Database
        from branchdesk.migrations import upgrade
        from branchdesk.seed import DEMO_PASSWORD, demo_logins, seed_database

        settings = get_settings()
        url = settings.database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        upgrade(url)
        database = Database(url)
        try:
            summary = seed_database(database, profile="demo", seed=seed, only_if_empty=True)
            logins = demo_logins(database)
        finally:
            database.dispose()
        chosen = port or settings.port
        typer.echo(summary.describe())
        typer.echo("")
        typer.echo(f"  branchdesk demo: http://{settings.host}:{chosen}/")
        typer.echo(f"  demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, branches in logins:
            typer.echo(f"    {username:<14} {role:<22} {branches}")
        typer.echo("")
        _serve(settings.host, chosen)

    @app.command()
    def worker(
        once: bool = typer.Option(False, help="Deliver what is due and run due jobs once, exit."),
        interval: float = typer.Option(1.0, help="Seconds between polls."),
        jobs: bool = typer.Option(True, help="Also run the scheduled jobs (SLA checks, ...)."),
    ) -> None:
        """Deliver outbox messages (notifications, webhooks) after commit, with retries, and run
        the scheduled jobs (complaint SLA checks, appointment reminders, ...) when due."""
        from branchdesk.core.clock import utcnow
        from branchdesk.core.db import Database
        from branchdesk.core.events import deliver_outbox
        from branchdesk.core.jobs import Scheduler
        from branchdesk.core.web import configure_logging
        from branchdesk.registry import load_all

        load_all()
        settings = get_settings()
        configure_logging(settings.log_level)
        database = Database(settings.database_url)
        scheduler = Scheduler() if jobs else Scheduler(())
        try:
            while True:
                with database.unit_of_work() as db:
                    delivered = deliver_outbox(db, now=utcnow())
                ran = scheduler.run_due(database, utcnow())
                if once:
                    typer.echo(f"delivered {delivered}")
                    for name, result in ran.items():
                        typer.echo(f"job {name}: {result}")
                    return
                if not delivered:
                    time.sleep(interval)
        finally:
            database.dispose()
