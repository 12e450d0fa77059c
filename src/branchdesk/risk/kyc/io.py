"""Strict CSV readers for customers and watch lists, and atomic CSV writers.

The whole file is read and every cell validated before anything is returned; the first problem
in file order stops the read with a `KycFormatError` reading `file:line:column: message`
(line 1 is the header, column 1 the first field). Writers write a temporary file next to the
target and rename it, so a failed run never leaves a partial output.

Customers (`customer_id,customer_type,name` required; other columns optional, any order):
  aliases, beneficial_owners, products, channels: several values separated by `;`
  birth_date, id_expires_on: YYYY-MM-DD; is_pep: true/false/yes/no/1/0 or empty
  country, residence_country: ISO 3166 alpha-2 (upper case) or empty
  cash_share_percent: whole number 0..100 or empty
Watch list (`entry_id,name,list_source,listed_on` required; `aliases,birth_date,country`):
  birth_date: YYYY-MM-DD, or YYYY when the list gives only the year
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from branchdesk.risk.kyc.customer import Customer, CustomerType
from branchdesk.risk.kyc.watchlist import WatchlistEntry

__all__ = [
    "CUSTOMER_COLUMNS",
    "WATCHLIST_COLUMNS",
    "KycFormatError",
    "read_customers",
    "read_watchlist",
    "write_csv",
    "write_customers",
    "write_watchlist",
]

CUSTOMER_REQUIRED = ("customer_id", "customer_type", "name")
CUSTOMER_COLUMNS = (
    *CUSTOMER_REQUIRED,
    "aliases",
    "birth_date",
    "country",
    "residence_country",
    "occupation",
    "industry",
    "id_type",
    "id_number",
    "id_expires_on",
    "address",
    "phone",
    "registration_number",
    "beneficial_owners",
    "is_pep",
    "products",
    "channels",
    "cash_share_percent",
)
WATCHLIST_REQUIRED = ("entry_id", "name", "list_source", "listed_on")
WATCHLIST_COLUMNS = (*WATCHLIST_REQUIRED, "aliases", "birth_date", "country")

_COUNTRY = re.compile(r"[A-Z]{2}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CODE = re.compile(r"[a-z0-9_]+")
_TRUE = frozenset({"true", "yes", "1", "y"})
_FALSE = frozenset({"false", "no", "0", "n", ""})


T = TypeVar("T")


class KycFormatError(ValueError):
    """A malformed input file; the message reads `file:line:column: message`."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path = path
        self.line = line
        self.column = column
        self.detail = message


class _Cell(ValueError):
    """A bad cell value; the reader adds file, line and column."""


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]
    columns: dict[str, int]


def _rows(path: Path, required: Sequence[str], known: Sequence[str]) -> list[_Row]:
    name = str(path)
    try:
        stream = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise KycFormatError(name, 0, 0, f"cannot read: {exc.strerror}") from None
    with stream:
        reader = csv.reader(stream)
        try:
            header = next(reader, None)
            if header is None:
                raise KycFormatError(name, 1, 1, "empty file: expected a header line")
            header = [h.strip() for h in header]
            for position, column in enumerate(header, 1):
                if column not in known:
                    raise KycFormatError(
                        name, 1, position, f"unknown column {column!r}; known: {', '.join(known)}"
                    )
                if header.index(column) != position - 1:
                    raise KycFormatError(name, 1, position, f"duplicate column {column!r}")
            for column in required:
                if column not in header:
                    raise KycFormatError(name, 1, 1, f"missing required column {column!r}")
            columns = {column: position for position, column in enumerate(header, 1)}
            rows: list[_Row] = []
            line = reader.line_num
            for record in reader:
                start, line = line + 1, reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # blank line
                if len(record) != len(header):
                    raise KycFormatError(
                        name, start, 1, f"expected {len(header)} fields, found {len(record)}"
                    )
                cells = {
                    column: value.strip() for column, value in zip(header, record, strict=True)
                }
                rows.append(_Row(start, cells, columns))
        except csv.Error as exc:
            raise KycFormatError(name, reader.line_num, 1, f"unreadable CSV: {exc}") from None
        except UnicodeDecodeError:
            raise KycFormatError(name, reader.line_num + 1, 1, "not UTF-8 text") from None
    return rows


def _cell(path: Path, row: _Row, column: str, parse: Callable[[str], T], default: T) -> T:
    if column not in row.cells:
        return default
    try:
        return parse(row.cells[column])
    except _Cell as exc:
        raise KycFormatError(str(path), row.line, row.columns[column], f"{column}: {exc}") from None


def _required_text(value: str) -> str:
    if not value:
        raise _Cell("must not be empty")
    return value


def _text(value: str) -> str:
    return value


def _date(value: str) -> date:
    if not _DATE.fullmatch(value):
        raise _Cell(f"expected a date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Cell(f"no such date {value!r}") from None


def _optional_date(value: str) -> date | None:
    return _date(value) if value else None


def _country(value: str) -> str:
    if value and not _COUNTRY.fullmatch(value):
        raise _Cell(f"expected an ISO 3166 alpha-2 code like CN, got {value!r}")
    return value


def _code(value: str) -> str:
    if value and not _CODE.fullmatch(value):
        raise _Cell(f"expected a lower_snake code, got {value!r}")
    return value


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(";") if part.strip())


