"""Population stability: is today's applicant population still the one the model was built on?

* PSI (population stability index) of the score: development score bands against the same
  bands for the scored sample. Rule of thumb: below 0.10 stable, 0.10 to 0.25 watch,
  above 0.25 shifted.
* CSI (characteristic stability index) per characteristic: the same formula over the
  characteristic's bins (missing and unseen values have their own slots), together with the
  average points shift it causes.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .model import Scorecard

EPSILON = 1e-4


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Sum of ``(a - e) * ln(a / e)`` over the bins' shares; counts or shares both work.

    Empty bins count as a share of ``EPSILON`` so the index stays finite.
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.sum() <= 0 or a.sum() <= 0:
        return math.nan
    e = np.maximum(e / e.sum(), EPSILON)
    a = np.maximum(a / a.sum(), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def verdict(index: float) -> str:
    if math.isnan(index):
        return "no data"
    if index < 0.10:
        return "stable"
    if index < 0.25:
        return "watch"
    return "shifted"


@dataclass(frozen=True)
class CharacteristicStability:
    """CSI of one characteristic and the mean points it moves (actual minus development)."""

    name: str
    csi: float
    points_shift: float
    verdict: str
    bins: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class StabilityReport:
    n_development: int
    n_actual: int
    score_psi: float
    score_verdict: str
    score_bands: list[dict[str, Any]]
    characteristics: list[CharacteristicStability]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_development": self.n_development,
            "n_actual": self.n_actual,
            "score_psi": _number(self.score_psi, 6),
            "score_verdict": self.score_verdict,
            "score_bands": self.score_bands,
            "characteristics": [
                {
                    "name": c.name,
                    "csi": _number(c.csi, 6),
                    "points_shift": _number(c.points_shift, 4),
                    "verdict": c.verdict,
                    "bins": c.bins,
                }
                for c in self.characteristics
            ],
        }


def _number(value: float, digits: int) -> float | None:
    """JSON has no NaN: an index without data is null."""
    return None if math.isnan(value) else round(value, digits)


def _band_labels(edges: list[float]) -> list[str]:
    bounds = [-math.inf, *edges, math.inf]
    labels = []
    for low, high in itertools.pairwise(bounds):
        if low == -math.inf:
            labels.append(f"below {high:.1f}")
        elif high == math.inf:
            labels.append(f"{low:.1f} or more")
        else:
            labels.append(f"{low:.1f} to under {high:.1f}")
    return labels


def stability_report(
    scorecard: Scorecard, development: dict[str, Any], actual: pd.DataFrame
) -> StabilityReport:
    """Compare ``actual`` applicants with the development sample stored in the artifact."""
    edges = [float(e) for e in development["score_band_edges"]]
    expected = np.asarray(development["score_band_counts"], dtype=np.float64)
    scores = scorecard.score(actual)["score"].to_numpy(dtype=np.float64)
    observed = np.bincount(np.searchsorted(edges, scores, side="right"), minlength=len(edges) + 1)
    e_share = expected / max(expected.sum(), 1.0)
    a_share = observed / max(observed.sum(), 1)
    bands = [
        {"band": label, "development_share": round(float(e), 4), "actual_share": round(float(a), 4)}
        for label, e, a in zip(_band_labels(edges), e_share, a_share, strict=True)
    ]
    slots = scorecard.slots(actual)
    characteristics = []
    for j, (b, points) in enumerate(zip(scorecard.binnings, scorecard.points_table(), strict=True)):
        dev_counts = np.asarray(b.goods, dtype=np.float64) + np.asarray(b.bads, dtype=np.float64)
        act_counts = np.bincount(slots[:, j], minlength=len(dev_counts)).astype(np.float64)
        # only slots that either sample uses: an empty missing slot in both is no information
        used = (dev_counts > 0) | (act_counts > 0)
        index = psi(dev_counts[used], act_counts[used]) if len(actual) else math.nan
        d_share = dev_counts / max(dev_counts.sum(), 1.0)
        x_share = act_counts / max(act_counts.sum(), 1.0)
        shift = float(np.sum((x_share - d_share) * points)) if len(actual) else math.nan
        labels = [*b.labels, "missing", "not seen in development"]
        characteristics.append(
            CharacteristicStability(
                name=b.name,
                csi=index,
                points_shift=shift,
                verdict=verdict(index),
                bins=[
                    {
                        "bin": label,
                        "development_share": round(float(d), 4),
                        "actual_share": round(float(x), 4),
                        "points": round(float(p), 2),
                    }
                    for label, d, x, p, u in zip(
                        labels, d_share, x_share, points, used, strict=True
                    )
                    if u
                ],
            )
        )
    characteristics.sort(key=lambda c: -c.csi if not math.isnan(c.csi) else 0.0)
    score_index = psi(expected, observed) if len(actual) else math.nan
    return StabilityReport(
        n_development=int(expected.sum()),
        n_actual=len(actual),
        score_psi=score_index,
        score_verdict=verdict(score_index),
        score_bands=bands,
        characteristics=characteristics,
    )
