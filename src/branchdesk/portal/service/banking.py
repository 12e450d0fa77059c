"""The customer's accounts, statements and transfers, through the ledger's own services.

Portal postings are made by the ledger's ``post_transfer`` acting as the **mobile-banking
channel user**: a staff ``users`` row named ``mobile-banking`` (role teller, inactive, no usable
password, so nobody can log in as it), created on first use. Its principal is scoped to the
branch of the paying account, so the posting belongs to that branch; the branch's approval
limits, the compliance check and the idempotency rules apply exactly as at the counter, and a
held posting waits for a real supervisor (the channel user never approves anything).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.clock import local_minute
from branchdesk.core.errors import DomainError, Forbidden, RuleViolation, Unauthorized
from branchdesk.core.ids import new_id
from branchdesk.core.money import CURRENCY_EXPONENTS, format_money
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.ledger.errors import AccountNotFound
from branchdesk.ledger.models import (
    CUSTOMER_TYPES,
    Account,
    AccountHolder,
    AccountStatus,
    Entry,
    Posting,
    PostingStatus,
)
from branchdesk.ledger.service.common import find_account
from branchdesk.ledger.service.compliance import PrePostingCheck
from branchdesk.portal.config import PortalSettings
from branchdesk.portal.models import PortalLogin, PortalTransfer, PortalTransferKind
from branchdesk.portal.schemas import (
    AccountSummary,
    PendingLine,
    PortalTransferRead,
    StatementLine,
    StatementQuery,
    StatementRead,
    TransferResult,
)
from branchdesk.portal.service.common import CustomerPrincipal, home_day, home_zone
from branchdesk.portal.service.preferences import wants

CHANNEL_USERNAME = "mobile-banking"
STATEMENT_LIMIT = 1000

register_template(
    "portal.transaction_alert",
    {
        "zh-Hant": "branchdesk:帳戶 {account} 網路轉帳 {amount},狀態:{status}。",
        "zh-Hans": "branchdesk:账户 {account} 网上转账 {amount},状态:{status}。",
        "en": "branchdesk: online transfer of {amount} from account {account}, status: {status}.",
    },
)


class DailyLimitExceeded(RuleViolation):
    code = "daily_limit_exceeded"


# --- the channel actor ---------------------------------------------------------------------------


def channel_user(db: Session, *, now: datetime) -> User:
    """The ``mobile-banking`` system user (created on first use; it can never log in)."""
    for _attempt in range(3):
        found = db.execute(
            select(User).where(User.username == CHANNEL_USERNAME)
        ).scalar_one_or_none()
        if found is not None:
            return found
        user = User(
            id=new_id(),
            username=CHANNEL_USERNAME,
            display_name="Mobile banking (customer portal)",
            role=Role.teller,
            password_hash="!channel-user-no-login",
            preferred_locale=None,
            is_active=False,
            failed_login_count=0,
            auth_epoch=0,
            password_changed_at=now,
            created_at=now,
        )
        try:
            with db.begin_nested():
                db.add(user)
                db.flush()
        except IntegrityError:
            continue  # created concurrently: read it on the next turn
        return user
    raise RuntimeError("could not create the mobile-banking channel user")


def channel_principal(db: Session, *, branch_id: uuid.UUID, now: datetime) -> Principal:
    """The acting principal of portal postings, scoped to the paying account's branch."""
    user = channel_user(db, now=now)
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role.teller,
        branch_ids=frozenset({branch_id}),
    )


# --- accounts ------------------------------------------------------------------------------------


def _held_ids(customer: CustomerPrincipal) -> Select[uuid.UUID]:
    return select(AccountHolder.account_id).where(AccountHolder.customer_id == customer.customer_id)


def list_accounts(db: Session, *, customer: CustomerPrincipal) -> list[AccountSummary]:
    """The customer's own and joint accounts that are not closed, by number."""
    rows = db.execute(
        select(Account, Branch.code)
        .join(Branch, Branch.id == Account.branch_id)
        .where(
            or_(Account.customer_id == customer.customer_id, Account.id.in_(_held_ids(customer))),
            Account.system_key.is_(None),
            Account.type.in_([str(t) for t in CUSTOMER_TYPES]),
            Account.status != AccountStatus.closed,
        )
        .order_by(Account.number)
    ).all()
    return [_summary(account, code) for account, code in rows]


