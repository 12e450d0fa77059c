"""Demo bank money: customers' accounts with realistic balances, cash tills, approval limits.

Called once by the demo seed (``seed.generator``). Balances come from deposit postings through
the ledger's services (never raw balance writes), so every balance is the sum of its entries.
Deterministic: the same seed gives the same accounts, numbers and amounts; the postings are dated
a few weeks before the real date, like the demo's queue history, so the AML rules see a recently
active customer rather than a dormant account waking up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User
from branchdesk.identity.service import principal_for
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import AccountType, PostingKind
from branchdesk.ledger.schemas import AccountOpen, ApprovalLimitSet
from branchdesk.ledger.service.common import internal_account
from branchdesk.ledger.service.compliance import AllowAll


@dataclass(frozen=True)
class BranchMoney:
    currency: str
    current_major: tuple[int, int]  # opening balance range of current accounts (major units)
    savings_major: tuple[int, int]
    approval_limit_major: int  # withdrawals, transfers and remittances above it need approval


BRANCH_MONEY = {
    "TPE01": BranchMoney("TWD", (30_000, 500_000), (100_000, 3_000_000), 200_000),
    "HKG01": BranchMoney("HKD", (10_000, 150_000), (30_000, 800_000), 100_000),
    "SHA01": BranchMoney("CNY", (5_000, 120_000), (20_000, 600_000), 50_000),
}
USD_SAVINGS_MAJOR = (1_000, 50_000)
LIMITED_KINDS = (PostingKind.withdrawal, PostingKind.transfer, PostingKind.remittance)
# every branch also holds CNY and USD limits (e.g. a CNY 50,000.00 withdrawal at TPE01 waits)
COMMON_LIMITS_MAJOR = {"CNY": 50_000, "USD": 10_000}
TILL_COUNTERS = ("C01", "C02", "C03", "C06")


def _user(db: Session, username: str) -> User:
    return db.execute(select(User).where(User.username == username)).scalar_one()


def seed_demo_money(
    db: Session,
    *,
    branch_codes: list[str],
    seed: int,
    seed_epoch: datetime,
    now: datetime,
) -> dict[str, int]:
    """Accounts, deposits, tills and approval limits for the demo branches; returns counts."""
    rng = random.Random(seed * 7_919 + 4_243)
    allow = AllowAll()
    accounts = postings = 0
    for code in branch_codes:
        money = BRANCH_MONEY.get(code)
        if money is None:
            continue
        branch = db.execute(select(Branch).where(Branch.code == code)).scalar_one()
        suffix = code[:3].lower()
        teller = principal_for(db, _user(db, f"teller1.{suffix}"))
        manager = principal_for(db, _user(db, f"manager.{suffix}"))
        limits = {money.currency: money.approval_limit_major, **COMMON_LIMITS_MAJOR}
        for currency, major in sorted(limits.items()):
            for kind in LIMITED_KINDS:
                ledger.set_approval_limit(
                    db,
                    data=ApprovalLimitSet(
                        branch_code=code, kind=kind, currency=currency, amount_minor=major * 100
                    ),
                    actor=manager,
                    now=seed_epoch,
                )
        counters = {
            c.code: c.id
            for c in db.execute(select(Counter).where(Counter.branch_id == branch.id)).scalars()
        }
        for counter_code in TILL_COUNTERS:
            for currency in sorted({money.currency, "USD"}):
                internal_account(
                    db, type=AccountType.till, branch_id=branch.id, currency=currency,
                    now=seed_epoch, counter_id=counters[counter_code],
                )  # fmt: skip
        customers = db.execute(
            select(Customer)
            .where(
                Customer.home_branch_id == branch.id,
                Customer.id_expires_on > seed_epoch.date(),
            )
            .order_by(Customer.customer_number)
        ).scalars()
        for index, customer in enumerate(list(customers)):
            plan = [
                (AccountType.current, money.currency, money.current_major),
                (AccountType.savings, money.currency, money.savings_major),
            ]
            if index % 4 == 3:
                plan.append((AccountType.savings, "USD", USD_SAVINGS_MAJOR))
            for account_type, currency, (low, high) in plan:
                account = ledger.open_account(
                    db,
                    data=AccountOpen(
                        customer_number=customer.customer_number, type=account_type,
                        currency=currency, branch_code=code,
                    ),
                    actor=teller,
                    now=seed_epoch,
                )  # fmt: skip
                accounts += 1
                opening = rng.randrange(low, high) // 100 * 10_000  # whole hundreds, in minor
                when = now - timedelta(days=40, minutes=rng.randrange(0, 600))
                ledger.post_deposit(
                    db, account=account.number, amount_minor=opening, currency=currency,
                    idempotency_key=f"demo:{account.number}:0", actor=teller, now=when,
                    compliance=allow, branch_code=code,
                    counter_code=TILL_COUNTERS[index % len(TILL_COUNTERS)],
                    memo="demo opening balance",
                )  # fmt: skip
                postings += 1
    return {"accounts": accounts, "demo postings": postings}
