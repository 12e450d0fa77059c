"""Exact outcomes of the hard eligibility rules on hand-written files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from branchdesk.analytics.recommend.io import (
    Customers,
    Holdings,
    Products,
    read_customers,
    read_holdings,
    read_products,
)
from branchdesk.analytics.recommend.rules import Exclusion, eligible, exclusion, violations

AS_OF = date(2025, 6, 30)
CUSTOMERS = (
    (
        "customer_id,birth_date,gender,city_tier,monthly_income,total_assets,risk_tolerance,"
        "tenure_months\n"
    )
    + """A,1980-01-01,F,1,50000,200000,C3,60
B,1990-05-05,M,2,30000,5000,C1,12
"""
)
PRODUCTS = """product_code,name,category,risk_level,min_assets
SAV,Savings account,deposit,R1,0
BF,Bond fund,fund,R2,10000
EQ,Equity fund,fund,R4,0
SN,Structured note,structured,R3,1000000
"""
HOLDINGS = """customer_id,product_code,opened_at
A,SAV,2020-01-01
A,BF,2025-07-15
B,SAV,2025-06-30
"""


def _load(
    tmp_path: Path, customers: str = CUSTOMERS, holdings: str = HOLDINGS
) -> tuple[Customers, Products, Holdings]:
    (tmp_path / "c.csv").write_text(customers, encoding="utf-8")
    (tmp_path / "p.csv").write_text(PRODUCTS, encoding="utf-8")
    (tmp_path / "h.csv").write_text(holdings, encoding="utf-8")
    c = read_customers(tmp_path / "c.csv", as_of=AS_OF)
    p = read_products(tmp_path / "p.csv")
    return c, p, read_holdings(tmp_path / "h.csv", c, p)


def test_risk_assets_and_holdings_decide_eligibility_exactly(tmp_path: Path) -> None:
    c, p, h = _load(tmp_path)
    # A: SAV held; BF opened only after as-of so still eligible; EQ R4 > C3; SN below 1M.
    # B: SAV opened on the as-of date counts as held; everything else above C1.
    assert eligible(c, p, h, AS_OF).tolist() == [
        [False, True, False, False],
        [False, False, False, False],
    ]
    outcomes = {
        (c.ids[i], p.codes[j]): exclusion(c, p, h, AS_OF, customer=i, product=j)
        for i in range(2)
        for j in range(4)
    }
    assert outcomes == {
        ("A", "SAV"): Exclusion.already_held,
        ("A", "BF"): None,
        ("A", "EQ"): Exclusion.risk_above_tolerance,
        ("A", "SN"): Exclusion.below_min_assets,
        ("B", "SAV"): Exclusion.already_held,
        ("B", "BF"): Exclusion.risk_above_tolerance,
        ("B", "EQ"): Exclusion.risk_above_tolerance,
        ("B", "SN"): Exclusion.risk_above_tolerance,
    }


def test_risk_equal_to_tolerance_is_allowed(tmp_path: Path) -> None:
    customers = CUSTOMERS.replace("200000,C3", "2000000,C3")
    c, p, h = _load(tmp_path, customers=customers)
    assert eligible(c, p, h, AS_OF)[0].tolist() == [False, True, False, True]


def test_holdings_after_as_of_are_ignored(tmp_path: Path) -> None:
    c, p, h = _load(tmp_path)
    later = date(2025, 7, 15)
    assert eligible(c, p, h, AS_OF)[0, 1]
    assert not eligible(c, p, h, later)[0, 1]


def test_expired_assessment_leaves_only_r1_products(tmp_path: Path) -> None:
    customers = (
        CUSTOMERS.replace("tenure_months\n", "tenure_months,risk_assessed_on\n")
        .replace("C3,60\n", "C3,60,2024-06-29\n")
        .replace("C1,12\n", "C1,12,2025-01-01\n")
    )
    holdings = "customer_id,product_code,opened_at\n"
    c, p, h = _load(tmp_path, customers=customers, holdings=holdings)
    assert eligible(c, p, h, AS_OF).tolist() == [
        [True, False, False, False],
        [True, False, False, False],
    ]
    assert exclusion(c, p, h, AS_OF, customer=0, product=1) == Exclusion.assessment_expired
    # 365 days old is still valid.
    c2, p2, h2 = _load(tmp_path, customers=customers.replace("2024-06-29", "2024-06-30"))
    assert eligible(c2, p2, h2, AS_OF)[0, 1]


def test_no_consent_excludes_every_product(tmp_path: Path) -> None:
    customers = (
        CUSTOMERS.replace("tenure_months\n", "tenure_months,marketing_consent\n")
        .replace("C3,60\n", "C3,60,no\n")
        .replace("C1,12\n", "C1,12,yes\n")
    )
    c, p, h = _load(tmp_path, customers=customers, holdings="customer_id,product_code,opened_at\n")
    allowed = eligible(c, p, h, AS_OF)
    assert allowed.tolist() == [[False] * 4, [True, False, False, False]]
    assert exclusion(c, p, h, AS_OF, customer=0, product=0) == Exclusion.no_consent


def test_violations_counts_unsuitable_and_held_pairs(tmp_path: Path) -> None:
    c, p, h = _load(tmp_path)
    customer = np.array([0, 0, 0, 1], dtype=np.int64)
    product = np.array([0, 1, 2, 0], dtype=np.int64)
    assert violations(c, p, h, AS_OF, customer=customer, product=product) == (1, 2)
