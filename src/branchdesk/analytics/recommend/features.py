"""Customer x product features at a point in time, from the input files only.

A :class:`Snapshot` is the state of the bank on one day: what every customer held, how
recently they opened something, and how popular each product was in the 90 days before.
Only holdings opened on or before that day are used, so a snapshot at a past window start
never sees the openings it is asked to predict, and the snapshot at the as-of date never
sees anything after it.

Customer attributes other than age and tenure (income, assets, tolerance, city tier) exist
only as of the file's date; past snapshots reuse them as they are. This is a known,
documented approximation: the files carry no history of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from branchdesk.analytics.recommend.io import (
    BoolArray,
    Customers,
    FloatArray,
    Holdings,
    IntArray,
    Products,
)
from branchdesk.analytics.recommend.rules import held_matrix

WINDOW_DAYS = 90
MAX_HOLDING_COLUMNS = 60
MAX_CATEGORICAL = 250
NO_OPENING_DAYS = 3650.0

Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Catalogue:
    """Product-side arrays shared by every snapshot."""

    category: IntArray  # category index per product
    n_categories: int
    risk: IntArray
    log_min_assets: FloatArray
    holding_columns: IntArray  # products whose "held" flag becomes a feature column
    ladder_below: BoolArray  # [q, p]: q is a lower-risk product of p's category


def catalogue(products: Products, holdings: Holdings, as_of_day: int) -> Catalogue:
    """Index categories and pick the most held products (at as-of) as holding-flag columns."""
    names = sorted(set(products.categories))
    category = np.array([names.index(c) for c in products.categories], dtype=np.int64)
    known = holdings.opened_day <= as_of_day
    counts = np.bincount(holdings.product[known], minlength=len(products))
    order = np.argsort(-counts, kind="stable")[:MAX_HOLDING_COLUMNS]
    risk = products.risk_level
    ladder = (category[:, None] == category[None, :]) & (risk[:, None] < risk[None, :])
    return Catalogue(
        category=category,
        n_categories=len(names),
        risk=risk,
        log_min_assets=np.log1p(products.min_assets),
        holding_columns=np.sort(order).astype(np.int64),
        ladder_below=ladder,
    )


@dataclass(frozen=True)
class Snapshot:
    """State of every customer and product on ``day`` (holdings opened on or before it)."""

    day: int
    held: BoolArray  # customers x products
    active: BoolArray  # customer relationship had started by ``day``
    n_held: FloatArray
    days_since_open: FloatArray
    opened_90: FloatArray
    opened_365: FloatArray
    recent_rate: FloatArray  # per product: openings in the 90 days before / active customers
    share: FloatArray  # per product: share of all holdings so far


def snapshot(customers: Customers, products: Products, holdings: Holdings, day: int) -> Snapshot:
    """Build the state of the bank on ``day`` without looking past it."""
    n, p = len(customers), len(products)
    known = holdings.opened_day <= day
    who, what, when = holdings.customer[known], holdings.product[known], holdings.opened_day[known]
    held = held_matrix(holdings, n, p, day)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, who, when)
    opened_before = np.zeros(n, dtype=np.bool_)
    opened_before[who] = True
    join_day = day_number_of_join(customers, day)
    active = (join_day <= day) | opened_before
    recent = when > day - WINDOW_DAYS
    days_since = np.where(opened_before, np.minimum(day - last, NO_OPENING_DAYS), NO_OPENING_DAYS)
    recent_counts = np.bincount(what[recent], minlength=p).astype(np.float64)
    all_counts = np.bincount(what, minlength=p).astype(np.float64)
    return Snapshot(
        day=day,
        held=held,
        active=active,
        n_held=held.sum(axis=1).astype(np.float64),
        days_since_open=days_since.astype(np.float64),
        opened_90=np.bincount(who[recent], minlength=n).astype(np.float64),
        opened_365=np.bincount(who[when > day - 365], minlength=n).astype(np.float64),
        recent_rate=recent_counts / max(1, int(active.sum())),
        share=all_counts / max(1.0, float(all_counts.sum())),
    )


def day_number_of_join(customers: Customers, as_of_day: int) -> IntArray:
    """Approximate first day of the relationship from tenure at the file's date."""
    join: IntArray = as_of_day - np.round(customers.tenure_months * 30.44).astype(np.int64)
    return join


