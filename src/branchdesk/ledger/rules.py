"""Pure ledger calculations: account numbers, request fingerprints, balance checks, interest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from branchdesk.core.ids import is_valid_mod97, mod97_check_digits
from branchdesk.core.money import Money, to_minor

ACCOUNT_NUMBER_BODY_DIGITS = 10
DAYS_IN_YEAR = 365


def account_number(sequence: int) -> str:
    """``0000000042`` + two MOD 97-10 check digits: a mistyped digit is caught at once."""
    body = f"{sequence:0{ACCOUNT_NUMBER_BODY_DIGITS}d}"
    return body + mod97_check_digits(body)


def is_valid_account_number(number: str) -> bool:
    return len(number) == ACCOUNT_NUMBER_BODY_DIGITS + 2 and is_valid_mod97(number)


def request_hash(kind: str, body: Mapping[str, object]) -> str:
    """SHA-256 of the canonical request (sorted keys, no whitespace), idempotency key excluded."""
    canonical = json.dumps(
        {"kind": kind, **{k: v for k, v in body.items() if k != "idempotency_key"}},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def sums_per_currency(legs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """(currency, amount_minor) pairs -> total per currency."""
    totals: dict[str, int] = {}
    for currency, amount in legs:
        totals[currency] = totals.get(currency, 0) + amount
    return totals


def is_balanced(legs: Iterable[tuple[str, int]]) -> bool:
    """A posting is balanced when its entries sum to zero in every currency."""
    return all(total == 0 for total in sums_per_currency(legs).values())


def stays_within_limit(balance_minor: int, change_minor: int, overdraft_limit_minor: int) -> bool:
    return balance_minor + change_minor >= -overdraft_limit_minor


def simple_interest_minor(
    principal_minor: int,
    *,
    rate_bps: int,
    start_on: date,
    end_on: date,
    currency: str,
    rounding: str = ROUND_HALF_EVEN,
) -> int:
    """Actual/365 simple interest on a time deposit, rounded once with the named mode."""
    days = (end_on - start_on).days
    if days <= 0 or principal_minor <= 0:
        return 0
    principal = Money(principal_minor, currency).to_major()
    interest = principal * Decimal(rate_bps) / Decimal(10_000) * Decimal(days) / DAYS_IN_YEAR
    return to_minor(interest, currency, rounding=rounding)


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (clamped to the month's last day)."""
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError("unreachable")