def _summary(account: Account, branch_code: str) -> AccountSummary:
    return AccountSummary(
        number=account.number,
        type=account.type,
        currency=account.currency,
        status=account.status,
        branch_code=branch_code,
        balance_minor=account.balance_minor,
        available_minor=account.balance_minor + account.overdraft_limit_minor,
    )


def owned_account(db: Session, *, customer: CustomerPrincipal, number: str) -> Account:
    """One of the customer's accounts; anyone else's is AccountNotFound (404), never 403."""
    account = db.execute(
        select(Account).where(
            Account.number == number.strip(),
            Account.system_key.is_(None),
            or_(Account.customer_id == customer.customer_id, Account.id.in_(_held_ids(customer))),
        )
    ).scalar_one_or_none()
    if account is None:
        raise AccountNotFound("no such account", field="account")
    return account


def account_summary(db: Session, *, customer: CustomerPrincipal, number: str) -> AccountSummary:
    account = owned_account(db, customer=customer, number=number)
    branch = db.get(Branch, account.branch_id)
    return _summary(account, branch.code if branch else "")


# --- statements ----------------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def statement(
    db: Session, *, customer: CustomerPrincipal, number: str, query: StatementQuery
) -> StatementRead:
    """Entries of one own account, newest first, filtered by the customer's home-branch-local
    dates, text (memo, kind, beneficiary) and absolute amount. Raises AccountNotFound."""
    account = owned_account(db, customer=customer, number=number)
    zone = home_zone(db, customer)
    stmt = (
        select(Entry, Posting.kind, Posting.memo, Posting.beneficiary)
        .join(Posting, Posting.id == Entry.posting_id)
        .where(Entry.account_id == account.id)
        .order_by(Entry.seq.desc())
        .limit(STATEMENT_LIMIT)
    )
    if query.from_on is not None:
        stmt = stmt.where(Entry.booked_at >= datetime.combine(query.from_on, time(), zone))
    if query.to_on is not None:
        end = datetime.combine(query.to_on + timedelta(days=1), time(), zone)
        stmt = stmt.where(Entry.booked_at < end)
    if query.text.strip():
        pattern = _like(query.text.strip())
        stmt = stmt.where(
            or_(
                Posting.memo.ilike(pattern, escape="\\"),
                Posting.kind.ilike(pattern, escape="\\"),
                Posting.beneficiary.ilike(pattern, escape="\\"),
            )
        )
    if query.min_amount_minor is not None:
        stmt = stmt.where(func.abs(Entry.amount_minor) >= query.min_amount_minor)
    if query.max_amount_minor is not None:
        stmt = stmt.where(func.abs(Entry.amount_minor) <= query.max_amount_minor)
    lines = [
        StatementLine(
            seq=entry.seq,
            booked_at=entry.booked_at,
            local_time=local_minute(entry.booked_at, zone),
            kind=kind,
            memo=memo or beneficiary or "",
            amount_minor=entry.amount_minor,
            balance_after_minor=entry.balance_after_minor,
            currency=entry.currency,
        )
        for entry, kind, memo, beneficiary in db.execute(stmt).all()
    ]
    branch = db.get(Branch, account.branch_id)
    return StatementRead(
        account=_summary(account, branch.code if branch else ""),
        query=query,
        lines=lines,
        pending=pending_lines(db, account=account, zone=zone),
        timezone=str(zone.key),
    )


PENDING = (PostingStatus.pending_approval, PostingStatus.pending_review)


