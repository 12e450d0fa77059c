"""The ``recommend batch`` pipeline: read, check, train, rank, explain, write atomically.

Outputs, both written to temporary files beside the target and renamed only when complete:

``OUT`` (CSV)
    ``customer_id,rank,product_code`` for every customer with at least one eligible product,
    up to ``k`` rows each (fewer when fewer products are eligible), in input order. Customers
    with no eligible product (no consent, or every product unsuitable or already held) get
    no row there; each of them has a line in the log saying why.
``OUT`` with suffix ``.log.jsonl``
    First line: run facts (as-of, k, rule and model versions, SHA-256 of the input files,
    training summary). Then one line per customer with the inputs the decision used
    (age, income, assets, tolerance, holdings at as-of, ...) and the recommendations, each
    with rank, product, score and reason, or the reason there are none.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

import numpy as np

from branchdesk.analytics.recommend import model as model_module
from branchdesk.analytics.recommend.io import (
    Customers,
    Holdings,
    Products,
    day_number,
    read_customers,
    read_holdings,
    read_products,
)
from branchdesk.analytics.recommend.ranking import Ranking
from branchdesk.analytics.recommend.rules import RULE_VERSION, held_matrix


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run produced."""

    n_customers: int
    n_recommended: int  # customers with at least one row
    n_rows: int
    n_short: int  # customers with fewer than k rows but at least one
    n_without: int  # customers with no eligible product
    log_path: Path


def log_path_for(out: Path) -> Path:
    """Where the JSON-lines decision log of ``out`` goes."""
    return out.with_suffix(".log.jsonl")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_writer(target: Path) -> Iterator[tuple[IO[str], Path]]:
    """A text file beside ``target``; the caller renames it, or it is removed on error."""
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        os.chmod(descriptor, 0o644)  # mkstemp creates 0600; the output is an ordinary file
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
            yield handle, temp
    except BaseException:
        with suppress(OSError):
            temp.unlink()
        raise


def load(
    customers_path: Path, products_path: Path, holdings_path: Path, as_of: date
) -> tuple[Customers, Products, Holdings]:
    """Read and check the three inputs; raises CsvFormatError on the first problem."""
    customers = read_customers(customers_path, as_of=as_of)
    products = read_products(products_path)
    holdings = read_holdings(holdings_path, customers, products)
    return customers, products, holdings


def _no_row_reason(customers: Customers, c: int) -> str:
    if not customers.has_consent[c]:
        return "no marketing consent"
    return "no eligible product: every product is unsuitable, above the customer's assets or held"


def run_batch(
    customers_path: Path,
    products_path: Path,
    holdings_path: Path,
    as_of: date,
    k: int,
    out: Path,
) -> BatchSummary:
    """Run the whole batch; nothing is written unless every input is valid."""
    customers, products, holdings = load(customers_path, products_path, holdings_path, as_of)
    trained = model_module.train(customers, products, holdings, as_of)
    ranking = model_module.rank(trained, customers, products, holdings, as_of, k)
    texts = model_module.reasons(trained, customers, products, holdings, as_of, ranking)
    header = {
        "as_of": as_of.isoformat(),
        "k": k,
        "rule_version": RULE_VERSION,
        "model_version": model_module.MODEL_VERSION,
        "model": "popularity fallback" if trained.classifier is None else "gradient boosting",
        "training_examples": trained.n_examples,
        "training_positives": trained.n_positives,
        "inputs": {
            "customers": {"path": str(customers_path), "sha256": _sha256(customers_path)},
            "products": {"path": str(products_path), "sha256": _sha256(products_path)},
            "holdings": {"path": str(holdings_path), "sha256": _sha256(holdings_path)},
        },
    }
    log_path = log_path_for(out)
    with (
        atomic_writer(out) as (csv_handle, csv_temp),
        atomic_writer(log_path) as (
            log_handle,
            log_temp,
        ),
    ):
        writer = csv.writer(csv_handle, lineterminator="\n")
        writer.writerow(["customer_id", "rank", "product_code"])
        for c, r, j in zip(
            ranking.customer.tolist(), ranking.rank.tolist(), ranking.product.tolist(), strict=True
        ):
            writer.writerow([customers.ids[c], r, products.codes[j]])
        log_handle.write(json.dumps(header) + "\n")
        _write_log(log_handle, customers, products, holdings, as_of, ranking, texts)
    try:
        os.replace(log_temp, log_path)
        os.replace(csv_temp, out)
    except OSError:
        for temp in (csv_temp, log_temp):
            with suppress(OSError):
                temp.unlink()
        raise
    counts = np.bincount(ranking.customer, minlength=len(customers))
    return BatchSummary(
        n_customers=len(customers),
        n_recommended=int(np.count_nonzero(counts)),
        n_rows=len(ranking),
        n_short=int(np.count_nonzero((counts > 0) & (counts < k))),
        n_without=int(np.count_nonzero(counts == 0)),
        log_path=log_path,
    )


def _write_log(
    handle: IO[str],
    customers: Customers,
    products: Products,
    holdings: Holdings,
    as_of: date,
    ranking: Ranking,
    texts: list[str],
) -> None:
    as_of_day = day_number(as_of)
    held = held_matrix(holdings, len(customers), len(products), as_of_day)
    starts = np.searchsorted(ranking.customer, np.arange(len(customers) + 1))
    for c in range(len(customers)):
        first, last = int(starts[c]), int(starts[c + 1])
        record: dict[str, object] = {
            "customer_id": customers.ids[c],
            "rule_version": RULE_VERSION,
            "inputs": {
                "age": round((as_of_day - int(customers.birth_day[c])) / 365.25, 1),
                "gender": customers.gender[c],
                "city_tier": int(customers.city_tier[c]),
                "monthly_income": float(customers.monthly_income[c]),
                "total_assets": float(customers.total_assets[c]),
                "risk_tolerance": f"C{customers.risk_tolerance[c]}",
                "tenure_months": int(customers.tenure_months[c]),
                "has_consent": bool(customers.has_consent[c]),
                "held": [products.codes[j] for j in np.flatnonzero(held[c]).tolist()],
            },
            "recommendations": [
                {
                    "rank": int(ranking.rank[i]),
                    "product_code": products.codes[int(ranking.product[i])],
                    "score": round(float(ranking.score[i]), 6),
                    "reason": texts[i],
                }
                for i in range(first, last)
            ],
        }
        if first == last:
            record["no_recommendation_reason"] = _no_row_reason(customers, c)
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
