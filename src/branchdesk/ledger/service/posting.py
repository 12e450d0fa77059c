"""The posting engine and the money movements built on it.

``submit`` takes a balanced set of legs and either replays an earlier result (same idempotency
key and request), refuses (409 for another request under the key), holds the posting (compliance
review, maker-checker) or applies it: accounts are locked in id order, each balance changes by
one conditional ``UPDATE ... SET balance_minor = balance_minor + :d WHERE <within limit>
RETURNING``, and the entries are inserted in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from branchdesk.catalog.models import Branch
from branchdesk.core.db import insert_rows
from branchdesk.core.errors import Conflict, DomainError, Forbidden, RuleViolation
from branchdesk.core.events import Event, OutboxMessage, consumers, record_event
from branchdesk.core.ids import new_id
from branchdesk.core.money import CURRENCY_EXPONENTS
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger import rules
from branchdesk.ledger.errors import (
    AccountClosed,
    AccountDormant,
    AccountFrozen,
    AccountNotFound,
    CurrencyMismatch,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidAmount,
    PostingBlocked,
)
from branchdesk.ledger.models import (
    CUSTOMER_TYPES,
    Account,
    AccountStatus,
    AccountType,
    ApprovalLimit,
    Entry,
    Posting,
    PostingKind,
    PostingStatus,
    RemittanceStatus,
)
from branchdesk.ledger.schemas import LegRead, PostingRead
from branchdesk.ledger.service.common import (
    find_account,
    find_counter,
    internal_account,
    parse_uuid,
    posting_branch,
)
from branchdesk.ledger.service.compliance import (
    ALLOW,
    ComplianceDecision,
    PrePostingCheck,
    ProposedLeg,
    ProposedPosting,
    Verdict,
    open_batch,
    record_decision,
)

ALWAYS_APPROVED = frozenset({PostingKind.reversal})
# Kinds between the bank's own accounts only (``validate_legs`` enforces it): no approval limit
# applies and the customer compliance screen is not asked (there is no customer leg).
BANK_INTERNAL = frozenset({PostingKind.accrual})
ACCRUAL_ACCOUNT_SUFFIXES = ("_receivable", "_income")
# Core tables for the set-based transfers (executemany without the ORM unit of work)
_POSTINGS = Posting.metadata.tables[Posting.__tablename__]
_ENTRIES = Entry.metadata.tables[Entry.__tablename__]
_ACCOUNTS = Account.metadata.tables[Account.__tablename__]
_EVENTS = Event.metadata.tables[Event.__tablename__]
_OUTBOX = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
# statements built once (per call only the parameters change)
_NAMED_ACCOUNTS = (
    select(Account)
    .where(
        or_(
            Account.number.in_(bindparam("numbers", expanding=True)),
            Account.id.in_(bindparam("ids", expanding=True)),
        )
    )
    .order_by(Account.id)
    .execution_options(populate_existing=True)
)
_LOCK_NAMED_ACCOUNTS = _NAMED_ACCOUNTS.with_for_update()
# what a set of transfers decided on, read again under the lock (``_Accounts.still_holds``)
_LOCK_STATE = (
    select(
        Account.id,
        Account.status,
        Account.is_limited,
        Account.overdraft_limit_minor,
        Account.balance_minor,
        Account.last_entry_seq,
    )
    .where(Account.id.in_(bindparam("ids", expanding=True)))
    .order_by(Account.id)
    .with_for_update()
)
_BY_KEYS = select(Posting).where(Posting.idempotency_key.in_(bindparam("keys", expanding=True)))
_LIMITS = select(ApprovalLimit.branch_id, ApprovalLimit.currency, ApprovalLimit.amount_minor).where(
    ApprovalLimit.kind == bindparam("kind"),
    ApprovalLimit.branch_id.in_(bindparam("branches", expanding=True)),
)
_LEGS = (
    select(Entry.posting_id, Entry.amount_minor, Entry.balance_after_minor, Account.number)
    .join(Account, Account.id == Entry.account_id)
    .where(Entry.posting_id.in_(bindparam("ids", expanding=True)))
    .order_by(Entry.amount_minor, Account.number)
)
_NUMBERS = select(Account.id, Account.number).where(
    Account.id.in_(bindparam("ids", expanding=True))
)
_BRANCH_CODES = select(Branch.id, Branch.code).where(
    Branch.id.in_(bindparam("ids", expanding=True))
)
_USERNAMES = select(User.id, User.username).where(User.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class PostingResult:
    posting: Posting
    is_replay: bool


@dataclass(frozen=True, slots=True)
class Leg:
    account: Account
    amount_minor: int


def check_amount(amount_minor: int, currency: str) -> None:
    """Raises InvalidAmount (non-positive, not an integer) or CurrencyMismatch (unknown)."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise InvalidAmount(
            "the amount must be a positive whole number of minor units", field="amount_minor"
        )
    if amount_minor >= 10**15:
        raise InvalidAmount("the amount is too large", field="amount_minor")
    if currency not in CURRENCY_EXPONENTS:
        raise CurrencyMismatch(f"unknown currency {currency}", field="currency")


def check_key(idempotency_key: str | None) -> str:
    if idempotency_key is None or not idempotency_key.strip():
        raise IdempotencyKeyRequired(
            "every posting needs an idempotency_key", field="idempotency_key"
        )
    return idempotency_key.strip()


