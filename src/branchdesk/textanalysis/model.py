"""The classifier: word + character n-gram TF-IDF, logistic regression, calibrated probabilities.

One model object holds the two vectorisers, the category and sentiment classifiers and the
exact corrections people made (looked up by normalised-text hash, so a corrected text gets its
corrected label at once, while the same example also weighs in the regression).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import pickle
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from branchdesk.textanalysis.labels import CATEGORIES, SENTIMENTS
from branchdesk.textanalysis.normalize import (
    Language,
    detect_language,
    normalise,
    text_hash,
    tokens,
)

MODEL_VERSION = 1
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SCRIPT_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9']+")
ARTIFACT_FILE = "model.pkl"
META_FILE = "model.json"
# A correction weighs as much as this many shipped examples.
CORRECTION_WEIGHT = 8.0
# Below this share of known features a text counts as garbage: "other", low confidence.
LOW_CONFIDENCE = 0.1


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    sentiment: str
    language: str = ""


@dataclass(frozen=True)
class CorrectionExample:
    text: str
    field: str
    corrected: str


@dataclass(frozen=True)
class Classification:
    category: str
    category_confidence: float
    sentiment: str
    sentiment_confidence: float
    language: Language
    # True when a person's stored correction decided a label
    corrected: bool = False


def _word_analyzer(prepared: str) -> list[str]:
    words = prepared.split(" ")
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _char_analyzer(prepared: str) -> list[str]:
    """Han text: character 1-3-grams; Latin words: 2-5-grams inside space-padded words."""
    grams: list[str] = []
    for chunk in _SCRIPT_RUNS.findall(prepared):
        if _HAN.match(chunk):
            for size in (1, 2, 3):
                grams.extend(chunk[i : i + size] for i in range(len(chunk) - size + 1))
        else:
            word = f" {chunk} "
            for size in (2, 3, 4, 5):
                grams.extend(word[i : i + size] for i in range(len(word) - size + 1))
    return grams


@lru_cache(maxsize=16384)
def _prepare(text: str) -> tuple[str, str]:
    """(space-joined word tokens, normalised text) for the two vectorisers."""
    normalised = normalise(text)
    return " ".join(tokens(normalised)), normalised


def load_examples(name: str) -> list[Example]:
    """A shipped CSV (``train.csv`` or ``heldout.csv``) of text, category, sentiment, language."""
    source = resources.files("branchdesk.textanalysis") / "data" / name
    content = source.read_text(encoding="utf-8")
    return [
        Example(row["text"], row["category"], row["sentiment"], row.get("language", ""))
        for row in csv.DictReader(io.StringIO(content, newline=""))
    ]


def fingerprint(examples: Sequence[Example], corrections: Sequence[CorrectionExample]) -> str:
    digest = hashlib.sha256(f"v{MODEL_VERSION}".encode())
    for example in examples:
        digest.update(f"\x1e{example.text}\x1f{example.category}\x1f{example.sentiment}".encode())
    for correction in corrections:
        digest.update(
            f"\x1d{correction.text}\x1f{correction.field}\x1f{correction.corrected}".encode()
        )
    return digest.hexdigest()


def _classifier(labels: np.ndarray[Any, Any]) -> CalibratedClassifierCV:
    smallest = int(np.unique(labels, return_counts=True)[1].min())
    folds = max(2, min(3, smallest))
    return CalibratedClassifierCV(
        LogisticRegression(C=10.0, solver="newton-cg", max_iter=200, tol=1e-4),
        method="sigmoid",
        cv=folds,
    )


@dataclass
class TextModel:
    words: TfidfVectorizer
    chars: TfidfVectorizer
    category_model: CalibratedClassifierCV
    sentiment_model: CalibratedClassifierCV
    overrides: dict[str, dict[str, str]]
    data_fingerprint: str
    trained_at: str
    examples: int
    corrections: int
    metrics: dict[str, Any] = field(default_factory=dict)

    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        prepared = [_prepare(text) for text in texts]
        return sparse.hstack(
            [
                self.words.transform([p[0] for p in prepared]),
                self.chars.transform([p[1] for p in prepared]),
            ]
        ).tocsr()

    def classify_many(self, texts: Sequence[str]) -> list[Classification]:
        cleaned = [text if isinstance(text, str) else "" for text in texts]
        if not cleaned:
            return []
        features = self._features(cleaned)
        category_probs = self.category_model.predict_proba(features)
        sentiment_probs = self.sentiment_model.predict_proba(features)
        category_labels = [str(c) for c in self.category_model.classes_]
        sentiment_labels = [str(c) for c in self.sentiment_model.classes_]
        known = np.asarray(self.words.transform([_prepare(t)[0] for t in cleaned]).sum(axis=1))
        results = []
        for index, text in enumerate(cleaned):
            language = detect_language(text)
            c_index = int(np.argmax(category_probs[index]))
            s_index = int(np.argmax(sentiment_probs[index]))
            category = category_labels[c_index]
            category_confidence = float(category_probs[index][c_index])
            sentiment = sentiment_labels[s_index]
            sentiment_confidence = float(sentiment_probs[index][s_index])
            if float(known[index][0]) == 0.0:
                # no word the model has seen: garbage, empty or off-topic text
                category, category_confidence = "other", LOW_CONFIDENCE
                sentiment, sentiment_confidence = "neutral", LOW_CONFIDENCE
            corrected = False
            override = self.overrides.get(text_hash(text)) if text.strip() else None
            if override:
                if "category" in override:
                    category, category_confidence = override["category"], 1.0
                if "sentiment" in override:
                    sentiment, sentiment_confidence = override["sentiment"], 1.0
                corrected = True
            results.append(
                Classification(
                    category=category,
                    category_confidence=round(min(1.0, max(0.0, category_confidence)), 4),
                    sentiment=sentiment,
                    sentiment_confidence=round(min(1.0, max(0.0, sentiment_confidence)), 4),
                    language=language,
                    corrected=corrected,
                )
            )
        return results

    def classify(self, text: str) -> Classification:
        return self.classify_many([text])[0]

    # -- artifacts -------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        return {
            "model_version": MODEL_VERSION,
            "sklearn_version": sklearn.__version__,
            "data_fingerprint": self.data_fingerprint,
            "trained_at": self.trained_at,
            "examples": self.examples,
            "corrections": self.corrections,
            "metrics": self.metrics,
        }

    def save(self, directory: Path) -> Path:
        """Write ``model.pkl`` and ``model.json`` (version, fingerprint, metrics) to a directory."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ARTIFACT_FILE).write_bytes(pickle.dumps(self, protocol=5))
        (directory / META_FILE).write_text(
            json.dumps(self.metadata(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return directory


class ArtifactError(Exception):
    """A model artifact that is missing, unreadable or from another model/sklearn version."""


def load_artifact(directory: Path) -> TextModel:
    """Load a model written by :meth:`TextModel.save` (only load artifacts you wrote: pickle)."""
    try:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ArtifactError(f"cannot read {directory / META_FILE}: {error}") from None
    if meta.get("model_version") != MODEL_VERSION:
        raise ArtifactError(
            f"artifact model version {meta.get('model_version')} != {MODEL_VERSION}"
        )
    if meta.get("sklearn_version") != sklearn.__version__:
        raise ArtifactError(
            f"artifact built with scikit-learn {meta.get('sklearn_version')}, "
            f"running {sklearn.__version__}: retrain it"
        )
    try:
        model = pickle.loads(
            (directory / ARTIFACT_FILE).read_bytes()
        )  # only artifacts we wrote (see docs)
    except (OSError, pickle.UnpicklingError, AttributeError, EOFError) as error:
        raise ArtifactError(f"cannot load {directory / ARTIFACT_FILE}: {error}") from None
    if not isinstance(model, TextModel):
        raise ArtifactError(f"{directory / ARTIFACT_FILE} is not a text model")
    return model


def train(
    examples: Sequence[Example],
    corrections: Iterable[CorrectionExample] = (),
    *,
    now: datetime | None = None,
) -> TextModel:
    """Fit both classifiers on the examples plus the corrections (weighted, newest wins)."""
    correction_list = list(corrections)
    # newest correction per (text, field) wins; corrections come oldest first
    overrides: dict[str, dict[str, str]] = {}
    for correction in correction_list:
        overrides.setdefault(text_hash(correction.text), {})[correction.field] = (
            correction.corrected
        )
    texts = [example.text for example in examples]
    prepared = [_prepare(text) for text in texts]
    words = TfidfVectorizer(analyzer=_word_analyzer, sublinear_tf=True, min_df=1)
    chars = TfidfVectorizer(analyzer=_char_analyzer, sublinear_tf=True, min_df=2)
    extra_texts: list[str] = []
    extra_labels: dict[str, list[str]] = {"category": [], "sentiment": []}
    base_by_hash = {text_hash(e.text): e for e in examples}
    for key, corrected_labels in overrides.items():
        original = next(c.text for c in correction_list if text_hash(c.text) == key)
        base = base_by_hash.get(key)
        extra_texts.append(original)
        extra_labels["category"].append(
            corrected_labels.get("category", base.category if base else "")
        )
        extra_labels["sentiment"].append(
            corrected_labels.get("sentiment", base.sentiment if base else "")
        )
    all_prepared = prepared + [_prepare(text) for text in extra_texts]
    word_matrix = words.fit_transform([p[0] for p in all_prepared])
    char_matrix = chars.fit_transform([p[1] for p in all_prepared])
    features = sparse.hstack([word_matrix, char_matrix]).tocsr()
    weights = np.array([1.0] * len(texts) + [CORRECTION_WEIGHT] * len(extra_texts))
    models: dict[str, CalibratedClassifierCV] = {}
    for field_name, known in (("category", CATEGORIES), ("sentiment", SENTIMENTS)):
        base_labels = [getattr(e, field_name) for e in examples]
        labels = base_labels + extra_labels[field_name]
        # an extra row that only corrects the other field and has no shipped label is skipped
        keep = np.array([label in known for label in labels])
        label_array = np.array(labels)[keep]
        model = _classifier(label_array)
        model.fit(features[keep], label_array, sample_weight=weights[keep])
        models[field_name] = model
    return TextModel(
        words=words,
        chars=chars,
        category_model=models["category"],
        sentiment_model=models["sentiment"],
        overrides=overrides,
        data_fingerprint=fingerprint(examples, correction_list),
        trained_at=(now or datetime.now(UTC)).isoformat(),
        examples=len(texts),
        corrections=len(correction_list),
    )
