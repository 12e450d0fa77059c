"""The programme's standard earning rules and a starter rewards catalogue, as data.

``install_standard_rules`` puts the rules in a database that has none of those codes (the demo
seed and tests call it; a bank edits them afterwards through the API).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.ids import new_id
from branchdesk.loyalty.models import EarningRule, Reward

SINCE = date(2000, 1, 1)

# code, source, posting kind, product, campaign, unit_minor, points, multiplier_bp
STANDARD_RULES: tuple[tuple[str, str, str | None, str | None, str | None, int, int, int], ...] = (
    ("deposit", "posting", "deposit", None, None, 100_000, 1, 10_000),  # 1 per 1,000.00
    ("transfer", "posting", "transfer", None, None, 100_000, 1, 10_000),
    ("remittance", "posting", "remittance", None, None, 100_000, 2, 10_000),
    ("survey", "survey", None, None, None, 0, 20, 10_000),  # 20 per answered survey
)

# code, names (zh-Hant, zh-Hans, en), points cost, stock
STARTER_REWARDS: tuple[tuple[str, str, str, str, int, int], ...] = (
    ("COFFEE", "咖啡券", "咖啡券", "Coffee voucher", 50, 500),
    ("UMBRELLA", "品牌雨傘", "品牌雨伞", "Branded umbrella", 300, 100),
    (
        "FEE_WAIVER",
        "匯款手續費豁免一次",
        "汇款手续费豁免一次",
        "One remittance fee waived",
        200,
        1000,
    ),
    ("LOUNGE", "貴賓室體驗", "贵宾室体验", "VIP lounge visit", 1500, 20),
)


def install_standard_rules(db: Session, *, now: datetime) -> int:
    """Add the standard rules whose codes are missing; returns how many were added."""
    have = set(db.execute(select(EarningRule.code)).scalars())
    added = 0
    for code, source, kind, product, campaign, unit, points, multiplier in STANDARD_RULES:
        if code in have:
            continue
        db.add(
            EarningRule(
                id=new_id(), code=code, source=source, posting_kind=kind, product=product,
                campaign=campaign, unit_minor=unit, points=points, multiplier_bp=multiplier,
                valid_from=SINCE, valid_to=None, is_active=True, created_at=now,
            )
        )  # fmt: skip
        added += 1
    db.flush()
    return added


def install_starter_rewards(db: Session, *, now: datetime, since: date = SINCE) -> int:
    have = set(db.execute(select(Reward.code)).scalars())
    added = 0
    for code, hant, hans, en, cost, stock in STARTER_REWARDS:
        if code in have:
            continue
        db.add(
            Reward(
                id=new_id(), code=code, name_zh_hant=hant, name_zh_hans=hans, name_en=en,
                points_cost=cost, stock=stock, valid_from=since, valid_to=None, is_active=True,
                created_at=now,
            )
        )  # fmt: skip
        added += 1
    db.flush()
    return added
