"""Pre-posting hook: the same rules as the batch scan, applied to one new posting.

The ledger calls `check_posting` before it commits a posting, with the customer's recent
history (all of the customer's accounts, at least the longest rule window; for dormancy the
last movement before the window), and optionally recent in-bank transfers of other accounts
for the cycle rule. Only findings that include the new posting count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from branchdesk.risk.aml.book import Book, Finding, start_of_day
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.io import Posting, transactions_from_postings
from branchdesk.risk.aml.scan import DETECTORS, run_rules

__all__ = ["Decision", "Outcome", "check_posting"]


class Outcome(StrEnum):
    ALLOW = "allow"
    HOLD = "hold"
    BLOCK = "block"


@dataclass(frozen=True)
class Decision:
    """What the ledger does with the posting, the reasons in words, and reports to file."""

    outcome: Outcome
    reasons: tuple[str, ...]
    typologies: tuple[str, ...]
    reports: tuple[str, ...]  # report-only findings (large cash, cross-border): post, but file


def check_posting(
    history: Sequence[Posting],
    posting: Posting,
    config: RuleConfig,
    *,
    related_transfers: Sequence[Posting] = (),
    history_start: datetime | None = None,
) -> Decision:
    """Allow, hold or block `posting` given the history; never raises for suspicious data."""
    known = {p.txn_id for p in history}
    if posting.txn_id in known:
        raise ValueError(f"posting {posting.txn_id} is already in the history")
    extra = [p for p in related_transfers if p.txn_id not in known and p.txn_id != posting.txn_id]
    postings = [*history, *extra, posting]
    tx = transactions_from_postings(postings, config)
    if history_start is not None:
        start = int(history_start.timestamp())
    else:
        start = start_of_day(int(tx.ts.min()), config)
    book = Book(tx, config, export_start=start)
    target = next(i for i in range(len(tx)) if tx.txn_id[i] == posting.txn_id)
    relevant: list[Finding] = [
        finding for finding in run_rules(book, DETECTORS) if target in finding.rows
    ]
    suspicious = [f for f in relevant if not f.report_only]
    reports = tuple(f"{f.typology}: {f.reason}" for f in relevant if f.report_only)
    if not suspicious:
        return Decision(Outcome.ALLOW, (), (), reports)
    policy = config.hook
    blocking = any(
        f.typology in policy.block_typologies or f.score >= float(policy.block_score)
        for f in suspicious
    )
    return Decision(
        Outcome.BLOCK if blocking else Outcome.HOLD,
        tuple(f"{f.typology}: {f.reason}" for f in suspicious),
        tuple(sorted({f.typology for f in suspicious})),
        reports,
    )
