"""Discrimination metrics for a risk estimate: AUC, KS, Gini and DeLong's paired AUC test."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

FloatArray = npt.NDArray[np.float64]


def auc(bad: npt.ArrayLike, risk: npt.ArrayLike) -> float:
    """Area under the ROC curve of ``risk`` (higher = more likely bad), ties count one half."""
    y = np.asarray(bad, dtype=np.int64)
    r = np.asarray(risk, dtype=np.float64)
    n_bad = int(y.sum())
    n_good = len(y) - n_bad
    if n_bad == 0 or n_good == 0:
        return math.nan
    ranks = rankdata(r)
    return float((ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))


def ks(bad: npt.ArrayLike, risk: npt.ArrayLike) -> float:
    """Kolmogorov-Smirnov statistic: the widest gap between the bad and good risk CDFs."""
    y = np.asarray(bad, dtype=np.int64)
    r = np.asarray(risk, dtype=np.float64)
    if y.sum() == 0 or y.sum() == len(y):
        return math.nan
    thresholds = np.unique(r)
    cdf_bad = np.searchsorted(np.sort(r[y == 1]), thresholds, side="right") / y.sum()
    cdf_good = np.searchsorted(np.sort(r[y == 0]), thresholds, side="right") / (len(y) - y.sum())
    return float(np.max(np.abs(cdf_bad - cdf_good)))


def summary(bad: npt.ArrayLike, risk: npt.ArrayLike) -> dict[str, float | None]:
    """AUC, KS and Gini (2 AUC - 1), rounded to 4 decimals; None where not defined.

    Undefined when a class is absent or any risk is unknown (too little data to cross-validate).
    """
    r = np.asarray(risk, dtype=np.float64)
    if len(r) == 0 or np.isnan(r).any():
        return {"auc": None, "ks": None, "gini": None}
    a, k = auc(bad, r), ks(bad, r)
    if math.isnan(a):
        return {"auc": None, "ks": None, "gini": None}
    return {"auc": round(a, 4), "ks": round(k, 4), "gini": round(2 * a - 1, 4)}


def _structural_components(
    positives: FloatArray, negatives: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    m, n = len(positives), len(negatives)
    both = np.concatenate([positives, negatives])
    ranks = rankdata(both)
    pos_ranks = rankdata(positives)
    neg_ranks = rankdata(negatives)
    area = (ranks[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (ranks[:m] - pos_ranks) / n
    v01 = 1.0 - (ranks[m:] - neg_ranks) / m
    return float(area), v10, v01


def delong_test(
    bad: npt.ArrayLike, risk_a: npt.ArrayLike, risk_b: npt.ArrayLike
) -> tuple[float, float, float]:
    """DeLong's test of two correlated AUCs: (AUC a, AUC b, two-sided p-value of a != b)."""
    from scipy.stats import norm

    y = np.asarray(bad, dtype=np.int64) == 1
    a = np.asarray(risk_a, dtype=np.float64)
    b = np.asarray(risk_b, dtype=np.float64)
    if y.sum() < 2 or (~y).sum() < 2:
        return auc(y, a), auc(y, b), math.nan
    auc_a, v10_a, v01_a = _structural_components(a[y], a[~y])
    auc_b, v10_b, v01_b = _structural_components(b[y], b[~y])
    s10 = np.cov(np.vstack([v10_a, v10_b]))
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    cov = s10 / y.sum() + s01 / (~y).sum()
    variance = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    if variance <= 1e-15:
        return auc_a, auc_b, 1.0 if auc_a == auc_b else 0.0
    z = (auc_a - auc_b) / math.sqrt(variance)
    return auc_a, auc_b, float(2 * norm.sf(abs(z)))
