"""Tiers on the rolling window (the one place deciding them) and the points summary."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from branchdesk.core.ids import new_id
from branchdesk.customers import service as customers
from branchdesk.customers.models import Customer
from branchdesk.identity.principal import Principal
from branchdesk.loyalty import rules
from branchdesk.loyalty.config import Programme
from branchdesk.loyalty.models import (
    PointsAccount,
    PointsEntry,
)
from branchdesk.loyalty.schemas import (
    EntryLine,
    LoyaltySummary,
)
from branchdesk.loyalty.service.ledger import (
    LOT_KINDS,
    _chunks,
    _remaining,
)

# --- tiers --------------------------------------------------------------------------------------


def window_points(
    db: Session, customer_ids: list[uuid.UUID], *, today: date, days: int
) -> dict[uuid.UUID, int]:
    """Points earned in the ``days`` up to ``today`` (earn entries only), per customer."""
    since = today - timedelta(days=days)
    totals: dict[uuid.UUID, int] = {}
    for chunk in _chunks(customer_ids):
        for customer_id, points in db.execute(
            select(PointsEntry.customer_id, func.sum(PointsEntry.points))
            .where(
                PointsEntry.customer_id.in_(chunk),
                PointsEntry.kind == "earn",
                PointsEntry.earned_on > since,
                PointsEntry.earned_on <= today,
            )
            .group_by(PointsEntry.customer_id)
        ):
            totals[customer_id] = int(points or 0)
    return totals


def evaluate_tiers(
    db: Session,
    *,
    today: date,
    now: datetime,
    customer_ids: Iterable[uuid.UUID],
    programme: Programme | None = None,
) -> dict[uuid.UUID, str]:
    """The one place that decides tiers: each customer's tier from the points earned in the
    rolling window; a tier with ``queue_priority`` sets the customer's service tier to vip,
    leaving one resets it to standard. Returns customer id -> tier code."""
    programme = programme or Programme()
    ids = sorted(set(customer_ids))
    points = window_points(db, ids, today=today, days=programme.window_days)
    previous: dict[uuid.UUID, PointsAccount] = {}
    for chunk in _chunks(ids):
        for account in db.execute(
            select(PointsAccount).where(PointsAccount.customer_id.in_(chunk))
        ).scalars():
            previous[account.customer_id] = account
    result: dict[uuid.UUID, str] = {}
    promote: list[uuid.UUID] = []
    demote: list[uuid.UUID] = []
    for customer_id in ids:
        tier = rules.tier_for(points.get(customer_id, 0), programme.tiers)
        result[customer_id] = tier.code
        found = previous.get(customer_id)
        if found is not None:
            account = found
        else:
            account = PointsAccount(
                id=new_id(), customer_id=customer_id, balance=0, window_points=0, updated_at=now
            )
            db.add(account)
        before = programme.tier(account.tier)
        if account.tier != tier.code:
            account.tier, account.tier_since = tier.code, today
        account.window_points = points.get(customer_id, 0)
        if tier.queue_priority:
            promote.append(customer_id)
        elif before is not None and before.queue_priority:
            demote.append(customer_id)
    for service_tier, who in (("vip", promote), ("standard", demote)):
        for chunk in _chunks(who):
            db.execute(
                update(Customer)
                .where(Customer.id.in_(chunk), Customer.service_tier != service_tier)
                .values(service_tier=service_tier, updated_at=now)
                .execution_options(synchronize_session="fetch")
            )
    db.flush()
    return result


# --- reading ------------------------------------------------------------------------------------


def summary(
    db: Session, *, customer_id: uuid.UUID, today: date, programme: Programme | None = None
) -> LoyaltySummary:
    """Balance, points expiring soon, tier and progress, the last entries (no errors)."""
    programme = programme or Programme()
    account = db.execute(
        select(PointsAccount).where(PointsAccount.customer_id == customer_id)
    ).scalar_one_or_none()
    by = today + timedelta(days=programme.expiring_soon_days)
    lots = db.execute(
        select(PointsEntry.expires_on, _remaining())  # type: ignore[call-overload]  # labelled expression
        .where(
            PointsEntry.customer_id == customer_id,
            PointsEntry.kind.in_(LOT_KINDS),
            PointsEntry.points > 0,
        )
        .order_by(PointsEntry.expires_on)
    ).all()
    open_lots = [(day, int(left)) for day, left in lots if left > 0]
    soon = sum(left for day, left in open_lots if day is not None and day <= by)
    window = window_points(db, [customer_id], today=today, days=programme.window_days).get(
        customer_id, 0
    )
    tier = programme.tier(account.tier) if account else None
    upcoming, needed = rules.next_tier(window, programme.tiers)
    if upcoming is None:
        progress = 100
    else:
        floor = rules.tier_for(window, programme.tiers).min_points
        span = max(upcoming.min_points - floor, 1)
        progress = max(0, min(100, (window - floor) * 100 // span))
    recent = [
        EntryLine(
            kind=e.kind,
            points=e.points,
            rule_code=e.rule_code,
            earned_on=e.earned_on,
            expires_on=e.expires_on,
        )
        for e in db.execute(
            select(PointsEntry)
            .where(PointsEntry.customer_id == customer_id)
            .order_by(PointsEntry.created_at.desc(), PointsEntry.earned_on.desc())
            .limit(10)
        ).scalars()
    ]
    return LoyaltySummary(
        balance=account.balance if account else 0,
        expiring_soon=soon,
        expiring_by=by,
        next_expiry_on=next((day for day, _left in open_lots if day is not None), None),
        tier=tier.code if tier else None,
        tier_since=account.tier_since if account else None,
        benefits=list(tier.benefits) if tier else [],
        window_points=window,
        next_tier=upcoming.code if upcoming else None,
        points_to_next_tier=needed,
        progress_percent=progress,
        recent=recent,
    )


def customer_summary(
    db: Session, *, actor: Principal, customer_number: str, today: date
) -> LoyaltySummary:
    """Raises Forbidden (no customer.view) or NotFound (unknown or outside the branches)."""
    customer = customers.get_customer(db, customer_number=customer_number, actor=actor)
    return summary(db, customer_id=customer.id, today=today)


def customer_ids_with_accounts(db: Session) -> list[uuid.UUID]:
    return list(db.execute(select(PointsAccount.customer_id)).scalars())
