"""Keywords, topics and category trends of dated texts, per day, week or month.

Keywords per period are class-based TF-IDF (each period's texts pooled into one document,
weighted ``tf(term, period) / words(period) * log(1 + mean words per period / tf(term, all))``).
Topics are NMF on word TF-IDF over all texts. Terms are computed on the normalised (Simplified,
lower-case) tokens but shown in the form the texts used most, so Traditional input gets
Traditional keywords.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from branchdesk.textanalysis.normalize import (
    _CJK,
    _SPACES,
    _t2s,
    detect_language,
    normalise,
    tokens,
)

Period = Literal["day", "week", "month"]
PERIODS: tuple[str, ...] = ("day", "week", "month")

_ZH_STOP = frozenset(
    [
        "我们",
        "你们",
        "他们",
        "我的",
        "你的",
        "一个",
        "一直",
        "这个",
        "那个",
        "什么",
        "没有",
        "就是",
        "还是",
        "已经",
        "因为",
        "所以",
        "但是",
        "而且",
        "可以",
        "可能",
        "这次",
        "今天",
        "时候",
        "自己",
        "现在",
        "还有",
        "不是",
        "真的",
        "还要",
        "一下",
        "请问",
        "一样",
        "也是",
        "都是",
        "觉得",
        "非常",
        "而已",
        "之后",
        "然后",
        "如果",
        "这样",
        "那么",
        "这里",
        "那里",
        "怎么",
        "为什么",
        "的话",
        "比较",
        "根本",
        "知道",
        "想问",
    ]
)
_EN_STOP = frozenset(ENGLISH_STOP_WORDS) | {
    "bank",
    "branch",
    "just",
    "really",
    "today",
    "got",
    "get",
    "did",
    "does",
    "said",
    "told",
}


@dataclass(frozen=True)
class DatedText:
    text: str
    on: date


@dataclass(frozen=True)
class Keyword:
    term: str
    score: float
    count: int


@dataclass(frozen=True)
class Topic:
    number: int
    words: tuple[str, ...]
    size: int
    # texts per period label
    by_period: dict[str, int]


def period_label(day: date | datetime, period: str) -> str:
    """``2026-11-29`` (day), ``2026-W48`` (ISO week) or ``2026-11`` (month)."""
    value = day.date() if isinstance(day, datetime) else day
    if period == "day":
        return value.isoformat()
    if period == "week":
        year, week, _ = value.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{value.year}-{value.month:02d}"
    raise ValueError(f"period must be one of {', '.join(PERIODS)}")


def _keep(term: str) -> bool:
    if term.isdigit():
        return False
    if _CJK.match(term):
        return len(term) > 1 and term not in _ZH_STOP
    return len(term) > 2 and term not in _EN_STOP


def _surface_tokens(text: str) -> list[tuple[str, str]]:
    """(normalised token, form as written) pairs; the written form keeps the text's script."""
    folded = _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
    normalised = normalise(text)
    aligned = _CJK.search(folded) is not None and len(_t2s().convert(folded)) == len(folded)
    pairs: list[tuple[str, str]] = []
    cursor = 0
    for token in tokens(normalised):
        position = normalised.find(token, cursor)
        if aligned and position >= 0:
            pairs.append((token, folded[position : position + len(token)]))
            cursor = position + len(token)
        else:
            pairs.append((token, token))
    return pairs


class _Display:
    """The most used written form of each normalised term."""

    def __init__(self) -> None:
        self.forms: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, pairs: list[tuple[str, str]]) -> None:
        for token, surface in pairs:
            self.forms[token][surface] += 1

    def show(self, term: str) -> str:
        forms = self.forms.get(term)
        return forms.most_common(1)[0][0] if forms else term


