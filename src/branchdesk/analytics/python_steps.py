"""Python steps on the small per-customer tables: clusters, recommendations, care tasks.

They take the rows the SQL steps produced (plain dicts, ordered by customer number) and are
deterministic: k-means with a fixed seed, clusters numbered by their centres, the recommender's
own fixed seed. So both engines lead to the same results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from branchdesk.analytics.config import PipelineConfig
from branchdesk.analytics.recommend import model as model_module
from branchdesk.analytics.recommend.io import NO_DAY, Customers, Holdings, Products, day_number
from branchdesk.analytics.recommend.reasons import reason_text

Record = dict[str, Any]

# (feature, words for a high value, words for a low value)
CLUSTER_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("assets", "high assets", "low assets"),
    ("frequency", "frequent transactions", "few transactions"),
    ("monetary", "large turnover", "small turnover"),
    ("recency", "long inactive", "recently active"),
    ("products", "many products", "few products"),
    ("counter", "counter regulars", "rarely at the counter"),
    ("remote", "remote-queue users", "no remote queue"),
    ("tenure", "long-standing", "new"),
)


def cluster_matrix(features: list[Record], window_days: int) -> np.ndarray[Any, Any]:
    rows = []
    for f in features:
        recency = f["recency_days"] if f["recency_days"] is not None else window_days
        rows.append(
            [
                math.log1p(max(f["assets_minor"], 0) / 100),
                float(f["frequency"]),
                math.log1p(f["monetary_minor"] / 100),
                float(recency),
                float(f["product_count"]),
                float(f["counter_visits"]),
                float(f["remote_visits"] + f["portal_visits"]),
                float(f["tenure_months"]),
            ]
        )
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(CLUSTER_FEATURES))


@dataclass(frozen=True)
class Clusters:
    names: dict[str, str]  # customer_id -> cluster name
    profiles: list[Record]


def _name(centre: np.ndarray[Any, Any]) -> str:
    order = sorted(range(len(centre)), key=lambda i: (-abs(float(centre[i])), i))[:2]
    words = [
        CLUSTER_FEATURES[i][1] if centre[i] > 0 else CLUSTER_FEATURES[i][2]
        for i in order
        if abs(float(centre[i])) >= 0.25
    ]
    return ", ".join(words) if words else "typical"


def cluster(features: list[Record], config: PipelineConfig) -> Clusters:
    """k-means on standardised features; clusters numbered by mean assets, named in words."""
    if not features:
        return Clusters({}, [])
    raw = cluster_matrix(features, config.rfm_window_days)
    distinct = len(np.unique(raw, axis=0))
    k = max(1, min(config.clusters, distinct))
    scaled = StandardScaler().fit_transform(raw)
    fitted = KMeans(n_clusters=k, random_state=config.seed, n_init=10).fit(scaled)
    labels = fitted.labels_
    centres = fitted.cluster_centers_
    # stable numbering: by centre (assets first, then the other features)
    order = sorted(range(k), key=lambda c: tuple(np.round(centres[c], 9).tolist()))
    number = {old: new for new, old in enumerate(order)}
    names: dict[int, str] = {}
    for old in order:
        base = _name(centres[old])
        name = base
        suffix = 2
        while name in names.values():
            name = f"{base} ({suffix})"
            suffix += 1
        names[number[old]] = name
    profiles = []
    for old in order:
        members = labels == old
        profiles.append(
            {
                "cluster": number[old],
                "name": names[number[old]],
                "size": int(members.sum()),
                "mean": {
                    CLUSTER_FEATURES[i][0]: round(float(raw[members, i].mean()), 2)
                    for i in range(len(CLUSTER_FEATURES))
                },
                "centre_z": {
                    CLUSTER_FEATURES[i][0]: round(float(centres[old][i]), 3)
                    for i in range(len(CLUSTER_FEATURES))
                },
            }
        )
    assigned = {
        f["customer_id"]: names[number[int(label)]]
        for f, label in zip(features, labels.tolist(), strict=True)
    }
    return Clusters(assigned, profiles)


def recommend(
    features: list[Record], openings: list[Record], config: PipelineConfig, as_of: date
) -> list[Record]:
    """Top-k suitable products per customer from the recommender (rules first, then model)."""
    if not features:
        return []
    base_exponent = 2
    index = {f["customer_id"]: i for i, f in enumerate(features)}
    fallback_birth = day_number(as_of) - 40 * 365
    customers = Customers(
        ids=[f["customer_id"] for f in features],
        birth_day=np.array(
            [day_number(f["birth_on"]) if f["birth_on"] else fallback_birth for f in features],
            dtype=np.int64,
        ),
        gender=["U"] * len(features),
        city_tier=np.ones(len(features), dtype=np.int64),
        monthly_income=np.array(
            [f["monetary_minor"] / 10**base_exponent / 24 for f in features], dtype=np.float64
        ),
        total_assets=np.array(
            [f["assets_minor"] / 10**base_exponent for f in features], dtype=np.float64
        ),
        risk_tolerance=np.array([int(f["risk_tolerance"][1]) for f in features], dtype=np.int64),
        tenure_months=np.array([f["tenure_months"] for f in features], dtype=np.int64),
        risk_assessed_day=np.array(
            [NO_DAY if f["is_risk_tolerance_default"] else day_number(as_of) for f in features],
            dtype=np.int64,
        ),
        has_consent=np.array([bool(f["has_consent"]) for f in features], dtype=np.bool_),
    )
    catalogue = config.products
    products = Products(
        codes=[p.code for p in catalogue],
        names=[p.name for p in catalogue],
        categories=[p.category for p in catalogue],
        risk_level=np.array([p.risk_level for p in catalogue], dtype=np.int64),
        min_assets=np.array([float(p.min_assets) for p in catalogue], dtype=np.float64),
    )
    by_type = {p.account_type: j for j, p in enumerate(catalogue) if p.account_type}
    held = [
        (index[o["customer_id"]], by_type[o["type"]], day_number(o["opened_on"]))
        for o in openings
        if o["customer_id"] in index and o["type"] in by_type
    ]
    holdings = Holdings(
        customer=np.array([h[0] for h in held], dtype=np.int64),
        product=np.array([h[1] for h in held], dtype=np.int64),
        opened_day=np.array([h[2] for h in held], dtype=np.int64),
    )
    trained = model_module.train(customers, products, holdings, as_of, seed=config.seed)
    ranking = model_module.rank(
        trained, customers, products, holdings, as_of, config.recommendations
    )
    why = model_module.reason_parts(trained, customers, products, holdings, as_of, ranking)
    return [
        {
            "customer_id": customers.ids[c],
            "rank": int(r),
            "product_code": products.codes[j],
            "reason": reason_text(parts)[:500],  # English, for logs; shown: reason_parts
            "reason_parts": parts,
        }
        for c, r, j, parts in zip(
            ranking.customer.tolist(),
            ranking.rank.tolist(),
            ranking.product.tolist(),
            why,
            strict=True,
        )
    ]


def _next_birthday(birth_on: date, as_of: date) -> date:
    for year in (as_of.year, as_of.year + 1):
        try:
            candidate = birth_on.replace(year=year)
        except ValueError:  # 29 February in a common year: the 28th
            candidate = date(year, 2, 28)
        if candidate >= as_of:
            return candidate
    raise AssertionError("unreachable")


def care_tasks(
    features: list[Record], events: list[Record], config: PipelineConfig, as_of: date
) -> list[Record]:
    """Care tasks by rule; ``dedupe_key`` names the occasion so a task is made once."""
    tasks: list[Record] = []
    branch = {f["customer_id"]: f["home_branch_id"] for f in features}

    def add(customer_id: str, rule: str, key: str, due: date, detail: str) -> None:
        tasks.append(
            {
                "customer_id": customer_id,
                "rule_code": rule,
                "dedupe_key": f"{rule}:{customer_id}:{key}",
                "due_on": due,
                "branch_id": branch.get(customer_id),
                "detail": detail,
            }
        )

    quarter = f"{as_of.year}Q{(as_of.month - 1) // 3 + 1}"
    for f in features:
        cid = f["customer_id"]
        if f["birth_on"] is not None:
            birthday = _next_birthday(f["birth_on"], as_of)
            if (birthday - as_of).days <= config.birthday_days:
                add(cid, "birthday", str(birthday.year), birthday, f"birthday on {birthday}")
        expires = f["id_expires_on"]
        if expires is not None and expires <= as_of + timedelta(days=config.id_expiry_days):
            due = max(as_of, min(expires, as_of + timedelta(days=7)))
            add(cid, "id_expiring", expires.isoformat(), due, f"ID document expires {expires}")
        before, now = f["assets_month_ago_minor"], f["assets_minor"]
        drop = before - now
        if (
            before > 0
            and drop >= config.balance_drop_min_minor
            and drop * 100 >= before * config.balance_drop_percent
        ):
            week = as_of.isocalendar()
            add(
                cid,
                "balance_drop",
                f"{week.year}W{week.week:02d}",
                as_of + timedelta(days=3),
                f"balances fell {drop * 100 // before}% in 30 days",
            )
        dormant = f["recency_days"] is None or f["recency_days"] > config.dormant_days
        if f["product_count"] > 0 and dormant:
            add(cid, "dormant", quarter, as_of + timedelta(days=14), "no transaction for months")
    for e in events:
        if e["customer_id"] not in branch:
            continue
        if e["rule_code"] == "detractor":
            add(e["customer_id"], "detractor", e["reference"], as_of + timedelta(days=2),
                f"detractor survey on {e['happened_on']}")  # fmt: skip
        else:
            add(e["customer_id"], "complaint_closed", e["reference"], as_of + timedelta(days=7),
                f"follow-up call: complaint {e['reference']} closed")  # fmt: skip
    tasks.sort(key=lambda t: t["dedupe_key"])
    return tasks
