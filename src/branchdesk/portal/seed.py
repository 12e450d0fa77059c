"""Demo seed: every demo customer who holds an account gets an active online-banking login."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from branchdesk.core.ids import new_id
from branchdesk.core.security import hash_password
from branchdesk.customers.models import Customer
from branchdesk.ledger.models import Account, AccountHolder
from branchdesk.portal.models import LoginStatus, PortalLogin

DEMO_PORTAL_PASSWORD = "branchdesk-demo"


def enrol_demo_customers(
    db: Session, *, now: datetime, password: str = DEMO_PORTAL_PASSWORD
) -> int:
    """Active logins (one shared password hash) for customers with an account and a phone or
    e-mail, who have no login yet. Returns how many were enrolled."""
    holders = select(AccountHolder.customer_id).union(
        select(Account.customer_id).where(Account.customer_id.is_not(None))
    )
    enrolled = select(PortalLogin.customer_id)
    ids = list(
        db.execute(
            select(Customer.id).where(
                Customer.id.in_(holders),
                Customer.id.not_in(enrolled),
                or_(Customer.phone != "", Customer.email != ""),
            )
        ).scalars()
    )
    if not ids:
        return 0
    password_hash = hash_password(password)
    db.execute(
        insert(PortalLogin),
        [
            {
                "id": new_id(),
                "customer_id": customer_id,
                "password_hash": password_hash,
                "status": LoginStatus.active,
                "failed_count": 0,
                "auth_epoch": 0,
                "daily_limits": {},
                "created_at": now,
                "updated_at": now,
                "activated_at": now,
            }
            for customer_id in ids
        ],
    )
    return len(ids)
