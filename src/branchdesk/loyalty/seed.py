"""Demo data of the loyalty programme: the standard rules, a campaign rule, the starter rewards,
points earned from the demo's postings and surveys, ten months of points history for the most
active few (so they reach the queue-priority tier), tiers, and a few redemptions."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.ids import new_id
from branchdesk.customers.models import Customer
from branchdesk.loyalty import service
from branchdesk.loyalty.config import Programme
from branchdesk.loyalty.defaults import install_standard_rules, install_starter_rewards
from branchdesk.loyalty.models import EarningRule, PointsAccount
from branchdesk.loyalty.service.ledger import _add_lot

PRIORITY_SHARE_PCT = 4  # the most active 4% of the demo's customers reach the priority tier
HISTORY_MONTHS = 10  # their extra points are spread over this many past months


def seed_demo_loyalty(db: Session, *, epoch: datetime, now: datetime) -> dict[str, int]:
    install_standard_rules(db, now=epoch)
    db.add(
        EarningRule(
            id=new_id(), code="spring-td-double", source="posting", posting_kind=None,
            product="time_deposit", campaign="spring", unit_minor=100_000, points=1,
            multiplier_bp=20_000, valid_from=epoch.date(), valid_to=date(epoch.year, 6, 30),
            is_active=True, created_at=epoch,
        )
    )  # fmt: skip
    rewards = install_starter_rewards(db, now=epoch, since=epoch.date())
    today = now.date()
    earned = service.earn_from_sources(db, until=today, now=now)
    earned += _priority_history(db, since=epoch.date(), today=today, now=now)
    ids = service.customer_ids_with_accounts(db)
    service.evaluate_tiers(db, today=today, now=now, customer_ids=ids)
    richest = db.execute(
        select(PointsAccount.customer_id)
        .where(PointsAccount.balance >= 50)
        .order_by(PointsAccount.balance.desc(), PointsAccount.customer_id)
        .limit(4)
    ).scalars()
    redeemed = 0
    for n, customer_id in enumerate(list(richest)):
        service.redeem(
            db, customer_id=customer_id, reward_code="COFFEE", idempotency_key=f"demo-{n}",
            channel=("counter", "portal")[n % 2], today=today, now=now,
        )  # fmt: skip
        redeemed += 1
    return {
        "loyalty rewards": rewards,
        "loyalty points entries": earned,
        "loyalty redemptions": redeemed,
    }


def _priority_history(db: Session, *, since: date, today: date, now: datetime) -> int:
    """Earn entries, one a month over the past months (not before the demo's epoch), that lift
    the most active customers (most points earned in the window, then customer number) to the
    queue-priority tier; the tier, and so the vip service tier, is then set by
    ``evaluate_tiers`` alone. Returns the entries added."""
    programme = Programme()
    target = min(t.min_points for t in programme.tiers if t.queue_priority) * 11 // 10
    customers = db.execute(select(func.count()).select_from(Customer)).scalar_one()
    ids = service.customer_ids_with_accounts(db)
    points = service.window_points(db, ids, today=today, days=programme.window_days)
    numbers: dict[uuid.UUID, str] = dict(
        db.execute(select(Customer.id, Customer.customer_number)).all()
    )
    ranked = sorted(ids, key=lambda c: (-points.get(c, 0), numbers[c]))
    added = 0
    for customer_id in ranked[: max(1, customers * PRIORITY_SHARE_PCT // 100)]:
        missing = max(0, target - points.get(customer_id, 0))
        for month in range(HISTORY_MONTHS):
            share = missing // HISTORY_MONTHS + (1 if month < missing % HISTORY_MONTHS else 0)
            if share > 0:
                _add_lot(
                    db, customer_id=customer_id, kind="earn", points=share, source_kind="demo",
                    source_id=new_id(), rule_code="demo-history",
                    earned_on=max(since, today - timedelta(days=30 * (month + 1))),
                    programme=programme,
                    now=now,
                )  # fmt: skip
                added += 1
    db.flush()
    return added
