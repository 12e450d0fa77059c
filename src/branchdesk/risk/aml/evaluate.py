"""Evaluation of a scan against labels: per-typology recall, precision, large-cash exactness."""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.scan import REPORT_ONLY, Alert, scan_file

__all__ = ["Evaluation", "evaluate_alerts", "evaluate_file", "read_labels"]


@dataclass(frozen=True)
class Evaluation:
    recall: dict[str, tuple[int, int]]  # typology -> (accounts found with that typology, labelled)
    recall_any: dict[str, tuple[int, int]]  # found with any suspicious alert
    flagged_accounts: int
    true_flagged: int
    false_flagged: tuple[str, ...]
    large_cash_expected: int
    large_cash_missed: tuple[str, ...]
    large_cash_wrong: tuple[str, ...]
    seconds: float

    @property
    def precision(self) -> float:
        return self.true_flagged / self.flagged_accounts if self.flagged_accounts else 1.0

    @property
    def large_cash_exact(self) -> bool:
        return not self.large_cash_missed and not self.large_cash_wrong

    def lines(self) -> list[str]:
        out = []
        for typology, (found, total) in sorted(self.recall.items()):
            found_any = self.recall_any[typology][0]
            share = found / total if total else 1.0
            out.append(
                f"recall {typology:<22} {found:>4}/{total:<4} = {share:6.1%}"
                f"   (any alert: {found_any}/{total})"
            )
        out.append(
            f"precision (flagged accounts truly suspicious) {self.true_flagged}/"
            f"{self.flagged_accounts} = {self.precision:.1%}"
        )
        out.append(
            f"large cash: {self.large_cash_expected} expected, "
            f"{len(self.large_cash_missed)} missed, {len(self.large_cash_wrong)} wrongly reported"
            f" -> {'exact' if self.large_cash_exact else 'NOT exact'}"
        )
        out.append(f"scan wall time {self.seconds:.2f} s")
        return out


def read_labels(path: Path) -> tuple[dict[str, set[str]], set[str]]:
    """(typology -> labelled accounts, large-cash txn ids) from a labels CSV."""
    accounts: dict[str, set[str]] = defaultdict(set)
    large_cash: set[str] = set()
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            if row["typology"] == "large_cash":
                large_cash.add(row["txn_id"])
            else:
                accounts[row["typology"]].add(row["account_id"])
    return dict(accounts), large_cash


def evaluate_alerts(
    alerts: list[Alert],
    labels: dict[str, set[str]],
    large_cash: set[str],
    seconds: float,
) -> Evaluation:
    found: dict[str, set[str]] = defaultdict(set)
    reported: set[str] = set()
    for alert in alerts:
        if alert.typology == "large_cash":
            reported.update(alert.txn_ids)
        elif alert.typology not in REPORT_ONLY:
            found[alert.typology].add(alert.account_id)
    flagged = set().union(*found.values()) if found else set()
    suspicious = set().union(*labels.values()) if labels else set()
    recall = {t: (len(accts & found.get(t, set())), len(accts)) for t, accts in labels.items()}
    recall_any = {t: (len(accts & flagged), len(accts)) for t, accts in labels.items()}
    return Evaluation(
        recall=recall,
        recall_any=recall_any,
        flagged_accounts=len(flagged),
        true_flagged=len(flagged & suspicious),
        false_flagged=tuple(sorted(flagged - suspicious)),
        large_cash_expected=len(large_cash),
        large_cash_missed=tuple(sorted(large_cash - reported)),
        large_cash_wrong=tuple(sorted(reported - large_cash)),
        seconds=seconds,
    )


def evaluate_file(transactions: Path, labels_path: Path, config: RuleConfig) -> Evaluation:
    """Scan an export (timed) and compare with its labels."""
    labels, large_cash = read_labels(labels_path)
    started = time.perf_counter()
    alerts = scan_file(transactions, config)
    seconds = time.perf_counter() - started
    return evaluate_alerts(alerts, labels, large_cash, seconds)
