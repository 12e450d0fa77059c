"""`branchdesk feedback invite|summary|seed` on a database of their own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from branchdesk.core.clock import utcnow
from branchdesk.core.config import get_settings
from branchdesk.core.db import Database
from branchdesk.core.events import Event
from branchdesk.feedback.cli import feedback_app
from branchdesk.feedback.tokens import SurveyTokens
from branchdesk.migrations import upgrade
from tests.feedback.helpers import completed_ticket, make_world

SECRET = "feedback-cli-test-secret-0123456789abcdef"


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("BRANCHDESK_SECRET_KEY", SECRET)
    monkeypatch.setenv("BRANCHDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_invite_then_summary_and_seed(tmp_path: Path, settings_env: None) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(url)
    database = Database(url)
    finished = utcnow() - timedelta(hours=1)
    with database.unit_of_work() as db:
        world = make_world(db, code="FCLI", region="West")
        day = finished.date()
        remote = completed_ticket(db, world, channel="remote", contact_phone="0912 345 678",
                                  finished_at=finished, business_on=day)  # fmt: skip
        for _ in range(3):
            completed_ticket(db, world, finished_at=finished, business_on=day)
        remote_id = remote.id
    runner = CliRunner()
    args = ["--url", url]
    invited = runner.invoke(feedback_app, ["invite", "--base-url", "https://bank.example", *args])
    assert invited.exit_code == 0, invited.output
    assert invited.output.strip() == "queued 1 survey invitations"
    again = runner.invoke(feedback_app, ["invite", "--base-url", "https://bank.example", *args])
    assert again.output.strip() == "queued 0 survey invitations"
    with database.read_only() as db:
        message = db.execute(select(Event).where(Event.type == "notify.requested")).scalar_one()
    token = SurveyTokens(SECRET).token_for(remote_id)
    assert message.payload["values"]["url"] == f"https://bank.example/s/{token}"
    assert message.payload["to_phone"] == "0912 345 678"

    seeded = runner.invoke(feedback_app, ["seed", "--share", "1.0", *args])
    assert seeded.output.strip() == "seeded 4 survey responses"
    summary = runner.invoke(
        feedback_app, ["summary", "--group-by", "region", "--branch", "FCLI", *args]
    )
    assert summary.exit_code == 0, summary.output
    body = json.loads(summary.output)
    assert [(r["label"], r["completed"], r["responses"]) for r in body["rows"]] == [("West", 4, 4)]
    bad = runner.invoke(feedback_app, ["summary", "--group-by", "colour", *args])
    assert bad.exit_code == 2
    database.dispose()