def keywords_by_period(
    items: Sequence[DatedText], *, period: str = "week", top: int = 10
) -> dict[str, list[Keyword]]:
    """Top ``top`` class-based TF-IDF keywords of each period, periods in time order."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    displays: dict[str, _Display] = defaultdict(_Display)
    for item in items:
        label = period_label(item.on, period)
        pairs = [(t, s) for t, s in _surface_tokens(item.text or "") if _keep(t)]
        counts[label].update(t for t, _ in pairs)
        displays[label].add(pairs)
    if not counts:
        return {}
    overall: Counter[str] = Counter()
    for counter in counts.values():
        overall.update(counter)
    mean_words = sum(overall.values()) / len(counts)
    result: dict[str, list[Keyword]] = {}
    for label in sorted(counts):
        counter = counts[label]
        words = sum(counter.values()) or 1
        scored = [
            (count / words * math.log(1 + mean_words / overall[term]), term, count)
            for term, count in counter.items()
        ]
        scored.sort(key=lambda entry: (-entry[0], -entry[2], entry[1]))
        result[label] = [
            Keyword(displays[label].show(term), round(score, 5), count)
            for score, term, count in scored[:top]
        ]
    return result


def _analyzer(text: str) -> list[str]:
    return [token for token in text.split(" ") if token]


def topics(
    items: Sequence[DatedText], *, period: str = "week", count: int = 6, top: int = 6
) -> list[Topic]:
    """NMF topics over all texts: top words, size and texts per period (empty if too little)."""
    surfaces: list[list[tuple[str, str]]] = []
    documents = []
    for item in items:
        pairs = [(t, s) for t, s in _surface_tokens(item.text or "") if _keep(t)]
        surfaces.append(pairs)
        documents.append(" ".join(t for t, _ in pairs))
    usable = [i for i, doc in enumerate(documents) if doc]
    if len(usable) < 4:
        return []
    vectorizer = TfidfVectorizer(analyzer=_analyzer, min_df=2 if len(usable) >= 20 else 1)
    try:
        matrix = vectorizer.fit_transform([documents[i] for i in usable])
    except ValueError:  # every term pruned
        return []
    components = max(1, min(count, matrix.shape[0] // 2, matrix.shape[1]))
    model = NMF(n_components=components, init="nndsvda", random_state=0, max_iter=400)
    weights = model.fit_transform(matrix)
    vocabulary = vectorizer.get_feature_names_out()
    assignment = np.argmax(weights, axis=1)
    has_weight = weights.max(axis=1) > 0
    result = []
    for number in range(components):
        members = [
            usable[row]
            for row in range(len(usable))
            if assignment[row] == number and has_weight[row]
        ]
        # words shown as the topic's texts write them, in the script most of its Chinese uses
        pool = members or usable
        scripts = Counter(detect_language(items[i].text or "") for i in pool)
        script = "zh-Hans" if scripts["zh-Hans"] > scripts["zh-Hant"] else "zh-Hant"
        preferred, fallback = _Display(), _Display()
        for index in pool:
            fallback.add(surfaces[index])
            if detect_language(items[index].text or "") == script:
                preferred.add(surfaces[index])
        order = np.argsort(-model.components_[number])[:top]
        words = tuple(
            preferred.show(str(vocabulary[i]))
            if str(vocabulary[i]) in preferred.forms
            else fallback.show(str(vocabulary[i]))
            for i in order
            if model.components_[number][i] > 0
        )
        by_period: Counter[str] = Counter(period_label(items[i].on, period) for i in members)
        result.append(Topic(number + 1, words, len(members), dict(sorted(by_period.items()))))
    result.sort(key=lambda topic: (-topic.size, topic.number))
    return [
        Topic(rank, topic.words, topic.size, topic.by_period)
        for rank, topic in enumerate(result, start=1)
    ]


def category_trend(
    items: Sequence[DatedText], categories: Sequence[str], *, period: str = "week"
) -> dict[str, Counter[str]]:
    """Counts of each category per period (``categories`` align with ``items``)."""
    trend: dict[str, Counter[str]] = defaultdict(Counter)
    for item, category in zip(items, categories, strict=True):
        trend[period_label(item.on, period)][category] += 1
    return dict(sorted(trend.items()))
