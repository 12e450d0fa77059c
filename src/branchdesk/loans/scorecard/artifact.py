"""Versioned scorecard artifacts: a directory with ``model.json`` and ``metadata.json``.

``model.json`` holds everything needed to score: bins, WOE, coefficients, the points table and
the development sample's score distribution (for stability reports). ``metadata.json`` says
where the model came from: version, creation time (UTC), fingerprint of the normalized training
data, metrics on the training data and out of fold, and the characteristics with their types.

A directory is written next to its destination and renamed into place, so a reader sees either
the old artifact or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from branchdesk.core.errors import RuleViolation

from .binning import FeatureBinning
from .model import Scaling, Scorecard

FORMAT = "branchdesk.credit.scorecard"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
METADATA_FILE = "metadata.json"


class ArtifactError(RuleViolation):
    """A model directory that is missing, incomplete or of an unknown format."""

    code = "credit_artifact_invalid"


def model_version(created_at: datetime, data_fingerprint: str) -> str:
    """``20260101T120000Z-1a2b3c4d5e6f``: when it was trained and on what data."""
    digest = data_fingerprint.split(":", 1)[-1]
    return f"{created_at:%Y%m%dT%H%M%SZ}-{digest[:12]}"


def score_bands(scores: np.ndarray[Any, np.dtype[np.float64]], n_bands: int = 10) -> list[float]:
    """Interior edges of (at most) ``n_bands`` equally filled score bands."""
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, n_bands + 1)[1:-1]))
    return [float(e) for e in edges]


def model_to_dict(scorecard: Scorecard, development_scores: list[float]) -> dict[str, Any]:
    """The scoring content of an artifact as plain JSON values."""
    scores = np.asarray(development_scores, dtype=np.float64)
    edges = score_bands(scores)
    counts = np.bincount(np.searchsorted(edges, scores, side="right"), minlength=len(edges) + 1)
    features = []
    for b, beta, points in zip(
        scorecard.binnings, scorecard.coefficients, scorecard.points_table(), strict=True
    ):
        entry = b.to_dict()
        entry["coefficient"] = beta
        entry["points"] = [round(float(p), 6) for p in points]
        features.append(entry)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "scaling": asdict(scorecard.scaling),
        "intercept": scorecard.intercept,
        "regularization_c": scorecard.regularization_c,
        "n_reasons": scorecard.n_reasons,
        "kinds": scorecard.kinds,
        "candidate_iv": scorecard.candidate_iv,
        "features": features,
        "development": {
            "score_band_edges": edges,
            "score_band_counts": [int(c) for c in counts],
        },
    }


def model_from_dict(data: dict[str, Any]) -> Scorecard:
    if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"not a scorecard artifact of format {FORMAT} version {FORMAT_VERSION}: "
            f"found {data.get('format')!r} version {data.get('format_version')!r}"
        )
    scaling = data["scaling"]
    return Scorecard(
        binnings=[FeatureBinning.from_dict(f) for f in data["features"]],
        coefficients=[float(f["coefficient"]) for f in data["features"]],
        intercept=float(data["intercept"]),
        scaling=Scaling(
            base_score=float(scaling["base_score"]),
            base_odds=float(scaling["base_odds"]),
            pdo=float(scaling["pdo"]),
        ),
        kinds={
            str(k): "numeric" if v == "numeric" else "categorical" for k, v in data["kinds"].items()
        },
        candidate_iv={str(k): float(v) for k, v in data["candidate_iv"].items()},
        regularization_c=float(data["regularization_c"]),
        n_reasons=int(data["n_reasons"]),
    )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def current_umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_artifact(directory: Path, model: dict[str, Any], metadata: dict[str, Any]) -> None:
    """Write ``model.json`` and ``metadata.json`` into ``directory`` atomically.

    An existing scorecard artifact there is replaced; any other non-empty directory is refused.
    """
    directory = directory.resolve()
    if directory.exists() and (
        not directory.is_dir()
        or (any(directory.iterdir()) and not (directory / MODEL_FILE).is_file())
    ):
        raise ArtifactError(f"{directory} exists and is not a scorecard artifact; not replacing it")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        staging.chmod(0o777 & ~current_umask())
        _write_json(staging / MODEL_FILE, model)
        _write_json(staging / METADATA_FILE, metadata)
        if directory.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
            os.replace(directory, retired / "artifact")
            os.replace(staging, directory)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def read_artifact(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model and metadata dictionaries; raises ``ArtifactError``."""
    if not directory.is_dir():
        raise ArtifactError(f"model directory {directory} does not exist")
    out: list[dict[str, Any]] = []
    for name in (MODEL_FILE, METADATA_FILE):
        path = directory / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ArtifactError(f"{directory} has no {name}; is it a scorecard artifact?") from exc
        except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ArtifactError(f"cannot read {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ArtifactError(f"{path} does not hold a JSON object")
        out.append(data)
    return out[0], out[1]


def load_scorecard(directory: Path) -> tuple[Scorecard, dict[str, Any], dict[str, Any]]:
    """The scorecard, the raw model dictionary and the metadata of an artifact directory."""
    model, metadata = read_artifact(directory)
    try:
        return model_from_dict(model), model, metadata
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{directory / MODEL_FILE} is incomplete: {exc!r}") from exc
