"""Synthetic applicants for development, tests and demos (German-credit-like, with traps).

The true risk is known, so the best attainable AUC is known too. It has monotonic and
U-shaped numeric effects, categorical effects with a rare category, missing values that carry
risk, a useless numeric column and an identifier-like text column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .binning import FloatArray

CHECKING = {"no checking account": -1.2, "below 0": 0.9, "0 to 200": 0.35, "200 or more": -0.5}
PURPOSE = {
    "car (new)": 0.35,
    "car (used)": -0.7,
    "furniture": 0.1,
    "radio/television": -0.25,
    "education": 0.5,
    "business": 0.2,
    "repairs": 0.3,
    "retraining": -0.6,
}
PURPOSE_SHARE = [0.22, 0.1, 0.18, 0.27, 0.06, 0.1, 0.06, 0.01]
SAVINGS = {
    "below 100": 0.35,
    "100 to 500": 0.1,
    "500 to 1000": -0.4,
    "1000 or more": -0.6,
    "unknown": -0.5,
}
SAVINGS_SHARE = [0.6, 0.1, 0.06, 0.05, 0.19]
HOUSING = {"own": -0.25, "rent": 0.25, "for free": 0.35}
HOUSING_SHARE = [0.7, 0.18, 0.12]


def generate_applicants(
    rows: int, seed: int, *, target: str = "outcome"
) -> tuple[pd.DataFrame, FloatArray]:
    """Applicants with a ``target`` column of ``bad``/``good``, and each row's true P(bad)."""
    rng = np.random.default_rng(seed)
    checking = rng.choice(list(CHECKING), size=rows, p=[0.39, 0.27, 0.27, 0.07])
    purpose = rng.choice(list(PURPOSE), size=rows, p=PURPOSE_SHARE)
    savings = rng.choice(list(SAVINGS), size=rows, p=SAVINGS_SHARE)
    housing = rng.choice(list(HOUSING), size=rows, p=HOUSING_SHARE)
    duration = np.clip(np.round(rng.gamma(3.0, 7.0, rows) / 3) * 3, 4, 72)
    amount = np.round(np.exp(rng.normal(7.8, 0.75, rows)) + duration * 40)
    age = np.clip(np.round(rng.gamma(7.0, 5.2, rows)), 19, 75)
    installment_rate = rng.integers(1, 5, rows)
    employment_years = np.round(rng.exponential(5.0, rows), 1)
    employment_missing = rng.random(rows) < 0.1
    residence_years = rng.integers(1, 5, rows)
    logit = (
        -0.75
        + np.array([CHECKING[c] for c in checking])
        + np.array([PURPOSE[p] for p in purpose])
        + np.array([SAVINGS[s] for s in savings])
        + np.array([HOUSING[h] for h in housing])
        + 0.035 * (duration - 20)
        + 0.25 * ((np.log(amount) - 8.0) ** 2)
        - 0.15
        + 0.0012 * (age - 42) ** 2
        - 0.25
        + 0.15 * (installment_rate - 2.5)
        - 0.08 * np.minimum(np.nan_to_num(employment_years), 10)
        + np.where(employment_missing, 0.6, 0.0)
    )
    probability = 1.0 / (1.0 + np.exp(-logit))
    outcome = np.where(rng.random(rows) < probability, "bad", "good")
    frame = pd.DataFrame(
        {
            "checking_account_status": checking,
            "duration_months": duration.astype(int),
            "credit_amount": amount.astype(int),
            "purpose": purpose,
            "savings_account": savings,
            "employment_years": np.where(employment_missing, np.nan, employment_years),
            "installment_rate": installment_rate,
            "housing": housing,
            "age_years": age.astype(int),
            "residence_years": residence_years,
            "customer_reference": [f"C{seed:03d}-{i:06d}" for i in range(rows)],
            target: outcome,
        }
    )
    return frame, probability
