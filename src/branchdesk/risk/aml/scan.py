"""Batch scan: every rule over a whole export, producing alerts with deterministic ids."""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from branchdesk.risk.aml.book import Book, Finding, start_of_day
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.cycle import detect_cycles
from branchdesk.risk.aml.io import Transactions, read_export
from branchdesk.risk.aml.reports import detect_cross_border, detect_large_cash
from branchdesk.risk.aml.typologies import (
    detect_dormant_reactivation,
    detect_fan_in,
    detect_fan_out,
    detect_pass_through,
    detect_structuring,
)

__all__ = [
    "ALERT_COLUMNS",
    "DETECTORS",
    "REPORT_ONLY",
    "Alert",
    "run_rules",
    "scan_file",
    "scan_transactions",
    "write_alerts",
]

ALERT_COLUMNS = ("alert_id", "account_id", "customer_id", "typology", "txn_ids", "score", "reason")
REPORT_ONLY = frozenset({"large_cash", "cross_border"})

Detector = Callable[[Book], list[Finding]]
DETECTORS: tuple[Detector, ...] = (
    detect_large_cash,
    detect_cross_border,
    detect_structuring,
    detect_pass_through,
    detect_fan_in,
    detect_fan_out,
    detect_dormant_reactivation,
    detect_cycles,
)


@dataclass(frozen=True)
class Alert:
    """One output row of `branchdesk aml scan`."""

    alert_id: str
    account_id: str
    customer_id: str
    typology: str
    txn_ids: tuple[str, ...]
    score: float
    reason: str
    first_ts: int

    def as_row(self) -> tuple[str, ...]:
        return (
            self.alert_id,
            self.account_id,
            self.customer_id,
            self.typology,
            ";".join(self.txn_ids),
            f"{self.score:.2f}",
            self.reason,
        )


def run_rules(book: Book, detectors: Iterable[Detector] = DETECTORS) -> list[Finding]:
    """All findings of the given detectors on a book."""
    findings: list[Finding] = []
    for detector in detectors:
        findings.extend(detector(book))
    return findings


def _alert_id(typology: str, account_id: str, txn_ids: tuple[str, ...]) -> str:
    digest = hashlib.sha256("|".join((typology, account_id, *txn_ids)).encode()).hexdigest()
    return f"AML-{digest[:16].upper()}"


def scan_transactions(tx: Transactions, config: RuleConfig) -> list[Alert]:
    """Run every rule over column arrays; alerts sorted by time, account and typology."""
    if len(tx) == 0:
        return []
    book = Book(tx, config, export_start=start_of_day(int(tx.ts.min()), config))
    alerts: dict[str, Alert] = {}
    for finding in run_rules(book):
        rows = sorted(finding.rows, key=lambda r: (int(tx.ts[r]), int(tx.line[r])))
        txn_ids = tuple(str(tx.txn_id[r]) for r in rows)
        alert_id = _alert_id(finding.typology, finding.account_id, txn_ids)
        alerts[alert_id] = Alert(
            alert_id=alert_id,
            account_id=finding.account_id,
            customer_id=finding.customer_id,
            typology=finding.typology,
            txn_ids=txn_ids,
            score=max(0.0, min(1.0, finding.score)),
            reason=finding.reason,
            first_ts=int(tx.ts[rows[0]]),
        )
    return sorted(alerts.values(), key=lambda a: (a.first_ts, a.account_id, a.typology, a.alert_id))


def scan_file(path: Path, config: RuleConfig) -> list[Alert]:
    """Read an export strictly and scan it; raises ExportFormatError for a malformed file."""
    return scan_transactions(read_export(path, config), config)


def write_alerts(alerts: Iterable[Alert], out: Path) -> None:
    """Write the alerts CSV atomically: a temporary file in the same folder, then a rename."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(ALERT_COLUMNS)
            writer.writerows(alert.as_row() for alert in alerts)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
