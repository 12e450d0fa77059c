"""File-level steps of the scorecard lifecycle, as called by ``branchdesk credit``.

Each step validates its whole input before it writes anything, and writes through a temporary
file or directory renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from branchdesk.core.clock import ensure_utc

from .artifact import (
    FORMAT_VERSION,
    current_umask,
    load_scorecard,
    model_to_dict,
    model_version,
    write_artifact,
)
from .compare import Comparison, compare_models
from .data import code_target, detect_kinds, fingerprint, read_csv
from .evaluation import SplitResult, out_of_fold_probability, split_evaluation
from .metrics import summary
from .model import TrainConfig, train_scorecard
from .stability import StabilityReport, stability_report


def train_to_directory(
    data: Path,
    *,
    target: str,
    bad_value: str,
    out: Path,
    now: datetime,
    config: TrainConfig | None = None,
) -> dict[str, Any]:
    """Train on a CSV and write a versioned artifact; returns its metadata."""
    config = config or TrainConfig()
    features, bad = code_target(read_csv(data), target, bad_value)
    kinds = detect_kinds(features)
    scorecard = train_scorecard(features, bad, config, kinds)
    probability = scorecard.predict_proba(features)
    oof = out_of_fold_probability(features, bad, config, kinds=kinds, seed=config.seed)
    data_fingerprint = fingerprint(features, bad)
    created_at = ensure_utc(now)
    scores = scorecard.score(features)["score"].tolist()
    selected = set(scorecard.features)
    metadata: dict[str, Any] = {
        "model_version": model_version(created_at, data_fingerprint),
        "format_version": FORMAT_VERSION,
        "created_at": created_at.isoformat(),
        "data_fingerprint": data_fingerprint,
        "training_data": {
            "file": data.name,
            "rows": len(bad),
            "bads": int(bad.sum()),
            "bad_rate": round(float(bad.mean()), 6),
            "target": target,
            "bad_value": bad_value,
        },
        "metrics": {
            "train": summary(bad, probability),
            "out_of_fold": {**summary(bad, oof), "folds": config.folds},
        },
        "features": [
            {
                "name": name,
                "kind": kinds[name] if name in scorecard.candidate_iv else "identifier",
                "iv": scorecard.candidate_iv.get(name),
                "selected": name in selected,
            }
            for name in features.columns
        ],
        "selected_features": scorecard.features,
        "scaling": {
            "base_score": config.scaling.base_score,
            "base_odds": config.scaling.base_odds,
            "pdo": config.scaling.pdo,
        },
        "regularization_c": scorecard.regularization_c,
        "software": {
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "sklearn": sklearn.__version__,
        },
    }
    write_artifact(out, model_to_dict(scorecard, scores), metadata)
    return metadata


def write_text_atomically(text: str, out: Path) -> None:
    """Write ``text`` to a temporary file beside ``out`` and rename it into place."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_csv_atomically(frame: pd.DataFrame, out: Path) -> None:
    write_text_atomically(frame.to_csv(index=False, lineterminator="\n"), out)


def score_to_file(model_dir: Path, data: Path, out: Path) -> tuple[pd.DataFrame, list[str]]:
    """Score every row of ``data`` (same order) into ``out``.

    Returns the scores and the model's characteristics absent from the file (scored as missing).
    """
    scorecard, _, _ = load_scorecard(model_dir)
    applicants = read_csv(data)
    scores = scorecard.score(applicants)
    write_csv_atomically(scores, out)
    return scores, [name for name in scorecard.features if name not in applicants.columns]


def evaluate_file(
    data: Path, *, target: str, bad_value: str, splits: int, config: TrainConfig | None = None
) -> list[SplitResult]:
    features, bad = code_target(read_csv(data), target, bad_value)
    return split_evaluation(features, bad, config, splits=splits)


def stability_of_file(model_dir: Path, data: Path) -> StabilityReport:
    scorecard, model, _ = load_scorecard(model_dir)
    return stability_report(scorecard, model["development"], read_csv(data))


def compare_on_file(
    champion_dir: Path, challenger_dir: Path, data: Path, *, target: str, bad_value: str
) -> Comparison:
    champion, _, _ = load_scorecard(champion_dir)
    challenger, _, _ = load_scorecard(challenger_dir)
    features, bad = code_target(read_csv(data), target, bad_value)
    return compare_models(champion, challenger, features, bad)
