"""Ledger services on a real database: exact balances, refusals that change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Forbidden, RuleViolation
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.ledger import rules, service
from branchdesk.ledger.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotFound,
    CurrencyMismatch,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidAmount,
    KycIncomplete,
    OwnApproval,
)
from branchdesk.ledger.models import Account, AccountStatus, AccountType, PostingStatus
from branchdesk.ledger.schemas import AccountOpen, AccountStatusChange
from tests.factories import NOW, make_customer
from tests.ledger.helpers import (
    ALLOW,
    assert_ledger_consistent,
    balance,
    counts,
    deposit,
    key,
    make_bank,
    open_account,
)


def _transfer(db: Session, bank, source: Account, target: Account, amount: int, **kw):  # type: ignore[no-untyped-def]
    return service.post_transfer(
        db,
        from_account=source.number,
        to_account=target.number,
        amount_minor=amount,
        currency=kw.pop("currency", source.currency),
        idempotency_key=kw.pop("idempotency_key", key("tr")),
        actor=kw.pop("actor", bank.teller),
        now=NOW,
        compliance=kw.pop("compliance", ALLOW),
        **kw,
    )


def test_account_numbers_carry_mod97_check_digits(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    account = open_account(db, bank)
    assert rules.is_valid_account_number(account.number)
    assert len(account.number) == 12
    wrong = account.number[:-1] + str((int(account.number[-1]) + 1) % 10)
    assert not rules.is_valid_account_number(wrong)
    assert account.balance_minor == 0
    assert account.overdraft_limit_minor == 0
    assert account.status == AccountStatus.active


def test_open_account_checks_kyc_and_product_terms(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    expired = make_customer(db, signer, id_expires_on=date(2026, 1, 1))
    data = AccountOpen(customer_number=expired.customer_number, currency="CNY",
                       branch_code=bank.branch.code)  # fmt: skip
    with pytest.raises(KycIncomplete):
        service.open_account(db, data=data, actor=bank.teller, now=NOW)
    with pytest.raises(RuleViolation, match="term_months"):
        open_account(db, bank, type=AccountType.time_deposit)
    with pytest.raises(RuleViolation, match="overdraw"):
        open_account(db, bank, type=AccountType.savings, overdraft_limit_minor=100)
    deposit_account = open_account(
        db, bank, type=AccountType.time_deposit, term_months=12, rate_bps=185
    )
    assert deposit_account.matures_on == date(2027, 3, 2)
    assert db.execute(select(Account).where(Account.customer_id == expired.id)).first() is None


def test_joint_holders_are_listed_primary_first(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    partner = make_customer(db, signer)
    account = open_account(db, bank, joint_customer_numbers=[partner.customer_number])
    read = service.account_read(db, account)
    assert read.holders[1] == partner.customer_number
    assert len(read.holders) == 2


def test_deposit_withdraw_transfer_fee_exact_balances(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    alice = open_account(db, bank)
    bob = open_account(db, bank)
    deposit(db, bank, alice, 100_000, counter_code="T1")
    _transfer(db, bank, alice, bob, 25_050)
    service.post_withdrawal(
        db, account=bob.number, amount_minor=5_000, currency="CNY", idempotency_key=key(),
        actor=bank.teller, now=NOW, compliance=ALLOW, counter_code="T1",
    )  # fmt: skip
    service.post_fee(
        db, account=alice.number, amount_minor=1_500, currency="CNY", idempotency_key=key(),
        actor=bank.teller, now=NOW, compliance=ALLOW,
    )  # fmt: skip
    assert balance(db, alice) == 100_000 - 25_050 - 1_500
    assert balance(db, bob) == 25_050 - 5_000
    mine = Account.branch_id == bank.branch.id  # committed rows of other tests may exist
    till = db.execute(select(Account).where(mine, Account.type == AccountType.till)).scalar_one()
    assert balance(db, till) == -100_000 + 5_000  # cash held shows as a debit balance
    fees = db.execute(
        select(Account).where(mine, Account.type == AccountType.fee_income)
    ).scalar_one()
    assert balance(db, fees) == 1_500
    entries = service.list_entries(db, ref=alice.number, actor=bank.teller)
    assert [(e.seq, e.amount_minor, e.balance_after_minor) for e in entries] == [
        (3, -1_500, 73_450),
        (2, -25_050, 74_950),
        (1, 100_000, 100_000),
    ]
    assert_ledger_consistent(db)


@pytest.mark.parametrize(
    ("amount", "currency", "target", "error"),
    [
        (0, "CNY", "ok", InvalidAmount),
        (-5, "CNY", "ok", InvalidAmount),
        (100, "USD", "ok", CurrencyMismatch),
        (100, "XXX", "ok", CurrencyMismatch),
        (100, "CNY", "000000000000", AccountNotFound),
        (10_001, "CNY", "ok", InsufficientFunds),
    ],
)
def test_refused_transfers_change_nothing(
    db: Session, signer: Signer, amount: int, currency: str, target: str, error: type
) -> None:
    bank = make_bank(db, signer)
    source = open_account(db, bank)
    destination = open_account(db, bank)
    deposit(db, bank, source, 10_000)
    before = counts(db)
    with pytest.raises(error), db.begin_nested():  # rolled back, as the request would be
        service.post_transfer(
            db, from_account=source.number,
            to_account=destination.number if target == "ok" else target,
            amount_minor=amount, currency=currency, idempotency_key=key(), actor=bank.teller,
            now=NOW, compliance=ALLOW,
        )  # fmt: skip
    assert counts(db) == before
    assert balance(db, source) == 10_000
    assert balance(db, destination) == 0


def test_overdraft_limit_is_the_floor(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    source = open_account(db, bank, overdraft_limit_minor=5_000)
    target = open_account(db, bank)
    _transfer(db, bank, source, target, 5_000)
    assert balance(db, source) == -5_000
    with pytest.raises(InsufficientFunds), db.begin_nested():
        _transfer(db, bank, source, target, 1)
    assert balance(db, source) == -5_000
    assert_ledger_consistent(db)


def test_frozen_closed_and_missing_key_are_refused(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    account = open_account(db, bank)
    other = open_account(db, bank)
    deposit(db, bank, account, 1_000)
    service.change_account_status(
        db, ref=account.number, data=AccountStatusChange(status=AccountStatus.frozen),
        actor=bank.manager, now=NOW,
    )  # fmt: skip
    with pytest.raises(AccountFrozen), db.begin_nested():
        deposit(db, bank, account, 1)
    service.change_account_status(
        db, ref=other.number, data=AccountStatusChange(status=AccountStatus.closed),
        actor=bank.manager, now=NOW,
    )  # fmt: skip
    with pytest.raises(AccountClosed), db.begin_nested():
        deposit(db, bank, other, 1)
    with pytest.raises(IdempotencyKeyRequired):
        deposit(db, bank, other, 1, idempotency_key="  ")
    with pytest.raises(Forbidden):
        service.change_account_status(
            db, ref=other.number, data=AccountStatusChange(status=AccountStatus.active),
            actor=bank.teller, now=NOW,
        )  # fmt: skip
    assert balance(db, account) == 1_000


def test_idempotent_replay_and_conflict(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    source = open_account(db, bank)
    target = open_account(db, bank)
    deposit(db, bank, source, 10_000)
    first = _transfer(db, bank, source, target, 700, idempotency_key="same")
    again = _transfer(db, bank, source, target, 700, idempotency_key="same")
    assert not first.is_replay
    assert again.is_replay
    assert again.posting.id == first.posting.id
    before = counts(db)
    with pytest.raises(IdempotencyKeyReused):
        _transfer(db, bank, source, target, 701, idempotency_key="same")
    assert counts(db) == before
    assert balance(db, source) == 9_300
    assert balance(db, target) == 700


def test_maker_checker_holds_large_postings_until_another_supervisor_approves(
    db: Session, signer: Signer
) -> None:
    from branchdesk.ledger.models import PostingKind
    from branchdesk.ledger.schemas import ApprovalLimitSet

    bank = make_bank(db, signer)
    account = open_account(db, bank)
    deposit(db, bank, account, 50_000)
    service.set_approval_limit(
        db, data=ApprovalLimitSet(branch_code=bank.branch.code, kind=PostingKind.withdrawal,
                                  currency="CNY", amount_minor=20_000),
        actor=bank.manager, now=NOW,
    )  # fmt: skip
    held = service.post_withdrawal(
        db, account=account.number, amount_minor=30_000, currency="CNY", idempotency_key=key(),
        actor=bank.manager, now=NOW, compliance=ALLOW,
    ).posting  # fmt: skip
    assert held.status == PostingStatus.pending_approval
    assert balance(db, account) == 50_000
    assert [p.id for p in service.list_pending(db, actor=bank.other_manager)] == [held.id]
    before = counts(db)
    with pytest.raises(OwnApproval):
        service.approve_posting(db, posting_id=held.id, actor=bank.manager, now=NOW)
    with pytest.raises(Forbidden):
        service.approve_posting(db, posting_id=held.id, actor=bank.teller, now=NOW)
    assert counts(db) == before
    assert balance(db, account) == 50_000
    approved = service.approve_posting(db, posting_id=held.id, actor=bank.other_manager, now=NOW)
    assert approved.status == PostingStatus.posted
    assert balance(db, account) == 20_000
    audit = db.execute(select(AuditEntry.action).where(AuditEntry.object_id == str(held.id))).all()
    assert audit == [("posting.approve",)]
    small = service.post_withdrawal(
        db, account=account.number, amount_minor=20_000, currency="CNY", idempotency_key=key(),
        actor=bank.teller, now=NOW, compliance=ALLOW,
    ).posting  # fmt: skip
    assert small.status == PostingStatus.posted
    assert_ledger_consistent(db)


def test_reversal_waits_for_approval_then_restores_balances(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    source = open_account(db, bank)
    target = open_account(db, bank)
    deposit(db, bank, source, 10_000)
    original = _transfer(db, bank, source, target, 4_000).posting
    reversal = service.reverse_posting(
        db, posting_id=original.id, idempotency_key=key(), actor=bank.teller, now=NOW,
        compliance=ALLOW,
    ).posting  # fmt: skip
    assert reversal.status == PostingStatus.pending_approval
    assert balance(db, target) == 4_000
    with pytest.raises(Forbidden), db.begin_nested():  # a teller decides nothing
        service.reject_posting(db, posting_id=reversal.id, actor=bank.teller, now=NOW)
    rejected = service.reject_posting(db, posting_id=reversal.id, actor=bank.manager, now=NOW)
    assert rejected.status == PostingStatus.rejected
    assert rejected.checker_id == bank.manager.user_id
    audit = db.execute(
        select(AuditEntry.action, AuditEntry.outcome).where(
            AuditEntry.object_id == str(reversal.id)
        )
    ).all()
    assert audit == [("posting.reject", "ok")]
    second = service.reverse_posting(
        db, posting_id=original.id, idempotency_key=key(), actor=bank.teller, now=NOW,
        compliance=ALLOW,
    ).posting  # fmt: skip
    service.approve_posting(db, posting_id=second.id, actor=bank.manager, now=NOW)
    assert balance(db, source) == 10_000
    assert balance(db, target) == 0
    from branchdesk.ledger.errors import AlreadyReversed

    with pytest.raises(AlreadyReversed):
        service.reverse_posting(
            db, posting_id=original.id, idempotency_key=key(), actor=bank.teller, now=NOW,
            compliance=ALLOW,
        )  # fmt: skip
    assert_ledger_consistent(db)


def test_reversal_approval_refused_when_funds_are_gone(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    source = open_account(db, bank)
    target = open_account(db, bank)
    deposit(db, bank, source, 10_000)
    original = _transfer(db, bank, source, target, 4_000).posting
    reversal = service.reverse_posting(
        db, posting_id=original.id, idempotency_key=key(), actor=bank.teller, now=NOW,
        compliance=ALLOW,
    ).posting  # fmt: skip
    _transfer(db, bank, target, source, 3_000)
    with pytest.raises(InsufficientFunds), db.begin_nested():
        service.approve_posting(db, posting_id=reversal.id, actor=bank.manager, now=NOW)
    db.refresh(reversal)
    assert reversal.status == PostingStatus.pending_approval
    assert balance(db, target) == 1_000


def test_remittance_through_clearing_suspense(db: Session, signer: Signer) -> None:
    from branchdesk.ledger.models import RemittanceStatus

    bank = make_bank(db, signer)
    account = open_account(db, bank)
    deposit(db, bank, account, 10_000)
    sent = service.post_remittance(
        db, from_account=account.number, beneficiary="ICBC 6222 0000 1111", amount_minor=6_000,
        currency="CNY", idempotency_key=key(), actor=bank.teller, now=NOW, compliance=ALLOW,
    ).posting  # fmt: skip
    assert sent.remittance_status == RemittanceStatus.sent
    suspense = db.execute(
        select(Account).where(
            Account.branch_id == bank.branch.id, Account.type == AccountType.clearing_suspense
        )
    ).scalar_one()
    assert balance(db, suspense) == 6_000
    service.record_clearing_result(
        db, posting_id=sent.id, outcome=RemittanceStatus.returned, idempotency_key=key(),
        actor=bank.manager, now=NOW, compliance=ALLOW,
    )  # fmt: skip
    assert balance(db, suspense) == 0
    assert balance(db, account) == 10_000
    assert sent.remittance_status == RemittanceStatus.returned
    settled = service.post_remittance(
        db, from_account=account.number, beneficiary="BOC 1", amount_minor=2_000,
        currency="CNY", idempotency_key=key(), actor=bank.teller, now=NOW, compliance=ALLOW,
    ).posting  # fmt: skip
    service.record_clearing_result(
        db, posting_id=settled.id, outcome=RemittanceStatus.settled, idempotency_key=key(),
        actor=bank.manager, now=NOW, compliance=ALLOW,
    )  # fmt: skip
    assert balance(db, account) == 8_000
    assert balance(db, suspense) == 0
    assert_ledger_consistent(db)


def test_time_deposit_interest_is_rounded_half_even() -> None:
    interest = rules.simple_interest_minor(
        1_000_000, rate_bps=185, start_on=date(2026, 1, 1), end_on=date(2027, 1, 1),
        currency="CNY",
    )  # fmt: skip
    assert interest == 18_500
    # 1,000.00 at 1.85% for 10 days = 0.50684... -> 0.51
    assert (
        rules.simple_interest_minor(
            100_000,
            rate_bps=185,
            start_on=date(2026, 1, 1),
            end_on=date(2026, 1, 11),
            currency="CNY",
        )
        == 51
    )


def test_aml_check_blocks_money_passing_straight_through(db: Session, signer: Signer) -> None:
    from branchdesk.ledger.errors import PostingBlocked
    from branchdesk.ledger.service.compliance import AmlCheck

    bank = make_bank(db, signer)
    a, b, c = (open_account(db, bank) for _ in range(3))
    deposit(db, bank, a, 30_000_000)
    _transfer(db, bank, a, b, 30_000_000)
    _transfer(db, bank, b, c, 29_500_000)
    before = counts(db)
    with pytest.raises(PostingBlocked, match="pass_through"), db.begin_nested():
        _transfer(db, bank, c, a, 29_000_000, compliance=AmlCheck())
    assert counts(db) == before
    assert balance(db, c) == 29_500_000


@pytest.mark.parametrize(
    ("days", "interest", "memo"),
    [(10, 68, "early withdrawal"), (365, 18_500, "matured")],
)
def test_time_deposit_pays_interest_by_product_rule_and_closes(
    db: Session, signer: Signer, days: int, interest: int, memo: str
) -> None:
    from datetime import timedelta

    bank = make_bank(db, signer)
    current = open_account(db, bank)
    term = open_account(db, bank, type=AccountType.time_deposit, term_months=12, rate_bps=185)
    deposit(db, bank, current, 1_000_000)
    _transfer(db, bank, current, term, 1_000_000)
    with pytest.raises(RuleViolation, match="time deposit"), db.begin_nested():
        _transfer(db, bank, term, current, 1)
    result = service.withdraw_time_deposit(
        db, account=term.number, to_account=current.number, idempotency_key=key(),
        actor=bank.teller, now=NOW + timedelta(days=days), compliance=ALLOW,
    )  # fmt: skip
    assert result.posting.memo == memo
    assert result.posting.amount_minor == 1_000_000 + interest
    assert balance(db, current) == 1_000_000 + interest
    assert balance(db, term) == 0
    db.refresh(term)
    assert term.status == AccountStatus.closed
    expense = db.execute(
        select(Account).where(
            Account.branch_id == bank.branch.id, Account.type == AccountType.interest_expense
        )
    ).scalar_one()
    assert balance(db, expense) == -interest
    assert_ledger_consistent(db)
