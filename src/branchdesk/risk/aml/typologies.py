"""One detector per suspicious typology, each working on one account's time-ordered rows.

Every detector takes the `Book` (an export or a hook's history) and returns `Finding`s. The batch
scan runs them over every candidate account; the pre-posting hook runs them over one account's
recent history plus the new posting and keeps the findings that include it.

Look-alikes are excluded by what makes each typology suspicious, not by tuning to data:
- structuring needs several cash amounts in the band just under the reporting line within a
  short window, and those must be most of the account's cash (a cash business deposits natural
  amounts spread over the whole range);
- pass-through needs the large inflow to leave again (a one-off inflow that stays is fine);
- fan-in / fan-out need many distinct counterparties with non-trivial amounts *and* the money
  moving on (a merchant's many small payers whose takings stay, or are paid out later, are fine).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import numpy as np

from branchdesk.risk.aml.book import DAY, HOUR, I64, Book, Finding, cny, hours
from branchdesk.risk.aml.config import FanRule

__all__ = [
    "detect_dormant_reactivation",
    "detect_fan_in",
    "detect_fan_out",
    "detect_pass_through",
    "detect_structuring",
]


def _pct(value: Decimal) -> Decimal:
    return value / 100


def detect_structuring(book: Book) -> list[Finding]:
    """Several cash amounts just under the reporting line in a short window, summing over it."""
    rule = book.config.structuring
    if not rule.enabled:
        return []
    tx = book.tx
    cash = book.channel_mask(book.config.large_cash.channels)
    line = rule.reporting_line_minor
    in_band = cash & (tx.cny_minor >= rule.band_low_minor) & (tx.cny_minor < line)
    window = rule.window_hours * HOUR
    lookback = rule.share_lookback_days * DAY
    share_needed = _pct(rule.min_band_share_pct)
    # the share is taken among sizeable cash amounts only: a structurer's pocket-money deposits
    # say nothing, while a cash business's takings spread evenly over and above the band
    floor = int(line * _pct(rule.share_floor_pct))
    # natural amounts fall as often just over the line as just under it; structuring bunches
    # under it, so the band is compared with its mirror image above the line
    above = cash & (tx.cny_minor >= line) & (tx.cny_minor < 2 * line - rule.band_low_minor)
    findings: list[Finding] = []
    # per customer, as the reporting line is: splitting over one's own accounts changes nothing
    for code in book.customer_candidates(in_band, rule.min_count):
        rows = book.rows_of_customer(code)
        for credit in (True, False):
            side = rows[(tx.is_credit[rows] == credit) & cash[rows]]
            band = side[in_band[side]]
            if band.size < rule.min_count:
                continue
            ts = tx.ts[band]
            # clusters: maximal runs where min_count band amounts fit in the window
            flagged = np.zeros(band.size, dtype=bool)
            for i in range(band.size - rule.min_count + 1):
                j = i + rule.min_count - 1
                if ts[j] - ts[i] > window:
                    continue
                first, last = ts[i], ts[j]
                near = (tx.ts[side] >= first - lookback) & (tx.ts[side] <= last + lookback)
                context = side[near & (tx.cny_minor[side] >= floor)]
                in_context = int(in_band[context].sum())
                mirrored = int(above[context].sum())
                if (
                    Decimal(in_context) >= share_needed * Decimal(context.size)
                    and in_context > rule.min_bunching_ratio * mirrored
                ):
                    flagged[i : j + 1] = True
            if not flagged.any():
                continue
            picked = band[flagged]
            total = int(tx.cny_minor[picked].sum())
            if total < line:
                continue
            span = int(tx.ts[picked[-1]] - tx.ts[picked[0]])
            amounts = ", ".join(cny(int(a), book.config) for a in tx.cny_minor[picked][:12])
            more = "" if picked.size <= 12 else f" and {picked.size - 12} more"
            reason = (
                f"{picked.size} cash {'deposits' if credit else 'withdrawals'} each between "
                f"{cny(rule.band_low_minor, book.config)} and just under the reporting line "
                f"{cny(line, book.config)} within {hours(span)} "
                f"(window {rule.window_hours} hours): {amounts}{more}; "
                f"together {cny(total, book.config)}."
            )
            score = min(1.0, 0.55 + 0.1 * (picked.size - rule.min_count + 1))
            accounts = sorted({str(a) for a in tx.account_id[picked]})
            if len(accounts) > 1:
                reason += (
                    f" By customer {book.customers[code]} over accounts {', '.join(accounts)}."
                )
            for account in accounts:
                mine = picked[tx.account_id[picked] == account]
                findings.append(
                    Finding(
                        "structuring",
                        account,
                        book.customers[code],
                        tuple(int(r) for r in mine),
                        round(score, 2),
                        reason,
                    )
                )
    return findings


def detect_pass_through(book: Book) -> list[Finding]:
    """A large inflow of which most leaves the account again within the window."""
    rule = book.config.pass_through
    if not rule.enabled:
        return []
    tx = book.tx
    big_in = tx.is_credit & (tx.cny_minor >= rule.min_inflow_minor) & ~book.own_transfer
    window = rule.window_hours * HOUR
    needed = _pct(rule.min_outflow_pct)
    findings: list[Finding] = []
    for code in book.candidates(big_in):
        rows = book.rows_of(code)
        ts = tx.ts[rows]
        third_party = ~book.own_transfer[rows]
        debit = ~tx.is_credit[rows] & third_party
        credit = tx.is_credit[rows] & third_party
        if rule.ignore_known_payees:
            # payroll, rent and loan instalments go to payees the account pays at other times
            strangers = _new_counterparties(
                book, rows, rows[debit], rule.known_lookback_days * DAY, window
            )
            debit &= np.isin(rows, strangers)
        used: set[int] = set()
        for k in np.flatnonzero(big_in[rows]):
            if int(rows[k]) in used:
                continue
            in_window = (ts >= ts[k]) & (ts <= ts[k] + window)
            after = np.flatnonzero(debit & in_window)
            after = after[after > k]
            if not after.size:
                continue
            inflow = int(tx.cny_minor[rows[credit & in_window]].sum())
            out_rows = rows[after]
            outflow = int(tx.cny_minor[out_rows].sum())
            trigger = int(tx.cny_minor[rows[k]])
            ratio = Decimal(outflow) / Decimal(trigger)
            # most of the large inflow leaves, and not far more than everything that came in
            # (that would be paid from an older balance)
            if ratio < needed or Decimal(outflow) > _pct(rule.max_outflow_pct) * inflow:
                continue
            # keep only the outflows needed to reach the ratio (earliest first)
            cumulative = np.cumsum(tx.cny_minor[out_rows])
            enough = int(np.searchsorted(cumulative, int(needed * trigger), side="left")) + 1
            out_rows = out_rows[: min(enough, out_rows.size)]
            moved = int(tx.cny_minor[out_rows].sum())
            span = int(tx.ts[out_rows[-1]] - ts[k])
            members = (int(rows[k]), *(int(r) for r in out_rows))
            used.update(members)
            reason = (
                f"inflow of {cny(trigger, book.config)} followed by {out_rows.size} outflow(s) "
                f"totalling {cny(moved, book.config)} ({moved * 100 // trigger}% of it) within "
                f"{hours(span)} (window {rule.window_hours} hours; all inflows in the window "
                f"{cny(inflow, book.config)})."
            )
            speed = 1.0 - span / window
            score = min(1.0, 0.6 + 0.2 * speed + 0.2 * min(1.0, float(ratio)))
            findings.append(
                Finding(
                    "pass_through",
                    book.accounts[code],
                    book.customer_of(rows),
                    members,
                    round(score, 2),
                    reason,
                )
            )
    return findings


def _fan(book: Book, rule: FanRule, *, inbound: bool) -> list[Finding]:
    tx = book.tx
    typology = "fan_in" if inbound else "fan_out"
    counted = (
        (tx.is_credit == inbound)
        & book.channel_mask(rule.channels)
        & (tx.cny_minor >= rule.min_txn_minor)
        & ~book.own_transfer
    )
    window = rule.window_hours * HOUR
    move = rule.move_window_hours * HOUR
    needed = _pct(rule.min_moved_pct)
    findings: list[Finding] = []
    for code in book.candidates(counted, rule.min_counterparties):
        rows = book.rows_of(code)
        fan = rows[counted[rows]]
        if rule.new_counterparties_only:
            fan = _new_counterparties(book, rows, fan, rule.known_lookback_days * DAY, window)
            if fan.size < rule.min_counterparties:
                continue
        ts = tx.ts[fan]
        parties = [
            str(p) or f"row{r}" for p, r in zip(tx.counterparty_account[fan], fan, strict=True)
        ]
        amounts = tx.cny_minor[fan]
        best: tuple[int, int, int] | None = None  # distinct count, i, j (inclusive)
        seen: Counter[str] = Counter()
        j = -1
        for i in range(fan.size):
            while j + 1 < fan.size and ts[j + 1] - ts[i] <= window:
                j += 1
                seen[parties[j]] += 1
            distinct = len(seen)
            if distinct >= rule.min_counterparties:
                total = int(amounts[i : j + 1].sum())
                if (
                    (best is None or distinct > best[0])
                    and total >= rule.min_total_minor
                    and _moves_on(
                        book, rows, int(ts[i]), int(ts[j]), total, move, needed, inbound=inbound
                    )
                ):
                    best = (distinct, i, j)
            seen[parties[i]] -= 1
            if not seen[parties[i]]:
                del seen[parties[i]]
        if best is None:
            continue
        distinct, i, j = best
        members = fan[i : j + 1]
        total = int(amounts[i : j + 1].sum())
        other = _opposite(book, rows, int(ts[i]), int(ts[j]), move, inbound=inbound)
        moved = int(tx.cny_minor[other].sum())
        span = int(ts[j] - ts[i])
        if inbound:
            reason = (
                f"{members.size} inflows from {distinct} distinct counterparties within "
                f"{hours(span)} totalling {cny(total, book.config)}, and "
                f"{cny(moved, book.config)} moved out within {rule.move_window_hours} hours."
            )
        else:
            reason = (
                f"{members.size} outflows to {distinct} distinct counterparties within "
                f"{hours(span)} totalling {cny(total, book.config)}, funded by "
                f"{cny(moved, book.config)} received within {rule.move_window_hours} hours before."
            )
        score = min(1.0, 0.5 + 0.05 * (distinct - rule.min_counterparties + 1) + 0.2)
        rows_out = tuple(sorted({int(r) for r in members} | {int(r) for r in other}))
        findings.append(
            Finding(
                typology,
                book.accounts[code],
                book.customer_of(rows),
                rows_out,
                round(score, 2),
                reason,
            )
        )
    return findings


def _new_counterparties(book: Book, rows: I64, fan: I64, lookback: int, window: int) -> I64:
    """Keep fan rows whose counterparty is a stranger: one the account does not also deal with
    at another time (more than the fan window apart, within the lookback, before or after).
    Tenants paying every month, regular clients and staff are known relations, not a fan."""
    tx = book.tx
    times: dict[str, list[int]] = {}
    for row in rows.tolist():
        party = str(tx.counterparty_account[row])
        if party:
            times.setdefault(party, []).append(int(tx.ts[row]))
    keep: list[int] = []
    for row in fan.tolist():
        party = str(tx.counterparty_account[row])
        when = int(tx.ts[row])
        seen = times.get(party, [])
        known = any(window < abs(other - when) <= lookback for other in seen)
        if not known:
            keep.append(row)
    return np.asarray(keep, dtype=np.int64)


def _opposite(book: Book, rows: I64, first: int, last: int, move: int, *, inbound: bool) -> I64:
    """Rows moving the money on: outflows during/after a fan-in, inflows before/during a fan-out."""
    tx = book.tx
    ts = tx.ts[rows]
    third_party = ~book.own_transfer[rows]
    if inbound:
        mask = third_party & ~tx.is_credit[rows] & (ts >= first) & (ts <= last + move)
    else:
        mask = third_party & tx.is_credit[rows] & (ts >= first - move) & (ts <= last)
    selected: I64 = rows[mask]
    return selected


def _moves_on(
    book: Book,
    rows: I64,
    first: int,
    last: int,
    total: int,
    move: int,
    needed: Decimal,
    *,
    inbound: bool,
) -> bool:
    other = _opposite(book, rows, first, last, move, inbound=inbound)
    moved = int(book.tx.cny_minor[other].sum())
    return Decimal(moved) >= needed * Decimal(total)


def detect_fan_in(book: Book) -> list[Finding]:
    """Many distinct payers with non-trivial amounts in a short window, and the money leaves."""
    rule = book.config.fan_in
    return _fan(book, rule, inbound=True) if rule.enabled else []


def detect_fan_out(book: Book) -> list[Finding]:
    """Recently received money sent on to many distinct counterparties in a short window."""
    rule = book.config.fan_out
    return _fan(book, rule, inbound=False) if rule.enabled else []


def detect_dormant_reactivation(book: Book) -> list[Finding]:
    """No activity for `dormant_days`, then large movements within `lookahead_days`."""
    rule = book.config.dormant_reactivation
    if not rule.enabled:
        return []
    tx = book.tx
    gap_needed = rule.dormant_days * DAY
    ahead = rule.lookahead_days * DAY
    # accounts with a long gap: compute gaps on the account-grouped order in one pass
    grouped_ts = tx.ts[book.by_account]
    gaps = np.diff(grouped_ts, prepend=grouped_ts[:1])
    starts = book.bounds[:-1][book.bounds[:-1] < book.bounds[1:]]
    if rule.count_export_start:
        gaps[starts] = grouped_ts[starts] - book.export_start
    else:
        gaps[starts] = 0
    long_gap = np.zeros(len(tx), dtype=bool)
    long_gap[book.by_account] = gaps >= gap_needed
    findings: list[Finding] = []
    for code in book.candidates(long_gap):
        rows = book.rows_of(code)
        ts = tx.ts[rows]
        for k in np.flatnonzero(long_gap[rows]):
            previous = int(ts[k - 1]) if k > 0 else book.export_start
            window = (ts >= ts[k]) & (ts <= ts[k] + ahead) & ~book.own_transfer[rows]
            after = rows[window]
            if not after.size:
                continue
            credit = int(tx.cny_minor[after][tx.is_credit[after]].sum())
            debit = int(tx.cny_minor[after][~tx.is_credit[after]].sum())
            if max(credit, debit) < rule.min_movement_minor:
                continue
            silent = int(ts[k]) - previous
            since = "the start of the history" if k == 0 else "the previous movement"
            reason = (
                f"no activity for {silent // DAY} days since {since} (dormant after "
                f"{rule.dormant_days} days), then {cny(credit, book.config)} in and "
                f"{cny(debit, book.config)} out within {rule.lookahead_days} days."
            )
            size = max(credit, debit) / rule.min_movement_minor
            score = min(1.0, 0.5 + 0.1 * size)
            findings.append(
                Finding(
                    "dormant_reactivation",
                    book.accounts[code],
                    book.customer_of(rows),
                    tuple(int(r) for r in after),
                    round(score, 2),
                    reason,
                )
            )
    return findings
