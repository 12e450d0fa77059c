"""Held-out evaluation: accuracy and macro-F1 for category and sentiment, per language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sklearn.metrics import accuracy_score, f1_score

from branchdesk.textanalysis.labels import LANGUAGES
from branchdesk.textanalysis.model import Example, TextModel


@dataclass(frozen=True)
class Scores:
    language: str
    examples: int
    category_accuracy: float
    category_macro_f1: float
    sentiment_accuracy: float
    sentiment_macro_f1: float


def _scores(
    language: str, truth: Sequence[Example], predicted: Sequence[tuple[str, str]]
) -> Scores:
    categories = [e.category for e in truth]
    sentiments = [e.sentiment for e in truth]
    predicted_categories = [p[0] for p in predicted]
    predicted_sentiments = [p[1] for p in predicted]
    return Scores(
        language=language,
        examples=len(truth),
        category_accuracy=round(float(accuracy_score(categories, predicted_categories)), 4),
        category_macro_f1=round(
            float(f1_score(categories, predicted_categories, average="macro", zero_division=0)), 4
        ),
        sentiment_accuracy=round(float(accuracy_score(sentiments, predicted_sentiments)), 4),
        sentiment_macro_f1=round(
            float(f1_score(sentiments, predicted_sentiments, average="macro", zero_division=0)), 4
        ),
    )


def evaluate(model: TextModel, examples: Sequence[Example]) -> list[Scores]:
    """Scores per language (``zh-Hant``, ``zh-Hans``, ``en``) and over all (``all``).

    The language of an example is its labelled one, not the detected one.
    """
    results = model.classify_many([e.text for e in examples])
    pairs = [(r.category, r.sentiment) for r in results]
    scores = []
    for language in LANGUAGES:
        chosen = [i for i, e in enumerate(examples) if e.language == language]
        if chosen:
            scores.append(
                _scores(language, [examples[i] for i in chosen], [pairs[i] for i in chosen])
            )
    scores.append(_scores("all", examples, pairs))
    return scores


def as_dicts(scores: Sequence[Scores]) -> list[dict[str, object]]:
    return [asdict(score) for score in scores]


def format_table(scores: Sequence[Scores]) -> str:
    lines = ["language  examples  category_acc  category_macroF1  sentiment_acc  sentiment_macroF1"]
    for s in scores:
        lines.append(
            f"{s.language:8s}  {s.examples:8d}  {s.category_accuracy:12.3f}  "
            f"{s.category_macro_f1:16.3f}  {s.sentiment_accuracy:13.3f}  "
            f"{s.sentiment_macro_f1:17.3f}"
        )
    return "\n".join(lines)
