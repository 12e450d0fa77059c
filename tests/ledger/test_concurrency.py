"""Concurrent transfers with real commits (PostgreSQL: row locks in account-id order)."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from branchdesk.core.db import Database
from branchdesk.core.errors import DomainError
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger import service
from branchdesk.ledger.errors import InsufficientFunds
from branchdesk.ledger.models import Account, Entry, Posting
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.ledger.service.posting import TransferItem
from tests.factories import NOW, make_branch, make_counter, make_customer, make_user, principal

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
    with database.unit_of_work() as db:
        branch = make_branch(db, code=f"C{run[:6].upper()}")
        make_counter(db, branch, code="T1", status="open")
        teller = principal(db, make_user(db, Role.teller, (branch,), username=f"conc.{run}"))
        numbers = []
        for _ in range(ACCOUNTS):
            customer = make_customer(db, signer, home_branch_id=branch.id)
            account = service.open_account(
                db,
                data=AccountOpen(customer_number=customer.customer_number, currency="CNY",
                                 branch_code=branch.code),
                actor=teller, now=NOW,
            )  # fmt: skip
            service.post_deposit(
                db, account=account.number, amount_minor=OPENING_BALANCE, currency="CNY",
                idempotency_key=f"{run}-open-{account.number}", actor=teller, now=NOW,
                compliance=allow,
            )  # fmt: skip
            numbers.append(account.number)
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
