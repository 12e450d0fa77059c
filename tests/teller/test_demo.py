"""The demo's money: accounts funded by deposit postings, tills, approval limits; deterministic."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger.models import Account, AccountType, ApprovalLimit, Entry, Posting
from branchdesk.teller.demo import seed_demo_money
from tests.factories import NOW, make_branch, make_counter, make_customer, make_user

EPOCH = NOW.replace(month=1, day=1)


def _bank(db: Session, signer: Signer) -> uuid.UUID:
    branch = make_branch(db, code="TPE01")
    for code in ("C01", "C02", "C03", "C06"):
        make_counter(db, branch, code=code)
    make_user(db, Role.teller, (branch,), username="teller1.tpe")
    make_user(db, Role.branch_manager, (branch,), username="manager.tpe")
    for index in range(6):
        make_customer(
            db, signer, home_branch_id=branch.id, customer_number=f"90000000{index:02d}",
            id_expires_on=date(2025, 6, 1) if index == 5 else date(2030, 1, 1),
        )  # fmt: skip
    return branch.id


def _seeded(db: Session, signer: Signer) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    branch_id = _bank(db, signer)
    counts = seed_demo_money(db, branch_codes=["TPE01"], seed=7, seed_epoch=EPOCH, now=NOW)
    rows = db.execute(
        select(Account.type, Account.currency, Account.balance_minor)
        .where(Account.system_key.is_(None), Account.branch_id == branch_id)
        .order_by(Account.number)
    ).all()
    return counts, [(str(t), str(c), int(b)) for t, c, b in rows]


def test_demo_money_is_deterministic_and_balanced(
    fresh_db: Callable[[], AbstractContextManager[Session]], signer: Signer
) -> None:
    with fresh_db() as db:
        counts, accounts = _seeded(db, signer)
        # five customers with a valid ID: current + savings each, the fourth also USD savings
        assert counts == {"accounts": 11, "demo postings": 11}
        assert [(t, c) for t, c, _b in accounts].count(("current", "TWD")) == 5
        assert [(t, c) for t, c, _b in accounts].count(("savings", "USD")) == 1
        assert all(b > 0 and b % 10_000 == 0 for _t, _c, b in accounts)
        branch_id = db.execute(select(Branch.id).where(Branch.code == "TPE01")).scalar_one()
        here = Account.branch_id == branch_id
        for account in db.execute(select(Account).where(here)).scalars():
            entries = db.execute(
                select(func.coalesce(func.sum(Entry.amount_minor), 0)).where(
                    Entry.account_id == account.id
                )
            ).scalar_one()
            assert account.balance_minor == entries
        tills = db.execute(
            select(func.count()).select_from(Account).where(here, Account.type == AccountType.till)
        ).scalar_one()
        assert tills == 8  # four counters, TWD and USD
        limits = {
            (kind, currency): amount
            for kind, currency, amount in db.execute(
                select(
                    ApprovalLimit.kind, ApprovalLimit.currency, ApprovalLimit.amount_minor
                ).where(ApprovalLimit.branch_id == branch_id)
            ).all()
        }
        assert limits[("withdrawal", "TWD")] == 20_000_000
        assert limits[("withdrawal", "CNY")] == 5_000_000
        assert limits[("transfer", "USD")] == 1_000_000
        postings = select(func.count()).select_from(Posting).where(Posting.branch_id == branch_id)
        assert db.execute(postings).scalar_one() == 11
    with fresh_db() as db:
        assert _seeded(db, signer) == (counts, accounts)
