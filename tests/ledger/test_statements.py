"""Statements per transfer: a batch costs the same few round trips whatever its size.

Service level, the AML rules as the compliance check. A batch reads the named accounts (no
lock), idempotency keys, approval limits and the AML summary, decides, then locks the accounts
and writes the postings, events, entries and one (executemany) balance update. A single
transfer locks its accounts when it first reads them. PostgreSQL adds the live-feed notify.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta

from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.ledger import service
from branchdesk.ledger.models import PostingStatus
from branchdesk.ledger.service.compliance import AmlCheck
from branchdesk.ledger.service.posting import PostingResult, TransferItem
from branchdesk.risk.cases.sweep import ledger_movements
from tests.factories import NOW
from tests.ledger.helpers import deposit, make_bank, open_account
from tests.queue.sqlcount import count_statements


def counted(db: Session) -> AbstractContextManager[list[str]]:
    """Every statement of the block, transaction control included (no savepoint is expected)."""
    return count_statements(db.connection(), keep_control=True)


def test_a_batch_costs_the_same_statements_as_one_transfer(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    accounts = [open_account(db, bank) for _ in range(6)]
    for account in accounts:
        deposit(db, bank, account, 100_000)
    check = AmlCheck()
    # the AML screen reads two summary statements; items it clears read no whole history
    notify = 1 if db.get_bind().dialect.name == "postgresql" else 0
    expected_single = 9 + notify

    def items(prefix: str, size: int) -> list[TransferItem]:
        return [
            TransferItem(
                accounts[n % 6].number, accounts[(n + 1) % 6].number, 10 + n, "CNY", f"{prefix}-{n}"
            )
            for n in range(size)
        ]

    with counted(db) as single:
        one = service.post_transfer(
            db, from_account=accounts[0].number, to_account=accounts[1].number,
            amount_minor=5, currency="CNY", idempotency_key="single", actor=bank.teller,
            now=NOW, compliance=check,
        )  # fmt: skip
    assert one.posting.status == PostingStatus.posted
    for size in (10, 60):
        with counted(db) as statements:
            results = service.post_transfer_batch(
                db, items=items(f"b{size}", size), actor=bank.teller, now=NOW, compliance=check
            )
        assert all(isinstance(r, PostingResult) and not r.is_replay for r in results)
        assert [_verb(s) for s in statements] == [
            "SELECT accounts",  # the snapshot
            "SELECT postings",  # the keys
            "SELECT approval_limits",
            "SELECT ledger_entries",  # AML summary: the accounts' sums
            "SELECT ledger_entries",  # AML summary: the notable rows
            "SELECT accounts",  # the lock
            "INSERT INTO postings",
            "INSERT INTO events",
            *(["SELECT pg_notify"] * notify),
            "INSERT INTO ledger_entries",
            "UPDATE accounts",
        ], [_verb(s) for s in statements]
        if notify:  # PostgreSQL (SQLite writes one transaction at a time: no FOR UPDATE)
            assert "FOR UPDATE" in statements[5]
            assert "FOR UPDATE" not in statements[0]
    assert len(single) == expected_single, [_verb(s) for s in single]


def _verb(statement: str) -> str:
    """The kind and table of a statement: "SELECT accounts", "SAVEPOINT", ..."""
    words = statement.split()
    if words[0] in ("SAVEPOINT", "RELEASE"):
        return "SAVEPOINT" if words[0] == "SAVEPOINT" else "RELEASE SAVEPOINT"
    if words[0] == "SELECT":
        if words[1].startswith("pg_notify"):
            return "SELECT pg_notify"
        table = words[words.index("FROM") + 1]
        return f"SELECT {table}"
    return " ".join(words[:3]) if words[0] == "INSERT" else " ".join(words[:2])


def aml_reads(statements: list[str]) -> tuple[int, int]:
    """(history reads: the notable rows or the whole history, summary reads)"""
    histories = [s for s in statements if "ORDER BY ledger_entries.booked_at DESC" in s]
    summaries = [s for s in statements if "GROUP BY accounts.number" in s]
    return len(histories), len(summaries)


def test_a_cash_deposit_reads_the_whole_history_without_a_summary(
    db: Session, signer: Signer
) -> None:
    """Cash always meets the AML report rules, so no summary could clear it: one history
    statement; a small transfer reads the summary (two statements) and no whole history."""
    bank = make_bank(db, signer)
    source, target = open_account(db, bank), open_account(db, bank)
    deposit(db, bank, source, 100_000)
    check = AmlCheck()

    with counted(db) as cash:
        deposit(db, bank, target, 20_000, compliance=check)
    assert aml_reads(cash) == (1, 0)
    with counted(db) as transfer:
        service.post_transfer(
            db, from_account=source.number, to_account=target.number, amount_minor=5,
            currency="CNY", idempotency_key="small", actor=bank.teller, now=NOW,
            compliance=check,
        )  # fmt: skip
    assert aml_reads(transfer) == (1, 1)  # the notable rows and the accounts' sums


def test_an_account_over_the_history_limit_is_still_screened_from_its_summary(
    db: Session, signer: Signer
) -> None:
    """The history limit is per account (its latest ``max_history`` entries): the summary
    reads the same rows as the whole history would, so a busy account's small transfer is
    cleared from it. (With the limit per posting, such an item read the whole history, and
    rebuilt it for every item of a batch: 7.7 s of CPU for a batch of 1,000.)"""
    bank = make_bank(db, signer)
    source, target = open_account(db, bank), open_account(db, bank)
    deposit(db, bank, source, 100_000)
    check = AmlCheck(max_history=3)
    for n in range(8):
        service.post_transfer(
            db, from_account=source.number, to_account=target.number, amount_minor=10 + n,
            currency="CNY", idempotency_key=f"busy-{n}", actor=bank.teller, now=NOW,
            compliance=check,
        )  # fmt: skip
    with counted(db) as statements:
        results = service.post_transfer_batch(
            db,
            items=[
                TransferItem(source.number, target.number, 5, "CNY", f"small-{n}") for n in range(4)
            ],
            actor=bank.teller,
            now=NOW,
            compliance=check,
        )
    assert [r.posting.status for r in results if isinstance(r, PostingResult)] == ["posted"] * 4
    assert aml_reads(statements) == (1, 1)  # the notable rows and the sums: no whole history


def test_the_history_limit_keeps_each_accounts_latest_entries(db: Session, signer: Signer) -> None:
    """Older entries than an account's latest ``max_history`` are out of the screen's view,
    for the summary and the whole history alike: a large inflow followed by three small
    outflows is forgotten with a limit of 3, so most of it may leave; with the default limit
    the same outflow is held as a pass-through."""
    outcomes = {}
    for limit in (3, 2_000):
        bank = make_bank(db, signer)
        source, target = open_account(db, bank), open_account(db, bank)
        deposit(db, bank, source, 9_000_000)  # a large inflow (cash)
        check = AmlCheck(max_history=limit)
        for n in range(3):
            service.post_transfer(
                db, from_account=source.number, to_account=target.number, amount_minor=1_000,
                currency="CNY", idempotency_key=f"small-{limit}-{n}", actor=bank.teller,
                now=NOW, compliance=check,
            )  # fmt: skip
        assert source.customer_id is not None
        since = NOW - timedelta(days=check.history_days)
        seen = [
            (p.direction, p.amount_minor)
            for p in check._history(db, customer_ids={source.customer_id}, since=since)
        ]
        if limit == 3:
            assert seen == [("debit", 1_000)] * 3
        else:
            assert seen == [("credit", 9_000_000)] + [("debit", 1_000)] * 3
        large = service.post_transfer(
            db, from_account=source.number, to_account=target.number, amount_minor=7_500_000,
            currency="CNY", idempotency_key=f"large-{limit}", actor=bank.teller, now=NOW,
            compliance=check,
        )  # fmt: skip
        outcomes[limit] = large.posting.status
    assert outcomes == {3: PostingStatus.posted, 2_000: PostingStatus.pending_review}


def test_the_check_and_the_sweep_read_the_ledger_as_the_same_movements(
    db: Session, signer: Signer
) -> None:
    """One conversion (``compliance.movement_row``): the AML check's history and the ledger
    sweep give the same rows, and a past remittance has its beneficiary at another bank, as the
    check gives a proposed one (the check's history once had no counterparty and this bank)."""
    bank = make_bank(db, signer)
    source, target = open_account(db, bank), open_account(db, bank)
    deposit(db, bank, source, 100_000)
    service.post_transfer(
        db, from_account=source.number, to_account=target.number, amount_minor=2_000,
        currency="CNY", idempotency_key="to-target", actor=bank.teller, now=NOW,
        compliance=AmlCheck(),
    )  # fmt: skip
    service.post_remittance(
        db, from_account=source.number, beneficiary="HK-ACME-001", amount_minor=3_000,
        currency="CNY", idempotency_key="abroad", actor=bank.teller, now=NOW,
        compliance=AmlCheck(), country="HK",
    )  # fmt: skip
    check = AmlCheck()
    assert source.customer_id is not None
    assert target.customer_id is not None
    since = NOW - timedelta(days=check.history_days)
    history = check._history(db, customer_ids={source.customer_id, target.customer_id}, since=since)
    swept = ledger_movements(db, since=since)
    assert sorted(history, key=lambda m: m.txn_id) == sorted(
        (m for m in swept if m.account_id in (source.number, target.number)),
        key=lambda m: m.txn_id,
    )
    assert sorted(
        (m.channel, m.direction, m.amount_minor, m.counterparty_account, m.counterparty_bank)
        for m in history
    ) == [
        ("cash", "credit", 100_000, "", ""),
        ("remittance", "debit", 3_000, "HK-ACME-001", "OTHER"),
        ("transfer", "credit", 2_000, source.number, "SELF"),
        ("transfer", "debit", 2_000, target.number, "SELF"),
    ]
