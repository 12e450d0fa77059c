"""`branchdesk complaints ...`: SLA check, webhook secrets, mailbox reader, jurisdictions."""

from __future__ import annotations

import os

import typer

complaints_app = typer.Typer(help="Complaints: SLA check, inbound mail, webhook secrets.")


@complaints_app.command("sla-check")
def sla_check(
    lead_hours: int | None = typer.Option(
        None, min=0, help="Warn this many hours before a deadline (default: the policy's)."
    ),
) -> None:
    """Warn assignees before a deadline and escalate breaches to branch managers (once each).

    Run it from cron (e.g. every 15 minutes); running it more often changes nothing."""
    from branchdesk.complaints.sla import check_sla
    from branchdesk.core.clock import utcnow
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database
    from branchdesk.registry import load_all

    load_all()
    database = Database(get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            report = check_sla(db, now=utcnow(), lead_hours=lead_hours)
    finally:
        database.dispose()
    for reference, target in report.warned:
        typer.echo(f"warned     {reference} {target}")
    for reference, target in report.escalated:
        typer.echo(f"escalated  {reference} {target}")
    typer.echo(f"{len(report.warned)} warned, {len(report.escalated)} escalated")


@complaints_app.command("hook-secret")
def hook_secret_command(
    channel: str = typer.Argument(
        ..., help="email, social_wechat, social_line, social_facebook or social_generic"
    ),
) -> None:
    """Print the HMAC secret a sender must use for a webhook channel."""
    from branchdesk.complaints.settings import hook_secret

    if channel not in (
        "email", "social_wechat", "social_line", "social_facebook", "social_generic"
    ):  # fmt: skip
        raise typer.BadParameter("unknown channel")
    typer.echo(hook_secret(channel))


@complaints_app.command("read-mailbox")
def read_mailbox_command(
    host: str = typer.Option(..., help="IMAP server (TLS, port 993)."),
    user: str = typer.Option(..., help="Mailbox login."),
    branch: str = typer.Option(..., help="Branch code new e-mail complaints belong to."),
    password_env: str = typer.Option(
        "BRANCHDESK_COMPLAINTS_IMAP_PASSWORD", help="Environment variable holding the password."
    ),
    mailbox: str = typer.Option("INBOX"),
) -> None:
    """Turn unseen e-mails into cases (replies naming a reference join that case)."""
    import imaplib

    from branchdesk.complaints.intake import MailboxReader, read_mailbox
    from branchdesk.core.clock import utcnow
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database
    from branchdesk.registry import load_all

    password = os.environ.get(password_env, "")
    if not password:
        raise typer.BadParameter(f"set {password_env}")
    load_all()
    database = Database(get_settings().database_url)
    client = imaplib.IMAP4_SSL(host)
    try:
        client.login(user, password)
        ingested, refused = read_mailbox(
            database.unit_of_work, MailboxReader(client, mailbox), branch_code=branch.upper(),
            now=utcnow(),
        )  # fmt: skip
    finally:
        client.logout()
        database.dispose()
    typer.echo(f"{ingested} ingested, {refused} left unseen (refused)")


@complaints_app.command("set-jurisdiction")
def set_jurisdiction(
    branch: str = typer.Argument(..., help="Branch code."),
    jurisdiction: str = typer.Argument(..., help="CN, HK or UK (see sla_policies.json)."),
) -> None:
    """Choose the SLA policy a branch follows (default: from its time zone)."""
    from sqlalchemy import select

    from branchdesk.catalog.models import Branch
    from branchdesk.complaints.service import set_branch_jurisdiction
    from branchdesk.core.clock import utcnow
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database

    database = Database(get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            branch_id = db.execute(select(Branch.id).where(Branch.code == branch.upper())).scalar()
            if branch_id is None:
                raise typer.BadParameter("no such branch")
            set_branch_jurisdiction(
                db, branch_id=branch_id, jurisdiction=jurisdiction.upper(), actor=None,
                now=utcnow(),
            )  # fmt: skip
    finally:
        database.dispose()
    typer.echo(f"{branch.upper()} follows {jurisdiction.upper()}")