def _gender_code(values: list[str]) -> FloatArray:
    codes = {"m": 0.0, "f": 1.0}
    return np.array([codes.get(v[:1].lower(), 2.0) for v in values], dtype=np.float64)


@dataclass(frozen=True)
class CustomerBase:
    """Customer columns that do not depend on the snapshot day."""

    birth_day: FloatArray
    gender: FloatArray
    city_tier: FloatArray
    log_income: FloatArray
    log_assets: FloatArray
    tolerance: FloatArray
    tenure_days_at_file: FloatArray


def customer_base(customers: Customers) -> CustomerBase:
    """Convert the customer table once into float columns."""
    return CustomerBase(
        birth_day=customers.birth_day.astype(np.float64),
        gender=_gender_code(customers.gender),
        city_tier=customers.city_tier.astype(np.float64),
        log_income=np.log1p(customers.monthly_income),
        log_assets=np.log1p(customers.total_assets),
        tolerance=customers.risk_tolerance.astype(np.float64),
        tenure_days_at_file=customers.tenure_months.astype(np.float64) * 30.44,
    )


def feature_names(cat: Catalogue, product_codes: list[str]) -> list[str]:
    """Column names of :func:`pair_features`, in order."""
    names = [
        "product",
        "category",
        "age",
        "gender",
        "city_tier",
        "log_income",
        "log_assets",
        "tolerance",
        "tenure_days",
        "n_held",
        "days_since_open",
        "opened_90",
        "opened_365",
        "risk",
        "log_min_assets",
        "risk_headroom",
        "assets_over_min",
        "held_same_category",
        "held_lower_rung",
        "product_recent_rate",
        "product_share",
    ]
    names += [f"held_{product_codes[q]}" for q in cat.holding_columns]
    names += [f"held_category_{c}" for c in range(cat.n_categories)]
    return names


def categorical_mask(cat: Catalogue, n_products: int) -> list[bool] | None:
    """Which columns a tree model may treat as categorical (None when too many levels)."""
    if n_products > MAX_CATEGORICAL or cat.n_categories > MAX_CATEGORICAL:
        return None
    n_columns = len(feature_names(cat, [""] * n_products))
    return [True, True] + [False] * (n_columns - 2)


def pair_features(
    base: CustomerBase,
    cat: Catalogue,
    snap: Snapshot,
    file_day: int,
    customer: IntArray,
    product: IntArray,
) -> Float32Array:
    """One row per (customer, product) pair as seen on ``snap.day``."""
    held = snap.held[customer]
    held_float = held.astype(np.float32)
    category_one_hot = np.zeros((len(cat.category), cat.n_categories), dtype=np.float32)
    category_one_hot[np.arange(len(cat.category)), cat.category] = 1.0
    held_by_category = held_float @ category_one_hot
    lower_rung = np.einsum("ij,ji->i", held_float, cat.ladder_below[:, product].astype(np.float32))
    age = (snap.day - base.birth_day[customer]) / 365.25
    tenure = base.tenure_days_at_file[customer] - (file_day - snap.day)
    columns: list[npt.NDArray[np.floating]] = [
        product.astype(np.float64),
        cat.category[product].astype(np.float64),
        age,
        base.gender[customer],
        base.city_tier[customer],
        base.log_income[customer],
        base.log_assets[customer],
        base.tolerance[customer],
        tenure,
        snap.n_held[customer],
        snap.days_since_open[customer],
        snap.opened_90[customer],
        snap.opened_365[customer],
        cat.risk[product].astype(np.float64),
        cat.log_min_assets[product],
        base.tolerance[customer] - cat.risk[product],
        base.log_assets[customer] - cat.log_min_assets[product],
        held_by_category[np.arange(len(customer)), cat.category[product]],
        lower_rung,
        snap.recent_rate[product],
        snap.share[product],
    ]
    matrix = np.empty((len(customer), len(columns)), dtype=np.float32)
    for j, column in enumerate(columns):
        matrix[:, j] = column
    return np.hstack([matrix, held_float[:, cat.holding_columns], held_by_category])
