"""WOE binning: exact values on hand-made tables, monotonicity, missing and unseen values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from branchdesk.loans.scorecard.binning import (
    BinningConfig,
    FeatureBinning,
    fit_categorical,
    fit_numeric,
    woe_iv,
)

EXACT = BinningConfig(smoothing=0.0, min_bin_share=0.0, min_category_share=0.0)


def test_woe_and_iv_of_a_hand_made_table() -> None:
    # goods 10/20/30 of 60, bads 20/10/10 of 40
    woe, iv = woe_iv([10, 20, 30], [20, 10, 10], smoothing=0.0)
    assert woe.tolist() == pytest.approx([math.log(1 / 3), math.log(4 / 3), math.log(2)])
    expected_iv = (
        (1 / 6 - 1 / 2) * math.log(1 / 3)
        + (1 / 3 - 1 / 4) * math.log(4 / 3)
        + (1 / 2 - 1 / 4) * math.log(2)
    )
    assert iv == pytest.approx(expected_iv)
    assert iv == pytest.approx(0.563465, abs=1e-6)


def test_smoothing_keeps_an_all_good_bin_finite() -> None:
    woe, _ = woe_iv([10, 0], [0, 10], smoothing=0.5)
    assert woe.tolist() == pytest.approx(
        [math.log(10.5 / 10) - math.log(0.5 / 10), math.log(0.5 / 10) - math.log(10.5 / 10)]
    )


def test_categorical_bins_carry_the_table_woe() -> None:
    values = ["rent"] * 30 + ["own"] * 50 + ["free"] * 20
    bad = np.array([1] * 15 + [0] * 15 + [1] * 10 + [0] * 40 + [1] * 5 + [0] * 15)
    binning = fit_categorical("housing", values, bad, EXACT)
    woe = dict(zip(values, binning.transform(values), strict=True))
    # goods: rent 15, own 40, free 15 of 70; bads: rent 15, own 10, free 5 of 30
    assert woe["rent"] == pytest.approx(math.log((15 / 70) / (15 / 30)))
    assert woe["own"] == pytest.approx(math.log((40 / 70) / (10 / 30)))
    assert woe["free"] == pytest.approx(math.log((15 / 70) / (5 / 30)))
    assert binning.iv == pytest.approx(
        sum(
            (g / 70 - b / 30) * math.log((g / 70) / (b / 30))
            for g, b in ((15, 15), (40, 10), (15, 5))
        )
    )


def test_rare_and_small_categories_are_pooled() -> None:
    values = ["a"] * 480 + ["b"] * 500 + ["x"] * 3 + ["y"] * 2 + ["z"] * 15
    bad = np.array(
        ([1] * 100 + [0] * 380) + ([1] * 200 + [0] * 300) + [1, 0, 0, 1, 0] + [1] * 5 + [0] * 10
    )
    binning = fit_categorical("letter", values, bad, BinningConfig())
    assert binning.n_regular == 2
    assert binning.categories["x"] == binning.categories["y"] == binning.categories["z"]
    assert set(binning.categories) == {"a", "b", "x", "y", "z"}


@pytest.mark.parametrize("prebinning", ["tree", "quantile"])
def test_numeric_bad_rate_is_monotonic_and_bins_are_big_enough(prebinning: str) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=4000)
    bad = (rng.random(4000) < 1 / (1 + np.exp(-(x - 1)))).astype(np.int64)
    config = BinningConfig(prebinning="tree" if prebinning == "tree" else "quantile")
    binning = fit_numeric("x", x, bad, config)
    woe = np.array(binning.woe[: binning.n_regular])
    assert binning.trend == "ascending"
    assert binning.n_regular >= 4
    assert np.all(np.diff(woe) < 0)
    sizes = np.array(binning.goods) + np.array(binning.bads)
    assert sizes[: binning.n_regular].min() >= 0.05 * 4000


@settings(max_examples=40, deadline=None)
@given(
    x=st.lists(st.integers(min_value=0, max_value=60), min_size=40, max_size=300),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_any_monotonic_binning_has_strictly_monotonic_woe(x: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    bad = (rng.random(len(x)) < 0.3).astype(np.int64)
    bad[0], bad[1] = 0, 1
    binning = fit_numeric("x", x, bad, BinningConfig(allow_peak=False))
    steps = np.diff(binning.woe[: binning.n_regular])
    assert np.all(steps < 0) or np.all(steps > 0)
    assert binning.edges == sorted(binning.edges)


def test_a_clear_valley_is_kept_and_noise_is_not_a_peak() -> None:
    rng = np.random.default_rng(3)
    age = rng.uniform(18, 80, 6000)
    risk = 1 / (1 + np.exp(-(-1.5 + 0.004 * (age - 48) ** 2)))
    bad = (rng.random(6000) < risk).astype(np.int64)
    assert fit_numeric("age", age, bad).trend == "valley"
    flat = (rng.random(6000) < 0.3).astype(np.int64)
    assert fit_numeric("age", age, flat).trend in {"ascending", "descending"}


def test_missing_gets_its_own_bin_and_unseen_gets_the_worst() -> None:
    values: list[object] = ["a"] * 300 + ["b"] * 300 + [None] * 100
    bad = np.array([1] * 60 + [0] * 240 + [1] * 150 + [0] * 150 + [1] * 50 + [0] * 50)
    binning = fit_categorical("c", values, bad, BinningConfig())
    slots = binning.assign(["a", None, "", "never seen", float("nan")])
    assert slots.tolist() == [
        binning.categories["a"],
        binning.missing_index,
        binning.missing_index,
        binning.unknown_index,
        binning.missing_index,
    ]
    woe = binning.transform(["a", "b", None, "never seen"])
    assert woe[2] < 0  # missing rows were riskier than average
    assert woe[3] == pytest.approx(min(woe[0], woe[1]))


def test_numeric_without_training_missing_scores_missing_and_text_conservatively() -> None:
    x = np.arange(1000, dtype=float)
    bad = (x > 700).astype(np.int64)
    binning = fit_numeric("x", x, bad)
    woe = binning.transform([10.0, None, "not a number", 999.0])
    assert woe[1] == woe[2] == pytest.approx(min(binning.woe[: binning.n_regular]))
    assert woe[3] == pytest.approx(min(binning.woe[: binning.n_regular]))


def test_binning_survives_a_dictionary_roundtrip() -> None:
    x = np.linspace(0, 1, 500)
    bad = (x > 0.6).astype(np.int64)
    binning = fit_numeric("x", x, bad)
    again = FeatureBinning.from_dict(binning.to_dict())
    assert again == binning
    assert again.transform(x).tolist() == binning.transform(x).tolist()


def test_constant_column_has_one_bin_and_no_information() -> None:
    binning = fit_numeric("k", [5.0] * 100, np.array([0, 1] * 50))
    assert binning.n_regular == 1
    assert binning.iv == 0.0
