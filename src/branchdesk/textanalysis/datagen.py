"""Generate ``data/train.csv`` from the seed phrases: frames x phrases x slot values, seeded.

Run ``python -m branchdesk.textanalysis.datagen`` to rewrite the shipped file; the output is
deterministic, and a test checks the shipped file matches.
"""

from __future__ import annotations

import csv
import io
import random
import re
from pathlib import Path

from branchdesk.textanalysis.seedtext import EN, EN_FRAMES, HANS, HANS_FRAMES, HANT, HANT_FRAMES

VARIANTS = 3
SEED = 20261129
_COMPLAINT_WORDS = re.compile(r"投訴|投诉|反映|complain|Complaint", re.IGNORECASE)
_PUNCT_END = re.compile(r"[。！？!?.,，]$")


def _fill(template: str, rng: random.Random, sentiment: str, branch: str) -> str:
    minutes = rng.choice([30, 40, 45, 50, 60, 90]) if sentiment == "negative" else rng.randint(2, 8)
    amount = rng.choice([30, 50, 80, 100, 150, 200, 350, 500])
    return (
        template.replace("{m}", str(minutes))
        .replace("{n}", str(amount))
        .replace("{branch}", branch)
    )


def generate() -> list[tuple[str, str, str, str]]:
    """(text, category, sentiment, language) rows, de-duplicated, in a stable order."""
    rng = random.Random(SEED)
    rows: list[tuple[str, str, str, str]] = []
    seen: set[str] = set()
    for language, phrases, frames in (
        ("zh-Hant", HANT, HANT_FRAMES),
        ("zh-Hans", HANS, HANS_FRAMES),
        ("en", EN, EN_FRAMES),
    ):
        for category, by_sentiment in phrases.items():
            for sentiment, cores in by_sentiment.items():
                prefixes = [
                    p
                    for p in frames["prefix"]
                    if sentiment == "negative" or not _COMPLAINT_WORDS.search(p)
                ]
                suffixes = frames[f"suffix_{sentiment}"]
                for core in cores:
                    for _ in range(VARIANTS):
                        branch = rng.choice(frames["branch"])
                        prefix = rng.choice(prefixes)
                        suffix = rng.choice(suffixes)
                        body = core
                        if language == "en":
                            if not prefix or prefix.endswith(("- ", ": ")):
                                body = body[:1].upper() + body[1:]
                            if suffix.startswith(". ") and _PUNCT_END.search(body):
                                suffix = suffix[2:]
                        text = _fill(prefix + body + suffix, rng, sentiment, branch)
                        if text in seen:
                            continue
                        seen.add(text)
                        rows.append((text, category, sentiment, language))
    return rows


def render(rows: list[tuple[str, str, str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "category", "sentiment", "language"])
    writer.writerows(rows)
    return buffer.getvalue()


def main() -> None:
    target = Path(__file__).with_name("data") / "train.csv"
    target.write_text(render(generate()), encoding="utf-8")


if __name__ == "__main__":
    main()
