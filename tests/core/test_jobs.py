from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from branchdesk.core.db import Database
from branchdesk.core.jobs import Job, Scheduler, jobs, register_job
from branchdesk.registry import load_all
from tests.factories import NOW


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/jobs.db")
    with database.unit_of_work() as db:
        db.execute(text("CREATE TABLE runs (name TEXT, at TEXT)"))
    yield database
    database.dispose()


def _runs(database: Database) -> list[tuple[str, str]]:
    with database.unit_of_work() as db:
        return [
            (str(a), str(b))
            for a, b in db.execute(text("SELECT name, at FROM runs ORDER BY at, name"))
        ]


def _recorder(name: str) -> Callable[[Session, datetime], None]:
    def run(db: Session, now: datetime) -> None:
        db.execute(text("INSERT INTO runs VALUES (:n, :t)"), {"n": name, "t": now.isoformat()})

    return run


def test_jobs_run_when_due_each_in_its_own_transaction(scratch: Database) -> None:
    def broken(db: Session, now: datetime) -> None:
        db.execute(text("INSERT INTO runs VALUES ('broken', :t)"), {"t": now.isoformat()})
        raise RuntimeError("boom")

    scheduler = Scheduler(
        (
            Job("fast", timedelta(minutes=5), _recorder("fast")),
            Job("slow", timedelta(hours=1), _recorder("slow")),
            Job("broken", timedelta(minutes=5), broken),
        )
    )
    assert scheduler.run_due(scratch, NOW) == {"fast": "ok", "slow": "ok", "broken": "RuntimeError"}
    assert scheduler.run_due(scratch, NOW + timedelta(minutes=4)) == {}
    later = NOW + timedelta(minutes=5)
    assert scheduler.run_due(scratch, later) == {"fast": "ok", "broken": "RuntimeError"}
    # the failing job's insert was rolled back; the others committed
    assert _runs(scratch) == [
        ("fast", NOW.isoformat()),
        ("slow", NOW.isoformat()),
        ("fast", later.isoformat()),
    ]


def test_a_job_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="positive interval"):
        register_job(Job("never", timedelta(0), _recorder("never")))
    assert "never" not in {job.name for job in jobs()}


def test_the_domains_register_their_jobs() -> None:
    load_all()
    names = {job.name for job in jobs()}
    assert {
        "aml.sweep",
        "appointments.remind",
        "appointments.sweep",
        "complaints.sla_check",
        "compliance.schedule",
        "feedback.invite",
        "kyc.expiry_check",
        "loans.daily",
        "training.remind",
    } <= names


def test_every_registered_job_runs_on_a_fresh_database(tmp_path: Path) -> None:
    from branchdesk.migrations import upgrade

    url = f"sqlite:///{tmp_path}/fresh.db"
    upgrade(url)
    load_all()
    database = Database(url)
    try:
        outcome = Scheduler().run_due(database, NOW)
    finally:
        database.dispose()
    assert outcome == {job.name: "ok" for job in jobs()}
