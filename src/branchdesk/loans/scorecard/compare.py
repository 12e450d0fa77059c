"""Champion/challenger: score the same labelled applicants with both models and compare.

The challenger is recommended only when its AUC is higher and DeLong's paired test says the
difference is unlikely to be chance (p below ``alpha``); otherwise the champion stays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .binning import IntArray
from .metrics import delong_test, summary
from .model import Scorecard


@dataclass(frozen=True)
class Comparison:
    n_rows: int
    n_bad: int
    champion: dict[str, float | None]
    challenger: dict[str, float | None]
    auc_difference: float
    p_value: float
    alpha: float
    decision: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_rows": self.n_rows,
            "n_bad": self.n_bad,
            "champion": self.champion,
            "challenger": self.challenger,
            "auc_difference": round(self.auc_difference, 4),
            "p_value": None if math.isnan(self.p_value) else round(self.p_value, 4),
            "alpha": self.alpha,
            "decision": self.decision,
        }


def compare_models(
    champion: Scorecard,
    challenger: Scorecard,
    features: pd.DataFrame,
    bad: IntArray,
    *,
    alpha: float = 0.05,
) -> Comparison:
    """AUC, KS and Gini of both on the same rows, and which one to run."""
    risk_champion = champion.predict_proba(features)
    risk_challenger = challenger.predict_proba(features)
    auc_champion, auc_challenger, p_value = delong_test(bad, risk_champion, risk_challenger)
    difference = auc_challenger - auc_champion
    if not math.isnan(p_value) and p_value < alpha and difference > 0:
        decision = "promote challenger"
    elif not math.isnan(p_value) and p_value < alpha and difference < 0:
        decision = "keep champion (challenger is worse)"
    else:
        decision = "keep champion (no significant difference)"
    return Comparison(
        n_rows=len(bad),
        n_bad=int(bad.sum()),
        champion=summary(bad, risk_champion),
        challenger=summary(bad, risk_challenger),
        auc_difference=difference,
        p_value=p_value,
        alpha=alpha,
        decision=decision,
    )
