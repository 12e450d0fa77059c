"""Scorecard training, points scaling, scoring, artifacts, stability and comparison."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from branchdesk.loans.scorecard.artifact import (
    ArtifactError,
    load_scorecard,
    model_to_dict,
    write_artifact,
)
from branchdesk.loans.scorecard.compare import compare_models
from branchdesk.loans.scorecard.data import (
    CreditDataError,
    code_target,
    detect_kinds,
    fingerprint,
    identifier_columns,
    read_csv,
)
from branchdesk.loans.scorecard.lifecycle import train_to_directory
from branchdesk.loans.scorecard.metrics import auc, delong_test, ks
from branchdesk.loans.scorecard.model import Scaling, Scorecard, TrainConfig, train_scorecard
from branchdesk.loans.scorecard.stability import psi, stability_report
from branchdesk.loans.scorecard.synth import generate_applicants

FAST = TrainConfig(c_grid=(0.1, 1.0))
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def development() -> tuple[pd.DataFrame, np.ndarray]:
    frame, _ = generate_applicants(2000, seed=5)
    return code_target(frame.astype(object).where(frame.notna(), None), "outcome", "bad")


@pytest.fixture(scope="module")
def scorecard(development: tuple[pd.DataFrame, np.ndarray]) -> Scorecard:
    features, bad = development
    return train_scorecard(features, bad, FAST)


def test_points_rise_by_pdo_when_the_odds_double() -> None:
    scaling = Scaling(base_score=600, base_odds=50, pdo=20)
    p_at_base = 1 / 51  # odds 50:1
    p_at_double = 1 / 101  # odds 100:1
    scores = scaling.score_of_probability(np.array([p_at_base, p_at_double, 1 / 26]))
    assert scores[0] == pytest.approx(600.0, abs=1e-9)
    assert scores[1] == pytest.approx(620.0, abs=1e-9)
    assert scores[2] == pytest.approx(580.0, abs=1e-9)


def test_points_add_up_to_the_score_of_the_probability(
    scorecard: Scorecard, development: tuple[pd.DataFrame, np.ndarray]
) -> None:
    features, _ = development
    head = features.head(50)
    scored = scorecard.score(head)
    expected = scorecard.scaling.score_of_probability(scorecard.predict_proba(head))
    assert scored["score"].to_numpy() == pytest.approx(expected, abs=0.01)
    assert scored["probability_bad"].to_numpy() == pytest.approx(
        scorecard.predict_proba(head), abs=1e-6
    )


def test_generated_data_auc_is_near_the_best_possible() -> None:
    train, _ = generate_applicants(3000, seed=21)
    test, truth = generate_applicants(3000, seed=22)
    features, bad = code_target(train, "outcome", "bad")
    model = train_scorecard(features, bad, FAST)
    test_features, test_bad = code_target(test, "outcome", "bad")
    achieved = auc(test_bad, model.predict_proba(test_features))
    best = auc(test_bad, truth)
    assert achieved >= 0.74
    assert achieved >= best - 0.03
    assert "customer_reference" not in model.features
    assert "residence_years" not in model.features


def test_unseen_categories_missing_values_and_absent_columns_score(scorecard: Scorecard) -> None:
    odd = pd.DataFrame(
        {
            "checking_account_status": ["a brand new status", None, "below 0", ""],
            "duration_months": ["12", "not a number", None, "1e9"],
            "purpose": [None, "spaceship", "car (new)", "retraining"],
            "unrelated": ["x", "y", "z", "w"],
        }
    )
    scored = scorecard.score(odd)
    assert len(scored) == 4
    assert list(scored.columns) == ["probability_bad", "score", "reasons"]
    assert scored["probability_bad"].between(0, 1).all()
    assert np.isfinite(scored["score"]).all()
    assert "not seen in the development data" in scored["reasons"][0]
    assert "Checking account status: not given" in scored["reasons"][1]


def test_rows_come_back_in_the_same_order(
    scorecard: Scorecard, development: tuple[pd.DataFrame, np.ndarray]
) -> None:
    features, _ = development
    sample = features.head(200)
    forward = scorecard.score(sample)
    backward = scorecard.score(sample.iloc[::-1].reset_index(drop=True))
    assert forward["score"].tolist() == backward["score"].tolist()[::-1]
    assert scorecard.score(sample.head(0)).shape == (0, 3)


def test_reasons_name_the_weakest_characteristics_in_words(scorecard: Scorecard) -> None:
    table = scorecard.points_table()
    worst = {
        b.name: int(np.argmin(t[: b.n_regular]))
        for b, t in zip(scorecard.binnings, table, strict=True)
    }
    checking = next(b for b in scorecard.binnings if b.name == "checking_account_status")
    worst_status = next(c for c, s in checking.categories.items() if s == worst[checking.name])
    applicant = pd.DataFrame({"checking_account_status": [worst_status]})
    reasons = scorecard.score(applicant)["reasons"][0].split("; ")
    assert f"Checking account status: {worst_status}" in reasons
    assert len(reasons) <= scorecard.n_reasons


def test_artifact_roundtrip_scores_identically(
    tmp_path: Path, scorecard: Scorecard, development: tuple[pd.DataFrame, np.ndarray]
) -> None:
    features, _ = development
    scores = scorecard.score(features)["score"].tolist()
    write_artifact(tmp_path / "m", model_to_dict(scorecard, scores), {"model_version": "v"})
    again, model, metadata = load_scorecard(tmp_path / "m")
    assert metadata == {"model_version": "v"}
    assert again.score(features).equals(scorecard.score(features))
    assert sum(model["development"]["score_band_counts"]) == len(features)


def test_artifact_errors_and_refusal_to_overwrite_other_directories(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        load_scorecard(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match=r"no model\.json"):
        load_scorecard(tmp_path / "empty")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("keep me")
    with pytest.raises(ArtifactError, match="not a scorecard artifact"):
        write_artifact(precious, {}, {})
    assert [p.name for p in precious.iterdir()] == ["thesis.txt"]


def test_training_writes_versioned_metadata(tmp_path: Path) -> None:
    frame, _ = generate_applicants(600, seed=8)
    frame.to_csv(tmp_path / "train.csv", index=False)
    meta = train_to_directory(
        tmp_path / "train.csv",
        target="outcome",
        bad_value="bad",
        out=tmp_path / "m",
        now=NOW,
        config=FAST,
    )
    stored = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert stored == meta
    assert stored["created_at"] == "2026-01-02T03:04:05+00:00"
    assert stored["model_version"].startswith("20260102T030405Z-")
    assert stored["data_fingerprint"].startswith("sha256:")
    for part in ("train", "out_of_fold"):
        metrics = stored["metrics"][part]
        assert metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1, abs=2e-4)
        assert 0.5 < metrics["auc"] <= 1
        assert 0 < metrics["ks"] <= 1
    kinds = {f["name"]: f["kind"] for f in stored["features"]}
    assert kinds["purpose"] == "categorical"
    assert kinds["age_years"] == "numeric"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "train.csv"]


def test_fingerprint_depends_on_content_not_on_column_order() -> None:
    frame, _ = generate_applicants(100, seed=1)
    features, bad = code_target(frame, "outcome", "bad")
    same = fingerprint(features[features.columns[::-1]], bad)
    assert fingerprint(features, bad) == same
    flipped = bad.copy()
    flipped[0] = 1 - flipped[0]
    assert fingerprint(features, flipped) != same


def test_target_problems_are_named() -> None:
    frame = pd.DataFrame({"x": ["1", "2", "3"], "y": ["good", "good", "good"]})
    with pytest.raises(CreditDataError, match="'target' not found"):
        code_target(frame, "target", "bad")
    with pytest.raises(CreditDataError, match="single class"):
        code_target(frame, "y", "bad")
    numeric = pd.DataFrame({"x": ["1", "2"], "y": ["2", "1.0"]})
    assert code_target(numeric, "y", "1")[1].tolist() == [0, 1]
    assert detect_kinds(pd.DataFrame({"a": ["1", None, "2.5"], "b": ["1", "x", None]})) == {
        "a": "numeric",
        "b": "categorical",
    }


def test_psi_of_a_known_shift() -> None:
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert psi([50, 50], [25, 75]) == pytest.approx(0.274653, abs=1e-6)
    assert psi([10, 20, 30], [10, 20, 30]) == 0.0


def test_stability_flags_a_shifted_population(scorecard: Scorecard) -> None:
    dev, _ = generate_applicants(2000, seed=5)
    dev_scores = scorecard.score(dev)["score"].tolist()
    development = model_to_dict(scorecard, dev_scores)["development"]
    same = stability_report(scorecard, development, dev)
    assert same.score_psi == pytest.approx(0.0, abs=1e-9)
    shifted = dev.copy()
    shifted["checking_account_status"] = "below 0"
    report = stability_report(scorecard, development, shifted)
    assert report.score_verdict == "shifted"
    top = report.characteristics[0]
    assert top.name == "checking_account_status"
    assert top.verdict == "shifted"
    assert top.points_shift < 0


def test_metrics_and_delong_on_known_values() -> None:
    bad = np.array([0, 0, 1, 1])
    assert auc(bad, [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert ks(bad, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.3).astype(int)
    strong = y + rng.normal(0, 0.8, 2000)
    weak = y + rng.normal(0, 3.0, 2000)
    a, b, p = delong_test(y, strong, weak)
    assert a > b
    assert p < 1e-6
    assert delong_test(y, strong, strong)[2] == 1.0


def test_champion_challenger_keeps_champion_unless_clearly_better(
    scorecard: Scorecard, development: tuple[pd.DataFrame, np.ndarray]
) -> None:
    features, bad = development
    weak = train_scorecard(features[["housing", "installment_rate"]], bad, FAST)
    assert compare_models(scorecard, weak, features, bad).decision.startswith("keep champion")
    result = compare_models(weak, scorecard, features, bad)
    assert result.decision == "promote challenger"
    assert result.auc_difference > 0
    tie = compare_models(scorecard, scorecard, features, bad)
    assert tie.decision == "keep champion (no significant difference)"


def test_csv_with_byte_order_mark_and_semicolons_is_read(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_bytes("\ufeffamount;purpose;y\n1,5;car;bad\n2;;good\n".encode())
    frame = read_csv(path)
    assert list(frame.columns) == ["amount", "purpose", "y"]
    assert frame["amount"].tolist() == ["1,5", "2"]
    assert frame["purpose"].isna().tolist() == [False, True]


def test_identifier_columns_are_left_out() -> None:
    frame, _ = generate_applicants(300, seed=4)
    frame.insert(0, "Unnamed: 0", range(300))
    frame["region_id"] = ["north", "south", "east"] * 100
    features, bad = code_target(frame, "outcome", "bad")
    assert identifier_columns(features) == ["Unnamed: 0"]
    model = train_scorecard(features, bad, FAST)
    assert "Unnamed: 0" not in model.kinds
    assert "region_id" in model.kinds
