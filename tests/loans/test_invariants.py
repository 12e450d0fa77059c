"""Hypothesis: any sequence of repayments and daily runs keeps the loan and the ledger consistent.

After every step: each posting sums to zero; the loan-assets account holds minus the outstanding
principal; the unpaid principal of the schedule equals the outstanding principal; interest and
penalty are accrued daily into their receivables and income and cleared by what the repayments
allocated to them; the borrower's account moved by exactly the pay-out less the repayments.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import DomainError
from branchdesk.core.security import Signer
from branchdesk.ledger.models import Account, Entry
from branchdesk.loans import service
from branchdesk.loans.models import LoanInstalment, LoanPenaltyAccrual, LoanRepayment
from tests.loans.helpers import ALLOW, GOOD, application_body, balance, key, make_world

START = datetime(2026, 3, 2, 3, tzinfo=UTC)
steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=70), st.integers(min_value=1, max_value=120_000)),
    min_size=1,
    max_size=6,
)


def _system(db: Session, kind: str, branch: object) -> int:
    account = db.execute(
        select(Account).where(Account.system_key.like(f"{kind}:{branch}:%"))
    ).scalar_one_or_none()
    return 0 if account is None else balance(db, account.id)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_any_repayment_sequence_keeps_loan_and_ledger_consistent(
    fresh_db: Callable[[], AbstractContextManager[Session]],
    signer: Signer,
    plan: list[tuple[int, int]],
) -> None:
    with fresh_db() as db:
        world = make_world(db, signer, funds_minor=2_000_000)
        application, _ = service.create_application(
            db, data=application_body(world, GOOD), actor=world.teller, now=START
        )
        loan, _ = service.disburse(
            db, application_id=application.id, account=world.account.number,
            idempotency_key=key("inv"), actor=world.teller, now=START, compliance=ALLOW,
        )  # fmt: skip
        start_balance = balance(db, world.account.id)
        day: date = START.date()
        for gap, amount in plan:
            day += timedelta(days=gap)
            now = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
            service.run_daily(db, as_of=day, now=now, branch_ids=[world.branch.id])
            savepoint = db.begin_nested()
            try:
                service.repay(
                    db, number=loan.number, amount_minor=amount, currency="CNY",
                    idempotency_key=key("inv"), actor=world.teller, now=now, compliance=ALLOW,
                )  # fmt: skip
            except DomainError:
                savepoint.rollback()  # more than owed, or the loan closed: nothing changes
            else:
                savepoint.commit()
            db.refresh(loan)
            rows = (
                db.execute(select(LoanInstalment).where(LoanInstalment.loan_id == loan.id))
                .scalars()
                .all()
            )
            paid = db.execute(
                select(
                    func.coalesce(func.sum(LoanRepayment.amount_minor), 0),
                    func.coalesce(func.sum(LoanRepayment.interest_minor), 0),
                    func.coalesce(func.sum(LoanRepayment.penalty_minor), 0),
                ).where(LoanRepayment.loan_id == loan.id)
            ).one()
            unbalanced = db.execute(
                select(Entry.posting_id)
                .where(Entry.booked_at >= START)
                .group_by(Entry.posting_id)
                .having(func.sum(Entry.amount_minor) != 0)
            ).all()
            assert unbalanced == []
            assert _system(db, "loan_assets", world.branch.id) == -loan.outstanding_principal_minor
            assert sum(r.principal_minor - r.paid_principal_minor for r in rows) == (
                loan.outstanding_principal_minor
            )
            # accrual: income holds what was recognised (accrued, or paid before it accrued),
            # the receivable what accrued and is unpaid; their difference is the interest paid
            assert _system(db, "loan_interest_income", world.branch.id) == (
                loan.interest_recognized_minor
            )
            receivable = _system(db, "loan_interest_receivable", world.branch.id)
            assert receivable == -loan.interest_receivable_minor <= 0
            assert loan.interest_recognized_minor - loan.interest_receivable_minor == paid[1]
            if loan.status == "closed":
                assert loan.interest_receivable_minor == 0
            # penalty: income holds every penalty day accrued, the receivable what is unpaid
            accrued_penalty = db.execute(
                select(func.coalesce(func.sum(LoanPenaltyAccrual.amount_minor), 0)).where(
                    LoanPenaltyAccrual.loan_id == loan.id
                )
            ).scalar_one()
            assert _system(db, "loan_penalty_income", world.branch.id) == accrued_penalty
            assert _system(db, "loan_penalty_receivable", world.branch.id) == (
                -loan.penalty_receivable_minor
            )
            assert loan.penalty_receivable_minor == loan.penalty_due_minor
            assert accrued_penalty - loan.penalty_receivable_minor == paid[2]
            assert balance(db, world.account.id) == start_balance - paid[0]
            assert loan.penalty_due_minor >= 0
            assert (loan.status == "closed") == (loan.outstanding_principal_minor == 0)
