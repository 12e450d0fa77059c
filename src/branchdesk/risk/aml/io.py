"""Strict reader for core banking transaction exports (shared/data/aml/README.md format).

The whole file is parsed column by column with pandas/numpy; every cell is validated, and the
first bad cell in file order stops the read with an `ExportFormatError` naming file, line and
column. Amounts become integer minor units; instants become UTC epoch seconds.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from branchdesk.risk.aml.config import RuleConfig

__all__ = [
    "COLUMNS",
    "ExportFormatError",
    "Posting",
    "Transactions",
    "format_minor",
    "read_export",
    "transactions_from_postings",
]

COLUMNS: tuple[str, ...] = (
    "txn_id",
    "booked_at",
    "account_id",
    "customer_id",
    "direction",
    "amount",
    "currency",
    "channel",
    "counterparty_account",
    "counterparty_bank",
    "country",
)
CHANNELS = frozenset({"cash", "transfer", "remittance", "card", "atm"})
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"

I64 = npt.NDArray[np.int64]
OBJ = npt.NDArray[np.object_]
BOOL = npt.NDArray[np.bool_]


class ExportFormatError(ValueError):
    """A malformed export; the message reads `file:line:column: message`."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path = path
        self.line = line
        self.column = column
        self.detail = message


@dataclass(frozen=True)
class Posting:
    """One ledger movement of one account, as the pre-posting hook sees it."""

    txn_id: str
    booked_at: datetime
    account_id: str
    customer_id: str
    direction: str  # "credit" or "debit"
    amount_minor: int
    currency: str
    channel: str
    counterparty_account: str = ""
    counterparty_bank: str = ""
    country: str = "CN"


@dataclass(frozen=True)
class Transactions:
    """Column arrays of one export, sorted by time (then file line); row i is one movement."""

    txn_id: OBJ
    ts: I64  # UTC epoch seconds
    account_id: OBJ
    customer_id: OBJ
    is_credit: BOOL
    amount_minor: I64  # in the row's own currency
    currency: OBJ
    cny_minor: I64  # CNY equivalent, rounded half-even (for heuristics, not for reports)
    channel: OBJ
    counterparty_account: OBJ
    counterparty_bank: OBJ
    country: OBJ
    line: I64  # line in the source file (1 = header), or position for postings

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def format_minor(minor: int, currency: str, config: RuleConfig) -> str:
    """`1234567, CNY` -> `CNY 12,345.67` (for reasons written to people)."""
    exponent = config.currencies[currency].exponent
    value = Decimal(minor).scaleb(-exponent)
    return f"{currency} {value:,.{exponent}f}"


def _fail_first(path: str, problems: list[tuple[int, int, str]]) -> None:
    if problems:
        line, column, message = min(problems)
        raise ExportFormatError(path, line, column, message)


def _first_bad(mask: npt.NDArray[np.bool_], lines: I64) -> int | None:
    positions = np.flatnonzero(mask)
    return int(positions[0]) if positions.size else None


def _check_field_counts(path: Path, name: str) -> None:
    """Every line must have as many fields as the header (pandas pads short rows silently)."""
    data = path.read_bytes()
    if b'"' in data:  # quoted fields may hold commas or newlines: count with the csv module
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
            reader = csv.reader(stream)
            header = next(reader, None)
            expected = len(header) if header else 0
            blank_line: int | None = None
            for row in reader:
                if not row:
                    blank_line = blank_line or reader.line_num
                    continue
                if blank_line is not None:
                    raise ExportFormatError(
                        name, blank_line, 1, f"expected {expected} fields, found a blank line"
                    )
                if len(row) != expected:
                    raise ExportFormatError(
                        name, reader.line_num, 1, f"expected {expected} fields, found {len(row)}"
                    )
        return
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    if raw.size and (not ends.size or ends[-1] != raw.size - 1):
        ends = np.append(ends, raw.size)  # last line without a newline
    if not ends.size:
        return
    starts = np.concatenate(([0], ends[:-1] + 1))
    blank = (ends - starts) <= 1  # empty, or a lone carriage return
    while ends.size > 1 and blank[ends.size - 1]:  # trailing blank lines at the end are fine
        ends, starts, blank = ends[:-1], starts[:-1], blank[:-1]
    commas = np.flatnonzero(raw[: int(ends[-1])] == ord(","))
    per_line = np.bincount(np.searchsorted(ends, commas), minlength=ends.size)[: ends.size]
    bad = np.flatnonzero(per_line != per_line[0])
    if bad.size:
        line = int(bad[0]) + 1
        found, expected = int(per_line[bad[0]]) + 1, int(per_line[0]) + 1
        what = "a blank line" if blank[bad[0]] else f"{found} fields"
        raise ExportFormatError(name, line, 1, f"expected {expected} fields, found {what}")


