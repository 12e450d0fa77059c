"""Offline evaluation: MAP@k of the model against the popularity baseline.

Definition used here. The relevant set of a customer is the set of products they opened in
``(as_of, as_of + 90 days]`` that they did not already hold at the as-of date (such products
can never be recommended). Over the customers whose relevant set is non-empty (customers
without any recommendation count with AP = 0)::

    AP@k(u) = sum_{i<=k} P@i(u) * rel_i(u) / min(|relevant(u)|, k)
    MAP@k   = mean_u AP@k(u)

Violations count recommended pairs that break suitability (risk, assessment, minimum assets)
or that the customer already held at the as-of date; both must be zero.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from branchdesk.analytics.recommend import model as model_module
from branchdesk.analytics.recommend.features import WINDOW_DAYS
from branchdesk.analytics.recommend.io import Customers, Holdings, Products, day_number
from branchdesk.analytics.recommend.popularity import rank_popular
from branchdesk.analytics.recommend.ranking import Ranking
from branchdesk.analytics.recommend.rules import held_matrix, violations


def relevant_sets(
    truth: Holdings, holdings: Holdings, n_customers: int, n_products: int, as_of: date
) -> dict[int, set[int]]:
    """Per customer index: products opened in the 90 days after as-of and not held before."""
    day = day_number(as_of)
    held = held_matrix(holdings, n_customers, n_products, day)
    in_window = (truth.opened_day > day) & (truth.opened_day <= day + WINDOW_DAYS)
    result: dict[int, set[int]] = {}
    for c, j in zip(
        truth.customer[in_window].tolist(), truth.product[in_window].tolist(), strict=True
    ):
        if not held[c, j]:
            result.setdefault(c, set()).add(j)
    return result


def map_at_k(ranking: Ranking, relevant: dict[int, set[int]], k: int) -> float:
    """Mean average precision at ``k`` over customers with a non-empty relevant set."""
    if not relevant:
        return 0.0
    lists: dict[int, list[int]] = {}
    for c, r, j in zip(
        ranking.customer.tolist(), ranking.rank.tolist(), ranking.product.tolist(), strict=True
    ):
        if c in relevant and r <= k:
            lists.setdefault(c, []).append(j)
    total = 0.0
    for c, wanted in relevant.items():
        hits = 0
        precision_sum = 0.0
        for position, j in enumerate(lists.get(c, [])[:k], start=1):
            if j in wanted:
                hits += 1
                precision_sum += hits / position
        total += precision_sum / min(len(wanted), k)
    return total / len(relevant)


@dataclass(frozen=True)
class Evaluation:
    """Figures of one evaluation run."""

    k: int
    n_customers: int
    n_evaluated: int  # customers with a non-empty relevant set
    map_model: float
    map_popularity: float
    map_popularity_all_time: float
    model_unsuitable: int
    model_already_held: int
    popularity_unsuitable: int
    popularity_already_held: int
    seconds_train: float
    seconds_rank: float

    @property
    def ratio(self) -> float:
        """MAP@k of the model divided by MAP@k of the (90-day) popularity baseline."""
        return self.map_model / self.map_popularity if self.map_popularity else float("inf")

    @property
    def ratio_all_time(self) -> float:
        """MAP@k of the model divided by MAP@k of the all-time popularity ranking."""
        if not self.map_popularity_all_time:
            return float("inf")
        return self.map_model / self.map_popularity_all_time


def evaluate(
    customers: Customers,
    products: Products,
    holdings: Holdings,
    truth: Holdings,
    as_of: date,
    k: int = 3,
) -> Evaluation:
    """Train on history up to ``as_of``, rank, and score both rankings against ``truth``."""
    started = time.perf_counter()
    trained = model_module.train(customers, products, holdings, as_of)
    trained_at = time.perf_counter()
    ranked = model_module.rank(trained, customers, products, holdings, as_of, k)
    ranked_at = time.perf_counter()
    popular = rank_popular(customers, products, holdings, as_of, k)
    popular_all = rank_popular(customers, products, holdings, as_of, k, window_days=None)
    relevant = relevant_sets(truth, holdings, len(customers), len(products), as_of)
    model_bad = violations(
        customers, products, holdings, as_of, customer=ranked.customer, product=ranked.product
    )
    popular_bad = violations(
        customers, products, holdings, as_of, customer=popular.customer, product=popular.product
    )
    return Evaluation(
        k=k,
        n_customers=len(customers),
        n_evaluated=len(relevant),
        map_model=map_at_k(ranked, relevant, k),
        map_popularity=map_at_k(popular, relevant, k),
        map_popularity_all_time=map_at_k(popular_all, relevant, k),
        model_unsuitable=model_bad[0],
        model_already_held=model_bad[1],
        popularity_unsuitable=popular_bad[0],
        popularity_already_held=popular_bad[1],
        seconds_train=trained_at - started,
        seconds_rank=ranked_at - trained_at,
    )
