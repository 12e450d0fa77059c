"""Follow-up visits (定期回訪) after events: account opened, loan disbursed, big deposit.

The ``care.followups`` job looks back ``FOLLOW_UP_LOOKBACK_DAYS`` over the operational tables
and makes one care task per event (``dedupe_key`` names the event), due a few days after it,
for the customer's relationship manager (or the home branch when there is none). Tasks of the
nightly run (birthdays, closed complaints, detractors, ...) land in the same worklist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.analytics.models import CareTask
from branchdesk.care.rules import BIG_DEPOSIT_MINOR, FOLLOW_UP_LOOKBACK_DAYS, follow_up_due
from branchdesk.core.ids import new_id
from branchdesk.core.money import format_money
from branchdesk.customers.models import Customer
from branchdesk.ledger.models import (
    CUSTOMER_TYPES,
    Account,
    Entry,
    Posting,
    PostingKind,
    PostingStatus,
)
from branchdesk.loans.models import Loan


@dataclass(frozen=True, slots=True)
class FollowUpEvent:
    rule: str
    customer_id: uuid.UUID
    reference: str
    happened_on: date
    branch_id: uuid.UUID | None
    detail: str


def _events(db: Session, since: datetime) -> list[FollowUpEvent]:
    found: list[FollowUpEvent] = []
    for a in db.execute(
        select(Account).where(
            Account.customer_id.is_not(None),
            Account.type.in_([str(t) for t in CUSTOMER_TYPES]),
            Account.opened_at >= since,
        )
    ).scalars():
        assert a.customer_id is not None  # filtered above
        found.append(
            FollowUpEvent("account_opened", a.customer_id, str(a.id), a.opened_at.date(),
                          a.branch_id, f"{a.type} account {a.number} opened")
        )  # fmt: skip
    for loan in db.execute(select(Loan).where(Loan.disbursed_on >= since.date())).scalars():
        found.append(
            FollowUpEvent("loan_disbursed", loan.customer_id, str(loan.id), loan.disbursed_on,
                          loan.branch_id, f"loan {loan.number} disbursed")
        )  # fmt: skip
    rows = db.execute(
        select(Posting.id, Posting.amount_minor, Posting.currency, Posting.posted_at,
               Posting.branch_id, Account.customer_id, Account.number)
        .join(Entry, Entry.posting_id == Posting.id)
        .join(Account, Account.id == Entry.account_id)
        .where(
            Posting.kind == PostingKind.deposit,
            Posting.status == PostingStatus.posted,
            Posting.posted_at >= since,
            Account.customer_id.is_not(None),
            Entry.amount_minor > 0,
        )
    ).all()  # fmt: skip
    for posting_id, amount, currency, posted_at, branch_id, customer_id, number in rows:
        threshold = BIG_DEPOSIT_MINOR.get(currency)
        if threshold is None or amount < threshold or posted_at is None or customer_id is None:
            continue
        found.append(
            FollowUpEvent("big_deposit", customer_id, str(posting_id), posted_at.date(), branch_id,
                          f"deposit of {format_money(amount, currency)} to {number}")
        )  # fmt: skip
    return found


def make_follow_ups(db: Session, *, now: datetime) -> int:
    """Add one task per recent event that has none; returns how many were added."""
    events = _events(db, now - timedelta(days=FOLLOW_UP_LOOKBACK_DAYS))
    if not events:
        return 0
    keys = {f"{e.rule}:{e.customer_id}:{e.reference}": e for e in events}
    existing: set[str] = set()
    wanted = sorted(keys)
    for start in range(0, len(wanted), 500):
        existing.update(
            db.execute(
                select(CareTask.dedupe_key).where(
                    CareTask.dedupe_key.in_(wanted[start : start + 500])
                )
            ).scalars()
        )
    new = [(key, e) for key, e in sorted(keys.items()) if key not in existing]
    people = {
        c.id: c
        for c in db.execute(
            select(Customer).where(Customer.id.in_(list({e.customer_id for _k, e in new})))
        ).scalars()
    }
    for key, e in new:
        customer = people[e.customer_id]
        db.add(
            CareTask(
                id=new_id(), customer_id=e.customer_id, rule_code=e.rule, dedupe_key=key,
                due_on=follow_up_due(e.rule, e.happened_on),
                branch_id=customer.home_branch_id or e.branch_id,
                assignee_id=customer.relationship_manager_id, status="open",
                detail=e.detail[:300], run_id=None, created_at=now,
            )
        )  # fmt: skip
    db.flush()
    return len(new)
