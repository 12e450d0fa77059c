"""Hard eligibility rules for recommendations: pure functions, no model, no I/O.

A product may be recommended to a customer at the as-of date only if all of these hold:

1. **Suitability.** The product's risk level R1-R5 does not exceed the customer's risk
   tolerance C1-C5. R2 and above also need a valid risk assessment: one dated on or before
   the as-of date and at most ``ASSESSMENT_VALID_DAYS`` old. R1 products (deposits, cards,
   money-market) need no assessment. When the customer file carries no assessment date
   column, every assessment is taken as valid.
2. **Minimum assets.** The customer's total assets are at least the product's minimum.
3. **Not already held.** The customer has no holding of the product opened on or before the
   as-of date. Holdings opened after the as-of date are ignored here and everywhere else.
4. **Consent.** The customer has marketing consent (assumed when the file has no column).

``RULE_VERSION`` changes whenever any of these rules changes; it is logged with every
recommendation.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import numpy as np

from branchdesk.analytics.recommend.io import (
    NO_DAY,
    BoolArray,
    Customers,
    Holdings,
    IntArray,
    Products,
    day_number,
)

RULE_VERSION = "recommend-rules-2026.11.1"
ASSESSMENT_VALID_DAYS = 365


class Exclusion(StrEnum):
    """Why a product is not a candidate for a customer (first failing rule)."""

    no_consent = "no_consent"
    assessment_expired = "assessment_expired"
    risk_above_tolerance = "risk_above_tolerance"
    below_min_assets = "below_min_assets"
    already_held = "already_held"


def held_matrix(holdings: Holdings, n_customers: int, n_products: int, day: int) -> BoolArray:
    """Customers x products: True where a holding was opened on or before ``day``."""
    held = np.zeros((n_customers, n_products), dtype=np.bool_)
    known = holdings.opened_day <= day
    held[holdings.customer[known], holdings.product[known]] = True
    return held


def assessment_valid(customers: Customers, as_of: date) -> BoolArray:
    """Per customer: True when the risk assessment may be relied on at ``as_of``."""
    if customers.risk_assessed_day is None:
        return np.ones(len(customers), dtype=np.bool_)
    day = day_number(as_of)
    assessed = customers.risk_assessed_day
    valid: BoolArray = (
        (assessed != NO_DAY) & (assessed <= day) & (day - assessed <= ASSESSMENT_VALID_DAYS)
    )
    return valid


def suitable(customers: Customers, products: Products, as_of: date) -> BoolArray:
    """Customers x products: suitability (risk vs tolerance and assessment) and min assets."""
    risk = products.risk_level[None, :]
    allowed = risk <= customers.risk_tolerance[:, None]
    needs_assessment = risk >= 2
    valid = assessment_valid(customers, as_of)[:, None]
    rich_enough = customers.total_assets[:, None] >= products.min_assets[None, :]
    result: BoolArray = allowed & (valid | ~needs_assessment) & rich_enough
    return result


def eligible(
    customers: Customers, products: Products, holdings: Holdings, as_of: date
) -> BoolArray:
    """Customers x products: True where every hard rule allows the recommendation."""
    held = held_matrix(holdings, len(customers), len(products), day_number(as_of))
    result: BoolArray = (
        suitable(customers, products, as_of) & ~held & customers.has_consent[:, None]
    )
    return result


def exclusion(
    customers: Customers,
    products: Products,
    holdings: Holdings,
    as_of: date,
    *,
    customer: int,
    product: int,
) -> Exclusion | None:
    """The first rule that excludes ``product`` for ``customer``, or None if eligible."""
    if not customers.has_consent[customer]:
        return Exclusion.no_consent
    risk = int(products.risk_level[product])
    if risk >= 2 and not assessment_valid(customers, as_of)[customer]:
        return Exclusion.assessment_expired
    if risk > int(customers.risk_tolerance[customer]):
        return Exclusion.risk_above_tolerance
    if float(customers.total_assets[customer]) < float(products.min_assets[product]):
        return Exclusion.below_min_assets
    day = day_number(as_of)
    mine = (holdings.customer == customer) & (holdings.product == product)
    if bool(np.any(holdings.opened_day[mine] <= day)):
        return Exclusion.already_held
    return None


def violations(
    customers: Customers,
    products: Products,
    holdings: Holdings,
    as_of: date,
    *,
    customer: IntArray,
    product: IntArray,
) -> tuple[int, int]:
    """Count (unsuitable, already held) among recommended (customer, product) pairs."""
    fit = suitable(customers, products, as_of)[customer, product]
    held = held_matrix(holdings, len(customers), len(products), day_number(as_of))
    return int(np.count_nonzero(~fit)), int(np.count_nonzero(held[customer, product]))
