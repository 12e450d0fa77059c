"""Ledger test helpers: a small bank (branch, counter, staff, customers, accounts)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.ledger import service
from branchdesk.ledger.models import Account, AccountType, Entry, Posting
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import AllowAll
from tests.factories import NOW, make_branch, make_counter, make_customer, make_user, principal

ALLOW = AllowAll()
_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


@dataclass
class Bank:
    branch: Branch
    teller: Principal
    manager: Principal
    other_manager: Principal
    compliance: Principal
    signer: Signer


def make_bank(db: Session, signer: Signer, code: str | None = None) -> Bank:
    branch = make_branch(db, **({"code": code} if code else {}))
    make_counter(db, branch, code="T1", status="open")
    users = {
        role: principal(db, make_user(db, role, (branch,)))
        for role in (Role.teller, Role.branch_manager, Role.compliance_officer)
    }
    second = principal(db, make_user(db, Role.branch_manager, (branch,)))
    return Bank(
        branch=branch,
        teller=users[Role.teller],
        manager=users[Role.branch_manager],
        other_manager=second,
        compliance=users[Role.compliance_officer],
        signer=signer,
    )


def open_account(db: Session, bank: Bank, *, currency: str = "CNY", **overrides: Any) -> Account:
    customer = make_customer(db, bank.signer, home_branch_id=bank.branch.id)
    values: dict[str, Any] = {
        "customer_number": customer.customer_number,
        "type": AccountType.current,
        "currency": currency,
        "branch_code": bank.branch.code,
    }
    values.update(overrides)
    return service.open_account(db, data=AccountOpen(**values), actor=bank.teller, now=NOW)


def deposit(db: Session, bank: Bank, account: Account, amount: int, **kw: Any) -> Posting:
    result = service.post_deposit(
        db,
        account=account.number,
        amount_minor=amount,
        currency=account.currency,
        idempotency_key=kw.pop("idempotency_key", key("dep")),
        actor=kw.pop("actor", bank.teller),
        now=NOW,
        compliance=kw.pop("compliance", ALLOW),
        **kw,
    )
    return result.posting


def balance(db: Session, account: Account) -> int:
    return int(
        db.execute(select(Account.balance_minor).where(Account.id == account.id)).scalar_one()
    )


def entry_sum(db: Session, account: Account) -> int:
    return int(
        db.execute(
            select(func.coalesce(func.sum(Entry.amount_minor), 0)).where(
                Entry.account_id == account.id
            )
        ).scalar_one()
    )


def counts(db: Session) -> tuple[int, int]:
    postings = db.execute(select(func.count()).select_from(Posting)).scalar_one()
    entries = db.execute(select(func.count()).select_from(Entry)).scalar_one()
    return int(postings), int(entries)


def assert_ledger_consistent(db: Session) -> None:
    """Every posting sums to zero per currency; every balance is the sum of its entries."""
    unbalanced = db.execute(
        select(Entry.posting_id, Entry.currency)
        .group_by(Entry.posting_id, Entry.currency)
        .having(func.sum(Entry.amount_minor) != 0)
    ).all()
    assert unbalanced == []
    sums = dict(
        db.execute(
            select(Entry.account_id, func.sum(Entry.amount_minor)).group_by(Entry.account_id)
        ).all()
    )
    for account in db.execute(select(Account).execution_options(populate_existing=True)).scalars():
        assert account.balance_minor == int(sums.get(account.id, 0)), account.number
        if account.is_limited:
            assert account.balance_minor >= -account.overdraft_limit_minor, account.number


def funded_accounts(
    database: Database, signer: Signer, balances: list[int], *, run: str
) -> tuple[Principal, list[str]]:
    """A branch of its own, committed: a teller and one CNY account per balance (each of its own
    customer), funded by a deposit under the key ``{run}-open-{number}``. For the tests whose
    clients post in transactions of their own."""
    with database.unit_of_work() as db:
        branch = make_branch(db, code=f"F{run[:6].upper()}")
        teller = principal(db, make_user(db, Role.teller, (branch,), username=f"teller.{run}"))
        numbers = []
        for amount in balances:
            customer = make_customer(db, signer, home_branch_id=branch.id)
            account = service.open_account(
                db,
                data=AccountOpen(customer_number=customer.customer_number, currency="CNY",
                                 branch_code=branch.code),
                actor=teller, now=NOW,
            )  # fmt: skip
            if amount:
                service.post_deposit(
                    db, account=account.number, amount_minor=amount, currency="CNY",
                    idempotency_key=f"{run}-open-{account.number}", actor=teller, now=NOW,
                    compliance=ALLOW,
                )  # fmt: skip
            numbers.append(account.number)
    return teller, numbers
