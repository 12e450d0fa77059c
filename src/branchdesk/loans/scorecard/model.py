"""Train a scorecard (WOE bins + logistic regression + points) and score applicants with it.

The model is additive: every selected characteristic contributes the points of the bin the
applicant falls into, and the points add up to the score. Probability and score are two views
of the same log-odds: ``score = offset + factor * ln(odds good:bad)`` with
``factor = PDO / ln 2`` and ``offset = base_score - factor * ln(base_odds)``, so the score rises
by exactly PDO points whenever the odds of being good double.

Reasons are the characteristics whose points fall furthest below the best points they could
have had, worded from the column name and the applicant's own value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # sklearn's dependency, untyped

from .binning import (
    BinningConfig,
    FeatureBinning,
    FloatArray,
    IntArray,
    fit_categorical,
    fit_numeric,
    to_text,
)
from .data import ColumnKind, CreditDataError, detect_kinds, identifier_columns
from .metrics import auc


@dataclass(frozen=True)
class Scaling:
    """Points: ``base_score`` at odds ``base_odds``:1 (good:bad), ``pdo`` points per doubling."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def score_of_probability(self, probability_bad: FloatArray) -> FloatArray:
        p = np.clip(probability_bad, 1e-15, 1 - 1e-15)
        return self.offset + self.factor * np.log((1 - p) / p)


@dataclass(frozen=True)
class TrainConfig:
    """Choices of the training pipeline; every default is used by ``branchdesk credit train``."""

    binning: BinningConfig = field(default_factory=BinningConfig)
    scaling: Scaling = field(default_factory=Scaling)
    min_iv: float = 0.02
    max_correlation: float = 0.8
    folds: int = 5
    c_grid: tuple[float, ...] = tuple(float(c) for c in np.logspace(-3, 1, 7))
    n_reasons: int = 4
    seed: int = 0


@dataclass
class Scorecard:
    """A trained scorecard: selected characteristics, coefficients on WOE, scaling."""

    binnings: list[FeatureBinning]
    coefficients: list[float]
    intercept: float
    scaling: Scaling
    kinds: dict[str, ColumnKind]
    candidate_iv: dict[str, float] = field(default_factory=dict)
    regularization_c: float = 1.0
    n_reasons: int = 4

    @property
    def features(self) -> list[str]:
        return [b.name for b in self.binnings]

    def points_table(self) -> list[FloatArray]:
        """Points of every slot (regular bins, missing, unknown) of every characteristic."""
        factor, m = self.scaling.factor, max(len(self.binnings), 1)
        share = (self.scaling.offset - factor * self.intercept) / m
        return [
            share - factor * beta * np.asarray(b.woe, dtype=np.float64)
            for b, beta in zip(self.binnings, self.coefficients, strict=True)
        ]

    def slots(self, frame: pd.DataFrame) -> IntArray:
        """Slot of every row (rows) for every characteristic (columns); absent columns = missing."""
        out = np.empty((len(frame), len(self.binnings)), dtype=np.int64)
        for j, b in enumerate(self.binnings):
            values = frame[b.name].tolist() if b.name in frame.columns else [None] * len(frame)
            out[:, j] = b.assign(values)
        return out

    def log_odds_bad(self, frame: pd.DataFrame) -> FloatArray:
        slots = self.slots(frame)
        total = np.full(len(frame), self.intercept, dtype=np.float64)
        for j, (b, beta) in enumerate(zip(self.binnings, self.coefficients, strict=True)):
            total += beta * np.asarray(b.woe, dtype=np.float64)[slots[:, j]]
        return total

    def predict_proba(self, frame: pd.DataFrame) -> FloatArray:
        """Probability of bad for every row."""
        return 1.0 / (1.0 + np.exp(-self.log_odds_bad(frame)))

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row per input row, same order: ``probability_bad``, ``score`` and ``reasons``."""
        slots = self.slots(frame)
        table = self.points_table()
        points = np.zeros(slots.shape, dtype=np.float64)
        for j, row_points in enumerate(table):
            points[:, j] = row_points[slots[:, j]]
        best = np.array(
            [t[: b.unknown_index].max() for t, b in zip(table, self.binnings, strict=True)]
        )
        probability = self.predict_proba(frame)
        raw = [
            frame[b.name].tolist() if b.name in frame.columns else [None] * len(frame)
            for b in self.binnings
        ]
        reasons = [self._reasons(raw, i, slots[i], best - points[i]) for i in range(len(frame))]
        return pd.DataFrame(
            {
                "probability_bad": np.round(probability, 6),
                "score": np.round(points.sum(axis=1), 2),
                "reasons": reasons,
            }
        )

    def _reasons(
        self, raw: list[list[Any]], row: int, slots: IntArray, shortfall: FloatArray
    ) -> str:
        """The characteristics furthest below their best points (at least half a point)."""
        order = np.argsort(-shortfall, kind="stable")
        texts: list[str] = []
        for j in order[: self.n_reasons]:
            if shortfall[j] < 0.5:
                break
            texts.append(describe(self.binnings[j], raw[j][row], int(slots[j])))
        return "; ".join(texts)


def feature_label(name: str) -> str:
    """``status_of_existing_checking_account`` -> ``Status of existing checking account``."""
    words = re.sub(r"[_.\-\s]+", " ", name).strip()
    return (words[:1].upper() + words[1:]) if words else name


def describe(binning: FeatureBinning, raw: Any, slot: int) -> str:
    """One reason in words: the characteristic, the applicant's value and what it counts as."""
    label = feature_label(binning.name)
    value = to_text([raw])[0]
    if value is None:
        return f"{label}: not given"
    value = value.replace(";", ",")
    if slot == binning.missing_index:
        return f"{label}: {value} (not a number, counted as not given)"
    if slot == binning.unknown_index:
        return f"{label}: {value} (not seen in the development data)"
    if binning.kind == "numeric":
        return f"{label}: {value} ({binning.labels[slot]})"
    return f"{label}: {value}"


