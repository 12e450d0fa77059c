"""The programme's settings as data: tiers with their benefits, the rolling window, expiry.

Earning rules and rewards are rows (``loyalty_earning_rules``, ``loyalty_rewards``) because the
bank changes them per campaign; tiers change rarely and are code-reviewed here. Exchange rates to
the base currency are the analytics pipeline's (one table of rates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from branchdesk.analytics.config import PipelineConfig
from branchdesk.core.money import CURRENCY_EXPONENTS


@dataclass(frozen=True)
class Tier:
    """``min_points`` earned in the window reach the tier; ``benefits`` are codes shown (and
    translated) in the customer 360 and the portal; ``queue_priority`` gives the queue's vip
    service tier."""

    code: str
    min_points: int
    benefits: tuple[str, ...] = ()
    queue_priority: bool = False


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("platinum", 2_000, ("priority_queue", "fee_waiver", "dedicated_manager"), True),
    Tier("gold", 500, ("fee_waiver", "birthday_gift")),
    Tier("silver", 100, ("birthday_gift",)),
    Tier("basic", 0),
)


def _fx_ppm() -> dict[str, int]:
    rates = PipelineConfig()
    return {c: rates.factor_ppm(c, CURRENCY_EXPONENTS) for c in rates.fx_rates}


@dataclass(frozen=True)
class Programme:
    tiers: tuple[Tier, ...] = DEFAULT_TIERS  # highest first
    window_days: int = 365  # tier: points earned in the last window_days
    expiry_months: int = 24  # a lot expires this many months after it was earned
    expiring_soon_days: int = 60  # shown as "expiring soon"
    base_currency: str = "CNY"
    # base-currency minor units per million minor units of each currency
    fx_ppm: dict[str, int] = field(default_factory=_fx_ppm)

    def tier(self, code: str | None) -> Tier | None:
        return next((t for t in self.tiers if t.code == code), None)
