"""Accrual postings of their own ledger kind, penalty interest accrued daily to the ledger, and a
repayment that clears accrued penalty first, then accrued interest, then principal.

The loan of ``_disbursed``: 300,000 CNY minor units at 12 % over 12 months, equal instalments of
26,655 (interest 3,000 in the first month), penalty 18 % a year: one day on the whole first
instalment is 26,655 × 0.18 / 365 = 13.14… → 13 (half-even)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import RuleViolation
from branchdesk.core.security import Signer
from branchdesk.ledger.models import (
    Account,
    ApprovalLimit,
    Entry,
    Posting,
    PostingKind,
    PostingStatus,
)
from branchdesk.ledger.schemas import ApprovalLimitSet
from branchdesk.ledger.service.approvals import set_approval_limit
from branchdesk.ledger.service.compliance import ComplianceDecision, FixedDecision, Verdict
from branchdesk.ledger.service.posting import Leg, submit
from branchdesk.loans import service
from branchdesk.loans.models import Loan, LoanPenaltyAccrual
from branchdesk.loans.service.common import loan_account
from tests.factories import NOW
from tests.loans.helpers import ALLOW, GOOD, World, application_body, balance, key, make_world

DUE = date(2026, 4, 2)  # the first instalment's due date (pay-out on 2026-03-02)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)


def _disbursed(db: Session, world: World) -> Loan:
    application, _ = service.create_application(
        db, data=application_body(world, GOOD), actor=world.teller, now=NOW
    )
    loan, _ = service.disburse(
        db, application_id=application.id, account=world.account.number,
        idempotency_key=key("dis"), actor=world.teller, now=NOW, compliance=ALLOW,
    )  # fmt: skip
    return loan


def _daily(db: Session, world: World, day: date) -> None:
    service.run_daily(db, as_of=day, now=_at(day), branch_ids=[world.branch.id])


def _system(db: Session, kind: str, world: World) -> int:
    account = db.execute(
        select(Account).where(Account.system_key.like(f"{kind}:{world.branch.id}:%"))
    ).scalar_one_or_none()
    return 0 if account is None else balance(db, account.id)


def _legs(db: Session, posting_id: object) -> dict[str, int]:
    rows = db.execute(
        select(Account.type, Account.number, Entry.amount_minor)
        .join(Account, Account.id == Entry.account_id)
        .where(Entry.posting_id == posting_id)
    ).all()
    return {(t if t.startswith("loan_") else number): amount for t, number, amount in rows}


def _accrual_postings(db: Session, memo: str) -> list[tuple[str, str, int]]:
    return [
        (p.kind, p.status, p.amount_minor)
        for p in db.execute(
            select(Posting).where(Posting.memo.like(f"{memo}%")).order_by(Posting.created_at)
        ).scalars()
    ]


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


def test_penalty_accrues_daily_to_the_ledger_with_exact_amounts(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    _daily(db, world, DUE)  # due today: not overdue yet, no penalty
    _daily(db, world, DUE + timedelta(days=1))  # one day: 13
    _daily(db, world, DUE + timedelta(days=3))  # two more days: 26 in one posting
    _daily(db, world, DUE + timedelta(days=3))  # the same day again: nothing
    db.refresh(loan)
    assert (loan.penalty_due_minor, loan.penalty_receivable_minor) == (39, 39)
    assert _accrual_postings(db, "loan penalty accrual") == [
        ("accrual", "posted", 13), ("accrual", "posted", 26),
    ]  # fmt: skip
    assert _system(db, "loan_penalty_receivable", world) == -39
    assert _system(db, "loan_penalty_income", world) == 39
    days = db.execute(
        select(LoanPenaltyAccrual.accrued_on, LoanPenaltyAccrual.amount_minor)
        .where(LoanPenaltyAccrual.loan_id == loan.id)
        .order_by(LoanPenaltyAccrual.accrued_on)
    ).all()
    assert days == [(date(2026, 4, 3), 13), (date(2026, 4, 4), 13), (date(2026, 4, 5), 13)]
    assert all(
        posting_id is not None
        for posting_id in db.execute(
            select(LoanPenaltyAccrual.posting_id).where(LoanPenaltyAccrual.loan_id == loan.id)
        ).scalars()
    )
    # interest accrual postings are of the same kind (not ``fee``): period 1 complete (3,000),
    # then 1 and 3 days of period 2 (interest 2,763 over 30 days: 92, then 276 - 92 = 184)
    assert _accrual_postings(db, "loan interest accrual") == [
        ("accrual", "posted", 3_000), ("accrual", "posted", 92), ("accrual", "posted", 184),
    ]  # fmt: skip
    assert loan.interest_receivable_minor == _system(db, "loan_interest_income", world)


def test_repayment_clears_accrued_penalty_then_accrued_interest_then_principal(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    day = DUE + timedelta(days=3)
    _daily(db, world, day)
    db.refresh(loan)
    assert (loan.penalty_due_minor, loan.penalty_receivable_minor) == (39, 39)
    interest_receivable = loan.interest_receivable_minor
    before = balance(db, world.account.id)
    repayment, _ = service.repay(
        db, number=loan.number, amount_minor=39 + 3_000 + 500, currency="CNY",
        idempotency_key=key("pay"), actor=world.teller, now=_at(day), compliance=ALLOW,
    )  # fmt: skip
    assert (
        repayment.penalty_minor, repayment.interest_minor, repayment.principal_minor,
        repayment.prepayment_minor,
    ) == (39, 3_000, 500, 0)  # fmt: skip
    assert _legs(db, repayment.posting_id) == {
        world.account.number: -3_539,
        "loan_penalty_receivable": 39,
        "loan_interest_receivable": 3_000,
        "loan_assets": 500,
    }
    db.refresh(loan)
    assert (loan.penalty_due_minor, loan.penalty_receivable_minor) == (0, 0)
    assert loan.interest_receivable_minor == interest_receivable - 3_000
    assert loan.outstanding_principal_minor == 300_000 - 500
    assert balance(db, world.account.id) == before - 3_539
    assert _system(db, "loan_penalty_receivable", world) == 0
    assert _system(db, "loan_penalty_income", world) == 39


def test_penalty_accrued_before_the_ledger_accrual_goes_to_income_when_paid(
    db: Session, signer: Signer
) -> None:
    """A loan from before revision 0024 has penalty due that was never posted (receivable 0)."""
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    day = DUE + timedelta(days=1)
    _daily(db, world, day)
    db.refresh(loan)
    loan.penalty_due_minor += 50  # accrued by the old code: due, never posted
    db.flush()
    repayment, _ = service.repay(
        db, number=loan.number, amount_minor=63, currency="CNY",
        idempotency_key=key("pay"), actor=world.teller, now=_at(day), compliance=ALLOW,
    )  # fmt: skip
    assert _legs(db, repayment.posting_id) == {
        world.account.number: -63, "loan_penalty_receivable": 13, "loan_penalty_income": 50,
    }  # fmt: skip
    db.refresh(loan)
    assert (loan.penalty_due_minor, loan.penalty_receivable_minor) == (0, 0)
    assert _system(db, "loan_penalty_income", world) == 63


def test_refused_repayment_after_penalty_writes_nothing(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    day = DUE + timedelta(days=3)
    _daily(db, world, day)
    db.refresh(loan)
    owed = 39 + 26_655 + (300_000 - (26_655 - 3_000))
    state = (_count(db, Posting), _count(db, Entry), balance(db, world.account.id))
    with pytest.raises(RuleViolation) as refused:
        service.repay(
            db, number=loan.number, amount_minor=owed + 1, currency="CNY",
            idempotency_key=key("pay"), actor=world.teller, now=_at(day), compliance=ALLOW,
        )  # fmt: skip
    assert refused.value.field == "amount_minor"
    assert f"at most {owed} minor units" in str(refused.value)
    db.refresh(loan)
    assert (loan.penalty_due_minor, loan.penalty_receivable_minor) == (39, 39)
    assert (_count(db, Posting), _count(db, Entry), balance(db, world.account.id)) == state
    assert _system(db, "loan_penalty_receivable", world) == -39


def test_accrual_kind_is_never_held_and_takes_no_customer_leg(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    # a limit on fees (the kind accruals used to have) no longer holds them
    set_approval_limit(
        db, data=ApprovalLimitSet(branch_code=world.branch.code, kind="fee", currency="CNY",
                                  amount_minor=1),
        actor=world.manager, now=NOW,
    )  # fmt: skip
    # a limit on accruals themselves is refused, nothing stored
    with pytest.raises(RuleViolation) as refused:
        set_approval_limit(
            db, data=ApprovalLimitSet(branch_code=world.branch.code, kind="accrual",
                                      currency="CNY", amount_minor=1),
            actor=world.manager, now=NOW,
        )  # fmt: skip
    assert refused.value.field == "kind"
    assert _count(db, ApprovalLimit) == 1
    _daily(db, world, DUE + timedelta(days=2))
    db.refresh(loan)
    assert {s for _, s, _ in _accrual_postings(db, "loan ")} == {PostingStatus.posted}
    assert loan.penalty_receivable_minor == 26
    # the compliance screen is not asked (it would hold everything), the posting goes through
    holding = FixedDecision(ComplianceDecision(Verdict.hold, "test hold"))
    receivable = loan_account(
        db, kind="loan_penalty_receivable", branch_id=world.branch.id, currency="CNY", now=NOW
    )
    income = loan_account(
        db, kind="loan_penalty_income", branch_id=world.branch.id, currency="CNY", now=NOW
    )
    result = submit(
        db, kind=PostingKind.accrual, key=key("acc"), request_hash="x",
        branch_id=world.branch.id, legs=[Leg(receivable, -5), Leg(income, 5)], amount_minor=5,
        currency="CNY", actor=None, now=NOW, compliance=holding,
    )  # fmt: skip
    assert (result.posting.status, holding.seen) == ("posted", [])
    # a customer's account (or any account not a receivable or income) is refused, nothing written
    state = (_count(db, Posting), _count(db, Entry), balance(db, world.account.id))
    assets = loan_account(
        db, kind="loan_assets", branch_id=world.branch.id, currency="CNY", now=NOW
    )
    for other in (world.account, assets):
        with pytest.raises(RuleViolation) as wrong:
            submit(
                db, kind=PostingKind.accrual, key=key("acc"), request_hash="y",
                branch_id=world.branch.id, legs=[Leg(other, -5), Leg(income, 5)],
                amount_minor=5, currency="CNY", actor=None, now=NOW, compliance=ALLOW,
            )  # fmt: skip
        assert wrong.value.code == "accrual_legs"
    assert (_count(db, Posting), _count(db, Entry), balance(db, world.account.id)) == state
