"""Concurrent transfers with real commits (PostgreSQL: row locks in account-id order)."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from branchdesk.core.db import Database
from branchdesk.core.errors import DomainError
from branchdesk.core.security import Signer
from branchdesk.ledger import service
from branchdesk.ledger.errors import InsufficientFunds
from branchdesk.ledger.models import Account, AccountStatus, Entry, Posting
from branchdesk.ledger.service.compliance import (
    ALLOW,
    AllowAll,
    ComplianceDecision,
    ProposedPosting,
)
from branchdesk.ledger.service.posting import PostingResult, TransferItem
from tests.factories import NOW
from tests.ledger.helpers import funded_accounts

THREADS = 8
TRANSFERS_PER_THREAD = 40
ACCOUNTS = 6
OPENING_BALANCE = 100_000


@pytest.mark.postgres
@pytest.mark.parametrize("batch_size", [1, 10], ids=["single", "batches"])
def test_concurrent_transfers_keep_the_total_and_apply_each_key_once(
    database: Database, signer: Signer, batch_size: int
) -> None:
    run = uuid.uuid4().hex[:8]
    allow = AllowAll()
    teller, numbers = funded_accounts(database, signer, [OPENING_BALANCE] * ACCOUNTS, run=run)
    outcomes: Counter[str] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        rng = random.Random(worker)
        for n in range(TRANSFERS_PER_THREAD // batch_size):
            items = []
            for i in range(batch_size):
                source, target = rng.sample(numbers, 2)
                items.append(
                    TransferItem(from_account=source, to_account=target, currency="CNY",
                                 amount_minor=rng.randint(1, 60_000),
                                 idempotency_key=f"{run}-{worker}-{n}-{i}")
                )  # fmt: skip
            for _attempt in range(2 if n % 5 == 0 else 1):  # every fifth one is retried
                try:
                    with database.unit_of_work() as db:
                        results = service.post_transfer_batch(
                            db, items=items, actor=teller, now=NOW, compliance=allow
                        )
                except BaseException as exc:
                    with lock:
                        failures.append(exc)
                    return
                with lock:
                    for result in results:
                        if isinstance(result, InsufficientFunds):
                            outcomes["insufficient"] += 1
                        elif isinstance(result, DomainError):
                            failures.append(result)
                        else:
                            outcomes["replayed" if result.is_replay else "applied"] += 1

    threads = [threading.Thread(target=client, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert outcomes["applied"] > 0
    with database.read_only() as db:
        accounts = list(db.execute(select(Account).where(Account.number.in_(numbers))).scalars())
        assert sum(a.balance_minor for a in accounts) == ACCOUNTS * OPENING_BALANCE
        assert all(a.balance_minor >= 0 for a in accounts)
        for account in accounts:
            total, count, top = db.execute(
                select(func.sum(Entry.amount_minor), func.count(), func.max(Entry.seq)).where(
                    Entry.account_id == account.id
                )
            ).one()
            assert total == account.balance_minor
            assert count == top == account.last_entry_seq  # entries numbered without gaps
        per_key = db.execute(
            select(Posting.idempotency_key, func.count())
            .where(Posting.idempotency_key.like(f"{run}-%"))
            .group_by(Posting.idempotency_key)
        ).all()
        assert all(count == 1 for _key, count in per_key)
        assert len(per_key) == ACCOUNTS + outcomes["applied"]


@pytest.mark.postgres
def test_a_key_committed_meanwhile_by_another_batch_is_refused_not_applied_twice(
    database: Database, signer: Signer
) -> None:
    """Batch B reads its keys while batch A (other accounts, same key) is still open; B's posting
    insert then waits for A and finds the key taken: B falls back to item-by-item and answers
    409 for that item, applies its other item, and nothing of the refused one remains."""
    run = uuid.uuid4().hex[:8]
    allow = AllowAll()
    teller, numbers = funded_accounts(database, signer, [1_000] * 4, run=run)
    a, b, c, d = numbers
    key = f"{run}-shared"
    first_posted = threading.Event()
    answers: dict[str, list[object]] = {}

    def first() -> None:
        with database.unit_of_work() as db:
            answers["first"] = list(
                service.post_transfer_batch(
                    db,
                    items=[TransferItem(a, b, 100, "CNY", key)],
                    actor=teller,
                    now=NOW,
                    compliance=allow,
                )
            )
            first_posted.set()
            threading.Event().wait(1.0)  # B reads its keys now, then waits on our insert

    def second() -> None:
        first_posted.wait(30)
        with database.unit_of_work() as db:
            answers["second"] = list(
                service.post_transfer_batch(
                    db,
                    items=[
                        TransferItem(c, d, 100, "CNY", key),
                        TransferItem(c, d, 50, "CNY", f"{run}-own"),
                    ],
                    actor=teller,
                    now=NOW,
                    compliance=allow,
                )
            )

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    (applied,) = answers["first"]
    assert not isinstance(applied, DomainError)
    assert not applied.is_replay
    refused, own = answers["second"]
    assert isinstance(refused, DomainError)
    assert refused.code == "idempotency_key_reused"
    assert not isinstance(own, DomainError)
    assert not own.is_replay
    with database.read_only() as db:
        balances = dict(
            db.execute(
                select(Account.number, Account.balance_minor).where(Account.number.in_(numbers))
            ).all()
        )
        assert balances == {a: 900, b: 1_100, c: 950, d: 1_050}
        keys = db.execute(
            select(Posting.idempotency_key, func.count())
            .where(Posting.idempotency_key.in_([key, f"{run}-own"]))
            .group_by(Posting.idempotency_key)
        ).all()
        assert sorted(keys) == [(f"{run}-own", 1), (key, 1)]
        assert_entries = db.execute(
            select(func.count())
            .select_from(Entry)
            .join(Account, Account.id == Entry.account_id)
            .where(Account.number.in_([c, d]))
        ).scalar_one()
        assert assert_entries == 2 + 2  # the opening deposits and the own transfer's two legs


class Meanwhile:
    """Allows everything; its batch form first runs ``action`` once, in its own transaction:
    what another request commits after a batch read its accounts and before it locks them."""

    def __init__(self, action: Callable[[], None]) -> None:
        self.action: Callable[[], None] | None = action

    def check(self, db: Session, *, posting: ProposedPosting) -> ComplianceDecision:
        return ALLOW

    def begin_batch(
        self, db: Session, *, customer_ids: Iterable[uuid.UUID], now: datetime
    ) -> _AllowEach:
        action, self.action = self.action, None
        if action is not None:
            action()
        return _AllowEach()


class _AllowEach:
    def check(self, posting: ProposedPosting) -> ComplianceDecision:
        return ALLOW

    def posted(self, posting: ProposedPosting) -> None:
        return None


def _ledger_of(
    database: Database, numbers: list[str]
) -> dict[str, tuple[int, list[tuple[int, int]]]]:
    """Per account: the balance and its entries as (seq, balance after), in order."""
    with database.read_only() as db:
        found = {}
        for number in numbers:
            account = db.execute(select(Account).where(Account.number == number)).scalar_one()
            entries = db.execute(
                select(Entry.seq, Entry.balance_after_minor)
                .where(Entry.account_id == account.id)
                .order_by(Entry.seq)
            ).all()
            found[number] = (account.balance_minor, [tuple(e) for e in entries])
    return found  # type: ignore[return-value]


@pytest.mark.postgres
@pytest.mark.parametrize("taken", [50, 500], ids=["still-fits", "no-longer-fits"])
def test_a_batch_stands_on_what_was_posted_after_its_snapshot(
    database: Database, signer: Signer, taken: int
) -> None:
    """Another transfer takes from A after the batch read its accounts. 50: every decision
    still stands, so the batch writes its entries numbered after that transfer's, with running
    balances from it. 500: the batch's first debit would now overdraw A, so the batch is decided
    again on the locked state: the first item is refused, the second applied, and nothing of
    the first decision remains."""
    teller, (a, b, c, d) = funded_accounts(
        database, signer, [1_000, 0, 0, 0], run=uuid.uuid4().hex[:8]
    )

    def another_transfer() -> None:
        with database.unit_of_work() as other:
            service.post_transfer(
                other, from_account=a, to_account=d, amount_minor=taken, currency="CNY",
                idempotency_key=f"{a}-meanwhile", actor=teller, now=NOW, compliance=AllowAll(),
            )  # fmt: skip

    with database.unit_of_work() as db:
        first, second = service.post_transfer_batch(
            db,
            items=[TransferItem(a, b, 600, "CNY", f"{a}-1"), TransferItem(a, c, 300, "CNY", f"{a}-2")],
            actor=teller, now=NOW, compliance=Meanwhile(another_transfer),
        )  # fmt: skip
    assert isinstance(second, PostingResult)
    assert (second.posting.status, second.is_replay) == ("posted", False)
    ledger = _ledger_of(database, [a, b, c, d])
    assert ledger[c] == (300, [(1, 300)])
    assert ledger[d] == (taken, [(1, taken)])
    with database.read_only() as db:
        keys = sorted(
            db.execute(
                select(Posting.idempotency_key).where(Posting.idempotency_key.like(f"{a}-%"))
            ).scalars()
        )
    if taken == 50:
        assert isinstance(first, PostingResult)
        assert (first.posting.status, first.is_replay) == ("posted", False)
        assert ledger[a] == (50, [(1, 1_000), (2, 950), (3, 350), (4, 50)])
        assert ledger[b] == (600, [(1, 600)])
        assert keys == [f"{a}-1", f"{a}-2", f"{a}-meanwhile"]
    else:
        assert isinstance(first, InsufficientFunds)
        assert ledger[a] == (200, [(1, 1_000), (2, 500), (3, 200)])
        assert ledger[b] == (0, [])
        assert keys == [f"{a}-2", f"{a}-meanwhile"]


@pytest.mark.postgres
@pytest.mark.parametrize("change", ["frozen", "funded"])
def test_a_batch_decides_again_when_a_refusal_could_now_pass_or_a_status_changed(
    database: Database, signer: Signer, change: str
) -> None:
    """A refusal taken on the snapshot is not kept when the locked state could answer
    otherwise: B frozen meanwhile refuses the transfer to it; A funded meanwhile lets the debit
    refused on the snapshot pass."""
    teller, (a, b, c) = funded_accounts(database, signer, [100, 0, 0], run=uuid.uuid4().hex[:8])

    def meanwhile() -> None:
        with database.unit_of_work() as other:
            if change == "frozen":
                other.execute(
                    update(Account).where(Account.number == b).values(status=AccountStatus.frozen)
                )
            else:
                service.post_deposit(
                    other, account=a, amount_minor=1_000, currency="CNY",
                    idempotency_key=f"{a}-meanwhile", actor=teller, now=NOW,
                    compliance=AllowAll(),
                )  # fmt: skip

    with database.unit_of_work() as db:
        results = service.post_transfer_batch(
            db,
            items=[TransferItem(a, b, 50, "CNY", f"{a}-1"), TransferItem(a, c, 500, "CNY", f"{a}-2")],
            actor=teller, now=NOW, compliance=Meanwhile(meanwhile),
        )  # fmt: skip
    outcomes = [r.code if isinstance(r, DomainError) else r.posting.status for r in results]
    ledger = _ledger_of(database, [a, b, c])
    if change == "frozen":  # on the snapshot: posted, refused for funds
        assert outcomes == ["account_frozen", "insufficient_funds"]
        assert ledger[a][0] == 100
        assert ledger[b] == (0, [])
    else:
        assert outcomes == ["posted", "posted"]
        assert ledger[a] == (550, [(1, 100), (2, 1_100), (3, 1_050), (4, 550)])
        assert ledger[c] == (500, [(1, 500)])
