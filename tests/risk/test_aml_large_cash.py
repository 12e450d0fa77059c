"""Large cash (PBOC): exact at the line, same customer + same Beijing day + same side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from branchdesk.risk.aml.config import DEFAULT_CURRENCIES, CurrencyInfo, RuleConfig

from .aml_builders import at, of, post, scan


def reported(alerts: list) -> set[str]:  # type: ignore[type-arg]
    return {txn for alert in of(alerts, "large_cash") for txn in alert.txn_ids}


def test_exactly_rmb_50000_is_reported_and_one_fen_less_is_not() -> None:
    alerts = scan(
        [
            post(at(0), "A1", "credit", "50000.00", "cash", txn_id="AT"),
            post(at(0), "A2", "credit", "49999.99", "cash", txn_id="UNDER"),
        ]
    )
    assert reported(alerts) == {"AT"}
    assert "CNY 50,000.00 >= CNY 50,000.00" in of(alerts, "large_cash")[0].reason


def test_same_day_total_of_one_customer_across_accounts_is_reported() -> None:
    alerts = scan(
        [
            post(at(0, 0), "A1", "debit", "30000.00", "cash", customer="C1", txn_id="W1"),
            post(at(0, 5), "A2", "debit", "20000.00", "cash", customer="C1", txn_id="W2"),
            post(at(0, 6), "A3", "debit", "30000.00", "cash", customer="C3", txn_id="OTHER"),
        ]
    )
    large = of(alerts, "large_cash")
    assert {(a.account_id, a.txn_ids) for a in large} == {("A1", ("W1",)), ("A2", ("W2",))}
    assert all("customer total CNY 50,000.00" in a.reason for a in large)


def test_days_are_beijing_days_and_sides_are_not_mixed() -> None:
    beijing = timezone(timedelta(hours=8))
    alerts = scan(
        [
            # 23:30 and 00:30 Beijing: two different reporting days
            post(datetime(2026, 3, 1, 23, 30, tzinfo=beijing), "A1", "credit", "30000.00", "cash"),
            post(datetime(2026, 3, 2, 0, 30, tzinfo=beijing), "A1", "credit", "30000.00", "cash"),
            # 07:30 and 09:00 Beijing are one day although UTC dates differ
            post(datetime(2026, 3, 5, 7, 30, tzinfo=beijing), "A2", "credit", "25000.00", "cash",
                 txn_id="E1"),
            post(datetime(2026, 3, 5, 1, 0, tzinfo=UTC), "A2", "credit", "25000.00",
                 "cash", txn_id="E2"),
            # money in and money out are accumulated separately
            post(datetime(2026, 3, 7, 10, 0, tzinfo=beijing), "A3", "credit", "30000.00", "cash"),
            post(datetime(2026, 3, 7, 11, 0, tzinfo=beijing), "A3", "debit", "30000.00", "cash"),
            # a transfer is not cash
            post(datetime(2026, 3, 7, 11, 0, tzinfo=beijing), "A4", "credit", "90000.00"),
        ]
    )  # fmt: skip
    assert reported(alerts) == {"E1", "E2"}


def test_usd_10000_is_reported_and_foreign_currency_is_summed_in_usd_equivalent() -> None:
    alerts = scan(
        [
            post(at(0), "A1", "credit", "10000.00", "cash", currency="USD", txn_id="USD_AT"),
            post(at(0), "A2", "credit", "9999.99", "cash", currency="USD", txn_id="USD_UNDER"),
            # EUR 4,000 = CNY 30,800 = USD 4,338.03..., plus USD 6,000: over USD 10,000
            post(at(1), "A3", "credit", "6000.00", "cash", currency="USD", txn_id="MIX1"),
            post(at(1, 1), "A3", "credit", "4000.00", "cash", currency="EUR", txn_id="MIX2"),
            # RMB and foreign currency are separate lines
            post(at(2), "A4", "credit", "45000.00", "cash", txn_id="RMB"),
            post(at(2, 1), "A4", "credit", "5000.00", "cash", currency="USD", txn_id="FX"),
        ]
    )
    assert reported(alerts) == {"USD_AT", "MIX1", "MIX2"}


def test_fx_table_is_configurable_and_equivalence_is_exact() -> None:
    # with HKD at exactly 1/8 USD, HKD 80,000.00 is exactly USD 10,000.00
    table = dict(DEFAULT_CURRENCIES)
    table["HKD"] = CurrencyInfo(2, Decimal("0.8875"))  # 7.10 / 8
    config = RuleConfig(currencies=table)
    alerts = scan(
        [
            post(at(0), "A1", "credit", "80000.00", "cash", currency="HKD", txn_id="HK_AT"),
            post(at(0), "A2", "credit", "79999.99", "cash", currency="HKD", txn_id="HK_UNDER"),
        ],
        config,
    )
    assert reported(alerts) == {"HK_AT"}


def test_large_cash_is_report_only() -> None:
    alerts = scan([post(at(0), "A1", "credit", "80000.00", "cash")])
    assert [a.typology for a in alerts] == ["large_cash"]
    assert "Report-only" in alerts[0].reason


_CASH = st.tuples(
    st.sampled_from(["C1", "C2", "C3"]),
    st.integers(min_value=0, max_value=2),  # day
    st.integers(min_value=0, max_value=23),  # Beijing hour
    st.sampled_from(["credit", "debit"]),
    st.sampled_from(["CNY", "CNY", "USD"]),
    st.integers(min_value=1, max_value=6_000_000),  # minor units
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_CASH, min_size=1, max_size=12))
def test_reports_match_a_plain_decimal_reading_of_the_rule(
    rows: list[tuple[str, int, int, str, str, int]],
) -> None:
    beijing = timezone(timedelta(hours=8))
    postings = []
    totals: dict[tuple[str, int, str, bool], Decimal] = {}
    for index, (customer, day, hour, side, currency, minor) in enumerate(rows):
        amount = Decimal(minor) / 100
        when = datetime(2026, 4, 1 + day, hour, 30, tzinfo=beijing)
        account = "A" + customer[1:]
        postings.append(
            post(when, account, side, str(amount), "cash", customer=customer, currency=currency,
                 txn_id=f"H{index}")
        )  # fmt: skip
        key = (customer, day, side, currency == "CNY")
        totals[key] = totals.get(key, Decimal(0)) + amount
    expected = {
        f"H{index}"
        for index, (customer, day, _, side, currency, _) in enumerate(rows)
        if totals[(customer, day, side, currency == "CNY")]
        >= (Decimal(50_000) if currency == "CNY" else Decimal(10_000))
    }
    assert reported(scan(postings)) == expected