def find_replay(db: Session, *, key: str, request_hash: str) -> PostingResult | None:
    """The earlier posting under ``key`` if the request is the same; raises IdempotencyKeyReused."""
    existing = db.execute(
        select(Posting).where(Posting.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "this idempotency key was used for a different request", field="idempotency_key"
        )
    return PostingResult(existing, is_replay=True)


def validate_legs(legs: Sequence[Leg], currency: str, *, kind: PostingKind | None = None) -> None:
    """Raises AccountClosed, AccountFrozen, AccountDormant, CurrencyMismatch, RuleViolation.

    The currency is checked per leg first: an account in another currency is the client's
    mistake (``currency_mismatch`` on the field), not an unbalanced posting."""
    for leg in legs:
        account = leg.account
        if kind == PostingKind.accrual and (
            account.customer_id is not None
            or account.type in CUSTOMER_TYPES
            or not account.type.endswith(ACCRUAL_ACCOUNT_SUFFIXES)
        ):
            raise RuleViolation(
                f"an accrual moves only between the bank's receivable and income accounts, "
                f"not {account.number}",
                code="accrual_legs",
            )
        if account.currency != currency:
            raise CurrencyMismatch(
                f"account {account.number} holds {account.currency}, not {currency}",
                field="currency",
            )
        if account.status == AccountStatus.closed:
            raise AccountClosed(f"account {account.number} is closed")
        if account.status == AccountStatus.frozen:
            raise AccountFrozen(f"account {account.number} is frozen")
        if leg.amount_minor < 0 and account.status == AccountStatus.dormant:
            raise AccountDormant(f"account {account.number} is dormant; reactivate it first")
        if (
            leg.amount_minor < 0
            and account.type == AccountType.time_deposit
            and kind != PostingKind.time_deposit_withdrawal
        ):
            raise RuleViolation(
                f"account {account.number} is a time deposit: withdraw it at maturity",
                code="time_deposit_locked",
            )
    if not rules.is_balanced((leg.account.currency, leg.amount_minor) for leg in legs):
        raise RuleViolation("the entries of a posting must sum to zero")  # a bug if ever seen


def _within_limit(change: int) -> list[ColumnElement[bool]]:
    """The UPDATE's guard: a debit may not take a limited account below its overdraft limit."""
    if change >= 0:
        return []
    return [
        or_(
            Account.is_limited.is_(False),
            Account.balance_minor + change >= -Account.overdraft_limit_minor,
        )
    ]


def apply_legs(db: Session, *, posting: Posting, now: datetime) -> None:
    """Lock the accounts in id order, re-validate, change balances, write entries.

    Raises InsufficientFunds and the validation errors; the caller's transaction (or savepoint)
    is then rolled back, so nothing of the posting remains.
    """
    amounts: dict[uuid.UUID, int] = {}
    for leg in posting.legs:
        account_id = uuid.UUID(leg["account_id"])
        amounts[account_id] = amounts.get(account_id, 0) + int(leg["amount_minor"])
    ordered = sorted(amounts)
    locked = {
        account.id: account
        for account in db.execute(
            select(Account)
            .where(Account.id.in_(ordered))
            .order_by(Account.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    }
    kind = PostingKind(posting.kind)
    validate_legs([Leg(locked[i], amounts[i]) for i in ordered], posting.currency, kind=kind)
    rows = []
    for account_id in ordered:
        change = amounts[account_id]
        changed = db.execute(
            update(Account)
            .where(Account.id == account_id, *_within_limit(change))
            .values(
                balance_minor=Account.balance_minor + change,
                last_entry_seq=Account.last_entry_seq + 1,
                updated_at=now,
            )
            .returning(Account.balance_minor, Account.last_entry_seq)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if changed is None:
            raise InsufficientFunds(
                f"account {locked[account_id].number} has insufficient funds", field="amount_minor"
            )
        rows.append(
            {
                "id": new_id(),
                "seq": int(changed[1]),
                "posting_id": posting.id,
                "account_id": account_id,
                "amount_minor": change,
                "currency": posting.currency,
                "balance_after_minor": int(changed[0]),
                "booked_at": now,
                "posting_kind": posting.kind,
            }
        )
        db.expire(locked[account_id], ["balance_minor", "last_entry_seq", "updated_at"])
    db.execute(insert(Entry), rows)
    posting.status = PostingStatus.posted
    posting.posted_at = now
    if posting.kind == PostingKind.remittance:
        posting.remittance_status = RemittanceStatus.sent
    if kind == PostingKind.time_deposit_withdrawal:
        _close_withdrawn_deposit(db, rows=rows, locked=locked, now=now)
    db.flush()
    record_event(
        db,
        type="ledger.posting_posted",
        aggregate_type="posting",
        aggregate_id=posting.id,
        payload={
            "kind": posting.kind,
            "amount_minor": posting.amount_minor,
            "currency": posting.currency,
            "accounts": [str(i) for i in ordered],
        },
        now=now,
        branch_id=posting.branch_id,
    )


def _close_withdrawn_deposit(
    db: Session,
    *,
    rows: Sequence[Mapping[str, object]],
    locked: Mapping[uuid.UUID, Account],
    now: datetime,
) -> None:
    """The withdrawn time deposit must be empty now; it is closed."""
    for row in rows:
        account_id = row["account_id"]
        assert isinstance(account_id, uuid.UUID)
        account = locked[account_id]
        if account.type != AccountType.time_deposit:
            continue
        if row["balance_after_minor"] != 0:
            raise Conflict(
                f"time deposit {account.number} changed meanwhile; withdraw it again",
                code="time_deposit_changed",
            )
        account.status = AccountStatus.closed
        account.closed_at = now


def needs_approval(
    db: Session, *, kind: PostingKind, branch_id: uuid.UUID, amount_minor: int, currency: str
) -> bool:
    if kind in ALWAYS_APPROVED:
        return True
    if kind in BANK_INTERNAL:
        return False
    limit = db.execute(
        select(ApprovalLimit.amount_minor).where(
            ApprovalLimit.branch_id == branch_id,
            ApprovalLimit.kind == kind,
            ApprovalLimit.currency == currency,
        )
    ).scalar_one_or_none()
    return limit is not None and amount_minor > limit


def submit(
    db: Session,
    *,
    kind: PostingKind,
    key: str,
    request_hash: str,
    branch_id: uuid.UUID,
    legs: Sequence[Leg],
    amount_minor: int,
    currency: str,
    actor: Principal | None,
    now: datetime,
    compliance: PrePostingCheck,
    memo: str = "",
    reverses_id: uuid.UUID | None = None,
    remittance_id: uuid.UUID | None = None,
    beneficiary: str = "",
    country: str = "",
) -> PostingResult:
    """Raises PostingBlocked, IdempotencyKeyReused and the validation errors of ``apply_legs``."""
    validate_legs(legs, currency, kind=kind)
    posting_id = new_id()
    proposed = _proposal(
        posting_id, kind=kind, branch_id=branch_id, legs=legs, amount_minor=amount_minor,
        currency=currency, now=now, beneficiary=beneficiary, country=country,
    )  # fmt: skip
    decision = ALLOW if kind in BANK_INTERNAL else compliance.check(db, posting=proposed)
    if decision.verdict is Verdict.block:
        raise PostingBlocked(f"refused by the compliance check: {decision.reason}")
    if decision.verdict is Verdict.hold:
        status = PostingStatus.pending_review
    elif needs_approval(
        db, kind=kind, branch_id=branch_id, amount_minor=amount_minor, currency=currency
    ):
        status = PostingStatus.pending_approval
    else:
        status = PostingStatus.posted
    posting = Posting(
        id=posting_id,
        idempotency_key=key,
        request_hash=request_hash,
        kind=kind,
        status=status,
        branch_id=branch_id,
        amount_minor=amount_minor,
        currency=currency,
        legs=[
            {"account_id": str(leg.account.id), "amount_minor": leg.amount_minor} for leg in legs
        ],
        memo=memo,
        reverses_id=reverses_id,
        remittance_id=remittance_id,
        beneficiary=beneficiary,
        counterparty_country=country,
        hold_reason=decision.reason if status == PostingStatus.pending_review else "",
        maker_id=actor.user_id if actor else None,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(posting)
            db.flush()
    except IntegrityError:
        # the same key was committed by a concurrent request meanwhile: replay it or refuse
        replay = find_replay(db, key=key, request_hash=request_hash)
        if replay is None:
            raise
        return replay
    if status == PostingStatus.posted:
        apply_legs(db, posting=posting, now=now)
    record_decision(db, posting=proposed, decision=decision)
    return PostingResult(posting, is_replay=False)


# --- the movements ------------------------------------------------------------------------------


def _begin(
    db: Session, *, kind: PostingKind, body: Mapping[str, object], idempotency_key: str | None
) -> tuple[str, str, PostingResult | None]:
    key = check_key(idempotency_key)
    amount = body.get("amount_minor")
    currency = body.get("currency")
    assert isinstance(amount, int)
    assert isinstance(currency, str)
    check_amount(amount, currency)
    digest = rules.request_hash(kind, body)
    return key, digest, find_replay(db, key=key, request_hash=digest)


def _till(
    db: Session, *, branch_id: uuid.UUID, counter_code: str | None, currency: str, now: datetime
) -> Account:
    counter_id = (
        find_counter(db, branch_id=branch_id, code=counter_code).id if counter_code else None
    )
    return internal_account(
        db,
        type=AccountType.till,
        branch_id=branch_id,
        counter_id=counter_id,
        currency=currency,
        now=now,
    )


def _against_bank(
    db: Session,
    *,
    kind: PostingKind,
    body: dict[str, object],
    account_ref: str,
    account_field: str,
    customer_sign: int,
    bank_account: Callable[[uuid.UUID], Account],
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    branch_code: str | None,
    memo: str,
    beneficiary: str = "",
    country: str = "",
) -> PostingResult:
    """One customer account against one of the branch's own accounts (till, fee income,
    clearing suspense): the shared path of deposits, withdrawals, fees and remittances."""
    actor.require(Permission.posting_create)
    key, digest, replay = _begin(db, kind=kind, body=body, idempotency_key=idempotency_key)
    if replay:
        return replay
    amount_minor, currency = int(str(body["amount_minor"])), str(body["currency"])
    customer = find_account(db, account_ref, field=account_field)
    branch_id = posting_branch(db, actor=actor, branch_code=branch_code, default=customer.branch_id)
    actor.require(Permission.posting_create, branch_id)
    bank = bank_account(branch_id)
    legs = [Leg(customer, customer_sign * amount_minor), Leg(bank, -customer_sign * amount_minor)]
    return submit(
        db,
        kind=kind,
        key=key,
        request_hash=digest,
        branch_id=branch_id,
        legs=legs,
        amount_minor=amount_minor,
        currency=currency,
        actor=actor,
        now=now,
        compliance=compliance,
        memo=memo,
        beneficiary=beneficiary,
        country=country,
    )


def post_deposit(
    db: Session,
    *,
    account: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    branch_code: str | None = None,
    counter_code: str | None = None,
    memo: str = "",
) -> PostingResult:
    """Cash in at the counter. Raises Forbidden, AccountNotFound, InvalidAmount, see submit."""
    body: dict[str, object] = {
        "account": account,
        "amount_minor": amount_minor,
        "currency": currency,
        "branch_code": branch_code,
        "counter_code": counter_code,
        "memo": memo,
    }
    return _against_bank(
        db, kind=PostingKind.deposit, body=body, account_ref=account, account_field="account",
        customer_sign=1,
        bank_account=lambda branch_id: _till(
            db, branch_id=branch_id, counter_code=counter_code, currency=currency, now=now
        ),
        idempotency_key=idempotency_key, actor=actor, now=now, compliance=compliance,
        branch_code=branch_code, memo=memo,
    )  # fmt: skip


def post_withdrawal(
    db: Session,
    *,
    account: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    branch_code: str | None = None,
    counter_code: str | None = None,
    memo: str = "",
) -> PostingResult:
    """Cash out at the counter. Raises InsufficientFunds, AccountFrozen, ... (see submit)."""
    body: dict[str, object] = {
        "account": account,
        "amount_minor": amount_minor,
        "currency": currency,
        "branch_code": branch_code,
        "counter_code": counter_code,
        "memo": memo,
    }
    return _against_bank(
        db, kind=PostingKind.withdrawal, body=body, account_ref=account, account_field="account",
        customer_sign=-1,
        bank_account=lambda branch_id: _till(
            db, branch_id=branch_id, counter_code=counter_code, currency=currency, now=now
        ),
        idempotency_key=idempotency_key, actor=actor, now=now, compliance=compliance,
        branch_code=branch_code, memo=memo,
    )  # fmt: skip


def post_transfer(
    db: Session,
    *,
    from_account: str,
    to_account: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    branch_code: str | None = None,
    memo: str = "",
) -> PostingResult:
    """Between two accounts of the bank. Raises InsufficientFunds, CurrencyMismatch, ..."""
    item = TransferItem(
        from_account=from_account, to_account=to_account, amount_minor=amount_minor,
        currency=currency, idempotency_key=idempotency_key, branch_code=branch_code, memo=memo,
    )  # fmt: skip
    (outcome,) = _transfer_set(db, items=[item], actor=actor, now=now, compliance=compliance)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _post_transfer_one(
    db: Session,
    *,
    from_account: str,
    to_account: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    branch_code: str | None = None,
    memo: str = "",
) -> PostingResult:
    """The statement-by-statement path (the fallback when a key races with another request)."""
    actor.require(Permission.posting_create)
    body = {
        "from_account": from_account,
        "to_account": to_account,
        "amount_minor": amount_minor,
        "currency": currency,
        "branch_code": branch_code,
        "memo": memo,
    }
    key, digest, replay = _begin(
        db, kind=PostingKind.transfer, body=body, idempotency_key=idempotency_key
    )
    if replay:
        return replay
    source = find_account(db, from_account, field="from_account")
    target = find_account(db, to_account, field="to_account")
    if source.id == target.id:
        raise RuleViolation(
            "cannot transfer to the same account", field="to_account", code="same_account"
        )
    branch_id = posting_branch(db, actor=actor, branch_code=branch_code, default=source.branch_id)
    actor.require(Permission.posting_create, branch_id)
    legs = [Leg(source, -amount_minor), Leg(target, amount_minor)]
    return submit(
        db,
        kind=PostingKind.transfer,
        key=key,
        request_hash=digest,
        branch_id=branch_id,
        legs=legs,
        amount_minor=amount_minor,
        currency=currency,
        actor=actor,
        now=now,
        compliance=compliance,
        memo=memo,
    )


def post_fee(
    db: Session,
    *,
    account: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    branch_code: str | None = None,
    memo: str = "",
) -> PostingResult:
    """A fee charged to an account, credited to the branch's fee income."""
    body: dict[str, object] = {
        "account": account,
        "amount_minor": amount_minor,
        "currency": currency,
        "branch_code": branch_code,
        "memo": memo,
    }
    return _against_bank(
        db, kind=PostingKind.fee, body=body, account_ref=account, account_field="account",
        customer_sign=-1,
        bank_account=lambda branch_id: internal_account(
            db, type=AccountType.fee_income, branch_id=branch_id, currency=currency, now=now
        ),
        idempotency_key=idempotency_key, actor=actor, now=now, compliance=compliance,
        branch_code=branch_code, memo=memo,
    )  # fmt: skip


def post_remittance(
    db: Session,
    *,
    from_account: str,
    beneficiary: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    branch_code: str | None = None,
    memo: str = "",
    country: str = "",
) -> PostingResult:
    """Outgoing remittance: the money waits in clearing suspense until the clearing result.
    ``country``: the beneficiary bank's ISO alpha-2 code (the AML cross-border rule reads it)."""
    body: dict[str, object] = {
        "from_account": from_account,
        "beneficiary": beneficiary,
        "amount_minor": amount_minor,
        "currency": currency,
        "branch_code": branch_code,
        "memo": memo,
    }
    if country:  # only then: earlier requests keep their idempotency hash
        body["country"] = country
    return _against_bank(
        db, kind=PostingKind.remittance, body=body, account_ref=from_account,
        account_field="from_account", customer_sign=-1,
        bank_account=lambda branch_id: internal_account(
            db, type=AccountType.clearing_suspense, branch_id=branch_id, currency=currency, now=now
        ),
        idempotency_key=idempotency_key, actor=actor, now=now, compliance=compliance,
        branch_code=branch_code, memo=memo, beneficiary=beneficiary, country=country,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class TransferItem:
    from_account: str
    to_account: str
    amount_minor: int
    currency: str
    idempotency_key: str | None
    branch_code: str | None = None
    memo: str = ""


def post_transfer_batch(
    db: Session,
    *,
    items: Sequence[TransferItem],
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    on_refusal: Callable[[int, TransferItem, DomainError], None] | None = None,
) -> list[PostingResult | DomainError]:
    """Each transfer applied, replayed, held or refused on its own, as if posted one by one.

    Set-based (see ``_transfer_set``): a constant number of statements per batch, when the
    compliance check has a batch form (``begin_batch``); a check without one may read the ledger
    and expect each earlier item written, so the batch is then posted item by item.
    Raises Forbidden only; other refusals come back in the list (and go to ``on_refusal``).
    """
    if len(items) > 1 and getattr(compliance, "begin_batch", None) is None:
        outcomes = _post_transfer_batch_one_by_one(
            db, items=items, actor=actor, now=now, compliance=compliance
        )
    else:
        outcomes = _transfer_set(db, items=items, actor=actor, now=now, compliance=compliance)
    if on_refusal is not None:
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, DomainError):
                on_refusal(index, items[index], outcome)
    return outcomes


def _post_transfer_batch_one_by_one(
    db: Session,
    *,
    items: Sequence[TransferItem],
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
) -> list[PostingResult | DomainError]:
    """One savepoint per transfer (the fallback when a key races with another request)."""
    actor.require(Permission.posting_create)
    numbers = {ref for item in items for ref in (item.from_account, item.to_account)}
    db.execute(
        select(Account.id)
        .where(Account.number.in_(sorted(numbers)))
        .order_by(Account.id)
        .with_for_update()
    ).all()
    results: list[PostingResult | DomainError] = []
    for item in items:
        savepoint = db.begin_nested()
        try:
            result = _post_transfer_one(
                db, from_account=item.from_account, to_account=item.to_account,
                amount_minor=item.amount_minor, currency=item.currency,
                idempotency_key=item.idempotency_key, actor=actor, now=now,
                compliance=compliance, branch_code=item.branch_code, memo=item.memo,
            )  # fmt: skip
        except DomainError as exc:
            savepoint.rollback()
            if isinstance(exc, Forbidden):
                raise
            results.append(exc)
            continue
        savepoint.commit()
        results.append(result)
    return results


# --- transfers as a set ------------------------------------------------------------------------


def _transfer_body(item: TransferItem) -> dict[str, object]:
    return {
        "from_account": item.from_account,
        "to_account": item.to_account,
        "amount_minor": item.amount_minor,
        "currency": item.currency,
        "branch_code": item.branch_code,
        "memo": item.memo,
    }


class _Accounts:
    """The accounts a set of transfers names, with balances in memory: locked in id order when
    read (``lock``), or a snapshot that ``still_holds`` checks under the lock afterwards."""

    def __init__(self, db: Session, refs: Sequence[str], *, lock: bool) -> None:
        ids = {i for i in (parse_uuid(r) if len(r) > 20 else None for r in refs) if i}
        numbers = {r.strip() for r in refs}
        found = db.execute(
            _LOCK_NAMED_ACCOUNTS if lock else _NAMED_ACCOUNTS,
            {"numbers": sorted(numbers), "ids": sorted(ids)},
        ).scalars()
        self.by_id: dict[uuid.UUID, Account] = {}
        self.by_number: dict[str, Account] = {}
        for account in found:
            self.by_id[account.id] = account
            self.by_number[account.number] = account
        self.balance = {i: a.balance_minor for i, a in self.by_id.items()}
        self.seq = {i: a.last_entry_seq for i, a in self.by_id.items()}
        self.changes: dict[uuid.UUID, list[int]] = {}  # id -> [sum of amounts, entry count]
        # what the decisions rest on: per debited limited account the least room left above
        # its limit after any debit, and the accounts a transfer was refused for want of funds
        self.least_room: dict[uuid.UUID, int] = {}
        self.short: set[uuid.UUID] = set()

    def find(self, ref: str, *, field: str) -> Account:
        """As ``find_account``. Raises AccountNotFound."""
        as_id = parse_uuid(ref) if len(ref) > 20 else None
        account = self.by_id.get(as_id) if as_id else self.by_number.get(ref.strip())
        if account is None or account.system_key is not None:
            raise AccountNotFound("no such account", field=field)
        return account

    def apply(self, legs: Sequence[Leg]) -> list[tuple[Account, int, int, int]]:
        """As ``apply_legs`` in memory: (account, change, seq, balance after) in id order.
        Raises InsufficientFunds (nothing changed)."""
        ordered = sorted(legs, key=lambda leg: leg.account.id)
        for leg in ordered:
            account = leg.account
            balance = self.balance[account.id] + leg.amount_minor
            if (
                leg.amount_minor < 0
                and account.is_limited
                and balance < -account.overdraft_limit_minor
            ):
                self.short.add(account.id)
                raise InsufficientFunds(
                    f"account {account.number} has insufficient funds", field="amount_minor"
                )
        applied = []
        for leg in ordered:
            account = leg.account
            account_id = account.id
            self.balance[account_id] += leg.amount_minor
            self.seq[account_id] += 1
            change = self.changes.setdefault(account_id, [0, 0])
            change[0] += leg.amount_minor
            change[1] += 1
            if leg.amount_minor < 0 and account.is_limited:
                room = self.balance[account_id] + account.overdraft_limit_minor
                self.least_room[account_id] = min(room, self.least_room.get(account_id, room))
            applied.append(
                (account, leg.amount_minor, self.seq[account_id], self.balance[account_id])
            )
        return applied

    def still_holds(self, db: Session, entry_rows: Sequence[dict[str, object]]) -> bool:
        """Lock the snapshot's accounts in id order and say whether every decision taken on the
        snapshot stands on the locked state: no status or limit changed, every debit still
        within its limit, no refusal for want of funds that could now pass. If so, the entries'
        sequence numbers and running balances are shifted by what others posted meanwhile."""
        shift: dict[uuid.UUID, tuple[int, int]] = {}
        for account_id, status, limited, limit, balance, seq in db.execute(
            _LOCK_STATE, {"ids": sorted(self.by_id)}
        ).all():
            account = self.by_id[account_id]
            if (status, limited, limit) != (
                account.status,
                account.is_limited,
                account.overdraft_limit_minor,
            ):
                return False
            moved = balance - account.balance_minor
            if moved > 0 and account_id in self.short:
                return False
            if moved < 0 and self.least_room.get(account_id, -moved) + moved < 0:
                return False
            shift[account_id] = (moved, seq - account.last_entry_seq)
        if len(shift) != len(self.by_id):
            return False
        for row in entry_rows:
            moved, seqs = shift[row["account_id"]]  # type: ignore[index]
            row["seq"] = row["seq"] + seqs  # type: ignore[operator]
            row["balance_after_minor"] = row["balance_after_minor"] + moved  # type: ignore[operator]
        for account_id, (moved, seqs) in shift.items():
            self.balance[account_id] += moved
            self.seq[account_id] += seqs
        return True


def _proposal(
    posting_id: uuid.UUID,
    *,
    kind: PostingKind,
    branch_id: uuid.UUID,
    legs: Sequence[Leg],
    amount_minor: int,
    currency: str,
    now: datetime,
    beneficiary: str = "",
    country: str = "",
) -> ProposedPosting:
    return ProposedPosting(
        posting_id=posting_id,
        kind=kind,
        branch_id=branch_id,
        amount_minor=amount_minor,
        currency=currency,
        legs=tuple(
            ProposedLeg(
                account_id=leg.account.id,
                account_number=leg.account.number,
                customer_id=leg.account.customer_id if leg.account.type in CUSTOMER_TYPES else None,
                amount_minor=leg.amount_minor,
                currency=leg.account.currency,
                opened_at=leg.account.opened_at,
            )
            for leg in legs
        ),
        booked_at=now,
        beneficiary=beneficiary,
        country=country,
    )


def _insert_new_keys(db: Session, rows: list[dict[str, object]]) -> int:
    """Insert the postings, skipping keys another transaction committed meanwhile; returns
    how many were inserted (fewer: the inserted ones are deleted again, nothing remains).

    In key order: a set waits on a key another transaction has inserted but not committed,
    and two sets sharing keys on other accounts (a client resending a reordered batch) then
    wait in the same order instead of deadlocking."""
    table = _POSTINGS
    by_key = sorted(rows, key=lambda row: str(row["idempotency_key"]))
    inserted = [
        row[0]
        for row in insert_rows(
            db, table, by_key, skip_conflicts_on="idempotency_key", returning=("id",)
        )
    ]
    if len(inserted) != len(rows):
        db.execute(delete(table).where(table.c.id.in_(inserted)))
    return len(inserted)


def _record_posted_events(
    db: Session, postings: Sequence[dict[str, object]], now: datetime
) -> None:
    """``record_event`` for many postings at once: one insert (and one outbox insert)."""
    if not postings:
        return
    rows = [
        {
            "id": new_id(),
            "occurred_at": now,
            "type": "ledger.posting_posted",
            "aggregate_type": "posting",
            "aggregate_id": p["id"],
            "branch_id": p["branch_id"],
            "actor_id": None,
            "payload": p["event_payload"],
        }
        for p in postings
    ]
    table = _EVENTS
    wanting = [c for c in consumers() if c.wants("ledger.posting_posted")]
    if wanting:
        seq_of = dict(insert_rows(db, table, rows, returning=("id", "seq")))
        insert_rows(
            db,
            _OUTBOX,
            [
                {"id": new_id(), "event_seq": seq_of[row["id"]], "consumer": c.name,
                 "status": "pending", "next_attempt_at": now, "attempts": 0}
                for row in rows
                for c in wanting
            ],
        )  # fmt: skip
    else:
        insert_rows(db, table, rows)
    if db.get_bind().dialect.name == "postgresql":
        for branch_id in sorted({str(r["branch_id"] or "") for r in rows}):
            db.execute(
                text("SELECT pg_notify('branchdesk_events', :branch)"), {"branch": branch_id}
            )


def _transfer_set(
    db: Session,
    *,
    items: Sequence[TransferItem],
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
) -> list[PostingResult | DomainError]:
    """Transfers decided in order exactly as ``post_transfer`` one by one would, in a constant
    number of statements. Raises Forbidden only.

    One transfer locks its accounts first. A set of them locks its accounts late: it is decided
    on a snapshot of its accounts (read without a lock, with the idempotency keys, approval
    limits and compliance history in one query each; the compliance batch form sees the earlier
    applied items), and only then are the accounts locked in id order
    (``_Accounts.still_holds``). If every decision stands on the locked state, the postings,
    events, entries and balance changes are written, so other requests wait on these accounts
    only for those writes, not for the set's decisions. If not (a status, a limit or a balance
    changed meanwhile so that a decision could differ), the set is decided again on the locked
    state. The entries' sequence numbers and running balances are shifted by what others
    posted between the snapshot and the lock. Every path locks its accounts before it inserts
    its postings, so a key shared with a concurrent request never deadlocks against an
    account lock.
    """
    actor.require(Permission.posting_create)
    outcomes: list[PostingResult | DomainError | None] = [None] * len(items)
    prepared: list[tuple[int, TransferItem, str, str]] = []
    for index, item in enumerate(items):
        try:
            key = check_key(item.idempotency_key)
            check_amount(item.amount_minor, item.currency)
        except DomainError as exc:
            outcomes[index] = exc
            continue
        digest = rules.request_hash(PostingKind.transfer, _transfer_body(item))
        prepared.append((index, item, key, digest))
    if not prepared:
        return [o for o in outcomes if o is not None]
    refs = [ref for _i, item, _k, _d in prepared for ref in (item.from_account, item.to_account)]
    late = len(prepared) > 1  # one transfer locks first: no second look
    accounts = _Accounts(db, refs, lock=not late)
    plan = _SetPlan(db, accounts, prepared, outcomes, actor=actor, now=now, compliance=compliance)
    if late and not accounts.still_holds(db, plan.entry_rows):
        # a decision could differ on the locked state: take them all again on it
        accounts = _Accounts(db, refs, lock=True)
        plan = _SetPlan(
            db, accounts, prepared, outcomes, actor=actor, now=now, compliance=compliance
        )
    if not plan.write_postings(db, now):
        return _post_transfer_batch_one_by_one(
            db, items=items, actor=actor, now=now, compliance=compliance
        )
    plan.write_balances(db, now)
    return plan.results()


class _SetPlan:
    """A set of transfers decided in order on ``accounts`` (in memory), and their rows."""

    def __init__(
        self,
        db: Session,
        accounts: _Accounts,
        prepared: Sequence[tuple[int, TransferItem, str, str]],
        outcomes: Sequence[PostingResult | DomainError | None],
        *,
        actor: Principal,
        now: datetime,
        compliance: PrePostingCheck,
    ) -> None:
        self.accounts = accounts
        self.outcomes = list(outcomes)
        self.created: dict[str, Posting] = {}
        self.decided: list[tuple[ProposedPosting, ComplianceDecision]] = []  # holds and reports
        self.posting_rows: list[dict[str, object]] = []
        self.entry_rows: list[dict[str, object]] = []
        self.posted_rows: list[dict[str, object]] = []
        keys = sorted({key for _i, _item, key, _d in prepared})
        existing: dict[str, Posting] = {
            posting.idempotency_key: posting
            for posting in db.execute(_BY_KEYS, {"keys": keys}).scalars()
        }
        codes = sorted(
            {i.branch_code.strip().upper() for _x, i, _k, _d in prepared if i.branch_code}
        )
        branches: dict[str, uuid.UUID] = {}
        if codes:
            branches = dict(
                db.execute(select(Branch.code, Branch.id).where(Branch.code.in_(codes))).all()
            )
        only_branch = next(iter(actor.branch_ids)) if len(actor.branch_ids) == 1 else None
        candidates = {a.branch_id for a in accounts.by_id.values()} | set(branches.values())
        if only_branch:
            candidates.add(only_branch)
        limits: dict[tuple[uuid.UUID, str], int] = {
            (branch_id, currency): amount
            for branch_id, currency, amount in db.execute(
                _LIMITS, {"kind": PostingKind.transfer, "branches": sorted(candidates)}
            ).all()
        }
        check = open_batch(
            compliance,
            db,
            customer_ids={
                a.customer_id
                for a in accounts.by_id.values()
                if a.customer_id is not None and a.type in CUSTOMER_TYPES
            },
            now=now,
        )
        for index, item, key, digest in prepared:
            try:
                earlier = self.created.get(key) or existing.get(key)
                if earlier is not None:
                    if earlier.request_hash != digest:
                        raise IdempotencyKeyReused(
                            "this idempotency key was used for a different request",
                            field="idempotency_key",
                        )
                    self.outcomes[index] = PostingResult(earlier, is_replay=True)
                    continue
                source = accounts.find(item.from_account, field="from_account")
                target = accounts.find(item.to_account, field="to_account")
                if source.id == target.id:
                    raise RuleViolation(
                        "cannot transfer to the same account",
                        field="to_account",
                        code="same_account",
                    )
                if item.branch_code:
                    found = branches.get(item.branch_code.strip().upper())
                    if found is None:
                        raise RuleViolation("unknown branch", field="branch_code")
                    branch_id = found
                else:
                    branch_id = only_branch or source.branch_id
                actor.require(Permission.posting_create, branch_id)
                amount, currency = item.amount_minor, item.currency
                legs = [Leg(source, -amount), Leg(target, amount)]
                validate_legs(legs, currency, kind=PostingKind.transfer)
                posting_id = new_id()
                proposed = _proposal(
                    posting_id, kind=PostingKind.transfer, branch_id=branch_id, legs=legs,
                    amount_minor=amount, currency=currency, now=now,
                )  # fmt: skip
                decision = check.check(proposed)
                if decision.verdict is Verdict.block:
                    raise PostingBlocked(f"refused by the compliance check: {decision.reason}")
                limit = limits.get((branch_id, currency))
                if decision.verdict is Verdict.hold:
                    status = PostingStatus.pending_review
                elif limit is not None and amount > limit:
                    status = PostingStatus.pending_approval
                else:
                    status = PostingStatus.posted
                if status == PostingStatus.posted:
                    for account, change, seq, after in accounts.apply(legs):
                        self.entry_rows.append(
                            {"id": new_id(), "seq": seq, "posting_id": posting_id,
                             "account_id": account.id, "amount_minor": change,
                             "currency": currency, "balance_after_minor": after,
                             "booked_at": now, "posting_kind": PostingKind.transfer}
                        )  # fmt: skip
                    check.posted(proposed)
            except Forbidden:
                raise
            except DomainError as exc:
                self.outcomes[index] = exc
                continue
            row: dict[str, object] = {
                "id": posting_id,
                "idempotency_key": key,
                "request_hash": digest,
                "kind": PostingKind.transfer,
                "status": status,
                "branch_id": branch_id,
                "amount_minor": amount,
                "currency": currency,
                "legs": [{"account_id": str(leg.account.id), "amount_minor": leg.amount_minor}
                         for leg in legs],
                "memo": item.memo,
                "reverses_id": None,
                "remittance_status": None,
                "remittance_id": None,
                "beneficiary": "",
                "counterparty_country": "",
                "hold_reason": decision.reason if status == PostingStatus.pending_review else "",
                "maker_id": actor.user_id,
                "checker_id": None,
                "decision_note": "",
                "created_at": now,
                "posted_at": now if status == PostingStatus.posted else None,
                "decided_at": None,
            }  # fmt: skip
            self.posting_rows.append(row)
            posting = Posting(**row)
            self.created[key] = posting
            self.outcomes[index] = PostingResult(posting, is_replay=False)
            if decision.verdict is not Verdict.allow or decision.reports:
                self.decided.append((proposed, decision))
            if status == PostingStatus.posted:
                ordered = sorted(leg.account.id for leg in legs)
                payload = {"kind": PostingKind.transfer, "amount_minor": amount,
                           "currency": currency, "accounts": [str(i) for i in ordered]}  # fmt: skip
                self.posted_rows.append({"id": posting_id, "branch_id": branch_id,
                                         "event_payload": payload})  # fmt: skip

    def write_postings(self, db: Session, now: datetime) -> bool:
        """The postings and their events; False (nothing written) when a key of the set was
        committed by a concurrent request meanwhile: the caller then decides the set again,
        one by one, so each such item replays (or is refused) against the committed posting."""
        if self.posting_rows and _insert_new_keys(db, self.posting_rows) != len(self.posting_rows):
            return False
        _record_posted_events(db, self.posted_rows, now)
        return True

    def write_balances(self, db: Session, now: datetime) -> None:
        """The entries, one balance update per account, the compliance decisions; the session's
        accounts and postings carry what was written."""
        accounts = self.accounts
        if self.entry_rows:
            insert_rows(db, _ENTRIES, self.entry_rows)
            table = _ACCOUNTS
            db.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    balance_minor=table.c.balance_minor + bindparam("b_change"),
                    last_entry_seq=table.c.last_entry_seq + bindparam("b_count"),
                    updated_at=bindparam("b_now"),
                ),
                [
                    {"b_id": account_id, "b_change": change, "b_count": count, "b_now": now}
                    for account_id, (change, count) in sorted(accounts.changes.items())
                ],
            )
        for account_id, account in accounts.by_id.items():
            if account_id in accounts.changes:
                set_committed_value(account, "updated_at", now)
            if account.balance_minor != accounts.balance[account_id]:
                set_committed_value(account, "balance_minor", accounts.balance[account_id])
            if account.last_entry_seq != accounts.seq[account_id]:
                set_committed_value(account, "last_entry_seq", accounts.seq[account_id])
        for proposed, decision in self.decided:
            record_decision(db, posting=proposed, decision=decision)
        for posting in self.created.values():
            make_transient_to_detached(posting)
            db.add(posting)

    def results(self) -> list[PostingResult | DomainError]:
        return [o for o in self.outcomes if o is not None]


def posting_reads(
    db: Session, postings: Sequence[Posting], *, actor: Principal | None = None
) -> list[PostingRead]:
    """``posting_read`` for many postings in at most four queries (entries, account numbers of
    unposted legs, branches, users; the acting user's name is known without one)."""
    ids = sorted({p.id for p in postings})
    legs: dict[uuid.UUID, list[LegRead]] = {}
    if ids:
        for posting_id, amount, after, number in db.execute(_LEGS, {"ids": ids}).all():
            legs.setdefault(posting_id, []).append(
                LegRead(account_number=number, amount_minor=amount, balance_after_minor=after)
            )
    unposted = {
        uuid.UUID(leg["account_id"]) for p in postings if p.id not in legs for leg in p.legs
    }
    numbers: dict[uuid.UUID, str] = {}
    if unposted:
        numbers = dict(db.execute(_NUMBERS, {"ids": sorted(unposted)}).all())
    branch_ids = sorted({p.branch_id for p in postings})
    codes = dict(db.execute(_BRANCH_CODES, {"ids": branch_ids}).all())
    user_ids = sorted({u for p in postings for u in (p.maker_id, p.checker_id) if u is not None})
    names: dict[uuid.UUID, str] = {actor.user_id: actor.username} if actor else {}
    if set(user_ids) - set(names):
        names.update(db.execute(_USERNAMES, {"ids": user_ids}).all())
    reads = []
    for posting in postings:
        posting_legs = legs.get(posting.id)
        if posting_legs is None:
            posting_legs = sorted(
                (
                    LegRead(
                        account_number=numbers.get(uuid.UUID(leg["account_id"]), "?"),
                        amount_minor=int(leg["amount_minor"]),
                    )
                    for leg in posting.legs
                ),
                key=lambda leg: (leg.amount_minor, leg.account_number),
            )
        reads.append(
            PostingRead(
                id=posting.id,
                kind=PostingKind(posting.kind),
                status=posting.status,
                amount_minor=posting.amount_minor,
                currency=posting.currency,
                idempotency_key=posting.idempotency_key,
                branch_code=codes.get(posting.branch_id, ""),
                legs=posting_legs,
                memo=posting.memo,
                hold_reason=posting.hold_reason,
                reverses_id=posting.reverses_id,
                remittance_status=posting.remittance_status,
                maker=names.get(posting.maker_id) if posting.maker_id else None,
                checker=names.get(posting.checker_id) if posting.checker_id else None,
                created_at=posting.created_at,
                posted_at=posting.posted_at,
                decided_at=posting.decided_at,
            )
        )
    return reads


EARLY_WITHDRAWAL_RATE_BPS = 25  # product rule: before maturity, the demand rate (0.25 % a year)


def withdraw_time_deposit(
    db: Session,
    *,
    account: str,
    to_account: str,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    branch_code: str | None = None,
) -> PostingResult:
    """Pay a time deposit's principal and interest into another account, then close it.

    At or after maturity the contract rate runs from opening to maturity; before it, the
    early-withdrawal rate runs for the days held (actual/365, ROUND_HALF_EVEN), paid from the
    branch's interest expense. Raises AccountNotFound, RuleViolation, and those of ``submit``.
    """
    actor.require(Permission.posting_create)
    key = check_key(idempotency_key)
    digest = rules.request_hash(
        PostingKind.time_deposit_withdrawal,
        {"account": account, "to_account": to_account, "branch_code": branch_code},
    )
    replay = find_replay(db, key=key, request_hash=digest)
    if replay:
        return replay
    deposit = find_account(db, account, field="account")
    target = find_account(db, to_account, field="to_account")
    if deposit.type != AccountType.time_deposit or deposit.rate_bps is None:
        raise RuleViolation("not a time deposit", field="account", code="not_time_deposit")
    if deposit.balance_minor <= 0:
        raise InvalidAmount("the time deposit holds nothing to withdraw", field="account")
    if target.id == deposit.id:
        raise RuleViolation("pay into another account", field="to_account", code="same_account")
    today = now.date()
    matured = deposit.matures_on is not None and today >= deposit.matures_on
    interest = rules.simple_interest_minor(
        deposit.balance_minor,
        rate_bps=deposit.rate_bps if matured else EARLY_WITHDRAWAL_RATE_BPS,
        start_on=deposit.opened_at.date(),
        end_on=deposit.matures_on if matured and deposit.matures_on else today,
        currency=deposit.currency,
    )
    branch_id = posting_branch(db, actor=actor, branch_code=branch_code, default=deposit.branch_id)
    actor.require(Permission.posting_create, branch_id)
    legs = [Leg(deposit, -deposit.balance_minor), Leg(target, deposit.balance_minor + interest)]
    if interest:
        expense = internal_account(
            db, type=AccountType.interest_expense, branch_id=branch_id,
            currency=deposit.currency, now=now,
        )  # fmt: skip
        legs.append(Leg(expense, -interest))
    return submit(
        db, kind=PostingKind.time_deposit_withdrawal, key=key, request_hash=digest,
        branch_id=branch_id, legs=legs, amount_minor=deposit.balance_minor + interest,
        currency=deposit.currency, actor=actor, now=now, compliance=compliance,
        memo="matured" if matured else "early withdrawal",
    )  # fmt: skip