def fit_binnings(
    features: pd.DataFrame, bad: IntArray, kinds: dict[str, ColumnKind], config: BinningConfig
) -> dict[str, FeatureBinning]:
    out: dict[str, FeatureBinning] = {}
    for name in features.columns:
        values = features[name].tolist()
        fit = fit_numeric if kinds[str(name)] == "numeric" else fit_categorical
        out[str(name)] = fit(str(name), values, bad, config)
    return out


def _select(
    binnings: dict[str, FeatureBinning], woe: pd.DataFrame, config: TrainConfig
) -> list[str]:
    """Characteristics by IV, dropping any too correlated with one already chosen."""
    ranked = sorted(binnings, key=lambda n: -binnings[n].iv)
    chosen: list[str] = []
    for name in ranked:
        if binnings[name].iv < config.min_iv and chosen:
            break
        if woe[name].std() == 0:
            continue
        if chosen:
            corr = woe[chosen].corrwith(woe[name]).abs().fillna(0.0)
            if float(corr.max()) > config.max_correlation:
                continue
        chosen.append(name)
    return chosen


def _choose_c(x: FloatArray, y: IntArray, config: TrainConfig) -> float:
    """Regularization with the best mean cross-validated AUC on the training data."""
    folds = min(config.folds, int(y.sum()), int(len(y) - y.sum()))
    if folds < 2:
        return 1.0
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    splits = list(splitter.split(x, y))
    best_c, best_auc = 1.0, -1.0
    for c in config.c_grid:
        scores = []
        for train, test in splits:
            lr = LogisticRegression(C=c, max_iter=2000).fit(x[train], y[train])
            scores.append(auc(y[test], lr.decision_function(x[test])))
        mean = float(np.nanmean(scores))
        if mean > best_auc + 1e-9:
            best_c, best_auc = c, mean
    return best_c


def train_scorecard(
    features: pd.DataFrame,
    bad: IntArray,
    config: TrainConfig | None = None,
    kinds: dict[str, ColumnKind] | None = None,
) -> Scorecard:
    """Fit bins, select characteristics, fit the regression; raises ``CreditDataError``.

    Identifier columns (see ``identifier_columns``) are left out before anything is fitted.
    """
    config = config or TrainConfig()
    y = np.asarray(bad, dtype=np.int64)
    if len(y) != len(features):
        raise CreditDataError("features and target have different lengths")
    if y.sum() == 0 or y.sum() == len(y):
        raise CreditDataError("the target has a single class; a scorecard needs goods and bads")
    features = features.drop(columns=identifier_columns(features))
    kinds = {n: k for n, k in (kinds or detect_kinds(features)).items() if n in features.columns}
    binnings = fit_binnings(features, y, kinds, config.binning)
    woe = pd.DataFrame({n: b.transform(features[n].tolist()) for n, b in binnings.items()})
    chosen = _select(binnings, woe, config)
    if not chosen:
        raise CreditDataError("no characteristic separates goods from bads in this data")
    # many tiny fits: BLAS threads only add contention
    with threadpool_limits(limits=1, user_api="blas"):
        c = _choose_c(woe[chosen].to_numpy(), y, config)
        while True:
            lr = LogisticRegression(C=c, max_iter=2000).fit(woe[chosen].to_numpy(), y)
            beta = lr.coef_[0]
            # WOE is high for good values, so a sound coefficient (towards bad) is negative
            wrong = [n for n, b_ in zip(chosen, beta, strict=True) if b_ > 0]
            if not wrong or len(chosen) == 1:
                break
            worst = max(wrong, key=lambda n: float(beta[chosen.index(n)]))
            chosen.remove(worst)
    return Scorecard(
        binnings=[binnings[n] for n in chosen],
        coefficients=[float(b_) for b_ in beta],
        intercept=float(lr.intercept_[0]),
        scaling=config.scaling,
        kinds=dict(kinds),
        candidate_iv={n: round(b.iv, 6) for n, b in binnings.items()},
        regularization_c=c,
        n_reasons=config.n_reasons,
    )
