"""Cycle detection: funds returning to their origin through 2..k other accounts of this bank.

Edges are debit rows whose counterparty is inside this bank (`counterparty_bank == SELF`). A
cycle is a time-ordered path origin -> a1 -> ... -> origin within the window, each hop carrying a
similar amount to the previous one (a little may be skimmed off on the way), through at least
two other accounts, not all owned by one customer (moving money between one's own accounts and
back is not laundering).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from branchdesk.risk.aml.book import HOUR, Book, Finding, cny, hours

__all__ = ["detect_cycles"]

SELF_BANK = "SELF"


@dataclass(frozen=True)
class _Edge:
    row: int
    ts: int
    source: str
    target: str
    amount: int


def detect_cycles(book: Book) -> list[Finding]:
    """Find cycles among in-bank transfers; one finding per account on each cycle."""
    rule = book.config.cycle
    if not rule.enabled:
        return []
    tx = book.tx
    mask = (~tx.is_credit) & (tx.counterparty_bank == SELF_BANK) & (tx.counterparty_account != "")
    mask &= tx.counterparty_account != tx.account_id
    rows = np.flatnonzero(mask)
    low = rule.min_hop_ratio_pct / 100
    high = rule.max_hop_ratio_pct / 100
    window = rule.window_hours * HOUR
    edges = [
        _Edge(
            int(r),
            int(tx.ts[r]),
            str(tx.account_id[r]),
            str(tx.counterparty_account[r]),
            int(tx.cny_minor[r]),
        )
        for r in rows
    ]
    outgoing: dict[str, list[_Edge]] = defaultdict(list)
    for edge in edges:
        outgoing[edge.source].append(edge)
    times = {source: [e.ts for e in out] for source, out in outgoing.items()}

    found: dict[frozenset[int], list[_Edge]] = {}

    def extend(path: list[_Edge], visited: set[str]) -> None:
        last = path[-1]
        origin = path[0].source
        deadline = path[0].ts + window
        candidates = outgoing.get(last.target, [])
        start = bisect.bisect_left(times.get(last.target, []), last.ts)
        for edge in candidates[start:]:
            if edge.ts > deadline:
                break
            ratio = Decimal(edge.amount) / Decimal(last.amount)
            if not low <= ratio <= high:
                continue
            if edge.target == origin:
                if len(path) >= rule.min_other_accounts:
                    key = frozenset(e.row for e in [*path, edge])
                    found.setdefault(key, [*path, edge])
                continue
            if edge.target in visited or len(path) >= rule.max_other_accounts:
                continue
            visited.add(edge.target)
            path.append(edge)
            extend(path, visited)
            path.pop()
            visited.discard(edge.target)

    for edge in edges:
        if edge.amount >= rule.min_amount_minor:
            extend([edge], {edge.source, edge.target})

    credit_legs = _credit_legs(book)
    owner = {str(a): str(c) for a, c in zip(tx.account_id, tx.customer_id, strict=True)}
    findings: list[Finding] = []
    for path in sorted(found.values(), key=lambda p: (p[0].ts, p[0].row)):
        accounts = [e.source for e in path]
        if len({owner.get(a, a) for a in accounts}) < 2:
            continue
        route = " -> ".join([*accounts, accounts[0]])
        amounts = ", ".join(cny(e.amount, book.config) for e in path)
        span = path[-1].ts - path[0].ts
        reason = (
            f"funds returned to {accounts[0]} through {len(accounts) - 1} other accounts "
            f"within {hours(span)} (window {rule.window_hours} hours): {route}; "
            f"hop amounts {amounts}."
        )
        score = min(1.0, 0.7 + 0.1 * (len(accounts) - 1))
        for position, account in enumerate(accounts):
            outgoing_edge = path[position]
            incoming_edge = path[position - 1]
            legs = {outgoing_edge.row}
            leg = credit_legs.get((account, incoming_edge.source, incoming_edge.row))
            if leg is not None:
                legs.add(leg)
            findings.append(
                Finding(
                    "cycle",
                    account,
                    owner.get(account, ""),
                    tuple(sorted(legs)),
                    round(score, 2),
                    reason,
                )
            )
    return findings


def _credit_legs(book: Book) -> dict[tuple[str, str, int], int]:
    """Map (receiving account, sending account, debit row) to the matching credit row."""
    tx = book.tx
    credits = np.flatnonzero(tx.is_credit & (tx.counterparty_bank == SELF_BANK))
    pending: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for row in credits:
        key = (
            str(tx.account_id[row]),
            str(tx.counterparty_account[row]),
            int(tx.amount_minor[row]),
        )
        pending[key].append(int(row))
    legs: dict[tuple[str, str, int], int] = {}
    debits = np.flatnonzero(~tx.is_credit & (tx.counterparty_bank == SELF_BANK))
    for row in debits:
        target, source = str(tx.counterparty_account[row]), str(tx.account_id[row])
        options = pending.get((target, source, int(tx.amount_minor[row])), [])
        if options:
            best = min(options, key=lambda c: abs(int(tx.ts[c]) - int(tx.ts[row])))
            options.remove(best)
            legs[(target, source, int(row))] = best
    return legs
