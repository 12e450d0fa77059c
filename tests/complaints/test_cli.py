"""`branchdesk complaints sla-check` and `hook-secret` on their own SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from branchdesk.cli import _register, app
from branchdesk.complaints import service
from branchdesk.complaints.settings import complaint_settings, hook_secret
from branchdesk.core.config import get_settings
from branchdesk.core.db import Database
from branchdesk.migrations import upgrade
from tests.factories import make_branch, make_user


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(url)
    monkeypatch.setenv("BRANCHDESK_DATABASE_URL", url)
    monkeypatch.setenv("BRANCHDESK_SECRET_KEY", "cli-secret")
    monkeypatch.setenv("BRANCHDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    complaint_settings.cache_clear()
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        get_settings.cache_clear()
        complaint_settings.cache_clear()


def test_sla_check_escalates_once_and_hook_secret_prints_the_derived_secret(
    cli_database: Database,
) -> None:
    from branchdesk.identity.roles import Role

    with cli_database.unit_of_work() as db:
        branch = make_branch(db, code="CLI1", timezone="Asia/Shanghai")
        make_user(db, Role.branch_manager, (branch,), username="cli.manager")
        case = service.open_case(
            db, channel="phone", subject="s", body="b", branch_id=branch.id,
            now=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        )  # fmt: skip
        reference = case.reference
    _register()
    runner = CliRunner()
    first = runner.invoke(app, ["complaints", "sla-check"])
    assert first.exit_code == 0, first.output
    # received in March 2026 and never touched: every target is long past
    assert f"escalated  {reference} acknowledge" in first.output
    assert first.output.strip().endswith("0 warned, 3 escalated")
    again = runner.invoke(app, ["complaints", "sla-check"])
    assert again.output.strip() == "0 warned, 0 escalated"
    secret = runner.invoke(app, ["complaints", "hook-secret", "social_line"])
    assert secret.output.strip() == hook_secret("social_line", app_secret="cli-secret")
    assert runner.invoke(app, ["complaints", "hook-secret", "fax"]).exit_code != 0
