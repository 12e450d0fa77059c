"""A small branch for counter transactions: a counter serving a ticket of a customer with
accounts, the teller and the manager, and helpers to read and submit the console's forms."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter
from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.models import AuditEntry, User
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import Account, AccountType, Entry, Posting
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.queue.models import QueueSettings, Ticket
from branchdesk.teller.models import CounterIdentification, CounterPosting
from tests.factories import (
    NOW,
    browser_session,
    make_branch,
    make_counter,
    make_customer,
    make_service_type,
    make_ticket,
    make_user,
    offer,
    principal,
)

ALLOW = AllowAll()


@dataclass
class Desk:
    branch: Branch
    counter: Counter
    teller: User
    manager: User
    customer: Customer
    current: Account
    savings: Account
    ticket: Ticket
    signer: Signer

    @property
    def console(self) -> str:
        return f"/console/{self.branch.code}/{self.counter.code}"

    def action(self, name: str) -> str:
        return f"/teller/{self.branch.code}/{self.counter.code}/{name}"


def open_account(
    db: Session, desk_branch: Branch, teller: User, customer: Customer, **overrides: Any
) -> Account:
    values: dict[str, Any] = {
        "customer_number": customer.customer_number,
        "type": AccountType.current,
        "currency": "CNY",
        "branch_code": desk_branch.code,
    }
    values.update(overrides)
    return ledger.open_account(db, data=AccountOpen(**values), actor=principal(db, teller), now=NOW)


def fund(db: Session, teller: User, account: Account, amount_minor: int, key: str) -> None:
    ledger.post_deposit(
        db, account=account.number, amount_minor=amount_minor, currency=account.currency,
        idempotency_key=key, actor=principal(db, teller), now=NOW, compliance=ALLOW,
    )  # fmt: skip


def make_desk(
    db: Session,
    signer: Signer,
    *,
    currency: str = "CNY",
    locale: str = "zh-Hant",
    on_ticket: bool = True,
    state: str = "serving",
) -> Desk:
    branch = make_branch(db)
    service = make_service_type(db)
    offer(db, branch, service)
    counter = make_counter(db, branch, service, code="T1", status="open")
    db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=False, updated_at=NOW))
    teller = make_user(db, Role.teller, (branch,), display_name="櫃員小林")
    manager = make_user(db, Role.branch_manager, (branch,))
    customer = make_customer(db, signer, home_branch_id=branch.id, preferred_locale=locale)
    current = open_account(db, branch, teller, customer, currency=currency)
    savings = open_account(db, branch, teller, customer, currency=currency, type="savings")
    fund(db, teller, current, 1_000_000, f"fund-{current.number}")
    fund(db, teller, savings, 500_000, f"fund-{savings.number}")
    ticket = make_ticket(
        db, branch, service, business_on=business_day(branch, utcnow()), state=state,
        counter_id=counter.id, called_at=NOW, started_at=NOW if state == "serving" else None,
        customer_id=customer.id if on_ticket else None, served_by_id=teller.id,
    )  # fmt: skip
    db.flush()
    return Desk(branch, counter, teller, manager, customer, current, savings, ticket, signer)


def login(client: TestClient, signer: Signer, user: User, language: str = "en") -> str:
    """Log the browser in; returns the CSRF token for forms."""
    cookie, csrf = browser_session(signer, user)
    client.cookies.clear()
    client.cookies.set("bd_session", cookie)
    client.cookies.set("bd_lang", language)
    return csrf


def form_key(page: str, form_id: str) -> str:
    """The idempotency key the server put in one rendered form."""
    start = page.index(f'id="{form_id}"')
    match = re.search(r'name="idempotency_key" value="([^"]+)"', page[start:])
    assert match is not None, form_id
    return html.unescape(match.group(1))


def submit(
    client: TestClient, desk: Desk, csrf: str, action: str, page: str | None = None, **fields: str
) -> Response:
    """Fill in the console form of ``action`` as rendered (with its idempotency key)."""
    if page is None:
        page = client.get(desk.console).text
    data = {
        "csrf_token": csrf,
        "ticket_id": str(desk.ticket.id),
        "idempotency_key": form_key(page, f"form-{action}"),
        **fields,
    }
    return client.post(desk.action(action), data=data, follow_redirects=False)


def balance(db: Session, account: Account) -> int:
    return int(
        db.execute(select(Account.balance_minor).where(Account.id == account.id)).scalar_one()
    )


def counts(db: Session) -> dict[str, int]:
    def count(model: Any) -> int:
        return int(db.execute(select(func.count()).select_from(model)).scalar_one())

    return {
        "postings": count(Posting),
        "entries": count(Entry),
        "links": count(CounterPosting),
        "identifications": count(CounterIdentification),
        "accounts": count(Account),
    }


def refusals(db: Session, action: str) -> list[AuditEntry]:
    return list(
        db.execute(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.outcome == "refused")
        ).scalars()
    )
