"""Strict CSV readers for the recommendation batch.

Every problem in an input file raises :class:`CsvFormatError` naming the file, the 1-based
physical line and the 1-based column, so that ``branchdesk recommend batch`` can stop with
``file:line:column: message`` before anything is written.

Columns are found by header name; their order does not matter and unknown extra columns are
ignored. Blank lines are skipped. Files are UTF-8 (a byte-order mark is tolerated).

Optional customer columns (not in the issue's schema, used when present):

``risk_assessed_on``
    ISO date of the customer's last risk assessment. Empty means "no assessment on file".
    Without the column every assessment is taken as valid.
``marketing_consent``
    ``true/false``, ``yes/no``, ``1/0``, ``y/n``. Without the column consent is assumed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

EPOCH = date(1970, 1, 1)

CUSTOMER_COLUMNS = (
    "customer_id",
    "birth_date",
    "gender",
    "city_tier",
    "monthly_income",
    "total_assets",
    "risk_tolerance",
    "tenure_months",
)
PRODUCT_COLUMNS = ("product_code", "name", "category", "risk_level", "min_assets")
HOLDING_COLUMNS = ("customer_id", "product_code", "opened_at")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Day number used for "no date" in integer day arrays.
NO_DAY = np.iinfo(np.int64).min


class CsvFormatError(ValueError):
    """A problem in an input CSV file at a known line and column (both 1-based)."""

    def __init__(self, file: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{file}:{line}:{column}: {message}")
        self.file = file
        self.line = line
        self.column = column
        self.message = message


def day_number(value: date) -> int:
    """Days since 1970-01-01, the integer form dates take in the arrays below."""
    return (value - EPOCH).days


@dataclass(frozen=True)
class Customers:
    """Customer table in columnar form; row i is the i-th data row of the file."""

    ids: list[str]
    birth_day: IntArray
    gender: list[str]
    city_tier: IntArray
    monthly_income: FloatArray
    total_assets: FloatArray
    risk_tolerance: IntArray  # 1..5 for C1..C5
    tenure_months: IntArray
    risk_assessed_day: IntArray | None  # None: column absent; NO_DAY: no assessment on file
    has_consent: BoolArray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Products:
    """Product catalogue in columnar form."""

    codes: list[str]
    names: list[str]
    categories: list[str]
    risk_level: IntArray  # 1..5 for R1..R5
    min_assets: FloatArray

    def __len__(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class Holdings:
    """Product openings: customer and product as row indexes into the two tables."""

    customer: IntArray
    product: IntArray
    opened_day: IntArray

    def __len__(self) -> int:
        return len(self.customer)


@dataclass(frozen=True)
class _Row:
    line: int
    fields: dict[str, str]
    column: dict[str, int]


def _rows(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Iterator[_Row]:
    name = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise CsvFormatError(name, 0, 0, f"cannot open file: {error.strerror}") from error
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise CsvFormatError(name, 1, 1, "empty file: expected a header line")
            header = [cell.strip() for cell in header]
            column: dict[str, int] = {}
            for index, cell in enumerate(header):
                if cell in column:
                    raise CsvFormatError(name, 1, index + 1, f"duplicate column {cell!r}")
                column[cell] = index
            for wanted in required:
                if wanted not in column:
                    raise CsvFormatError(
                        name, 1, len(header) + 1, f"missing required column {wanted!r}"
                    )
            wanted_columns = {
                key: value for key, value in column.items() if key in required or key in optional
            }
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != len(header):
                    bad = min(len(row), len(header)) + 1
                    raise CsvFormatError(
                        name,
                        reader.line_num,
                        bad,
                        f"expected {len(header)} fields, found {len(row)}",
                    )
                fields = {key: row[index].strip() for key, index in wanted_columns.items()}
                yield _Row(reader.line_num, fields, {k: v + 1 for k, v in wanted_columns.items()})
        except UnicodeDecodeError as error:
            raise CsvFormatError(name, reader.line_num + 1, 1, "not valid UTF-8") from error
        except csv.Error as error:
            raise CsvFormatError(name, reader.line_num, 1, f"malformed CSV: {error}") from error


class _Fields:
    """Typed field parsing with errors pointing at the offending cell."""

    def __init__(self, file: str, row: _Row) -> None:
        self.file = file
        self.row = row

    def fail(self, key: str, message: str) -> CsvFormatError:
        return CsvFormatError(self.file, self.row.line, self.row.column[key], f"{key}: {message}")

    def has(self, key: str) -> bool:
        return key in self.row.fields

    def text(self, key: str) -> str:
        value = self.row.fields[key]
        if not value:
            raise self.fail(key, "empty value")
        return value

    def number(self, key: str) -> float:
        raw = self.text(key)
        try:
            value = float(raw)
        except ValueError:
            raise self.fail(key, f"{raw!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise self.fail(key, f"{raw!r} must be a finite number >= 0")
        return value

    def integer(self, key: str, minimum: int = 0) -> int:
        raw = self.text(key)
        try:
            value = float(raw)
        except ValueError:
            raise self.fail(key, f"{raw!r} is not an integer") from None
        if not math.isfinite(value) or value != int(value) or value < minimum:
            raise self.fail(key, f"{raw!r} must be an integer >= {minimum}")
        return int(value)

    def day(self, key: str) -> int:
        raw = self.text(key)
        try:
            if len(raw) > 10 and raw[10] in "T ":
                return day_number(datetime.fromisoformat(raw).date())
            return day_number(date.fromisoformat(raw))
        except ValueError:
            raise self.fail(key, f"{raw!r} is not an ISO date (YYYY-MM-DD)") from None

    def level(self, key: str, prefix: str) -> int:
        raw = self.text(key)
        upper = raw.upper()
        if len(upper) == 2 and upper[0] == prefix and upper[1] in "12345":
            return int(upper[1])
        raise self.fail(key, f"{raw!r} is not one of {prefix}1-{prefix}5")

    def flag(self, key: str) -> bool:
        raw = self.row.fields[key].lower()
        if raw in ("true", "yes", "y", "1"):
            return True
        if raw in ("false", "no", "n", "0", ""):
            return False
        raise self.fail(key, f"{raw!r} is not a yes/no value")


def read_customers(path: Path, *, as_of: date | None = None) -> Customers:
    """Read customers.csv; with ``as_of``, birth dates after it are rejected."""
    name = str(path)
    ids: list[str] = []
    seen: set[str] = set()
    birth: list[int] = []
    gender: list[str] = []
    tier: list[int] = []
    income: list[float] = []
    assets: list[float] = []
    tolerance: list[int] = []
    tenure: list[int] = []
    assessed: list[int] = []
    consent: list[bool] = []
    has_assessment_column = False
    limit = day_number(as_of) if as_of is not None else None
    for row in _rows(path, CUSTOMER_COLUMNS, ("risk_assessed_on", "marketing_consent")):
        f = _Fields(name, row)
        customer_id = f.text("customer_id")
        if customer_id in seen:
            raise f.fail("customer_id", f"duplicate customer {customer_id!r}")
        seen.add(customer_id)
        ids.append(customer_id)
        born = f.day("birth_date")
        if limit is not None and born > limit:
            raise f.fail("birth_date", "birth date is after the as-of date")
        birth.append(born)
        gender.append(row.fields["gender"] or "unknown")  # free text; empty means unknown
        tier.append(f.integer("city_tier"))
        income.append(f.number("monthly_income"))
        assets.append(f.number("total_assets"))
        tolerance.append(f.level("risk_tolerance", "C"))
        tenure.append(f.integer("tenure_months"))
        if f.has("risk_assessed_on"):
            has_assessment_column = True
            assessed.append(f.day("risk_assessed_on") if row.fields["risk_assessed_on"] else NO_DAY)
        consent.append(f.flag("marketing_consent") if f.has("marketing_consent") else True)
    return Customers(
        ids=ids,
        birth_day=np.array(birth, dtype=np.int64),
        gender=gender,
        city_tier=np.array(tier, dtype=np.int64),
        monthly_income=np.array(income, dtype=np.float64),
        total_assets=np.array(assets, dtype=np.float64),
        risk_tolerance=np.array(tolerance, dtype=np.int64),
        tenure_months=np.array(tenure, dtype=np.int64),
        risk_assessed_day=np.array(assessed, dtype=np.int64) if has_assessment_column else None,
        has_consent=np.array(consent, dtype=np.bool_),
    )


def read_products(path: Path) -> Products:
    """Read products.csv (product codes must be unique)."""
    name = str(path)
    codes: list[str] = []
    seen: set[str] = set()
    names: list[str] = []
    categories: list[str] = []
    risk: list[int] = []
    minimum: list[float] = []
    for row in _rows(path, PRODUCT_COLUMNS):
        f = _Fields(name, row)
        code = f.text("product_code")
        if code in seen:
            raise f.fail("product_code", f"duplicate product {code!r}")
        seen.add(code)
        codes.append(code)
        names.append(f.text("name"))
        categories.append(f.text("category"))
        risk.append(f.level("risk_level", "R"))
        minimum.append(f.number("min_assets"))
    return Products(
        codes=codes,
        names=names,
        categories=categories,
        risk_level=np.array(risk, dtype=np.int64),
        min_assets=np.array(minimum, dtype=np.float64),
    )


def read_holdings(path: Path, customers: Customers, products: Products) -> Holdings:
    """Read holdings.csv (or a truth file of the same shape); codes must be known."""
    name = str(path)
    customer_index = {customer_id: i for i, customer_id in enumerate(customers.ids)}
    product_index = {code: i for i, code in enumerate(products.codes)}
    who: list[int] = []
    what: list[int] = []
    when: list[int] = []
    for row in _rows(path, HOLDING_COLUMNS):
        f = _Fields(name, row)
        customer_id = f.text("customer_id")
        if customer_id not in customer_index:
            raise f.fail("customer_id", f"unknown customer {customer_id!r}")
        code = f.text("product_code")
        if code not in product_index:
            raise f.fail("product_code", f"unknown product code {code!r}")
        who.append(customer_index[customer_id])
        what.append(product_index[code])
        when.append(f.day("opened_at"))
    return Holdings(
        customer=np.array(who, dtype=np.int64),
        product=np.array(what, dtype=np.int64),
        opened_day=np.array(when, dtype=np.int64),
    )