def _codes(value: str) -> tuple[str, ...]:
    return tuple(_code(part) for part in _list(value))


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _Cell(f"expected true or false, got {value!r}")


def _percent(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) > 100:
        raise _Cell(f"expected a whole number 0..100, got {value!r}")
    return int(value)


def _customer_type(value: str) -> CustomerType:
    try:
        return CustomerType(value)
    except ValueError:
        raise _Cell(f"expected one of {', '.join(CustomerType)}, got {value!r}") from None


def read_customers(path: Path) -> list[Customer]:
    """Parse and validate a customers CSV; raises KycFormatError on the first bad cell."""
    customers: list[Customer] = []
    seen: dict[str, int] = {}
    for row in _rows(path, CUSTOMER_REQUIRED, CUSTOMER_COLUMNS):
        customer_id = _cell(path, row, "customer_id", _required_text, "")
        if customer_id in seen:
            raise KycFormatError(
                str(path),
                row.line,
                row.columns["customer_id"],
                f"customer_id {customer_id!r} already on line {seen[customer_id]}",
            )
        seen[customer_id] = row.line
        customers.append(
            Customer(
                customer_id=customer_id,
                customer_type=_cell(
                    path, row, "customer_type", _customer_type, CustomerType.INDIVIDUAL
                ),
                name=_cell(path, row, "name", _required_text, ""),
                aliases=_cell(path, row, "aliases", _list, ()),
                birth_date=_cell(path, row, "birth_date", _optional_date, None),
                country=_cell(path, row, "country", _country, ""),
                residence_country=_cell(path, row, "residence_country", _country, ""),
                occupation=_cell(path, row, "occupation", _code, ""),
                industry=_cell(path, row, "industry", _code, ""),
                id_type=_cell(path, row, "id_type", _code, ""),
                id_number=_cell(path, row, "id_number", _text, ""),
                id_expires_on=_cell(path, row, "id_expires_on", _optional_date, None),
                address=_cell(path, row, "address", _text, ""),
                phone=_cell(path, row, "phone", _text, ""),
                registration_number=_cell(path, row, "registration_number", _text, ""),
                beneficial_owners=_cell(path, row, "beneficial_owners", _list, ()),
                is_pep=_cell(path, row, "is_pep", _bool, False),
                products=_cell(path, row, "products", _codes, ()),
                channels=_cell(path, row, "channels", _codes, ()),
                cash_share_percent=_cell(path, row, "cash_share_percent", _percent, None),
            )
        )
    return customers


def _birth(value: str) -> tuple[date | None, int | None]:
    if not value:
        return None, None
    if re.fullmatch(r"\d{4}", value):
        return None, int(value)
    born = _date(value)
    return born, born.year


_NO_VALUES: tuple[str, ...] = ()
_NO_BIRTH: tuple[date | None, int | None] = (None, None)


def read_watchlist(path: Path) -> list[WatchlistEntry]:
    """Parse and validate a watch-list CSV; raises KycFormatError on the first bad cell."""
    entries: list[WatchlistEntry] = []
    seen: dict[str, int] = {}
    for row in _rows(path, WATCHLIST_REQUIRED, WATCHLIST_COLUMNS):
        entry_id = _cell(path, row, "entry_id", _required_text, "")
        if entry_id in seen:
            raise KycFormatError(
                str(path),
                row.line,
                row.columns["entry_id"],
                f"entry_id {entry_id!r} already on line {seen[entry_id]}",
            )
        seen[entry_id] = row.line
        names = (
            _cell(path, row, "name", _required_text, ""),
            *_cell(path, row, "aliases", _list, _NO_VALUES),
        )
        born, year = _cell(path, row, "birth_date", _birth, _NO_BIRTH)
        entries.append(
            WatchlistEntry(
                entry_id=entry_id,
                names=names,
                list_source=_cell(path, row, "list_source", _required_text, ""),
                listed_on=_cell(path, row, "listed_on", _date, date.min),
                birth_date=born,
                birth_year=year if born is None else None,
                country=_cell(path, row, "country", _country, ""),
            )
        )
    return entries


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV atomically: a temporary file in the same folder, then a rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("x", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def write_customers(path: Path, customers: Iterable[Customer]) -> None:
    """Write customers in the format `read_customers` reads (atomically)."""
    rows = (
        (
            c.customer_id,
            c.customer_type.value,
            c.name,
            ";".join(c.aliases),
            _day(c.birth_date),
            c.country,
            c.residence_country,
            c.occupation,
            c.industry,
            c.id_type,
            c.id_number,
            _day(c.id_expires_on),
            c.address,
            c.phone,
            c.registration_number,
            ";".join(c.beneficial_owners),
            "true" if c.is_pep else "false",
            ";".join(c.products),
            ";".join(c.channels),
            "" if c.cash_share_percent is None else str(c.cash_share_percent),
        )
        for c in customers
    )
    write_csv(path, CUSTOMER_COLUMNS, rows)


def write_watchlist(path: Path, entries: Iterable[WatchlistEntry]) -> None:
    """Write watch-list entries in the format `read_watchlist` reads (atomically)."""
    rows = (
        (
            e.entry_id,
            e.names[0],
            e.list_source,
            _day(e.listed_on),
            ";".join(e.names[1:]),
            _day(e.birth_date) or (str(e.birth_year) if e.birth_year else ""),
            e.country,
        )
        for e in entries
    )
    write_csv(path, WATCHLIST_COLUMNS, rows)
