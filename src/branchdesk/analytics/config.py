"""Configuration of the nightly pipeline: rates, cut-offs, care rules, products.

Everything here is data: change a value and the next run uses it. ``PIPELINE_VERSION`` is
written with every run (together with the recommender's ``RULE_VERSION``) and changes whenever
a rule below changes meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

PIPELINE_VERSION = "crm-pipeline-2026.11.1"


@dataclass(frozen=True)
class EarningRule:
    """Unused: earning rules are rows of ``branchdesk.loyalty`` now. Kept (with an empty
    ``PipelineConfig.earning_rules``) only because extract.py still writes this table."""

    code: str
    source: str  # "entry" (ledger entries of posting kind) or "survey" (survey answered)
    kind: str  # posting kind for entries; "" for surveys
    unit_minor: int  # 0: fixed points per event
    points: int


@dataclass(frozen=True)
class Product:
    """A product the recommender may suggest (R1-R5, minimum assets in base major units)."""

    code: str
    name: str
    category: str
    risk_level: int
    min_assets: int
    account_type: str = ""  # held when the customer has an active account of this type


@dataclass(frozen=True)
class PipelineConfig:
    base_currency: str = "CNY"
    # one unit of the currency in base currency units
    fx_rates: dict[str, Decimal] = field(
        default_factory=lambda: {
            "CNY": Decimal("1"),
            "HKD": Decimal("0.92"),
            "TWD": Decimal("0.225"),
            "USD": Decimal("7.2"),
            "EUR": Decimal("7.8"),
        }
    )
    # asset tiers, base minor units: private >= private_from, affluent >= affluent_from
    affluent_from_minor: int = 50_000_000  # 500,000.00
    private_from_minor: int = 600_000_000  # 6,000,000.00
    rfm_window_days: int = 365
    clusters: int = 4
    seed: int = 20261129
    recommendations: int = 3
    # no risk assessment stored: the most conservative tolerance (only R1 products qualify)
    default_risk_tolerance: str = "C1"
    # loyalty earning and tiers live in branchdesk.loyalty (rules as rows, tiers in its config)
    earning_rules: tuple[EarningRule, ...] = ()
    # care rules
    birthday_days: int = 7
    id_expiry_days: int = 30
    balance_drop_percent: int = 50
    balance_drop_min_minor: int = 5_000_000  # 50,000.00 in base currency
    detractor_days: int = 7
    complaint_closed_days: int = 14
    dormant_days: int = 180
    products: tuple[Product, ...] = (
        Product("CURRENT", "Current account", "deposit", 1, 0, "current"),
        Product("SAVINGS", "Savings account", "deposit", 1, 0, "savings"),
        Product("TIME_DEPOSIT", "Time deposit", "deposit", 1, 10_000, "time_deposit"),
        Product("CREDIT_CARD", "Credit card", "card", 1, 0),
        Product("MONEY_MARKET", "Money market fund", "fund", 1, 50_000),
        Product("BOND_FUND", "Bond fund", "fund", 2, 100_000),
        Product("BALANCED_FUND", "Balanced fund", "fund", 3, 200_000),
        Product("EQUITY_FUND", "Equity fund", "fund", 4, 500_000),
    )

    def factor_ppm(self, currency: str, exponents: dict[str, int]) -> int:
        """Base minor units per million minor units of ``currency``."""
        base_exp = exponents[self.base_currency]
        rate = self.fx_rates[currency] * Decimal(10) ** (base_exp - exponents[currency])
        return int(rate * 1_000_000)
