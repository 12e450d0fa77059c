"""Concurrent pay-outs and repayments with real commits (PostgreSQL: the row locks decide)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.ledger.models import Posting
from branchdesk.loans import service
from branchdesk.loans.models import Loan, LoanRepayment
from tests.concurrency import race
from tests.factories import NOW
from tests.loans.helpers import ALLOW, GOOD, application_body, make_world


@pytest.mark.postgres
def test_one_pay_out_and_no_double_repayment_under_concurrency(
    database: Database, signer: Signer
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    with database.unit_of_work() as db:
        world = make_world(db, signer, product_code=f"P{run}")
        application, _ = service.create_application(
            db, data=application_body(world, GOOD, product_code=f"P{run}",
                                      idempotency_key=f"{run}-app"),
            actor=world.teller, now=NOW,
        )  # fmt: skip
        application_id, account, teller = application.id, world.account.number, world.teller

    def pay_out(n: int) -> Callable[[], object]:
        def call() -> object:
            with database.unit_of_work() as db:
                return service.disburse(
                    db, application_id=application_id, account=account,
                    idempotency_key=f"{run}-dis-{n}", actor=teller, now=NOW, compliance=ALLOW,
                )  # fmt: skip

        return call

    assert race([pay_out(n) for n in range(4)]) == ["not_approved"] * 3 + ["ok"]
    with database.unit_of_work() as db:
        loan = db.execute(select(Loan).where(Loan.application_id == application_id)).scalar_one()
        number = loan.number
        postings = db.execute(
            select(func.count()).select_from(Posting).where(Posting.memo.like(f"loan {number}%"))
        ).scalar_one()
        assert postings == 1

    def repay(n: int) -> Callable[[], object]:
        def call() -> object:
            with database.unit_of_work() as db:
                return service.repay(
                    db, number=number, amount_minor=200_000, currency="CNY",
                    idempotency_key=f"{run}-pay-{n}", actor=teller, now=NOW, compliance=ALLOW,
                )  # fmt: skip

        return call

    assert race([repay(n) for n in range(3)]) == ["ok", "rule_violation", "rule_violation"]
    with database.unit_of_work() as db:
        loan = db.execute(select(Loan).where(Loan.number == number)).scalar_one()
        assert loan.outstanding_principal_minor == 100_000
        taken = db.execute(
            select(func.count()).select_from(LoanRepayment).where(LoanRepayment.loan_id == loan.id)
        ).scalar_one()
        assert taken == 1


@pytest.mark.postgres
def test_concurrent_daily_runs_and_a_repayment_accrue_interest_once(
    database: Database, signer: Signer
) -> None:
    """The worker's hourly run, a cron run and a repayment at the same moment: one accrual row
    per loan and day, and the ledger's receivable matches the loan."""
    from datetime import UTC, date, datetime

    from branchdesk.ledger.models import Account
    from branchdesk.loans.models import LoanInterestAccrual

    run = uuid.uuid4().hex[:8].upper()
    with database.unit_of_work() as db:
        world = make_world(db, signer, product_code=f"Q{run}")
        application, _ = service.create_application(
            db, data=application_body(world, GOOD, product_code=f"Q{run}",
                                      idempotency_key=f"{run}-app"),
            actor=world.teller, now=NOW,
        )  # fmt: skip
        loan, _ = service.disburse(
            db, application_id=application.id, account=world.account.number,
            idempotency_key=f"{run}-dis", actor=world.teller, now=NOW, compliance=ALLOW,
        )  # fmt: skip
        number, branch_id, teller = loan.number, world.branch.id, world.teller
    day = date(2026, 3, 20)
    now = datetime(2026, 3, 20, 3, tzinfo=UTC)

    def daily() -> object:
        with database.unit_of_work() as db:
            return service.run_daily(db, as_of=day, now=now, branch_ids=[branch_id])

    def repay() -> object:
        with database.unit_of_work() as db:
            return service.repay(
                db, number=number, amount_minor=50_000, currency="CNY",
                idempotency_key=f"{run}-pay", actor=teller, now=now, compliance=ALLOW,
            )  # fmt: skip

    assert race([daily, daily, repay]) == ["ok", "ok", "ok"]
    with database.unit_of_work() as db:
        loan = db.execute(select(Loan).where(Loan.number == number)).scalar_one()
        rows = (
            db.execute(select(LoanInterestAccrual).where(LoanInterestAccrual.loan_id == loan.id))
            .scalars()
            .all()
        )
        assert [r.accrued_on for r in rows] == [day]
        receivable = db.execute(
            select(Account.balance_minor).where(
                Account.system_key.like(f"loan_interest_receivable:{branch_id}:%")
            )
        ).scalar_one()
        assert receivable == -loan.interest_receivable_minor < 0
