"""Honest estimates of how a scorecard will rank applicants it has not seen.

Every estimate retrains the whole pipeline (binning, selection, regularization, regression)
on the training part only, so nothing about the test rows leaks into the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from .binning import FloatArray, IntArray
from .data import ColumnKind, CreditDataError, detect_kinds
from .metrics import auc
from .model import TrainConfig, train_scorecard


def out_of_fold_probability(
    features: pd.DataFrame,
    bad: IntArray,
    config: TrainConfig | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    kinds: dict[str, ColumnKind] | None = None,
) -> FloatArray:
    """Probability of bad for every row from a scorecard trained without that row's fold."""
    config = config or TrainConfig()
    kinds = kinds or detect_kinds(features)
    y = np.asarray(bad, dtype=np.int64)
    folds = min(folds, int(y.sum()), int(len(y) - y.sum()))
    out = np.full(len(y), np.nan)
    if folds < 2:
        return out
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(y)), y):
        model = train_scorecard(
            features.iloc[train].reset_index(drop=True), y[train], config, kinds
        )
        out[test] = model.predict_proba(features.iloc[test].reset_index(drop=True))
    return out


@dataclass(frozen=True)
class SplitResult:
    """Test AUC of one fixed split: ``name`` is ``holdout-30%-seed-S``."""

    name: str
    n_train: int
    n_test: int
    auc: float


def split_evaluation(
    features: pd.DataFrame,
    bad: IntArray,
    config: TrainConfig | None = None,
    *,
    splits: int = 10,
    test_share: float = 0.3,
) -> list[SplitResult]:
    """Test AUC over ``splits`` stratified train/test splits with seeds 0, 1, ... ."""
    config = config or TrainConfig()
    kinds = detect_kinds(features)
    y = np.asarray(bad, dtype=np.int64)
    results: list[SplitResult] = []
    for seed in range(splits):
        try:
            train, test = train_test_split(
                np.arange(len(y)), test_size=test_share, stratify=y, random_state=seed
            )
        except ValueError as exc:
            raise CreditDataError(
                f"too few rows of each class for a stratified split: {exc}"
            ) from exc
        model = train_scorecard(
            features.iloc[train].reset_index(drop=True), y[train], config, kinds
        )
        risk = model.predict_proba(features.iloc[test].reset_index(drop=True))
        results.append(
            SplitResult(
                name=f"holdout-{round(test_share * 100)}%-seed-{seed}",
                n_train=len(train),
                n_test=len(test),
                auc=auc(y[test], risk),
            )
        )
    return results
