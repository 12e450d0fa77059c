"""`branchdesk operations load-plans` and `branchdesk training remind` on a fresh database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from branchdesk.cli import _register, app
from branchdesk.core.clock import utcnow
from branchdesk.core.db import Database
from branchdesk.identity.roles import Role
from branchdesk.migrations import upgrade
from branchdesk.operations.models import EmergencyPlan
from branchdesk.training.models import Course, CourseAssignment, TrainingReminder
from tests.factories import make_user


def _run(*args: str) -> Result:
    if not any(group.name == "operations" for group in app.registered_groups):
        _register()
    return CliRunner().invoke(app, list(args), env={"BRANCHDESK_SECRET_KEY": "cli-test-secret"})


def test_load_plans_and_training_reminders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(url)
    first = _run("operations", "load-plans", "--url", url)
    assert (first.exit_code, first.stdout.strip()) == (0, "wrote 5 plans"), first.output
    assert _run("operations", "load-plans", "--url", url).stdout.strip() == "wrote 0 plans"
    database = Database(url)
    now = utcnow()
    try:
        with database.unit_of_work() as db:
            make_user(db, Role.teller)
            course = Course(
                code="AML", category="compliance", title_zh_hant="a", title_zh_hans="a",
                title_en="a", pass_mark=70, is_annual=True, created_at=now,
            )  # fmt: skip
            db.add(course)
            db.flush()
            db.add(CourseAssignment(course_id=course.id, role="teller",
                                    due_on=(now + timedelta(days=5)).date(), created_at=now))  # fmt: skip
        sent = _run("training", "remind", "--url", url)
        assert (sent.exit_code, sent.stdout.strip()) == (0, "sent 1 reminders"), sent.output
        assert _run("training", "remind", "--url", url).stdout.strip() == "sent 0 reminders"
        with database.unit_of_work() as db:
            assert db.execute(select(func.count()).select_from(TrainingReminder)).scalar() == 1
            assert db.execute(select(func.count()).select_from(EmergencyPlan)).scalar() == 5
    finally:
        database.dispose()
