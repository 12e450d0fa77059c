"""Counter transactions: the teller panel, identifying the customer, posting through the ledger,
receipts.

Every money movement is one call of a ``ledger.service`` function (the one implementation of the
money rules); this module only checks that the ticket is being served at the counter, that the
account belongs to the served customer, turns the form's amount into minor units, and records
the link ticket <-> posting <-> counter <-> teller.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, Counter
from branchdesk.core.config import SUPPORTED_LOCALES
from branchdesk.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.money import CURRENCY_EXPONENTS, parse_major
from branchdesk.core.references import next_value
from branchdesk.core.security import Signer
from branchdesk.customers import service as customers
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger import service as ledger
from branchdesk.ledger.errors import CurrencyMismatch, IdempotencyKeyReused, InvalidAmount
from branchdesk.ledger.models import (
    Account,
    AccountHolder,
    AccountStatus,
    AccountType,
    Posting,
    PostingKind,
)
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import PrePostingCheck
from branchdesk.queue import service as queue
from branchdesk.queue.models import Ticket, TicketState
from branchdesk.teller.models import CounterIdentification, CounterPosting
from branchdesk.teller.schemas import (
    AccountOption,
    CounterForm,
    CounterOutcome,
    LinkedPosting,
    Receipt,
    ReceiptLine,
    TellerPanel,
    TermOption,
)

ACTIONS = (
    "deposit",
    "withdrawal",
    "transfer",
    "remittance",
    "time-deposit",
    "time-deposit-withdrawal",
    "fee",
)
# Product rule of the counter's time deposits: term in months -> annual rate in basis points.
TIME_DEPOSIT_TERMS: dict[int, int] = {3: 120, 6: 145, 12: 165, 24: 175}
KEY_PREFIX = "counter-"
PLACEMENT = "time_deposit_placement"  # the receipt's name for the transfer into a new deposit


def new_form_key() -> str:
    """A fresh idempotency key for one rendered form: a double submit sends the same key."""
    return KEY_PREFIX + uuid.uuid4().hex


def mask_account(number: str) -> str:
    """Receipt form of an account number: only the last four digits."""
    return "****" + number[-4:] if len(number) > 4 else "****"


def parse_amount(text: str, currency: str) -> int:
    """``1,000.50`` in major units -> minor units, exactly. Raises InvalidAmount."""
    try:
        return parse_major(text, currency)
    except ValueError as exc:
        raise InvalidAmount(str(exc), field="amount") from exc


# --- the served ticket and its customer ---------------------------------------------------------


def _require_counter_staff(actor: Principal, branch: Branch, *extra: Permission) -> None:
    actor.require(Permission.queue_serve, branch.id)
    for permission in extra:
        actor.require(permission, branch.id)


def _parse_ticket_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise RuleViolation("no ticket chosen", field="ticket_id") from exc


def _served_ticket(db: Session, *, ticket_id: uuid.UUID, counter: Counter) -> Ticket:
    """Raises NotFound, or Conflict when the ticket is not being served at this counter."""
    ticket = queue.get_ticket(db, ticket_id)
    if ticket.branch_id != counter.branch_id:
        raise NotFound("no such ticket")
    if ticket.state != TicketState.serving or ticket.counter_id != counter.id:
        raise Conflict("start serving the ticket at this counter first", code="ticket_not_serving")
    return ticket


def _ticket_customer(db: Session, ticket: Ticket) -> tuple[Customer | None, str | None]:
    if ticket.customer_id is not None:
        return db.get(Customer, ticket.customer_id), "ticket"
    found = db.get(CounterIdentification, ticket.id)
    if found is None:
        return None, None
    return db.get(Customer, found.customer_id), found.method


def _customer_accounts(db: Session, *, customer: Customer, actor: Principal) -> list[Account]:
    accounts = db.execute(
        select(Account)
        .join(AccountHolder, AccountHolder.account_id == Account.id)
        .where(AccountHolder.customer_id == customer.id, Account.status != AccountStatus.closed)
        .order_by(Account.type, Account.currency, Account.number)
        .execution_options(populate_existing=True)
    ).scalars()
    return [a for a in accounts if actor.sees_branch(a.branch_id)]


def _option(account: Account) -> AccountOption:
    return AccountOption(
        number=account.number,
        masked=mask_account(account.number),
        type=account.type,
        currency=account.currency,
        status=account.status,
        balance_minor=account.balance_minor,
        term_months=account.term_months,
        rate_bps=account.rate_bps,
        matures_on=account.matures_on,
    )


def _linked(db: Session, ticket_id: uuid.UUID) -> list[LinkedPosting]:
    rows = db.execute(
        select(CounterPosting, Posting)
        .join(Posting, Posting.id == CounterPosting.posting_id)
        .where(CounterPosting.ticket_id == ticket_id)
        .order_by(CounterPosting.created_at.desc(), CounterPosting.reference.desc())
        .execution_options(populate_existing=True)
    ).all()
    return [
        LinkedPosting(
            posting_id=posting.id,
            reference=link.reference,
            action=link.action,
            kind=PLACEMENT if link.action == "time-deposit" else posting.kind,
            status=posting.status,
            amount_minor=posting.amount_minor,
            currency=posting.currency,
            hold_reason=posting.hold_reason,
            decision_note=posting.decision_note,
            created_at=link.created_at,
        )
        for link, posting in rows
    ]


def console_panel(
    db: Session,
    *,
    actor: Principal,
    branch: Branch,
    counter: Counter,
    ticket_id: uuid.UUID | None,
) -> TellerPanel | None:
    """What the console shows for the ticket at the counter; None without a ticket or when the
    actor may not see accounts (the console itself stays usable)."""
    if ticket_id is None or not actor.can(Permission.account_view, branch.id):
        return None
    ticket = queue.get_ticket(db, ticket_id)
    customer, method = _ticket_customer(db, ticket)
    accounts = _customer_accounts(db, customer=customer, actor=actor) if customer else []
    panel = TellerPanel(
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        is_serving=ticket.state == TicketState.serving and ticket.counter_id == counter.id,
        can_post=actor.can(Permission.posting_create, branch.id),
        customer_number=customer.customer_number if customer else None,
        customer_name=customer.full_name if customer else None,
        identified_by=method,
        accounts=[_option(a) for a in accounts if a.type != AccountType.time_deposit],
        time_deposits=[_option(a) for a in accounts if a.type == AccountType.time_deposit],
        postings=_linked(db, ticket.id),
        keys={action: new_form_key() for action in ACTIONS},
        currencies=sorted(CURRENCY_EXPONENTS),
        terms=[TermOption(months=m, rate_bps=r) for m, r in TIME_DEPOSIT_TERMS.items()],
    )
    return panel


def identify_customer(
    db: Session,
    *,
    actor: Principal,
    branch: Branch,
    counter: Counter,
    ticket_id: str,
    query: str,
    pii: Signer,
    now: datetime,
) -> Customer:
    """By customer number, else by ID document number. Raises Forbidden, NotFound, Conflict
    (ticket not served here, or it names its customer already), RuleViolation (nothing typed,
    no such customer, several customers share the ID number)."""
    _require_counter_staff(actor, branch, Permission.customer_view)
    ticket = _served_ticket(db, ticket_id=_parse_ticket_id(ticket_id), counter=counter)
    if ticket.customer_id is not None:
        raise Conflict("the ticket already names its customer", code="customer_on_ticket")
    text = query.strip()
    if not text:
        raise RuleViolation("type a customer number or an ID number", field="query")
    method = "customer_number"
    try:
        customer = customers.get_customer(db, customer_number=text, actor=actor)
    except NotFound:
        method = "id_number"
        numbers = list(
            db.execute(
                select(Customer.customer_number).where(
                    Customer.id_number_hash == pii.lookup_hash(text)
                )
            ).scalars()
        )
        if len(numbers) != 1:
            detail = "no such customer" if not numbers else "several customers match"
            raise RuleViolation(detail, field="query", code="customer_not_found") from None
        try:
            customer = customers.get_customer(db, customer_number=numbers[0], actor=actor)
        except NotFound as exc:
            raise RuleViolation(
                "no such customer", field="query", code="customer_not_found"
            ) from exc
    found = db.get(CounterIdentification, ticket.id)
    if found is None:
        db.add(
            CounterIdentification(
                ticket_id=ticket.id,
                customer_id=customer.id,
                method=method,
                identified_by_id=actor.user_id,
                identified_at=now,
            )
        )
    else:
        found.customer_id = customer.id
        found.method = method
        found.identified_by_id = actor.user_id
        found.identified_at = now
    db.flush()
    append_audit(
        db,
        action="counter.identify",
        object_type="ticket",
        object_id=ticket.id,
        branch_id=branch.id,
        now=now,
        actor=actor,
        detail={"method": method, "counter": counter.code},
    )
    return customer


# --- transactions -------------------------------------------------------------------------------


def _own_account(db: Session, *, customer: Customer, number: str, field: str) -> Account:
    """An account the served customer holds. Raises RuleViolation."""
    if not number:
        raise RuleViolation("choose an account", field=field)
    account = db.execute(
        select(Account)
        .join(AccountHolder, AccountHolder.account_id == Account.id)
        .where(AccountHolder.customer_id == customer.id, Account.number == number)
    ).scalar_one_or_none()
    if account is None:
        raise RuleViolation(
            "not an account of the customer being served", field=field, code="not_own_account"
        )
    return account


def _check_currency(account: Account, currency: str) -> None:
    """Raises CurrencyMismatch before the ledger sees legs in two currencies (which it refuses
    only as an unbalanced posting, without naming the cause)."""
    if account.currency != currency:
        raise CurrencyMismatch(
            f"account {account.number} holds {account.currency}, not {currency}", field="currency"
        )


def _reference(db: Session, *, branch: Branch, now: datetime) -> str:
    day = catalog.business_day(branch, now)
    number = next_value(db, f"counter_posting:{branch.code}:{day.isoformat()}")
    return f"{branch.code}-{day:%Y%m%d}-{number:05d}"


def _link(
    db: Session,
    *,
    result: ledger.PostingResult,
    ticket: Ticket,
    counter: Counter,
    branch: Branch,
    customer: Customer,
    actor: Principal,
    action: str,
    now: datetime,
) -> CounterOutcome:
    posting = result.posting
    link = db.execute(
        select(CounterPosting).where(CounterPosting.posting_id == posting.id)
    ).scalar_one_or_none()
    if link is None:
        link = CounterPosting(
            id=new_id(),
            posting_id=posting.id,
            reference=_reference(db, branch=branch, now=now),
            ticket_id=ticket.id,
            counter_id=counter.id,
            teller_id=actor.user_id,
            branch_id=branch.id,
            customer_id=customer.id,
            action=action,
            created_at=now,
        )
        db.add(link)
        db.flush()
    return CounterOutcome(
        posting_id=posting.id,
        reference=link.reference,
        status=posting.status,
        is_replay=result.is_replay,
    )


def _place_time_deposit(
    db: Session,
    *,
    actor: Principal,
    branch: Branch,
    customer: Customer,
    source: Account,
    data: CounterForm,
    key: str,
    compliance: PrePostingCheck,
    now: datetime,
) -> ledger.PostingResult:
    """Open a time deposit at the product rate and fund it from the source account."""
    currency = data.currency or source.currency
    amount = parse_amount(data.amount, currency)
    try:
        months = int(data.term_months)
    except ValueError:
        months = 0
    if months not in TIME_DEPOSIT_TERMS:
        raise RuleViolation("choose one of the offered terms", field="term_months")
    earlier = db.execute(select(Posting).where(Posting.idempotency_key == key)).scalar_one_or_none()
    if earlier is not None:
        legs = {leg["account_id"]: int(leg["amount_minor"]) for leg in earlier.legs}
        same = (
            earlier.kind == PostingKind.transfer
            and earlier.amount_minor == amount
            and earlier.currency == currency
            and legs.get(str(source.id)) == -amount
        )
        if not same:
            raise IdempotencyKeyReused(
                "this idempotency key was used for a different request", field="idempotency_key"
            )
        return ledger.PostingResult(earlier, is_replay=True)
    deposit = ledger.open_account(
        db,
        data=AccountOpen(
            customer_number=customer.customer_number,
            type=AccountType.time_deposit,
            currency=currency,
            branch_code=branch.code,
            term_months=months,
            rate_bps=TIME_DEPOSIT_TERMS[months],
        ),
        actor=actor,
        now=now,
    )
    return ledger.post_transfer(
        db, from_account=source.number, to_account=deposit.number, amount_minor=amount,
        currency=currency, idempotency_key=key, actor=actor, now=now, compliance=compliance,
        branch_code=branch.code, memo=f"time deposit {months} months",
    )  # fmt: skip


def counter_transaction(
    db: Session,
    *,
    actor: Principal,
    branch: Branch,
    counter: Counter,
    action: str,
    data: CounterForm,
    compliance: PrePostingCheck,
    now: datetime,
) -> CounterOutcome:
    """One console form through the ledger. Raises Forbidden, NotFound, Conflict (ticket not
    served here), RuleViolation (form), and every refusal of the ledger's service."""
    if action not in ACTIONS:
        raise NotFound(f"no counter transaction {action!r}")
    _require_counter_staff(actor, branch, Permission.posting_create, Permission.account_view)
    if action == "time-deposit":
        actor.require(Permission.account_open, branch.id)
    ticket = _served_ticket(db, ticket_id=_parse_ticket_id(data.ticket_id), counter=counter)
    customer, _method = _ticket_customer(db, ticket)
    if customer is None:
        raise RuleViolation("identify the customer first", field="query", code="no_customer")
    key = data.idempotency_key
    if not key:
        raise RuleViolation("the form has no idempotency key; reload it", field="idempotency_key")
    source = _own_account(db, customer=customer, number=data.account, field="account")
    currency = data.currency or source.currency
    _check_currency(source, currency)
    result: ledger.PostingResult
    if action in ("deposit", "withdrawal"):
        post = ledger.post_deposit if action == "deposit" else ledger.post_withdrawal
        result = post(
            db, account=source.number, amount_minor=parse_amount(data.amount, currency),
            currency=currency, idempotency_key=key, actor=actor, now=now, compliance=compliance,
            branch_code=branch.code, counter_code=counter.code, memo=data.memo,
        )  # fmt: skip
    elif action == "transfer":
        target = data.other_account or data.to_account
        if not target:
            raise RuleViolation("choose or type the account to credit", field="to_account")
        credited = db.execute(
            select(Account).where(Account.number == target, Account.system_key.is_(None))
        ).scalar_one_or_none()
        if credited is not None:
            _check_currency(credited, currency)
        result = ledger.post_transfer(
            db, from_account=source.number, to_account=target,
            amount_minor=parse_amount(data.amount, currency), currency=currency,
            idempotency_key=key, actor=actor, now=now, compliance=compliance,
            branch_code=branch.code, memo=data.memo,
        )  # fmt: skip
    elif action == "remittance":
        if not data.beneficiary:
            raise RuleViolation("name the beneficiary, bank and account", field="beneficiary")
        country = data.country.upper()
        if not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise RuleViolation("the bank's country as two letters, e.g. HK", field="country")
        result = ledger.post_remittance(
            db, from_account=source.number, beneficiary=data.beneficiary,
            amount_minor=parse_amount(data.amount, currency), currency=currency,
            idempotency_key=key, actor=actor, now=now, compliance=compliance,
            branch_code=branch.code, memo=data.memo, country=country,
        )  # fmt: skip
    elif action == "fee":
        result = ledger.post_fee(
            db, account=source.number, amount_minor=parse_amount(data.amount, currency),
            currency=currency, idempotency_key=key, actor=actor, now=now, compliance=compliance,
            branch_code=branch.code, memo=data.memo or "counter service fee",
        )  # fmt: skip
    elif action == "time-deposit":
        result = _place_time_deposit(
            db, actor=actor, branch=branch, customer=customer, source=source, data=data,
            key=key, compliance=compliance, now=now,
        )  # fmt: skip
    else:  # time-deposit-withdrawal: the source is the time deposit
        payee = _own_account(db, customer=customer, number=data.to_account, field="to_account")
        result = ledger.withdraw_time_deposit(
            db, account=source.number, to_account=payee.number, idempotency_key=key,
            actor=actor, now=now, compliance=compliance, branch_code=branch.code,
        )  # fmt: skip
    return _link(
        db, result=result, ticket=ticket, counter=counter, branch=branch, customer=customer,
        actor=actor, action=action, now=now,
    )  # fmt: skip


