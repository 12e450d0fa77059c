from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from branchdesk.appointments.cli import appointments_app
from branchdesk.appointments.models import Appointment, AppointmentSlot
from branchdesk.core.clock import utcnow
from branchdesk.core.db import Database
from branchdesk.migrations import upgrade
from tests.factories import make_appointment, make_branch, make_service_type, make_slot, offer


def test_generate_remind_and_sweep_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(url)
    database = Database(url)
    with database.unit_of_work() as db:
        branch = make_branch(db, code="CLI1")
        service = make_service_type(db, code="CLISVC")
        offer(db, branch, service)
        soon = make_slot(db, branch, service, starts_at=utcnow() + timedelta(hours=2))
        past = make_slot(db, branch, service, starts_at=utcnow() - timedelta(days=2))
        make_appointment(db, soon)
        missed = make_appointment(db, past)
        missed_id = missed.id
    runner = CliRunner()
    args = ["--url", url]
    generated = runner.invoke(
        appointments_app,
        ["generate", "--branch", "cli1", "--from", "2026-12-07", "--days", "2", "--minutes",
         "60", "--capacity", "3", *args],
    )  # fmt: skip
    assert generated.exit_code == 0, generated.output
    assert generated.output.strip() == "created 16 slots at CLI1"
    reminded = runner.invoke(appointments_app, ["remind", *args])
    assert reminded.output.strip() == "queued 1 reminders"
    again = runner.invoke(appointments_app, ["remind", *args])
    assert again.output.strip() == "queued 0 reminders"
    swept = runner.invoke(appointments_app, ["sweep", *args])
    assert swept.output.strip() == "no_show 1, completed 0"
    for bad in (["--branch", "NOPE", "--from", "2026-12-07"], ["--branch", "CLI1", "--from", "x"]):
        refused = runner.invoke(appointments_app, ["generate", *bad, *args])
        assert refused.exit_code == 2
    with database.unit_of_work() as db:
        monday = datetime(2026, 12, 7, tzinfo=UTC)
        count = db.execute(
            select(func.count())
            .select_from(AppointmentSlot)
            .where(AppointmentSlot.starts_at >= monday - timedelta(hours=8))
        ).scalar_one()
        assert count == 16
        state = db.execute(select(Appointment.state).where(Appointment.id == missed_id))
        assert state.scalar_one() == "no_show"
    database.dispose()
