"""Top-k selection shared by the model and the popularity baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from branchdesk.analytics.recommend.io import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class Ranking:
    """Recommendation rows ordered by customer index, then rank (1 = best)."""

    customer: IntArray
    rank: IntArray
    product: IntArray
    score: FloatArray

    def __len__(self) -> int:
        return len(self.customer)


def top_k(scores: FloatArray, eligible: BoolArray, k: int, customer_offset: int = 0) -> Ranking:
    """Best ``k`` eligible products per row of ``scores``; ties go to the lower product index.

    Rows with fewer than ``k`` eligible products get fewer recommendations, rows with none
    get none. Ineligible products are never returned, whatever their score.
    """
    p = scores.shape[1]
    masked = np.where(eligible, scores, -np.inf)
    order = np.argsort(-masked, axis=1, kind="stable")[:, : min(k, p)]
    chosen = np.take_along_axis(eligible, order, axis=1)
    rows, columns = np.nonzero(chosen)
    product = order[rows, columns]
    return Ranking(
        customer=(rows + customer_offset).astype(np.int64),
        rank=(columns + 1).astype(np.int64),
        product=product.astype(np.int64),
        score=masked[rows, product].astype(np.float64),
    )


def concat(parts: list[Ranking]) -> Ranking:
    """Join rankings of consecutive customer chunks."""
    if not parts:
        empty_int = np.zeros(0, dtype=np.int64)
        return Ranking(empty_int, empty_int, empty_int, np.zeros(0, dtype=np.float64))
    return Ranking(
        customer=np.concatenate([r.customer for r in parts]),
        rank=np.concatenate([r.rank for r in parts]),
        product=np.concatenate([r.product for r in parts]),
        score=np.concatenate([r.score for r in parts]),
    )
