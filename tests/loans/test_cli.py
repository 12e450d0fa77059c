"""`branchdesk loans daily|seed-products|simulate|default-model` against a real database file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.loans import service
from branchdesk.loans.cli import credit_app, loans_app
from branchdesk.loans.models import Loan, LoanPenaltyAccrual, LoanProduct
from branchdesk.loans.service import scoring
from branchdesk.loans.service.scoring import MODEL_DIR_ENV
from branchdesk.migrations import upgrade
from tests.loans.helpers import ALLOW, GOOD, application_body, make_world


def test_daily_job_is_idempotent_and_seed_creates_products(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/loans.db"
    upgrade(url)
    runner = CliRunner()
    database = Database(url)
    signer = Signer("cli-test-secret-cli-test-secret-cli-test")
    disbursed_at = datetime(2026, 3, 2, 3, tzinfo=UTC)
    with database.unit_of_work() as db:
        world = make_world(db, signer)
        application, _ = service.create_application(
            db, data=application_body(world, GOOD), actor=world.teller, now=disbursed_at
        )
        loan, _ = service.disburse(
            db, application_id=application.id, account=world.account.number,
            idempotency_key="cli-dis", actor=world.teller, now=disbursed_at, compliance=ALLOW,
        )  # fmt: skip
        number, branch_code = loan.number, world.branch.code.lower()
    seeded = runner.invoke(loans_app, ["seed-products", "--url", url])
    assert seeded.output.strip() == "3 loan products created"  # PERSONAL was there already
    assert runner.invoke(loans_app, ["seed-products", "--url", url]).output.strip() == (
        "0 loan products created"
    )
    args = ["daily", "--as-of", "2026-04-12", "--url", url]
    first = runner.invoke(loans_app, args)
    assert first.exit_code == 0, first.output
    assert first.output.strip().startswith("2026-04-12: 1 loans, 1 overdue, 10 loan-days")
    again = runner.invoke(loans_app, args)
    assert again.output.strip() == (
        "2026-04-12: 1 loans, 1 overdue, 0 loan-days of penalty, 0 minor units, 0 minor units of "
        "interest accrued, 0 re-priced, 1 snapshots, 0 alerts opened"
    )  # the day's snapshot is rewritten, nothing accrues twice
    with database.unit_of_work() as db:
        stored = db.execute(select(Loan).where(Loan.number == number)).scalar_one()
        assert (stored.days_past_due, stored.bucket) == (10, "1-30")
        days = db.execute(select(func.count()).select_from(LoanPenaltyAccrual)).scalar_one()
        assert days == 10
        assert db.execute(select(func.count()).select_from(LoanProduct)).scalar_one() == 4
    bad = runner.invoke(loans_app, ["daily", "--as-of", "12/04/2026", "--url", url])
    assert bad.exit_code == 2
    unknown = runner.invoke(loans_app, [*args, "--branch", "NOPE"])
    assert unknown.exit_code == 2
    assert "unknown branch NOPE" in unknown.output
    own = runner.invoke(
        loans_app, ["daily", "--as-of", "2026-04-13", "--branch", branch_code, "--url", url]
    )
    assert own.output.strip().startswith("2026-04-13: 1 loans, 1 overdue, 1 loan-days")
    nowhere = runner.invoke(loans_app, ["simulate", "--branch", "NOPE", "--url", url])
    assert (nowhere.exit_code, nowhere.output.strip()) == (2, "error: unknown branch NOPE")
    simulated = runner.invoke(
        loans_app,
        ["simulate", "--branch", branch_code, "--loans", "2", "--months", "2", "--url", url],
    )
    assert simulated.exit_code == 0, simulated.output
    assert simulated.output.startswith(f"2 loans over 2 months at {branch_code.upper()}: ")
    with database.unit_of_work() as db:
        assert db.execute(select(func.count()).select_from(Loan)).scalar_one() == 3
    database.dispose()


def test_default_model_is_written_and_used_when_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    out = tmp_path / "model"
    written = runner.invoke(loans_app, ["default-model", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert (out / "model.json").is_file()
    scored_in = tmp_path / "in.csv"
    scored_in.write_text("checking_account_status,duration_months\nbelow 0,24\n", encoding="utf-8")
    scored = runner.invoke(
        credit_app,
        ["score", "--model", str(out), "--data", str(scored_in), "--out", str(tmp_path / "o.csv")],
    )
    assert scored.exit_code == 0, scored.output
    monkeypatch.setenv(MODEL_DIR_ENV, str(out))
    configured = scoring.current_model()
    assert configured.version == written.output.split()[1]
    assert not configured.version.startswith("default-synthetic")
