"""Text analysis of complaints and survey comments (issue #5, item 4).

Owns: the category / sentiment / language classifier for Traditional Chinese, Simplified
Chinese and English text, the seeded training and held-out examples that ship in ``data/``,
the corrections people make (table ``text_corrections``, learnt by the next model), and the
topic, keyword and trend functions over periods.

Invariants: ``classify`` never raises on odd input (empty or garbage text is ``other`` with low
confidence); confidences are calibrated probabilities in [0, 1]; a stored correction decides
that text's label from the next model on. Callers: the complaints and surveys packages (they
display the labels and call ``record_correction``), and ``branchdesk textanalysis ...``.
"""

from __future__ import annotations

from branchdesk.textanalysis.labels import CATEGORIES, LANGUAGES, SENTIMENTS
from branchdesk.textanalysis.model import Classification
from branchdesk.textanalysis.service import (
    classify,
    classify_many,
    get_model,
    list_corrections,
    record_correction,
    refresh_model,
    reset_model_cache,
    wait_for_retrain,
    warm_up,
)

__all__ = [
    "CATEGORIES",
    "LANGUAGES",
    "SENTIMENTS",
    "Classification",
    "classify",
    "classify_many",
    "get_model",
    "list_corrections",
    "record_correction",
    "refresh_model",
    "reset_model_cache",
    "wait_for_retrain",
    "warm_up",
]