_AMOUNT_RE = re.compile(r"(\d{1,13})(?:\.(\d{1,4}))?")


def _parse_amounts(
    texts: list[str], currencies: list[str], exponent_of: dict[str, int]
) -> tuple[I64, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Exact integer minor units from decimal strings (no floats); flags bad cells."""
    n = len(texts)
    minor = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    bad_places = np.zeros(n, dtype=bool)
    match = _AMOUNT_RE.fullmatch
    for i, (text, currency) in enumerate(zip(texts, currencies, strict=True)):
        found = match(text)
        exponent = exponent_of.get(currency, 2)
        if found is None:
            bad[i] = True
            continue
        whole, fraction = found.groups()
        fraction = fraction or ""
        if len(fraction) > exponent:
            bad_places[i] = True
            continue
        value = int(whole + fraction.ljust(exponent, "0"))
        if value <= 0:
            bad[i] = True
        minor[i] = value
    return minor, bad, bad_places


def read_export(path: Path, config: RuleConfig) -> Transactions:
    """Parse and validate an export; raises ExportFormatError on the first bad cell."""
    name = str(path)
    _check_field_counts(path, name)
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=True,
            na_values=[],
            skip_blank_lines=True,  # interior blank lines were refused above; trailing ones pass
            encoding="utf-8-sig",
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise ExportFormatError(name, 1, 1, "the file is empty (no header)") from None
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else 1
        raise ExportFormatError(name, line, 1, f"wrong number of fields: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ExportFormatError(name, 1, 1, f"not UTF-8 text: {exc}") from None
    header = [str(c) for c in frame.columns]
    for position, column in enumerate(COLUMNS, start=1):
        if column not in header:
            raise ExportFormatError(name, 1, position, f"missing column {column!r}")
    colno = {column: header.index(column) + 1 for column in COLUMNS}
    n = len(frame)
    lines = np.arange(2, n + 2, dtype=np.int64)
    problems: list[tuple[int, int, str]] = []

    def check(column: str, bad: npt.NDArray[np.bool_], what: str) -> None:
        first = _first_bad(bad, lines)
        if first is not None:
            value = frame[column].iloc[first]
            shown = "" if value is None or (isinstance(value, float)) else str(value)
            problems.append((first + 2, colno[column], f"column {column!r}: {what}, got {shown!r}"))

    cols: dict[str, pd.Series[str]] = {}
    for column in COLUMNS:
        series = frame[column]
        missing = series.isna().to_numpy()
        check(column, missing, "value missing (short or blank line)")
        cols[column] = series.fillna("").astype(str)
    _fail_first(name, problems)

    for column in ("txn_id", "account_id", "customer_id"):
        check(column, (cols[column].str.len() == 0).to_numpy(), "must not be empty")
    duplicated = cols["txn_id"].duplicated().to_numpy() & (cols["txn_id"].str.len() > 0).to_numpy()
    check("txn_id", duplicated, "duplicate transaction id")

    stamps = cols["booked_at"]
    shaped = stamps.str.match(_TIMESTAMP).to_numpy(dtype=bool)
    parsed = pd.to_datetime(stamps.where(shaped, None), format="ISO8601", utc=True, errors="coerce")
    bad_time = ~shaped | parsed.isna().to_numpy()
    check("booked_at", bad_time, "not an ISO 8601 timestamp with UTC offset")

    direction = cols["direction"]
    check("direction", ~direction.isin(["credit", "debit"]).to_numpy(), "must be credit or debit")

    currency = cols["currency"]
    known = currency.isin(list(config.currencies)).to_numpy()
    check("currency", ~known, "unknown currency (not in the FX table)")

    amount = cols["amount"]
    exponent_of = {c: i.exponent for c, i in config.currencies.items()}
    minor, bad_amount, bad_places = _parse_amounts(amount.tolist(), currency.tolist(), exponent_of)
    check("amount", bad_amount, "not a positive decimal amount")
    check("amount", bad_places, "more decimal places than the currency has")
    _fail_first(name, problems)
    if n == 0:
        return transactions_from_postings([], config)

    channel = cols["channel"]
    check(
        "channel", ~channel.isin(sorted(CHANNELS)).to_numpy(), f"must be one of {sorted(CHANNELS)}"
    )
    country = cols["country"]
    country_ok = (country.str.len() == 0) | country.str.match(r"^[A-Z]{2}$")
    check("country", ~country_ok.to_numpy(dtype=bool), "not an ISO 3166 alpha-2 code")
    _fail_first(name, problems)

    epoch = pd.Timestamp(0, tz="UTC")
    ts: I64 = np.asarray(
        ((parsed - epoch) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64), dtype=np.int64
    )
    return _assemble(
        txn_id=cols["txn_id"].to_numpy(dtype=object),
        ts=ts,
        account_id=cols["account_id"].to_numpy(dtype=object),
        customer_id=cols["customer_id"].to_numpy(dtype=object),
        is_credit=(direction == "credit").to_numpy(dtype=bool),
        amount_minor=np.asarray(minor, dtype=np.int64),
        currency=currency.to_numpy(dtype=object),
        channel=channel.to_numpy(dtype=object),
        counterparty_account=cols["counterparty_account"].to_numpy(dtype=object),
        counterparty_bank=cols["counterparty_bank"].to_numpy(dtype=object),
        country=country.to_numpy(dtype=object),
        line=lines,
        config=config,
    )


def cny_equivalent(minor: int, currency: str, config: RuleConfig) -> Fraction:
    """Exact CNY minor-unit equivalent of an amount, as a fraction."""
    info = config.currencies[currency]
    return Fraction(minor) * Fraction(info.cny_per_unit) * Fraction(10) ** (2 - info.exponent)


def _assemble(
    *,
    txn_id: OBJ,
    ts: I64,
    account_id: OBJ,
    customer_id: OBJ,
    is_credit: BOOL,
    amount_minor: I64,
    currency: OBJ,
    channel: OBJ,
    counterparty_account: OBJ,
    counterparty_bank: OBJ,
    country: OBJ,
    line: I64,
    config: RuleConfig,
) -> Transactions:
    cny = amount_minor.copy()
    foreign = np.flatnonzero(currency != "CNY")
    for i in foreign:
        exact = cny_equivalent(int(amount_minor[i]), str(currency[i]), config)
        rounded = Decimal(exact.numerator) / Decimal(exact.denominator)
        cny[i] = int(rounded.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    order = np.lexsort((line, ts))
    return Transactions(
        txn_id=txn_id[order],
        ts=ts[order],
        account_id=account_id[order],
        customer_id=customer_id[order],
        is_credit=is_credit[order],
        amount_minor=amount_minor[order],
        currency=currency[order],
        cny_minor=cny[order],
        channel=channel[order],
        counterparty_account=counterparty_account[order],
        counterparty_bank=counterparty_bank[order],
        country=country[order],
        line=line[order],
    )


def transactions_from_postings(postings: Sequence[Posting], config: RuleConfig) -> Transactions:
    """Column arrays for a few postings (the pre-posting hook's history plus the new one)."""
    for posting in postings:
        if posting.booked_at.tzinfo is None:
            raise ValueError(f"posting {posting.txn_id}: booked_at must be timezone-aware")
        if posting.currency not in config.currencies:
            raise ValueError(f"posting {posting.txn_id}: unknown currency {posting.currency}")
        if posting.direction not in ("credit", "debit") or posting.amount_minor <= 0:
            raise ValueError(f"posting {posting.txn_id}: bad direction or amount")

    def column(values: list[object]) -> OBJ:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array

    return _assemble(
        txn_id=column([p.txn_id for p in postings]),
        ts=np.asarray([int(p.booked_at.timestamp()) for p in postings], dtype=np.int64).reshape(-1),
        account_id=column([p.account_id for p in postings]),
        customer_id=column([p.customer_id for p in postings]),
        is_credit=np.array([p.direction == "credit" for p in postings], dtype=bool),
        amount_minor=np.array([p.amount_minor for p in postings], dtype=np.int64),
        currency=column([p.currency for p in postings]),
        channel=column([p.channel for p in postings]),
        counterparty_account=column([p.counterparty_account for p in postings]),
        counterparty_bank=column([p.counterparty_bank for p in postings]),
        country=column([p.country for p in postings]),
        line=np.arange(len(postings), dtype=np.int64),
        config=config,
    )
