"""Customer accounts: opening (KYC checked), status changes, reading balances and entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.money import CURRENCY_EXPONENTS
from branchdesk.core.references import next_value
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger import rules
from branchdesk.ledger.errors import AccountNotFound, KycIncomplete
from branchdesk.ledger.models import (
    CUSTOMER_TYPES,
    Account,
    AccountHolder,
    AccountStatus,
    AccountType,
    Entry,
    HolderRole,
    Posting,
)
from branchdesk.ledger.schemas import AccountOpen, AccountStatusChange, EntryRead
from branchdesk.ledger.service.common import entry_read, find_account, find_branch


def _kyc_customer(db: Session, number: str, *, field: str, now: datetime) -> Customer:
    customer = db.execute(
        select(Customer).where(Customer.customer_number == number.strip())
    ).scalar_one_or_none()
    if customer is None:
        raise RuleViolation("unknown customer", field=field, code="customer_not_found")
    if not customer.id_number_encrypted or not customer.id_document_type:
        raise KycIncomplete("the customer's ID document is missing", field=field)
    if customer.id_expires_on is None or customer.id_expires_on <= now.date():
        raise KycIncomplete(
            "the customer's ID document has expired or has no expiry date", field=field
        )
    return customer


def open_account(db: Session, *, data: AccountOpen, actor: Principal, now: datetime) -> Account:
    """Raises Forbidden, RuleViolation (branch, customer, product terms), KycIncomplete."""
    branch = find_branch(db, data.branch_code)
    actor.require(Permission.account_open, branch.id)
    if data.type not in CUSTOMER_TYPES:
        raise RuleViolation(
            "customers hold current, savings or time deposit accounts", field="type"
        )
    if data.currency not in CURRENCY_EXPONENTS:
        raise RuleViolation(f"unknown currency {data.currency}", field="currency")
    primary = _kyc_customer(db, data.customer_number, field="customer_number", now=now)
    joint = [
        _kyc_customer(db, number, field="joint_customer_numbers", now=now)
        for number in dict.fromkeys(data.joint_customer_numbers)
        if number.strip() != primary.customer_number
    ]
    matures_on = None
    if data.type == AccountType.time_deposit:
        if data.term_months is None or data.rate_bps is None:
            raise RuleViolation(
                "a time deposit needs term_months and rate_bps", field="term_months"
            )
        matures_on = rules.add_months(now.date(), data.term_months)
    elif data.term_months is not None or data.rate_bps is not None:
        raise RuleViolation("only time deposits have a term and a rate", field="term_months")
    if data.overdraft_limit_minor and data.type != AccountType.current:
        raise RuleViolation("only current accounts may overdraw", field="overdraft_limit_minor")
    account = Account(
        id=new_id(),
        number=rules.account_number(next_value(db, "ledger_account")),
        type=data.type,
        currency=data.currency,
        status=AccountStatus.active,
        branch_id=branch.id,
        customer_id=primary.id,
        name="",
        balance_minor=0,
        last_entry_seq=0,
        overdraft_limit_minor=data.overdraft_limit_minor,
        is_limited=True,
        term_months=data.term_months,
        rate_bps=data.rate_bps,
        matures_on=matures_on,
        opened_by_id=actor.user_id,
        opened_at=now,
        updated_at=now,
    )
    db.add(account)
    db.flush()
    db.execute(
        insert(AccountHolder),
        [{"account_id": account.id, "customer_id": primary.id, "role": HolderRole.primary}]
        + [
            {"account_id": account.id, "customer_id": c.id, "role": HolderRole.joint} for c in joint
        ],
    )
    append_audit(
        db,
        action="account.open",
        object_type="account",
        object_id=account.id,
        branch_id=branch.id,
        now=now,
        actor=actor,
        detail={
            "number": account.number,
            "type": data.type,
            "currency": data.currency,
            "joint_holders": len(joint),
        },
    )
    return account


def get_account(db: Session, *, ref: str, actor: Principal) -> Account:
    """By number or id. Raises Forbidden or AccountNotFound (also outside the actor's branches)."""
    actor.require(Permission.account_view)
    account = find_account(db, ref)
    if not actor.sees_branch(account.branch_id):
        raise AccountNotFound("no such account")
    return account


def list_entries(
    db: Session, *, ref: str, actor: Principal, before_seq: int | None = None, limit: int = 100
) -> list[EntryRead]:
    """Newest first. Raises Forbidden or AccountNotFound."""
    account = get_account(db, ref=ref, actor=actor)
    stmt = (
        select(Entry, Posting.kind)
        .join(Posting, Posting.id == Entry.posting_id)
        .where(Entry.account_id == account.id)
        .order_by(Entry.seq.desc())
        .limit(limit)
    )
    if before_seq is not None:
        stmt = stmt.where(Entry.seq < before_seq)
    return [entry_read(entry, kind) for entry, kind in db.execute(stmt).all()]


def change_account_status(
    db: Session, *, ref: str, data: AccountStatusChange, actor: Principal, now: datetime
) -> Account:
    """Freeze, unfreeze, mark dormant or close. Raises Forbidden, AccountNotFound, Conflict."""
    actor.require(Permission.account_manage)
    account = get_account(db, ref=ref, actor=actor)
    actor.require(Permission.account_manage, account.branch_id)
    locked = db.execute(
        select(Account)
        .where(Account.id == account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if locked.status == AccountStatus.closed:
        raise Conflict("a closed account stays closed", code="account_closed")
    if data.status == AccountStatus.closed and locked.balance_minor != 0:
        raise Conflict("only an account with a zero balance can be closed", code="balance_not_zero")
    was = locked.status
    locked.status = data.status
    locked.updated_at = now
    if data.status == AccountStatus.closed:
        locked.closed_at = now
    db.flush()
    append_audit(
        db,
        action="account.status",
        object_type="account",
        object_id=locked.id,
        branch_id=locked.branch_id,
        now=now,
        actor=actor,
        detail={"was": was, "now": data.status, "reason": data.reason},
    )
    return locked
