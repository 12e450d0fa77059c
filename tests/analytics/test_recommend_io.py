"""Malformed input files: every error names the file, the line and the column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from branchdesk.analytics.recommend.io import (
    CsvFormatError,
    read_customers,
    read_holdings,
    read_products,
)

CUSTOMER_HEADER = (
    "customer_id,birth_date,gender,city_tier,monthly_income,total_assets,risk_tolerance,"
    "tenure_months\n"
)
GOOD_CUSTOMER = "A,1980-01-01,F,1,50000,200000,C3,60\n"
PRODUCTS = "product_code,name,category,risk_level,min_assets\nSAV,Savings,deposit,R1,0\n"


@pytest.mark.parametrize(
    ("body", "line", "column", "text"),
    [
        ("A,1980-01-01,F,1,50000,200000,C3\n", 3, 8, "expected 8 fields, found 7"),
        ("A,1980-01-01,F,1,50000,200000,C3,60,9\n", 3, 9, "expected 8 fields, found 9"),
        ("B,1980-01-01,F,1,50000,200000,C6,60\n", 3, 7, "'C6' is not one of C1-C5"),
        ("B,1980-01-01,F,1,50000,200000,R3,60\n", 3, 7, "'R3' is not one of C1-C5"),
        ("B,1980-13-01,F,1,50000,200000,C3,60\n", 3, 2, "not an ISO date"),
        ("B,1980-01-01,F,1,50000,-5,C3,60\n", 3, 6, "must be a finite number >= 0"),
        ("B,1980-01-01,F,1,abc,5,C3,60\n", 3, 5, "'abc' is not a number"),
        ("B,1980-01-01,F,1,1,5,C3,6.5\n", 3, 8, "must be an integer >= 0"),
        ("A,1980-01-01,F,1,1,5,C3,6\n", 3, 1, "duplicate customer 'A'"),
        ("B,2030-01-01,F,1,1,5,C3,6\n", 3, 2, "after the as-of date"),
        ('B,"1980-01-01,F,1,1,5,C3,6\n', 3, 1, "malformed CSV"),
    ],
)
def test_bad_customer_rows_name_file_line_and_column(
    tmp_path: Path, body: str, line: int, column: int, text: str
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMER_HEADER + GOOD_CUSTOMER + body, encoding="utf-8")
    with pytest.raises(CsvFormatError) as caught:
        read_customers(path, as_of=date(2025, 6, 30))
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), line, column)
    assert text in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}:{column}: ")


def test_missing_column_is_reported_on_the_header_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMER_HEADER.replace(",gender", ""), encoding="utf-8")
    with pytest.raises(
        CsvFormatError, match=r"customers\.csv:1:8: missing required column 'gender'"
    ):
        read_customers(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(CsvFormatError, match=r"products\.csv:1:1: empty file"):
        read_products(path)


@pytest.mark.parametrize(
    ("row", "column", "text"),
    [
        ("EQ,Equity,fund,R6,0", 4, "'R6' is not one of R1-R5"),
        ("EQ,Equity,fund,C2,0", 4, "'C2' is not one of R1-R5"),
        ("SAV,Again,deposit,R1,0", 1, "duplicate product 'SAV'"),
        ("EQ,Equity,,R2,0", 3, "category: empty value"),
    ],
)
def test_bad_product_rows(tmp_path: Path, row: str, column: int, text: str) -> None:
    path = tmp_path / "products.csv"
    path.write_text(PRODUCTS + row + "\n", encoding="utf-8")
    with pytest.raises(CsvFormatError) as caught:
        read_products(path)
    assert (caught.value.line, caught.value.column) == (3, column)
    assert text in caught.value.message


@pytest.mark.parametrize(
    ("row", "column", "text"),
    [
        ("A,XYZ,2024-01-01", 2, "unknown product code 'XYZ'"),
        ("Z,SAV,2024-01-01", 1, "unknown customer 'Z'"),
        ("A,SAV,01/02/2024", 3, "not an ISO date"),
    ],
)
def test_bad_holding_rows(tmp_path: Path, row: str, column: int, text: str) -> None:
    (tmp_path / "c.csv").write_text(CUSTOMER_HEADER + GOOD_CUSTOMER, encoding="utf-8")
    (tmp_path / "p.csv").write_text(PRODUCTS, encoding="utf-8")
    path = tmp_path / "holdings.csv"
    path.write_text(
        "customer_id,product_code,opened_at\nA,SAV,2020-01-01\n\n" + row + "\n", encoding="utf-8"
    )
    customers = read_customers(tmp_path / "c.csv")
    products = read_products(tmp_path / "p.csv")
    with pytest.raises(CsvFormatError) as caught:
        read_holdings(path, customers, products)
    # The blank line 3 is skipped but still counted.
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), 4, column)
    assert text in caught.value.message


def test_column_order_extra_columns_bom_and_datetimes_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "\ufeffnote,risk_tolerance,customer_id,birth_date,gender,city_tier,monthly_income,"
        "total_assets,tenure_months\nhello,c2,A,1980-01-01,,1,50000,200000.5,60\n",
        encoding="utf-8",
    )
    customers = read_customers(path)
    assert customers.ids == ["A"]
    assert customers.gender == ["unknown"]
    assert customers.risk_tolerance.tolist() == [2]
    assert customers.total_assets.tolist() == [200000.5]
    (tmp_path / "p.csv").write_text(PRODUCTS, encoding="utf-8")
    (tmp_path / "h.csv").write_text(
        "customer_id,product_code,opened_at\nA,SAV,2024-01-01T10:00:00+08:00\n", encoding="utf-8"
    )
    holdings = read_holdings(tmp_path / "h.csv", customers, read_products(tmp_path / "p.csv"))
    assert holdings.opened_day.tolist() == [(date(2024, 1, 1) - date(1970, 1, 1)).days]
