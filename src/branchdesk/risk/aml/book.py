"""Shared view over an export for the detectors: rows grouped per account, findings, helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.io import Transactions, format_minor

__all__ = ["DAY", "HOUR", "Book", "Finding", "cny", "hours"]

HOUR = 3600
DAY = 86_400

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Finding:
    """One typology matched on one account; `rows` index the book's transactions."""

    typology: str
    account_id: str
    customer_id: str
    rows: tuple[int, ...]
    score: float
    reason: str
    report_only: bool = False


@dataclass
class Book:
    """Transactions plus the per-account grouping every detector uses."""

    tx: Transactions
    config: RuleConfig
    export_start: int  # UTC epoch seconds of the first reporting day of the history
    account_codes: I64 = field(init=False)
    accounts: list[str] = field(init=False)
    by_account: I64 = field(init=False)  # row indices grouped by account, time order inside
    bounds: I64 = field(init=False)  # group k is by_account[bounds[k]:bounds[k+1]]
    own_transfer: npt.NDArray[np.bool_] = field(init=False)  # to/from the customer's own account
    customer_codes: I64 = field(init=False)
    customers: list[str] = field(init=False)
    by_customer: I64 = field(init=False)
    customer_bounds: I64 = field(init=False)

    def __post_init__(self) -> None:
        self.account_codes, self.accounts, self.by_account, self.bounds = _group(self.tx.account_id)
        self.customer_codes, self.customers, self.by_customer, self.customer_bounds = _group(
            self.tx.customer_id
        )
        owners = dict(zip(self.tx.account_id.tolist(), self.tx.customer_id.tolist(), strict=True))
        in_bank = np.flatnonzero(self.tx.counterparty_bank == "SELF")
        self.own_transfer = np.zeros(len(self.tx), dtype=bool)
        for row in in_bank.tolist():
            owner = owners.get(self.tx.counterparty_account[row])
            self.own_transfer[row] = owner is not None and owner == self.tx.customer_id[row]

    def rows_of(self, code: int) -> I64:
        return self.by_account[self.bounds[code] : self.bounds[code + 1]]

    def candidates(self, mask: npt.NDArray[np.bool_], minimum: int = 1) -> Iterator[int]:
        """Account codes having at least `minimum` rows where mask holds."""
        counts = np.bincount(self.account_codes[mask], minlength=len(self.accounts))
        yield from (int(c) for c in np.flatnonzero(counts >= minimum))

    def rows_of_customer(self, code: int) -> I64:
        return self.by_customer[self.customer_bounds[code] : self.customer_bounds[code + 1]]

    def customer_candidates(self, mask: npt.NDArray[np.bool_], minimum: int = 1) -> Iterator[int]:
        """Customer codes having at least `minimum` rows where mask holds."""
        counts = np.bincount(self.customer_codes[mask], minlength=len(self.customers))
        yield from (int(c) for c in np.flatnonzero(counts >= minimum))

    def customer_of(self, rows: I64) -> str:
        return str(self.tx.customer_id[rows[0]])

    def channel_mask(self, channels: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        return np.isin(self.tx.channel, list(channels))

    def local_day(self, ts: I64) -> I64:
        return (ts + self.config.day_offset_minutes * 60) // DAY


def _group(keys: npt.NDArray[np.object_]) -> tuple[I64, list[str], I64, I64]:
    """Codes per row, the distinct keys, rows grouped by key (time order kept), group bounds."""
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    codes64 = np.asarray(codes, dtype=np.int64)
    order = np.argsort(codes64, kind="stable").astype(np.int64)
    counts = np.bincount(codes64, minlength=len(uniques))
    bounds = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return codes64, [str(u) for u in uniques], order, bounds


def cny(minor: int, config: RuleConfig) -> str:
    return format_minor(int(minor), "CNY", config)


def hours(seconds: int) -> str:
    if seconds >= 2 * DAY:
        return f"{seconds / DAY:.1f} days"
    return f"{seconds / HOUR:.1f} hours"


def start_of_day(ts: int, config: RuleConfig) -> int:
    offset = config.day_offset_minutes * 60
    return ((ts + offset) // DAY) * DAY - offset
