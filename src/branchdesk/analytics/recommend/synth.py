"""Synthetic customers, products and holdings for evaluating the recommender.

The generator simulates a bank month by month for six years before the as-of date and for
the 90 days after it. Each month every active customer may open each product they do not
hold and that the rules allow (risk within tolerance, assets above the minimum, a valid
assessment for R2+). The monthly chance of opening follows a logistic model of:

* age (each product has an age at which it is most popular, e.g. pensions at 55, personal
  loans at 30), income, assets and city tier;
* risk appetite: headroom between the customer's tolerance and the product's risk;
* product ladders and cross-selling: holding a bond fund makes an equity fund likelier,
  a mortgage brings term life insurance, a classic card leads to a platinum card;
* recent activity (customers who just opened something open more) and an unobserved
  per-customer engagement;
* slow popularity trends per product (money-market and gold rising, structured notes
  falling), so that recent popularity differs from all-time popularity.

Files written: ``customers.csv``, ``products.csv``, ``holdings.csv`` (openings on or before
the as-of date), ``truth.csv`` (openings in the 90 days after), with the optional customer
columns ``risk_assessed_on`` and ``marketing_consent`` (see :mod:`.io`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from branchdesk.analytics.recommend.io import EPOCH, day_number

DEFAULT_AS_OF = date(2025, 6, 30)
HISTORY_MONTHS = 72
FUTURE_MONTHS = 3
WINDOW_DAYS = 90


@dataclass(frozen=True)
class ProductSpec:
    """One synthetic product and the shape of its demand."""

    code: str
    name: str
    category: str
    risk: int
    min_assets: float
    base: float  # logit of the monthly opening chance for an average customer
    age_peak: float
    age_width: float
    income: float = 0.0
    assets: float = 0.0
    urban: float = 0.0
    female: float = 0.0
    trend: float = 0.0  # logit change per year, relative to the as-of date
    after: dict[str, float] = field(default_factory=dict)  # boost when holding these


# The catalogue: code | name | category | risk | min assets | base logit of a monthly opening.
_PRODUCTS = """
SAV01  | Savings account              | deposit        | R1 |         0 | -4.0
TD01   | 12-month time deposit        | deposit        | R1 |         0 | -5.4
FXD01  | Foreign currency deposit     | deposit        | R2 |         0 | -6.0
MMF01  | Money market fund            | fund           | R1 |         0 | -6.2
BF01   | Global bond fund             | fund           | R2 |     10000 | -6.0
BAL01  | Balanced fund                | fund           | R3 |     10000 | -6.1
EQ01   | Equity index fund            | fund           | R4 |     30000 | -6.2
EQ02   | Emerging markets equity fund | fund           | R5 |    100000 | -6.6
GOLD01 | Gold savings account         | precious_metal | R3 |         0 | -6.4
SN01   | Structured note              | structured     | R4 |   1000000 | -5.2
PB01   | Private banking portfolio    | wealth         | R3 |   3000000 | -5.0
CC01   | Classic credit card          | card           | R1 |         0 | -4.9
CC02   | Platinum credit card         | card           | R1 |     50000 | -6.6
PL01   | Personal loan                | loan           | R1 |         0 | -6.4
ML01   | Mortgage loan                | loan           | R1 |         0 | -6.6
INS01  | Term life insurance          | insurance      | R1 |         0 | -6.5
INS02  | Savings insurance            | insurance      | R2 |         0 | -6.2
INS03  | Investment-linked insurance  | insurance      | R3 |     50000 | -6.8
PEN01  | Retirement pension plan      | pension        | R2 |         0 | -6.3
EDU01  | Education savings plan       | insurance      | R1 |         0 | -6.6
"""
# Demand shape: code | age peak | age width | income | assets | urban | female | trend per year |
# logit boosts when the customer holds these products (the ladders and cross-sells).
_DEMAND = """
SAV01  | 40 | 40 |    0 |    0 |    0 |    0 |     0 |
TD01   | 60 | 22 |  0.2 |  0.6 |    0 |    0 |     0 | SAV01:0.6
FXD01  | 45 | 18 |  0.4 |  0.4 |  0.3 |    0 |     0 |
MMF01  | 38 | 20 |  0.3 |  0.3 |  0.2 |    0 |   0.3 | SAV01:0.3
BF01   | 52 | 18 |  0.2 |  0.6 |    0 |    0 |     0 | MMF01:0.8 TD01:0.5
BAL01  | 45 | 16 |  0.3 |  0.5 |  0.2 |    0 |     0 | BF01:0.9 MMF01:0.4
EQ01   | 35 | 13 |  0.4 |  0.4 |  0.3 | -0.2 |  0.15 | BAL01:1 BF01:0.4
EQ02   | 40 | 12 |  0.3 |  0.6 |  0.3 | -0.2 |     0 | EQ01:1.3
GOLD01 | 50 | 18 |  0.1 |  0.3 |    0 |    0 |  0.35 | FXD01:0.7
SN01   | 55 | 15 |  0.3 |  0.5 |    0 |    0 |  -0.2 | EQ01:0.8 FXD01:0.5
PB01   | 58 | 15 |  0.3 |  0.6 |    0 |    0 |     0 | SN01:0.9 BAL01:0.5
CC01   | 27 | 10 |  0.2 | -0.2 |  0.2 |    0 |     0 |
CC02   | 40 | 14 |  0.8 |  0.3 |  0.2 |    0 |     0 | CC01:1.4
PL01   | 31 |  9 | -0.3 | -0.7 |    0 |    0 |     0 | CC01:0.7
ML01   | 35 |  8 |  0.7 |  0.2 |  0.3 |    0 |     0 |
INS01  | 38 | 11 |  0.2 |    0 |    0 |  0.1 |     0 | ML01:1.5
INS02  | 50 | 14 |  0.3 |  0.3 |    0 |  0.3 |     0 | INS01:0.6 TD01:0.4
INS03  | 42 | 14 |  0.4 |  0.3 |    0 |  0.1 |  -0.1 | INS02:1.2 BAL01:0.4
PEN01  | 56 |  8 |  0.4 |  0.3 |    0 |    0 |     0 | INS02:0.7
EDU01  | 36 |  7 |  0.3 |    0 |    0 |  0.3 |     0 | INS01:0.5
"""


def _parse_catalogue() -> tuple[ProductSpec, ...]:
    def cells(table: str) -> dict[str, list[str]]:
        rows = [[cell.strip() for cell in line.split("|")] for line in table.strip().splitlines()]
        return {row[0]: row[1:] for row in rows}

    demand = cells(_DEMAND)
    specs = []
    for code, (name, category, risk, minimum, base) in cells(_PRODUCTS).items():
        *shape, after = demand[code]
        peak, width, income, assets, urban, female, trend = (float(x) for x in shape)
        boosts = {k: float(v) for k, v in (item.split(":") for item in after.split())}
        specs.append(
            ProductSpec(
                code, name, category, int(risk[1]), float(minimum), float(base),
                peak, width, income, assets, urban, female, trend, boosts,
            )
        )  # fmt: skip
    return tuple(specs)


CATALOGUE: tuple[ProductSpec, ...] = _parse_catalogue()


@dataclass(frozen=True)
class SyntheticBank:
    """What :func:`generate` produced, as plain rows ready for CSV."""

    customers: list[dict[str, str]]
    products: list[dict[str, str]]
    holdings: list[tuple[str, str, str]]
    truth: list[tuple[str, str, str]]


def _iso(day: int) -> str:
    return (EPOCH + timedelta(days=int(day))).isoformat()


def generate(seed: int, n_customers: int = 20_000, as_of: date = DEFAULT_AS_OF) -> SyntheticBank:
    """Simulate a bank; deterministic for a given seed, size and as-of date."""
    rng = np.random.default_rng(seed)
    n = n_customers
    specs = CATALOGUE
    p = len(specs)
    as_of_day = day_number(as_of)

    age = np.clip(rng.normal(45, 16, n), 18, 88)
    birth_day = (as_of_day - age * 365.25 - rng.uniform(0, 365, n)).astype(np.int64)
    female = rng.random(n) < 0.5
    tier = rng.choice([1, 2, 3, 4], size=n, p=[0.2, 0.3, 0.3, 0.2])
    log_income = (
        10.0
        + np.select([tier == 1, tier == 2, tier == 4], [0.35, 0.15, -0.15], 0.0)
        - 0.0006 * (age - 45) ** 2
        + rng.normal(0, 0.5, n)
    )
    income = np.round(np.exp(log_income), -1)
    log_assets = log_income + 1.2 + 0.045 * (age - 18) + rng.normal(0, 1.1, n)
    assets = np.round(np.exp(log_assets), -2)
    z_income = (log_income - log_income.mean()) / log_income.std()
    z_assets = (log_assets - log_assets.mean()) / log_assets.std()
    tolerance = np.clip(
        np.round(3.0 - 0.035 * (age - 45) + 0.45 * z_assets + rng.normal(0, 0.9, n)), 1, 5
    ).astype(np.int64)
    tenure = np.minimum((age - 18) * 12, rng.exponential(80, n)).astype(np.int64)
    join_day = as_of_day - (tenure * 30.44).astype(np.int64)
    engagement = rng.normal(0, 0.6, n)
    expired = rng.random(n) < 0.08
    assessed_day = np.where(
        expired, as_of_day - rng.integers(366, 900, n), as_of_day - rng.integers(0, 330, n)
    )
    consent = rng.random(n) < 0.95

    index = {spec.code: j for j, spec in enumerate(specs)}
    risk = np.array([spec.risk for spec in specs])
    minimum = np.array([spec.min_assets for spec in specs])
    ladder = np.zeros((p, p))
    for j, spec in enumerate(specs):
        for code, boost in spec.after.items():
            ladder[index[code], j] = boost
    static = (
        np.array([spec.base for spec in specs])[None, :]
        + z_income[:, None] * np.array([spec.income for spec in specs])[None, :]
        + z_assets[:, None] * np.array([spec.assets for spec in specs])[None, :]
        + (2.5 - tier)[:, None] * np.array([spec.urban for spec in specs])[None, :]
        + np.where(female, 1.0, -1.0)[:, None] * np.array([spec.female for spec in specs])
        + engagement[:, None]
        + np.where(risk >= 2, 0.35 * np.minimum(tolerance[:, None] - risk[None, :], 2), 0.0)
    )
    allowed = (risk[None, :] <= tolerance[:, None]) & (assets[:, None] >= minimum[None, :])
    peak = np.array([spec.age_peak for spec in specs])
    width = np.array([spec.age_width for spec in specs])
    trend = np.array([spec.trend for spec in specs])

    held = np.zeros((n, p), dtype=np.bool_)
    last_open = np.full(n, -(10**6), dtype=np.int64)
    opened: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    start = as_of_day - HISTORY_MONTHS * 30
    # Customers start their relationship with a savings account (or a card when young).
    first = np.where((age < 30) & (rng.random(n) < 0.3), index["CC01"], index["SAV01"])
    first_day = np.maximum(join_day, start - 1)
    held[np.arange(n), first] = True
    opened.append((np.arange(n), first, first_day))
    for month in range(HISTORY_MONTHS + FUTURE_MONTHS):
        day0 = start + month * 30
        active = join_day <= day0
        years = (day0 - as_of_day) / 365.25
        age_now = age + years
        logit = (
            static
            - ((age_now[:, None] - peak[None, :]) / width[None, :]) ** 2
            + held.astype(np.float64) @ ladder
            + np.where(day0 - last_open < 90, 0.5, 0.0)[:, None]
            + trend[None, :] * years
        )
        can = allowed & ~held & active[:, None]
        if day0 >= as_of_day:
            valid = assessed_day >= as_of_day - 365
            can &= (risk[None, :] == 1) | valid[:, None]
        chance = 1.0 / (1.0 + np.exp(-logit))
        hit = can & (rng.random((n, p)) < chance)
        who, what = np.nonzero(hit)
        when = day0 + rng.integers(0, 30, len(who))
        when = np.where(day0 >= as_of_day, np.maximum(when, as_of_day + 1), when)
        when = np.minimum(when, np.where(day0 < as_of_day, as_of_day, as_of_day + WINDOW_DAYS))
        held[who, what] = True
        np.maximum.at(last_open, who, when)
        opened.append((who, what, when))

    ids = [f"C{i + 1:07d}" for i in range(n)]
    holdings: list[tuple[str, str, str]] = []
    truth: list[tuple[str, str, str]] = []
    for who, what, when in opened:
        for c, j, d in zip(who.tolist(), what.tolist(), when.tolist(), strict=True):
            row = (ids[c], specs[j].code, _iso(d))
            (holdings if d <= as_of_day else truth).append(row)
    customers = [
        {
            "customer_id": ids[i],
            "birth_date": _iso(int(birth_day[i])),
            "gender": "F" if female[i] else "M",
            "city_tier": str(int(tier[i])),
            "monthly_income": f"{income[i]:.0f}",
            "total_assets": f"{assets[i]:.0f}",
            "risk_tolerance": f"C{int(tolerance[i])}",
            "tenure_months": str(int(tenure[i])),
            "risk_assessed_on": _iso(int(assessed_day[i])),
            "marketing_consent": "yes" if consent[i] else "no",
        }
        for i in range(n)
    ]
    products = [
        {
            "product_code": spec.code,
            "name": spec.name,
            "category": spec.category,
            "risk_level": f"R{spec.risk}",
            "min_assets": f"{spec.min_assets:.0f}",
        }
        for spec in specs
    ]
    holdings.sort()
    truth.sort()
    return SyntheticBank(customers, products, holdings, truth)


def write(bank: SyntheticBank, out_dir: Path) -> dict[str, Path]:
    """Write the four CSV files into ``out_dir``; returns their paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        name: out_dir / f"{name}.csv" for name in ("customers", "products", "holdings", "truth")
    }
    for name, rows in (("customers", bank.customers), ("products", bank.products)):
        with paths[name].open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    for name, events in (("holdings", bank.holdings), ("truth", bank.truth)):
        with paths[name].open("w", newline="", encoding="utf-8") as handle:
            plain = csv.writer(handle)
            plain.writerow(["customer_id", "product_code", "opened_at"])
            plain.writerows(events)
    return paths
