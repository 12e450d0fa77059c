"""Report-only large-value rules (PBOC): large cash and large cross-border transfers.

Per the PBOC large-value reporting rule, a cash movement is reported when it is at or over
RMB 50,000 (or USD 10,000 equivalent in foreign currency), as a single transaction or as the
same-day total of one customer, accumulated on one side (money in or money out). RMB and
foreign currency are accumulated separately. Comparisons are exact: integer minor units for
RMB, exact fractions of the configured FX table for the USD equivalence; never floats.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from branchdesk.risk.aml.book import Book, Finding
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.io import cny_equivalent, format_minor

__all__ = ["detect_cross_border", "detect_large_cash", "usd_equivalent_minor"]


def usd_equivalent_minor(minor: int, currency: str, config: RuleConfig) -> Fraction:
    """Exact USD minor-unit equivalent of an amount under the configured FX table."""
    usd = config.currencies["USD"]
    cny_per_usd_minor = Fraction(usd.cny_per_unit) * Fraction(10) ** (2 - usd.exponent)
    return cny_equivalent(minor, currency, config) / cny_per_usd_minor


GroupKey = tuple[str, int, bool, bool]  # customer, local day, is_credit, is RMB


def _report(
    book: Book,
    mask: npt.NDArray[np.bool_],
    *,
    typology: str,
    cny_threshold_minor: int | None,
    usd_threshold_minor: int,
    what: str,
) -> list[Finding]:
    """Group rows by customer, local day and side; report every row of a group at/over the line.

    With `cny_threshold_minor` set, RMB rows are summed in fen against it and foreign rows in
    USD equivalent against `usd_threshold_minor`; without it, every row counts in USD equivalent.
    """
    tx, config = book.tx, book.config
    rows = np.flatnonzero(mask)
    days = book.local_day(tx.ts[rows])
    totals: dict[GroupKey, Fraction | int] = defaultdict(int)
    members: dict[GroupKey, list[int]] = defaultdict(list)
    for row, day in zip(rows.tolist(), days.tolist(), strict=True):
        currency = str(tx.currency[row])
        is_rmb = cny_threshold_minor is not None and currency == "CNY"
        key = (str(tx.customer_id[row]), int(day), bool(tx.is_credit[row]), is_rmb)
        if is_rmb:
            totals[key] += int(tx.amount_minor[row])
        else:
            totals[key] += usd_equivalent_minor(int(tx.amount_minor[row]), currency, config)
        members[key].append(row)
    findings: list[Finding] = []
    for key, total in totals.items():
        customer, day, is_credit, is_rmb = key
        line = cny_threshold_minor if is_rmb and cny_threshold_minor is not None else None
        if line is not None:
            reached = total >= line
            shown_total = format_minor(int(total), "CNY", config)
            shown_line = format_minor(line, "CNY", config)
        else:
            reached = total >= usd_threshold_minor
            shown_total = "USD-equivalent " + format_minor(int(total), "USD", config)
            shown_line = format_minor(usd_threshold_minor, "USD", config)
        if not reached:
            continue
        group = members[key]
        by_account: dict[str, list[int]] = defaultdict(list)
        for row in group:
            by_account[str(tx.account_id[row])].append(row)
        side = "in" if is_credit else "out"
        date = np.datetime64(day, "D")
        for account, account_rows in sorted(by_account.items()):
            amounts = ", ".join(
                format_minor(int(tx.amount_minor[r]), str(tx.currency[r]), config)
                for r in account_rows
            )
            kind = "single transaction" if len(group) == 1 else f"{len(group)} transactions"
            reason = (
                f"{what} {side} on {date} (reporting day UTC{_offset(config)}): {kind}, "
                f"customer total {shown_total} >= {shown_line}; this account: {amounts}. "
                "Report-only (large-value report), not a suspicion."
            )
            findings.append(
                Finding(
                    typology=typology,
                    account_id=account,
                    customer_id=customer,
                    rows=tuple(account_rows),
                    score=1.0,
                    reason=reason,
                    report_only=True,
                )
            )
    return findings


def _offset(config: RuleConfig) -> str:
    minutes = config.day_offset_minutes
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def detect_large_cash(book: Book) -> list[Finding]:
    """Every cash movement whose customer's same-day, same-side total is at or over the line."""
    rule = book.config.large_cash
    if not rule.enabled:
        return []
    return _report(
        book,
        book.channel_mask(rule.channels),
        typology="large_cash",
        cny_threshold_minor=rule.cny_threshold_minor,
        usd_threshold_minor=rule.usd_threshold_minor,
        what="Cash",
    )


def detect_cross_border(book: Book) -> list[Finding]:
    """Cross-border transfers at or over USD 10,000 equivalent, single or same-day total."""
    rule = book.config.cross_border
    if not rule.enabled:
        return []
    tx = book.tx
    foreign = (tx.country != rule.home_country) & (tx.country != "")
    return _report(
        book,
        book.channel_mask(rule.channels) & foreign,
        typology="cross_border",
        cny_threshold_minor=None,
        usd_threshold_minor=rule.usd_threshold_minor,
        what="Cross-border transfer",
    )
