"""The learned ranking against popularity on generated data, and its building blocks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from branchdesk.analytics.recommend import model, synth
from branchdesk.analytics.recommend.evaluate import map_at_k, relevant_sets
from branchdesk.analytics.recommend.io import (
    Customers,
    Holdings,
    Products,
    read_customers,
    read_holdings,
    read_products,
)
from branchdesk.analytics.recommend.popularity import rank_popular
from branchdesk.analytics.recommend.ranking import Ranking, top_k
from branchdesk.analytics.recommend.rules import violations

AS_OF = synth.DEFAULT_AS_OF


def _bank(tmp_path: Path, seed: int, n: int) -> tuple[Customers, Products, Holdings, Holdings]:
    paths = synth.write(synth.generate(seed, n), tmp_path)
    customers = read_customers(paths["customers"], as_of=AS_OF)
    products = read_products(paths["products"])
    holdings = read_holdings(paths["holdings"], customers, products)
    truth = read_holdings(paths["truth"], customers, products)
    return customers, products, holdings, truth


def test_generator_is_deterministic() -> None:
    first, second = synth.generate(5, 300), synth.generate(5, 300)
    assert first == second
    assert synth.generate(6, 300) != first
    assert all(row[2] > AS_OF.isoformat() for row in first.truth)
    assert all(row[2] <= AS_OF.isoformat() for row in first.holdings)


def test_model_beats_popularity_with_the_same_filters(tmp_path: Path) -> None:
    customers, products, holdings, truth = _bank(tmp_path, seed=11, n=3000)
    trained = model.train(customers, products, holdings, AS_OF, max_rows=40_000)
    ranked = model.rank(trained, customers, products, holdings, AS_OF, 3)
    popular = rank_popular(customers, products, holdings, AS_OF, 3)
    relevant = relevant_sets(truth, holdings, len(customers), len(products), AS_OF)
    assert len(relevant) > 150
    model_map = map_at_k(ranked, relevant, 3)
    popular_map = map_at_k(popular, relevant, 3)
    assert model_map >= 1.08 * popular_map
    for ranking in (ranked, popular):
        assert violations(
            customers, products, holdings, AS_OF, customer=ranking.customer, product=ranking.product
        ) == (0, 0)
    texts = model.reasons(trained, customers, products, holdings, AS_OF, ranked)
    assert len(texts) == len(ranked)
    assert all("tolerance" in text for text in texts)


def test_holdings_after_as_of_do_not_change_the_ranking(tmp_path: Path) -> None:
    customers, products, holdings, truth = _bank(tmp_path, seed=3, n=300)
    with_future = Holdings(
        customer=np.concatenate([holdings.customer, truth.customer]),
        product=np.concatenate([holdings.product, truth.product]),
        opened_day=np.concatenate([holdings.opened_day, truth.opened_day]),
    )
    rankings = []
    for source in (holdings, with_future):
        trained = model.train(customers, products, source, AS_OF, max_rows=10_000)
        rankings.append(model.rank(trained, customers, products, source, AS_OF, 3))
    assert rankings[0].product.tolist() == rankings[1].product.tolist()
    assert rankings[0].customer.tolist() == rankings[1].customer.tolist()
    assert np.allclose(rankings[0].score, rankings[1].score)


def test_top_k_returns_fewer_rows_when_few_products_are_eligible() -> None:
    scores = np.array([[0.1, 0.9, 0.5], [0.3, 0.2, 0.1], [0.5, 0.5, 0.5]])
    allowed = np.array([[True, True, True], [False, True, False], [False, False, False]])
    ranking = top_k(scores, allowed, 2, customer_offset=10)
    assert ranking.customer.tolist() == [10, 10, 11]
    assert ranking.rank.tolist() == [1, 2, 1]
    assert ranking.product.tolist() == [1, 2, 1]


def test_map_at_k_by_hand() -> None:
    ranking = Ranking(
        customer=np.array([0, 0, 0, 1, 1, 1], dtype=np.int64),
        rank=np.array([1, 2, 3, 1, 2, 3], dtype=np.int64),
        product=np.array([5, 6, 7, 1, 2, 3], dtype=np.int64),
        score=np.zeros(6),
    )
    # Customer 0: hits at 2 and 3 -> (1/2 + 2/3) / 2. Customer 1: none. Customer 2: no list.
    relevant = {0: {6, 7}, 1: {9}, 2: {1}}
    assert map_at_k(ranking, relevant, 3) == pytest.approx((0.5 + 2 / 3) / 2 / 3)


def test_training_without_any_adoption_falls_back_to_popularity() -> None:
    customers = Customers(
        ids=["A"],
        birth_day=np.array([3650], dtype=np.int64),
        gender=["F"],
        city_tier=np.array([1], dtype=np.int64),
        monthly_income=np.array([1000.0]),
        total_assets=np.array([1000.0]),
        risk_tolerance=np.array([5], dtype=np.int64),
        tenure_months=np.array([12], dtype=np.int64),
        risk_assessed_day=None,
        has_consent=np.array([True]),
    )
    products = Products(
        codes=["X", "Y"],
        names=["X", "Y"],
        categories=["a", "b"],
        risk_level=np.array([1, 2], dtype=np.int64),
        min_assets=np.array([0.0, 0.0]),
    )
    empty = np.zeros(0, dtype=np.int64)
    holdings = Holdings(empty, empty, empty)
    trained = model.train(customers, products, holdings, date(2025, 1, 1))
    assert trained.classifier is None
    ranked = model.rank(trained, customers, products, holdings, date(2025, 1, 1), 3)
    assert ranked.product.tolist() == [0, 1]