# --- receipts -----------------------------------------------------------------------------------


def _leg_customer(db: Session, posting: Posting) -> Customer | None:
    for leg in posting.legs:
        account = db.get(Account, uuid.UUID(leg["account_id"]))
        if account is not None and account.customer_id is not None:
            return db.get(Customer, account.customer_id)
    return None


def receipt(
    db: Session, *, actor: Principal, posting_id: uuid.UUID, fallback_locale: str
) -> Receipt:
    """The printable receipt of a posting, for staff of its branch. Raises NotFound, Forbidden."""
    actor.require(Permission.account_view)
    posting = db.get(Posting, posting_id, populate_existing=True)
    if posting is None:
        raise NotFound("no such posting")
    if not actor.sees_branch(posting.branch_id):
        raise Forbidden("this branch is outside your assignment")
    branch = db.get(Branch, posting.branch_id)
    assert branch is not None
    link = db.execute(
        select(CounterPosting).where(CounterPosting.posting_id == posting.id)
    ).scalar_one_or_none()
    customer = (
        db.get(Customer, link.customer_id)
        if link is not None and link.customer_id is not None
        else _leg_customer(db, posting)
    )
    counter = db.get(Counter, link.counter_id) if link is not None else None
    maker = db.get(User, posting.maker_id) if posting.maker_id else None
    lines = []
    for leg in sorted(posting.legs, key=lambda leg: int(leg["amount_minor"])):
        account = db.get(Account, uuid.UUID(leg["account_id"]))
        if account is None or account.system_key is not None:
            continue  # the bank's own accounts (till, suspense, fee income) are not shown
        amount = int(leg["amount_minor"])
        lines.append(
            ReceiptLine(
                label="debit" if amount < 0 else "credit",
                masked=mask_account(account.number),
                currency=account.currency,
                amount_minor=amount,
            )
        )
    locale = customer.preferred_locale if customer is not None else fallback_locale
    if locale not in SUPPORTED_LOCALES:
        locale = fallback_locale
    zone = ZoneInfo(branch.timezone)
    at = (posting.posted_at or posting.created_at).astimezone(zone)
    return Receipt(
        posting_id=posting.id,
        reference=link.reference if link is not None else "P-" + posting.id.hex[-12:].upper(),
        kind=PLACEMENT if link is not None and link.action == "time-deposit" else posting.kind,
        status=posting.status,
        amount_minor=posting.amount_minor,
        currency=posting.currency,
        lines=lines,
        beneficiary=posting.beneficiary,
        memo=posting.memo,
        branch_names=(branch.name_zh_hant, branch.name_zh_hans, branch.name_en),
        branch_code=branch.code,
        counter_code=counter.code if counter is not None else None,
        teller=maker.display_name if maker is not None else None,
        customer_name=customer.full_name if customer is not None else None,
        locale=locale,
        local_time=at.isoformat(sep=" ", timespec="seconds"),
        timezone=branch.timezone,
        hold_reason=posting.hold_reason,
    )


def serving_ticket_id(db: Session, *, counter: Counter) -> uuid.UUID | None:
    """The ticket being served (else called) at the counter, earliest first."""
    row = db.execute(
        select(Ticket.id)
        .where(
            Ticket.counter_id == counter.id,
            Ticket.state.in_([TicketState.serving, TicketState.called]),
        )
        .order_by(Ticket.state.desc(), Ticket.called_at, Ticket.number)
        .limit(1)
    ).first()
    return row[0] if row else None