def pending_lines(db: Session, *, account: Account, zone: ZoneInfo) -> list[PendingLine]:
    """Postings touching the account that wait for a supervisor or a compliance review.

    Pending postings are few (they wait for a person), so their legs are matched here rather
    than with a JSON query that would differ between SQLite and PostgreSQL.
    """
    rows = db.execute(
        select(Posting)
        .where(Posting.status.in_(PENDING))
        .order_by(Posting.created_at.desc())
        .limit(2000)
    ).scalars()
    wanted = str(account.id)
    found: list[PendingLine] = []
    for posting in rows:
        mine = [int(leg["amount_minor"]) for leg in posting.legs if leg["account_id"] == wanted]
        if not mine:
            continue
        found.append(
            PendingLine(
                posting_id=posting.id,
                created_at=posting.created_at,
                local_time=local_minute(posting.created_at, zone),
                kind=posting.kind,
                status=posting.status,
                memo=posting.memo or posting.beneficiary or "",
                amount_minor=sum(mine),
                currency=posting.currency,
            )
        )
    return found


def major(minor: int, currency: str) -> str:
    """Plain decimal text of an amount (CSV): ``-1234.50``."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


# --- transfers -----------------------------------------------------------------------------------


def used_today(db: Session, *, customer: CustomerPrincipal, currency: str, day: date) -> int:
    """Today's portal transfers of the currency, pending ones included, rejected ones not."""
    total = db.execute(
        select(func.coalesce(func.sum(PortalTransfer.amount_minor), 0))
        .join(Posting, Posting.id == PortalTransfer.posting_id)
        .where(
            PortalTransfer.customer_id == customer.customer_id,
            PortalTransfer.business_on == day,
            PortalTransfer.currency == currency,
            Posting.status != PostingStatus.rejected,
        )
    ).scalar_one()
    return int(total)


def daily_limit(
    db: Session, *, customer: CustomerPrincipal, currency: str, settings: PortalSettings
) -> int:
    login = db.get(PortalLogin, customer.login_id)
    override = (login.daily_limits or {}).get(currency) if login is not None else None
    return int(override) if override is not None else settings.limit_for(currency)


def _posting_exists(db: Session, key: str) -> bool:
    return db.execute(select(Posting.id).where(Posting.idempotency_key == key)).first() is not None


def make_transfer(
    db: Session,
    *,
    customer: CustomerPrincipal,
    from_account: str,
    to_account: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    memo: str,
    now: datetime,
    compliance: PrePostingCheck,
    settings: PortalSettings,
    kind: PortalTransferKind = PortalTransferKind.transfer,
) -> TransferResult:
    """A transfer from an own account to any account of the bank, within the daily limit.

    Raises AccountNotFound (not the customer's source account), DailyLimitExceeded (422,
    field amount_minor; nothing written) and every refusal of ``ledger.post_transfer``.
    """
    source = owned_account(db, customer=customer, number=from_account)
    # one portal transfer of a customer at a time, so two cannot both squeeze under the limit
    db.execute(
        select(PortalLogin.id).where(PortalLogin.id == customer.login_id).with_for_update()
    ).all()
    is_retry = _posting_exists(db, idempotency_key)
    day = home_day(db, customer, now)
    if not is_retry and isinstance(amount_minor, int) and amount_minor > 0:
        limit = daily_limit(db, customer=customer, currency=currency, settings=settings)
        used = used_today(db, customer=customer, currency=currency, day=day)
        if used + amount_minor > limit:
            raise DailyLimitExceeded(
                f"this transfer would exceed your daily limit of {format_money(limit, currency)} "
                f"(already used today: {format_money(used, currency)})",
                field="amount_minor",
            )
    actor = channel_principal(db, branch_id=source.branch_id, now=now)
    result = ledger.post_transfer(
        db, from_account=source.number, to_account=to_account.strip(),
        amount_minor=amount_minor, currency=currency, idempotency_key=idempotency_key,
        actor=actor, now=now, compliance=compliance, memo=memo,
    )  # fmt: skip
    posting = result.posting
    if not result.is_replay:
        db.add(
            PortalTransfer(
                id=new_id(),
                customer_id=customer.customer_id,
                posting_id=posting.id,
                kind=kind,
                amount_minor=posting.amount_minor,
                currency=posting.currency,
                business_on=day,
                created_at=now,
            )
        )
        db.flush()
        _alert(db, customer=customer, posting=posting, account=source.number, now=now)
    elif not _is_customers_posting(db, customer=customer, posting_id=posting.id):
        # another customer's request under the same key (a paid QR request): no replay for you
        raise RuleViolation(
            "this payment was already made", field="idempotency_key", code="already_paid"
        )
    return TransferResult(
        posting_id=posting.id,
        status=posting.status,
        is_replay=result.is_replay,
        from_account=source.number,
        to_account=find_account(db, to_account.strip()).number,
        amount_minor=posting.amount_minor,
        currency=posting.currency,
        memo=posting.memo,
        hold_reason=posting.hold_reason,
    )


