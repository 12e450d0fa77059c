"""A constructed day of queue traffic with known figures (see test_kpi.py for the arithmetic)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.complaints.models import Case as ComplaintCase
from branchdesk.core.ids import new_id
from branchdesk.identity.models import User
from branchdesk.identity.roles import Role
from tests.factories import NOW, make_branch, make_service_type, make_ticket, make_user, offer

DAY = date(2026, 3, 2)
WAITS = (60, 120, 300, 600, 900, 1200, 1800, 2400, 3000, 3600)  # seconds; the last is a no-show
SERVICE = (100, 200, 300, 400, 500, 600, 700, 800, 900)  # seconds of the nine completed
_refs = itertools.count(1)


@dataclass
class World:
    branch: Branch
    other: Branch
    service: ServiceType
    teller: User


def make_case(
    db: Session, branch: Branch, *, received: datetime, resolved: datetime | None, due: datetime
) -> ComplaintCase:
    row = ComplaintCase(
        id=new_id(), reference=f"CMP-2026-8{next(_refs):05d}", channel="counter", subject="Q",
        body="Waited", severity="normal", is_complex=False,
        state="resolved" if resolved else "acknowledged", branch_id=branch.id, jurisdiction="CN",
        policy_code="cn-banking-2020", policy_version=1, received_at=received,
        resolved_at=resolved, final_due_at=due, root_cause="", resolution="",
        created_at=received, updated_at=received,
    )  # fmt: skip
    db.add(row)
    db.flush()
    return row


def build_day(db: Session) -> World:
    """12 tickets at one branch on DAY (10 called, 1 left before the call, 1 still waiting)
    and 3 complaints (1 answered in time, 1 late, 1 open past due)."""
    branch = make_branch(db, region="")
    other = make_branch(db, region="")
    service = make_service_type(db, target_max_wait_minutes=15)
    offer(db, branch, service)
    teller = make_user(db, Role.teller, (branch,), display_name="Teller Wang")
    start = NOW
    for n, wait in enumerate(WAITS):
        arrived = start + timedelta(minutes=n)
        called = arrived + timedelta(seconds=wait)
        if n < len(SERVICE):
            make_ticket(
                db, branch, service, business_on=DAY, state="completed", issued_at=arrived,
                queued_at=arrived, checked_in_at=arrived, called_at=called, started_at=called,
                finished_at=called + timedelta(seconds=SERVICE[n]), served_by_id=teller.id,
            )  # fmt: skip
        else:
            make_ticket(
                db, branch, service, business_on=DAY, state="no_show", issued_at=arrived,
                queued_at=arrived, checked_in_at=arrived, called_at=called,
            )  # fmt: skip
    make_ticket(db, branch, service, business_on=DAY, state="cancelled")
    make_ticket(db, branch, service, business_on=DAY, state="waiting")
    # a ticket of another branch and one of the day after stay out of the branch's figures
    make_ticket(db, other, service, business_on=DAY, state="cancelled")
    due = start + timedelta(hours=5)
    make_case(db, branch, received=start, resolved=start + timedelta(hours=1), due=due)
    make_case(db, branch, received=start, resolved=start + timedelta(hours=6), due=due)
    make_case(db, branch, received=start, resolved=None, due=due)
    return World(branch=branch, other=other, service=service, teller=teller)
