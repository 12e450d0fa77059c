"""A small constructed bank for the pipeline tests: every figure below is worked out by hand.

As of 2026-03-01 (RFM window: after 2025-03-01; a month ago: 2026-01-30):

- ``rich`` (created 2024-01-15, consent): savings CNY 100,000.00 (2024-02-01), +600,000.00
  (2025-12-01), -50,000.00 (2026-02-25); current CNY +10,000.00 (2026-02-28).
  Assets 660,000.00 (affluent), a month ago 700,000.00; window: 3 entries, 660,000.00,
  last 1 day ago; tenure 25 months; points 100 + 600 + 10 (610 in the tier window: gold).
- ``hk`` (created 2025-06-01): savings HKD 100,000.00 on 2025-07-01 = 92,000.00 CNY (mass);
  recency 243 days, dormant; a remote-queue ticket and a detractor survey on 2026-02-27:
  points 92 + 20 = 112 (silver).
- ``new`` (created 2026-02-01): no accounts; birthday 03-05, ID expires 2026-03-20; a
  complaint closed on 2026-02-25 (follow-up call due 2026-03-08).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.complaints.models import Case
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.feedback.models import SurveyResponse
from branchdesk.ledger.models import Account, Entry, Posting
from branchdesk.loyalty.defaults import install_standard_rules
from tests.factories import make_branch, make_customer, make_service_type, make_ticket

AS_OF = date(2026, 3, 1)
_counter = iter(range(1, 10**9))


def at(day: date) -> datetime:
    return datetime.combine(day, time(3, 0), tzinfo=UTC)


def open_account(
    db: Session, branch: Branch, customer: Customer, *, type: str, currency: str, on: date
) -> Account:
    n = next(_counter)
    account = Account(
        id=new_id(), number=f"T{uuid.uuid4().int % 10**18:018d}{n % 10}", type=type,
        currency=currency, status="active", branch_id=branch.id, customer_id=customer.id,
        balance_minor=0, last_entry_seq=0, opened_at=at(on), updated_at=at(on),
    )  # fmt: skip
    db.add(account)
    db.flush()
    return account


def book(db: Session, account: Account, amount_minor: int, on: date, kind: str = "") -> None:
    kind = kind or ("deposit" if amount_minor > 0 else "withdrawal")
    key = str(new_id())
    posting = Posting(
        id=new_id(), idempotency_key=key, request_hash=hashlib.sha256(key.encode()).hexdigest(),
        kind=kind, status="posted", branch_id=account.branch_id, amount_minor=abs(amount_minor),
        currency=account.currency, legs=[], created_at=at(on), posted_at=at(on),
    )  # fmt: skip
    db.add(posting)
    db.flush()
    account.last_entry_seq += 1
    account.balance_minor += amount_minor
    db.add(
        Entry(
            id=new_id(), seq=account.last_entry_seq, posting_id=posting.id,
            account_id=account.id, amount_minor=amount_minor, currency=account.currency,
            balance_after_minor=account.balance_minor, booked_at=at(on), posting_kind=kind,
        )
    )  # fmt: skip
    db.flush()


@dataclass
class Bank:
    branch: Branch
    service: ServiceType
    rich: Customer
    hk: Customer
    new: Customer
    hk_savings: Account


def build_bank(db: Session, signer: Signer) -> Bank:
    install_standard_rules(db, now=at(AS_OF))
    branch = make_branch(db)
    service = make_service_type(db)
    rich = make_customer(db, signer, home_branch_id=branch.id, has_marketing_consent=True,
                         created_at=at(date(2024, 1, 15)), birth_on=date(1975, 8, 1))  # fmt: skip
    savings = open_account(db, branch, rich, type="savings", currency="CNY", on=date(2024, 1, 15))
    book(db, savings, 10_000_000, date(2024, 2, 1))
    book(db, savings, 60_000_000, date(2025, 12, 1))
    book(db, savings, -5_000_000, date(2026, 2, 25))
    current = open_account(db, branch, rich, type="current", currency="CNY", on=date(2025, 12, 1))
    book(db, current, 1_000_000, date(2026, 2, 28))
    hk = make_customer(db, signer, home_branch_id=branch.id, created_at=at(date(2025, 6, 1)),
                       birth_on=date(1960, 10, 10))  # fmt: skip
    hk_savings = open_account(db, branch, hk, type="savings", currency="HKD", on=date(2025, 6, 1))
    book(db, hk_savings, 10_000_000, date(2025, 7, 1))
    ticket = make_ticket(db, branch, service, customer_id=hk.id, channel="remote",
                         business_on=date(2026, 2, 27), state="served")  # fmt: skip
    db.add(
        SurveyResponse(
            id=new_id(), ticket_id=ticket.id, branch_id=branch.id, region="",
            service_type_id=service.id, business_on=date(2026, 2, 27), csat=2, nps=3,
            comment="", locale="en", is_detractor=True, answered_at=at(date(2026, 2, 27)),
        )
    )  # fmt: skip
    new = make_customer(db, signer, home_branch_id=branch.id, created_at=at(date(2026, 2, 1)),
                        birth_on=date(1990, 3, 5), id_expires_on=date(2026, 3, 20))  # fmt: skip
    closed = at(date(2026, 2, 25))
    db.add(
        Case(
            id=new_id(), reference=f"CMP-T-{uuid.uuid4().hex[:12]}", channel="counter",
            subject="Queue", body="Waited", severity="normal", is_complex=False, state="closed",
            branch_id=branch.id, customer_id=new.id, jurisdiction="CN",
            policy_code="cn-banking-2020", policy_version=1, received_at=at(date(2026, 2, 10)),
            closed_at=closed, resolved_at=closed, root_cause="", resolution="",
            created_at=closed, updated_at=closed,
        )
    )  # fmt: skip
    db.flush()
    return Bank(branch, service, rich, hk, new, hk_savings)


def build_rfm_ladder(db: Session, signer: Signer) -> tuple[Branch, list[Customer]]:
    """Five customers: the i-th (1..5) has i deposits of 1,000.00, the last 10*(6-i) days
    before as-of, so their R, F and M quintiles are all i."""
    branch = make_branch(db)
    people = []
    for i in range(1, 6):
        person = make_customer(db, signer, home_branch_id=branch.id,
                               created_at=at(date(2025, 1, 1)))  # fmt: skip
        account = open_account(db, branch, person, type="savings", currency="CNY",
                               on=date(2025, 1, 1))  # fmt: skip
        last = date.fromordinal(AS_OF.toordinal() - 10 * (6 - i))
        for j in range(i):
            book(db, account, 100_000, date.fromordinal(last.toordinal() - j))
        people.append(person)
    return branch, people
