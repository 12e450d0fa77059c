"""Popularity baseline: the same hard rules, products ranked by recent adoption.

Definition: a product's score is the number of openings in the 90 days up to and including
the as-of date (``as_of - 89 .. as_of``); ties are broken by all-time openings up to as-of,
then by file order. Every customer gets the most popular products that the rules of
:mod:`.rules` allow. ``window_days=None`` ranks by all-time openings instead.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from branchdesk.analytics.recommend.io import Customers, FloatArray, Holdings, Products, day_number
from branchdesk.analytics.recommend.ranking import Ranking, concat, top_k
from branchdesk.analytics.recommend.rules import eligible

CHUNK = 20_000


def popularity_scores(
    holdings: Holdings, n_products: int, as_of: date, window_days: int | None = 90
) -> FloatArray:
    """Per product: recent openings, plus all-time openings as a fractional tie-breaker."""
    day = day_number(as_of)
    known = holdings.opened_day <= day
    all_time = np.bincount(holdings.product[known], minlength=n_products).astype(np.float64)
    if window_days is None:
        return all_time
    recent_mask = known & (holdings.opened_day > day - window_days)
    recent = np.bincount(holdings.product[recent_mask], minlength=n_products).astype(np.float64)
    scores: FloatArray = recent + all_time / (all_time.sum() + 1.0)
    return scores


def rank_popular(
    customers: Customers,
    products: Products,
    holdings: Holdings,
    as_of: date,
    k: int,
    window_days: int | None = 90,
) -> Ranking:
    """Top-k most popular eligible products for every customer."""
    scores = popularity_scores(holdings, len(products), as_of, window_days)
    allowed = eligible(customers, products, holdings, as_of)
    parts = []
    for start in range(0, len(customers), CHUNK):
        block = allowed[start : start + CHUNK]
        matrix = np.broadcast_to(scores, block.shape)
        parts.append(top_k(matrix, block, k, customer_offset=start))
    return concat(parts)