def _is_customers_posting(
    db: Session, *, customer: CustomerPrincipal, posting_id: uuid.UUID
) -> bool:
    return (
        db.execute(
            select(PortalTransfer.id).where(
                PortalTransfer.posting_id == posting_id,
                PortalTransfer.customer_id == customer.customer_id,
            )
        ).first()
        is not None
    )


def _alert(
    db: Session, *, customer: CustomerPrincipal, posting: Posting, account: str, now: datetime
) -> None:
    sms = wants(db, customer_id=customer.customer_id, event="transaction_alerts", channel="sms")
    email = wants(db, customer_id=customer.customer_id, event="transaction_alerts", channel="email")
    to_phone = customer.phone if sms else ""
    to_email = customer.email if email else ""
    if not to_phone and not to_email:
        return
    queue_notification(
        db,
        message=Message(
            template="portal.transaction_alert",
            locale=customer.preferred_locale,
            to_phone=to_phone,
            to_email=to_email,
            values={
                "account": "*" + account[-4:],
                "amount": format_money(posting.amount_minor, posting.currency),
                "status": str(posting.status),
            },
        ),
        now=now,
        aggregate_type="posting",
        aggregate_id=posting.id,
        branch_id=posting.branch_id,
    )


def recent_transfers(
    db: Session, *, customer: CustomerPrincipal, limit: int = 20
) -> list[PortalTransferRead]:
    """The customer's latest portal transfers with their ledger status (held ones included)."""
    zone = home_zone(db, customer)
    rows = db.execute(
        select(PortalTransfer, Posting)
        .join(Posting, Posting.id == PortalTransfer.posting_id)
        .where(PortalTransfer.customer_id == customer.customer_id)
        .order_by(PortalTransfer.created_at.desc(), PortalTransfer.id.desc())
        .limit(limit)
    ).all()
    ids = {uuid.UUID(leg["account_id"]) for _t, p in rows for leg in p.legs}
    numbers = dict(db.execute(select(Account.id, Account.number).where(Account.id.in_(ids))).all())
    found: list[PortalTransferRead] = []
    for transfer, posting in rows:
        legs = {int(leg["amount_minor"]) < 0: uuid.UUID(leg["account_id"]) for leg in posting.legs}
        found.append(
            PortalTransferRead(
                posting_id=posting.id,
                kind=transfer.kind,
                status=posting.status,
                from_account=numbers.get(legs.get(True, uuid.UUID(int=0)), ""),
                to_account=numbers.get(legs.get(False, uuid.UUID(int=0)), ""),
                amount_minor=posting.amount_minor,
                currency=posting.currency,
                memo=posting.memo,
                local_time=local_minute(transfer.created_at, zone),
            )
        )
    return found


def transfer_key(customer: CustomerPrincipal, client_key: str) -> str:
    """The ledger idempotency key of a customer's transfer: namespaced by the customer."""
    digest = hashlib.sha256(f"{customer.customer_id}:{client_key.strip()}".encode()).hexdigest()
    return f"portal:{digest[:40]}"


def audit_refusal(
    db: Session,
    *,
    customer: CustomerPrincipal,
    action: str,
    error: DomainError,
    detail: dict[str, object],
    now: datetime,
) -> bool:
    """Record a refused money action (after the caller rolled back); False for non-money ones."""
    if isinstance(error, Forbidden | Unauthorized):
        return False
    append_audit(
        db,
        action=action,
        object_type="posting",
        now=now,
        actor_label=customer.label,
        outcome="refused",
        detail={**detail, "error": error.code, "reason": error.detail},
    )
    return True
