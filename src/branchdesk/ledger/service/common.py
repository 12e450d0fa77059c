"""Shared look-ups: accounts by number or id, the bank's own accounts, branches, read models."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter
from branchdesk.core.errors import RuleViolation
from branchdesk.core.ids import mod97_check_digits, new_id
from branchdesk.core.references import next_value
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.ledger.errors import AccountNotFound
from branchdesk.ledger.models import (
    Account,
    AccountHolder,
    AccountStatus,
    AccountType,
    Entry,
    Posting,
    PostingKind,
)
from branchdesk.ledger.schemas import AccountRead, EntryRead, LegRead, PostingRead

INTERNAL_NAMES: dict[str, str] = {
    AccountType.till: "Cash till",
    AccountType.clearing_suspense: "Clearing suspense",
    AccountType.fee_income: "Fee income",
    AccountType.interest_expense: "Interest expense",
    AccountType.settlement: "Clearing settlement",
}


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def find_account(db: Session, ref: str, *, field: str | None = None) -> Account:
    """By account number or id. Raises AccountNotFound."""
    as_id = parse_uuid(ref) if len(ref) > 20 else None
    if as_id is not None:
        account = db.get(Account, as_id, populate_existing=True)
    else:
        account = db.execute(
            select(Account)
            .where(Account.number == ref.strip())
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
    if account is None or account.system_key is not None:
        raise AccountNotFound("no such account", field=field)
    return account


def find_branch(db: Session, code: str, *, field: str = "branch_code") -> Branch:
    branch = db.execute(
        select(Branch).where(Branch.code == code.strip().upper())
    ).scalar_one_or_none()
    if branch is None:
        raise RuleViolation("unknown branch", field=field)
    return branch


def posting_branch(
    db: Session, *, actor: Principal, branch_code: str | None, default: uuid.UUID
) -> uuid.UUID:
    """Where a posting happens: the named branch, the actor's only branch, else ``default``."""
    if branch_code:
        return find_branch(db, branch_code).id
    if len(actor.branch_ids) == 1:
        return next(iter(actor.branch_ids))
    return default


def internal_account(
    db: Session,
    *,
    type: AccountType | str,
    branch_id: uuid.UUID,
    currency: str,
    now: datetime,
    counter_id: uuid.UUID | None = None,
    name: str | None = None,
) -> Account:
    """The bank's own account of this type, branch and currency (created on first use).

    Other domains' bank accounts (loans' assets and income) pass their own type and ``name``."""
    key = f"{type}:{branch_id}:{counter_id or 'branch'}:{currency}"
    for _attempt in range(3):
        found = db.execute(select(Account).where(Account.system_key == key)).scalar_one_or_none()
        if found is not None:
            return found
        body = f"9{next_value(db, 'ledger_internal_account'):09d}"
        account = Account(
            id=new_id(),
            number=body + mod97_check_digits(body),
            type=type,
            currency=currency,
            status=AccountStatus.active,
            branch_id=branch_id,
            counter_id=counter_id,
            system_key=key,
            name=name or INTERNAL_NAMES.get(type, str(type)),
            balance_minor=0,
            last_entry_seq=0,
            overdraft_limit_minor=0,
            is_limited=False,
            opened_at=now,
            updated_at=now,
        )
        try:
            with db.begin_nested():
                db.add(account)
                db.flush()
        except IntegrityError:
            continue  # created by a concurrent transaction: read it on the next turn
        return account
    raise RuntimeError(f"could not create internal account {key}")


def find_counter(db: Session, *, branch_id: uuid.UUID, code: str) -> Counter:
    counter = db.execute(
        select(Counter).where(Counter.branch_id == branch_id, Counter.code == code.strip().upper())
    ).scalar_one_or_none()
    if counter is None:
        raise RuleViolation("unknown counter at this branch", field="counter_code")
    return counter


def holder_numbers(db: Session, account_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    rows = db.execute(
        select(AccountHolder.account_id, AccountHolder.role, Customer.customer_number)
        .join(Customer, Customer.id == AccountHolder.customer_id)
        .where(AccountHolder.account_id.in_(list(account_ids)))
        .order_by(AccountHolder.account_id, AccountHolder.role.desc(), Customer.customer_number)
    ).all()
    found: dict[uuid.UUID, list[str]] = {}
    for account_id, _role, number in rows:
        found.setdefault(account_id, []).append(number)
    return found


def account_read(db: Session, account: Account) -> AccountRead:
    branch = db.get(Branch, account.branch_id)
    return AccountRead(
        id=account.id,
        number=account.number,
        type=AccountType(account.type),
        currency=account.currency,
        status=AccountStatus(account.status),
        branch_code=branch.code if branch else "",
        balance_minor=account.balance_minor,
        overdraft_limit_minor=account.overdraft_limit_minor,
        holders=holder_numbers(db, [account.id]).get(account.id, []),
        term_months=account.term_months,
        rate_bps=account.rate_bps,
        matures_on=account.matures_on,
        opened_at=account.opened_at,
    )


def entry_read(entry: Entry, kind: str) -> EntryRead:
    return EntryRead(
        seq=entry.seq,
        posting_id=entry.posting_id,
        kind=PostingKind(kind),
        amount_minor=entry.amount_minor,
        currency=entry.currency,
        balance_after_minor=entry.balance_after_minor,
        booked_at=entry.booked_at,
    )


def posting_read(db: Session, posting: Posting) -> PostingRead:
    entries = db.execute(
        select(Entry, Account.number)
        .join(Account, Account.id == Entry.account_id)
        .where(Entry.posting_id == posting.id)
        .order_by(Entry.amount_minor, Account.number)
    ).all()
    if entries:
        legs = [
            LegRead(
                account_number=number,
                amount_minor=entry.amount_minor,
                balance_after_minor=entry.balance_after_minor,
            )
            for entry, number in entries
        ]
    else:
        ids = [uuid.UUID(leg["account_id"]) for leg in posting.legs]
        numbers = dict(
            db.execute(select(Account.id, Account.number).where(Account.id.in_(ids))).all()
        )
        legs = sorted(
            (
                LegRead(
                    account_number=numbers.get(uuid.UUID(leg["account_id"]), "?"),
                    amount_minor=int(leg["amount_minor"]),
                )
                for leg in posting.legs
            ),
            key=lambda leg: (leg.amount_minor, leg.account_number),
        )
    branch = db.get(Branch, posting.branch_id)
    maker = db.get(User, posting.maker_id) if posting.maker_id else None
    checker = db.get(User, posting.checker_id) if posting.checker_id else None
    return PostingRead(
        id=posting.id,
        kind=PostingKind(posting.kind),
        status=posting.status,
        amount_minor=posting.amount_minor,
        currency=posting.currency,
        idempotency_key=posting.idempotency_key,
        branch_code=branch.code if branch else "",
        legs=legs,
        memo=posting.memo,
        hold_reason=posting.hold_reason,
        reverses_id=posting.reverses_id,
        remittance_status=posting.remittance_status,
        maker=maker.username if maker else None,
        checker=checker.username if checker else None,
        created_at=posting.created_at,
        posted_at=posting.posted_at,
        decided_at=posting.decided_at,
    )
