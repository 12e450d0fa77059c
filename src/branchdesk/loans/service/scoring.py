"""The credit model behind applications: a configured scorecard directory, else the default.

``BRANCHDESK_CREDIT_MODEL_DIR`` names a model directory written by ``branchdesk credit train``
(or ``branchdesk loans default-model``). When it is not set or holds no model, the default model
is trained in memory from the documented synthetic generator (``scorecard.synth``, seed
``DEFAULT_SEED``, ``DEFAULT_ROWS`` applicants): deterministic, offline, about 0.2 s.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from branchdesk.loans.scorecard.artifact import ArtifactError, load_scorecard, model_to_dict
from branchdesk.loans.scorecard.model import Scorecard, describe

MODEL_DIR_ENV = "BRANCHDESK_CREDIT_MODEL_DIR"
DEFAULT_SEED = 7
DEFAULT_ROWS = 2000
N_REASONS = 4


@dataclass(frozen=True)
class LoadedModel:
    scorecard: Scorecard
    version: str


@dataclass(frozen=True)
class Assessment:
    score: float
    probability_bad: float
    model_version: str
    reasons: list[dict[str, Any]]  # feature, value, points_below_best, text


_lock = threading.Lock()
_cache: dict[str, LoadedModel] = {}


def train_default() -> tuple[Scorecard, dict[str, Any], list[float]]:
    """The default scorecard, trained on generated applicants (no download)."""
    from branchdesk.loans.scorecard.data import code_target, fingerprint
    from branchdesk.loans.scorecard.model import train_scorecard
    from branchdesk.loans.scorecard.synth import generate_applicants

    frame, _ = generate_applicants(DEFAULT_ROWS, DEFAULT_SEED)
    features, bad = code_target(frame, "outcome", "bad")
    scorecard = train_scorecard(features, bad)
    scores = scorecard.score(features)["score"].tolist()
    meta = {"data_fingerprint": fingerprint(features, bad), "rows": DEFAULT_ROWS}
    return scorecard, meta, [float(s) for s in scores]


def write_default_model(out: Path, *, now: datetime) -> str:
    """Write the default model as an artifact directory; returns its version."""
    from branchdesk.loans.scorecard.artifact import model_version, write_artifact

    scorecard, meta, scores = train_default()
    version = model_version(now, str(meta["data_fingerprint"]))
    metadata = {
        "model_version": version,
        "created_at": now.isoformat(),
        "data_fingerprint": meta["data_fingerprint"],
        "training_data": {
            "file": f"synthetic(seed={DEFAULT_SEED}, rows={DEFAULT_ROWS})",
            "rows": DEFAULT_ROWS,
            "target": "outcome",
            "bad_value": "bad",
        },
        "selected_features": scorecard.features,
    }
    write_artifact(out, model_to_dict(scorecard, scores), metadata)
    return version


def current_model() -> LoadedModel:
    """The configured model (cached per directory), else the in-memory default."""
    configured = os.environ.get(MODEL_DIR_ENV, "").strip()
    key = configured or "<default>"
    with _lock:
        found = _cache.get(key)
        if found is not None:
            return found
        if configured:
            try:
                scorecard, _model, metadata = load_scorecard(Path(configured))
                loaded = LoadedModel(scorecard, str(metadata.get("model_version", "unknown")))
            except ArtifactError:
                loaded = _default()
        else:
            loaded = _default()
        _cache[key] = loaded
        return loaded


def _default() -> LoadedModel:
    scorecard, meta, _scores = train_default()
    digest = str(meta["data_fingerprint"]).split(":", 1)[-1]
    return LoadedModel(scorecard, f"default-synthetic-{digest[:12]}")


def assess(features: dict[str, Any]) -> Assessment:
    """Score one applicant: score, probability of bad, the factors pulling the score down."""
    model = current_model()
    card = model.scorecard
    frame = pd.DataFrame([features])
    slots = card.slots(frame)[0]  # once: score, probability and reasons all come from these
    table = card.points_table()
    points = np.array([t[slots[j]] for j, t in enumerate(table)], dtype=np.float64)
    woe = np.array(
        [np.asarray(b.woe, dtype=np.float64)[slots[j]] for j, b in enumerate(card.binnings)]
    )
    log_odds_bad = card.intercept + float(np.dot(np.asarray(card.coefficients), woe))
    probability_bad = 1.0 / (1.0 + np.exp(-log_odds_bad))
    best = np.array([t[: b.unknown_index].max() for t, b in zip(table, card.binnings, strict=True)])
    shortfall = best - points
    reasons: list[dict[str, Any]] = []
    for j in np.argsort(-shortfall, kind="stable")[:N_REASONS]:
        if shortfall[j] < 0.5:
            break
        binning = card.binnings[int(j)]
        raw = features.get(binning.name)
        reasons.append(
            {
                "feature": binning.name,
                "value": None if raw is None else str(raw),
                "points_below_best": round(float(shortfall[j]), 2),
                "text": describe(binning, raw, int(slots[j])),
            }
        )
    return Assessment(
        score=round(float(points.sum()), 2),
        probability_bad=round(float(probability_bad), 6),
        model_version=model.version,
        reasons=reasons,
    )
