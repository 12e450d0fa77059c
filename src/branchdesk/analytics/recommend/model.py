"""Propensity model for next-best products: training, ranking and reasons in words.

Training uses only the given files. For each past window start ``t = as_of - 90*j``
(j = 1..``WINDOWS``) the examples are the (customer, product) pairs that the suitability
and minimum-asset rules allowed and the customer did not yet hold at ``t``; the label is
whether the customer opened the product in ``(t, t + 90]``. Features come from a
:class:`~.features.Snapshot` at ``t`` (no holding after ``t`` is seen). All positives are
kept; negatives are sampled down to a row budget and re-weighted by the inverse rate, so
predicted probabilities stay comparable across products.

One gradient-boosted tree model (scikit-learn ``HistGradientBoostingClassifier``) scores
every pair, with the product as a categorical feature, so customer x product interactions
(age x pension, holding a bond fund x equity fund, ...) are learned from past adoptions.
When the history holds no positive example the model falls back to popularity.

Reasons are built from adoption lifts counted over the same training windows: how much more
often customers of the same age and asset band opened the product, and which product the
customer holds that most often came before it, plus the rule facts (risk vs tolerance,
minimum assets).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # no py.typed

from branchdesk.analytics.recommend import features as feat
from branchdesk.analytics.recommend.io import (
    BoolArray,
    Customers,
    FloatArray,
    Holdings,
    IntArray,
    Products,
    day_number,
)
from branchdesk.analytics.recommend.popularity import popularity_scores
from branchdesk.analytics.recommend.ranking import Ranking, concat, top_k
from branchdesk.analytics.recommend.reasons import (
    AGE_LABELS,
    ASSET_LABELS,
    ReasonPart,
    reason_text,
)
from branchdesk.analytics.recommend.rules import eligible

MODEL_VERSION = "recommend-hgb-1"
WINDOWS = 8
HYPER: dict[str, float] = {
    "learning_rate": 0.08,
    "max_iter": 200,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}
MAX_TRAINING_ROWS = 400_000
SCORING_CHUNK = 10_000
LIFT_PRIOR = 50.0
# One OpenMP thread: on shared branch servers, several threads spin against other jobs and
# run up to ten times slower than one.
THREADS = 1
AGE_BANDS = np.array([30.0, 40.0, 50.0, 60.0])
ASSET_BANDS = np.array([100_000.0, 1_000_000.0, 5_000_000.0])


@dataclass(frozen=True)
class Lifts:
    """Smoothed adoption-rate ratios used for the reasons."""

    segment: FloatArray  # [segment, product]
    after_holding: FloatArray  # [held product, product]


@dataclass(frozen=True)
class TrainedModel:
    """Everything needed to score candidates at the as-of date."""

    classifier: HistGradientBoostingClassifier | None
    catalogue: feat.Catalogue
    lifts: Lifts
    n_examples: int
    n_positives: int
    windows: list[int]


def _segment(customers: Customers, age_years: FloatArray) -> IntArray:
    age_band = np.searchsorted(AGE_BANDS, age_years, side="right")
    asset_band = np.searchsorted(ASSET_BANDS, customers.total_assets, side="right")
    segment: IntArray = (age_band * len(ASSET_LABELS) + asset_band).astype(np.int64)
    return segment


def _training_candidates(customers: Customers, products: Products) -> BoolArray:
    """Suitability and minimum assets, without the assessment date or consent (past)."""
    risk_ok = products.risk_level[None, :] <= customers.risk_tolerance[:, None]
    assets_ok = customers.total_assets[:, None] >= products.min_assets[None, :]
    allowed: BoolArray = risk_ok & assets_ok
    return allowed


def _lift(positives: FloatArray, candidates: FloatArray, rate: FloatArray) -> FloatArray:
    smoothed = (positives + LIFT_PRIOR * rate[None, :]) / (candidates + LIFT_PRIOR)
    lift: FloatArray = smoothed / np.maximum(rate[None, :], 1e-12)
    return lift


def train(
    customers: Customers,
    products: Products,
    holdings: Holdings,
    as_of: date,
    *,
    seed: int = 0,
    windows: int = WINDOWS,
    max_rows: int = MAX_TRAINING_ROWS,
) -> TrainedModel:
    """Fit the propensity model on past 90-day windows before ``as_of``."""
    n, p = len(customers), len(products)
    as_of_day = day_number(as_of)
    cat = feat.catalogue(products, holdings, as_of_day)
    base = feat.customer_base(customers)
    allowed = _training_candidates(customers, products)
    rng = np.random.default_rng(seed)
    n_segments = len(AGE_LABELS) * len(ASSET_LABELS)
    seg_pos = np.zeros((n_segments, p))
    seg_cand = np.zeros((n_segments, p))
    hold_pos = np.zeros((p, p))
    hold_cand = np.zeros((p, p))
    windows_seen: list[tuple[feat.Snapshot, BoolArray, BoolArray]] = []
    used_windows: list[int] = []
    for j in range(1, windows + 1):
        start = as_of_day - feat.WINDOW_DAYS * j
        snap = feat.snapshot(customers, products, holdings, start)
        if not snap.active.any():
            continue
        opened = (holdings.opened_day > start) & (holdings.opened_day <= start + feat.WINDOW_DAYS)
        label = np.zeros((n, p), dtype=np.bool_)
        label[holdings.customer[opened], holdings.product[opened]] = True
        candidate = allowed & ~snap.held & snap.active[:, None]
        positive = candidate & label
        segment = _segment(customers, (start - base.birth_day) / 365.25)
        np.add.at(seg_pos, segment, positive)
        np.add.at(seg_cand, segment, candidate)
        held = snap.held.astype(np.float32)
        hold_pos += held.T @ positive.astype(np.float32)
        hold_cand += held.T @ candidate.astype(np.float32)
        windows_seen.append((snap, candidate, positive))
        used_windows.append(start)
    total = int(sum(int(candidate.sum()) for _, candidate, _ in windows_seen))
    n_pos = int(sum(int(positive.sum()) for _, _, positive in windows_seen))
    rate = seg_pos.sum(axis=0) / np.maximum(seg_cand.sum(axis=0), 1.0)
    lifts = Lifts(_lift(seg_pos, seg_cand, rate), _lift(hold_pos, hold_cand, rate))
    if n_pos == 0 or n_pos == total:
        return TrainedModel(None, cat, lifts, total, n_pos, used_windows)
    keep_rate = min(1.0, max(max_rows - n_pos, 1) / max(total - n_pos, 1))
    blocks: list[feat.Float32Array] = []
    labels: list[BoolArray] = []
    weights: list[FloatArray] = []
    for snap, candidate, positive in windows_seen:
        keep = positive | (candidate & (rng.random(candidate.shape) < keep_rate))
        who, what = np.nonzero(keep)
        y = positive[who, what]
        blocks.append(feat.pair_features(base, cat, snap, as_of_day, who, what))
        labels.append(y)
        weights.append(np.where(y, 1.0, 1.0 / keep_rate))
    classifier = HistGradientBoostingClassifier(
        learning_rate=HYPER["learning_rate"],
        # Fewer boosting rounds when there are few adoptions to learn from.
        max_iter=int(np.clip(n_pos // 10, 50, HYPER["max_iter"])),
        max_leaf_nodes=int(HYPER["max_leaf_nodes"]),
        min_samples_leaf=int(HYPER["min_samples_leaf"]),
        l2_regularization=HYPER["l2_regularization"],
        categorical_features=feat.categorical_mask(cat, p),
        early_stopping=False,
        random_state=seed,
    )
    x, y = np.vstack(blocks), np.concatenate(labels)
    with threadpool_limits(limits=THREADS, user_api="openmp"):
        classifier.fit(x, y, sample_weight=np.concatenate(weights))
    return TrainedModel(classifier, cat, lifts, total, n_pos, used_windows)


def rank(
    model: TrainedModel,
    customers: Customers,
    products: Products,
    holdings: Holdings,
    as_of: date,
    k: int,
) -> Ranking:
    """Top-k eligible products per customer by predicted propensity."""
    as_of_day = day_number(as_of)
    allowed = eligible(customers, products, holdings, as_of)
    fallback = popularity_scores(holdings, len(products), as_of)
    if model.classifier is None:
        parts = [
            top_k(
                np.broadcast_to(fallback, allowed[s : s + SCORING_CHUNK].shape),
                allowed[s : s + SCORING_CHUNK],
                k,
                customer_offset=s,
            )
            for s in range(0, len(customers), SCORING_CHUNK)
        ]
        return concat(parts)
    base = feat.customer_base(customers)
    snap = feat.snapshot(customers, products, holdings, as_of_day)
    parts = []
    for start in range(0, len(customers), SCORING_CHUNK):
        block = allowed[start : start + SCORING_CHUNK]
        rows, what = np.nonzero(block)
        scores = np.zeros(block.shape, dtype=np.float64)
        if len(rows):
            x = feat.pair_features(base, model.catalogue, snap, as_of_day, rows + start, what)
            with threadpool_limits(limits=THREADS, user_api="openmp"):
                scores[rows, what] = model.classifier.predict_proba(x)[:, 1]
        parts.append(top_k(scores, block, k, customer_offset=start))
    return concat(parts)


def reasons(
    model: TrainedModel,
    customers: Customers,
    products: Products,
    holdings: Holdings,
    as_of: date,
    ranking: Ranking,
) -> list[str]:
    """One plain-language (English) reason per recommendation row."""
    return [
        reason_text(parts)
        for parts in reason_parts(model, customers, products, holdings, as_of, ranking)
    ]


def reason_parts(
    model: TrainedModel,
    customers: Customers,
    products: Products,
    holdings: Holdings,
    as_of: date,
    ranking: Ranking,
) -> list[list[ReasonPart]]:
    """Why each recommendation row: reason codes with parameters (worded by
    :func:`.reasons.reason_text`)."""
    if len(ranking) == 0:
        return []
    as_of_day = day_number(as_of)
    held = feat.snapshot(customers, products, holdings, as_of_day).held
    age = (as_of_day - customers.birth_day) / 365.25
    segment = _segment(customers, age)
    seg_lift = model.lifts.segment[segment[ranking.customer], ranking.product]
    after = model.lifts.after_holding[:, ranking.product].T  # rows x held product
    after = np.where(held[ranking.customer], after, 0.0)
    best_held = np.argmax(after, axis=1)
    best_lift = after[np.arange(len(ranking)), best_held]
    recent = popularity_scores(holdings, len(products), as_of)
    top_recent = {j for j in np.argsort(-recent, kind="stable")[:3].tolist() if recent[j] >= 1}
    result: list[list[ReasonPart]] = []
    n_asset = len(ASSET_LABELS)
    for i in range(len(ranking)):
        c, j = int(ranking.customer[i]), int(ranking.product[i])
        product = {"product_code": products.codes[j], "product": products.names[j]}
        parts: list[ReasonPart] = []
        if seg_lift[i] >= 1.2:
            s = int(segment[c])
            parts.append(
                {"code": "segment_lift", "age_band": s // n_asset, "asset_band": s % n_asset,
                 **product, "lift": round(float(seg_lift[i]), 1)}
            )  # fmt: skip
        if best_lift[i] >= 1.5:
            h = int(best_held[i])
            parts.append(
                {"code": "after_holding", "held_code": products.codes[h],
                 "held": products.names[h]}
            )  # fmt: skip
        if not parts:
            parts.append({"code": "popular" if j in top_recent else "fits", **product})
        parts.append(
            {"code": "risk", "risk": int(products.risk_level[j]),
             "tolerance": int(customers.risk_tolerance[c])}
        )  # fmt: skip
        if products.min_assets[j] > 0:
            parts.append({"code": "min_assets", "amount": float(products.min_assets[j])})
        result.append(parts)
    return result
