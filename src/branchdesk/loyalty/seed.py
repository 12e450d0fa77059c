"""Demo data of the loyalty programme: the standard rules, a campaign rule, the starter rewards,
points earned from the demo's postings and surveys, tiers, and a few redemptions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.ids import new_id
from branchdesk.loyalty import service
from branchdesk.loyalty.defaults import install_standard_rules, install_starter_rewards
from branchdesk.loyalty.models import EarningRule, PointsAccount


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
