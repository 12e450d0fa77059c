"""Each typology caught on a small hand-built history, and its look-alike not."""

from __future__ import annotations

from branchdesk.risk.aml.config import DormantRule, RuleConfig, StructuringRule
from branchdesk.risk.aml.io import Posting

from .aml_builders import at, flagged, of, post, scan


def _ordinary_life(account: str, days: int = 60) -> list[Posting]:
    """Salary and card spending, so that accounts are not empty around the pattern."""
    out = [post(at(d * 30 - 40), account, "credit", "12000.00") for d in range(days // 30 + 2)]
    out += [post(at(d - 40, 5), account, "debit", "85.50", "card") for d in range(0, days, 2)]
    return out


# --- structuring -----------------------------------------------------------------------------


def test_structuring_three_cash_deposits_just_under_the_line_within_days() -> None:
    deposits = [
        post(at(0), "A1", "credit", "45000.00", "cash", txn_id="S1"),
        post(at(1), "A1", "credit", "46000.00", "cash", txn_id="S2"),
        post(at(2), "A1", "credit", "47500.00", "cash", txn_id="S3"),
    ]
    alerts = scan([*_ordinary_life("A1"), *deposits])
    structuring = of(alerts, "structuring")
    assert len(structuring) == 1
    assert structuring[0].account_id == "A1"
    assert structuring[0].txn_ids == ("S1", "S2", "S3")
    assert "CNY 138,500.00" in structuring[0].reason
    assert of(alerts, "large_cash") == []  # each day stays under the line


def test_structuring_split_over_the_customers_own_accounts() -> None:
    deposits = [
        post(at(0), "A1", "credit", "45000.00", "cash", customer="C1", txn_id="S1"),
        post(at(1), "A2", "credit", "46000.00", "cash", customer="C1", txn_id="S2"),
    ]
    alerts = of(scan(deposits), "structuring")
    assert {(a.account_id, a.txn_ids) for a in alerts} == {("A1", ("S1",)), ("A2", ("S2",))}
    assert "over accounts A1, A2" in alerts[0].reason


def test_in_band_amounts_far_apart_or_too_few_are_not_structuring() -> None:
    far_apart = [
        post(at(0), "A1", "credit", "45000.00", "cash"),
        post(at(20), "A1", "credit", "46000.00", "cash"),
    ]
    single = [post(at(0), "A2", "credit", "49999.99", "cash")]
    assert of(scan([*_ordinary_life("A1"), *far_apart, *single]), "structuring") == []
    pair = [
        post(at(0), "A3", "credit", "45000.00", "cash"),
        post(at(1), "A3", "credit", "46000.00", "cash"),
    ]
    assert flagged(scan(pair), "structuring") == {"A3"}
    three_needed = RuleConfig(structuring=StructuringRule(min_count=3))
    assert flagged(scan(pair, three_needed), "structuring") == set()


def test_cash_business_with_natural_amounts_is_not_structuring() -> None:
    # twice a week for ten weeks, natural amounts across the range; three of them happen to
    # fall in the band within one week
    amounts = [
        "12450.20", "33120.00", "8450.75", "61200.10", "27800.00", "15320.40", "42100.00",
        "44950.30", "41800.00", "22300.00", "9800.00", "57300.20", "36000.00", "18800.00",
        "64010.00", "25500.50", "5300.00", "31000.00", "13999.99", "52000.00",
    ]  # fmt: skip
    deposits = [
        post(at(week * 7 + offset), "B1", "credit", amount, "cash")
        for (week, offset), amount in zip(
            [(w, o) for w in range(10) for o in (0, 3)], amounts, strict=True
        )
    ]
    alerts = scan(deposits)
    assert flagged(alerts, "structuring") == set()
    assert len(of(alerts, "large_cash")) == 4  # the four deposits at or over RMB 50,000


# --- pass-through ----------------------------------------------------------------------------


def test_large_inflow_leaving_within_a_day_is_pass_through() -> None:
    history = [
        *_ordinary_life("A2"),
        post(at(10), "A2", "credit", "200000.00", txn_id="P1"),
        post(at(10, 3), "A2", "debit", "95000.00", txn_id="P2"),
        post(at(10, 6), "A2", "debit", "96000.00", "remittance", txn_id="P3"),
    ]
    alerts = of(scan(history), "pass_through")
    assert len(alerts) == 1
    assert alerts[0].txn_ids[0] == "P1"
    assert {"P2", "P3"} <= set(alerts[0].txn_ids)  # with a card spend in between
    assert "CNY 200,000.00" in alerts[0].reason


def test_one_off_large_inflow_that_stays_is_not_pass_through() -> None:
    history = [
        *_ordinary_life("A2"),
        post(at(10), "A2", "credit", "1200000.00"),
        post(at(10, 5), "A2", "debit", "3000.00"),
        post(at(25), "A2", "debit", "900000.00"),  # a house, two weeks later
    ]
    assert flagged(scan(history), "pass_through") == set()


def test_supplier_paid_from_older_balance_after_a_deposit_is_not_pass_through() -> None:
    history = [
        post(at(0), "A2", "credit", "120000.00", "cash"),
        post(at(0, 5), "A2", "debit", "400000.00", counterparty="SUPPLIER02", bank="COMM"),
    ]
    assert flagged(scan(history), "pass_through") == set()


# --- fan-in / fan-out ------------------------------------------------------------------------


def test_many_payers_then_money_moves_on_is_fan_in() -> None:
    payers = [post(at(i * 0.25), "A3", "credit", "6000.00") for i in range(10)]
    out = post(at(3), "A3", "debit", "55000.00")
    alerts = of(scan([*payers, out]), "fan_in")
    assert len(alerts) == 1
    assert set(alerts[0].txn_ids) == {p.txn_id for p in [*payers, out]}
    assert "10 distinct counterparties" in alerts[0].reason


def test_many_payers_whose_money_stays_is_not_fan_in() -> None:
    payers = [post(at(i * 0.25), "A3", "credit", "6000.00") for i in range(10)]
    assert flagged(scan(payers), "fan_in") == set()


def test_merchant_with_many_small_payers_is_not_fan_in() -> None:
    payers = [post(at(i * 0.05), "M1", "credit", "300.00", "card") for i in range(120)]
    small_qr = [post(at(i * 0.05), "M1", "credit", "250.00") for i in range(120)]
    sweep = post(at(6.5), "M1", "debit", "60000.00", counterparty="SUPPLIER01")
    assert flagged(scan([*payers, *small_qr, sweep]), "fan_in") == set()


def test_recent_inflow_split_to_many_counterparties_is_fan_out() -> None:
    inflow = post(at(0), "A4", "credit", "300000.00")
    outs = [post(at(0, 1 + i * 2), "A4", "debit", "24000.00") for i in range(12)]
    alerts = of(scan([inflow, *outs]), "fan_out")
    assert len(alerts) == 1
    assert set(alerts[0].txn_ids) == {p.txn_id for p in [inflow, *outs]}


def test_payments_to_many_from_an_old_balance_are_not_fan_out() -> None:
    inflow = post(at(0), "A4", "credit", "300000.00")
    outs = [post(at(20, i * 2), "A4", "debit", "24000.00") for i in range(12)]
    assert flagged(scan([inflow, *outs]), "fan_out") == set()


# --- dormant reactivation --------------------------------------------------------------------


def test_dormant_account_with_large_movements_after_130_days() -> None:
    history = [
        post(at(0), "A5", "debit", "300.00", "card"),
        post(at(130), "A5", "credit", "150000.00", txn_id="D1"),
        post(at(131), "A5", "debit", "140000.00", txn_id="D2"),
    ]
    alerts = of(scan(history), "dormant_reactivation")
    assert [a.txn_ids for a in alerts] == [("D1", "D2")]
    assert "130 days" in alerts[0].reason


def test_short_silence_or_small_reactivation_is_not_dormant() -> None:
    short_gap = [
        post(at(0), "A5", "debit", "300.00", "card"),
        post(at(100), "A5", "credit", "150000.00"),
    ]
    small = [post(at(0), "A6", "debit", "300.00", "card"), post(at(140), "A6", "credit", "2000.00")]
    assert flagged(scan([*short_gap, *small]), "dormant_reactivation") == set()


def test_dormancy_window_is_configurable() -> None:
    history = [
        post(at(0), "A5", "debit", "300.00", "card"),
        post(at(100), "A5", "credit", "150000.00"),
    ]
    config = RuleConfig(dormant_reactivation=DormantRule(dormant_days=90))
    assert flagged(scan(history, config), "dormant_reactivation") == {"A5"}


# --- cycle -----------------------------------------------------------------------------------


def _hop(
    day: float, source: str, target: str, amount: str, customers: dict[str, str]
) -> list[Posting]:
    debit = post(
        at(day),
        source,
        "debit",
        amount,
        counterparty=target,
        bank="SELF",
        customer=customers[source],
    )
    credit = post(
        at(day, 0.01), target, "credit", amount, counterparty=source, bank="SELF",
        customer=customers[target],
    )  # fmt: skip
    return [debit, credit]


def test_funds_returning_through_two_other_accounts_is_a_cycle() -> None:
    owners = {"A7": "C7", "B7": "C8", "D7": "C9"}
    history = [
        *_hop(0, "A7", "B7", "300000.00", owners),
        *_hop(0.3, "B7", "D7", "295000.00", owners),
        *_hop(0.7, "D7", "A7", "290000.00", owners),
    ]
    alerts = of(scan(history), "cycle")
    assert {a.account_id for a in alerts} == {"A7", "B7", "D7"}
    assert all(len(a.txn_ids) == 2 for a in alerts)  # each account's debit and credit leg
    assert "A7 -> B7 -> D7 -> A7" in alerts[0].reason


def test_there_and_back_between_two_accounts_is_not_a_cycle() -> None:
    owners = {"A7": "C7", "B7": "C8"}
    history = [*_hop(0, "A7", "B7", "300000.00", owners), *_hop(1, "B7", "A7", "300000.00", owners)]
    assert of(scan(history), "cycle") == []


def test_unrelated_amounts_or_own_accounts_do_not_make_a_cycle() -> None:
    owners = {"A7": "C7", "B7": "C8", "D7": "C9"}
    different = [
        *_hop(0, "A7", "B7", "300000.00", owners),
        *_hop(0.3, "B7", "D7", "60000.00", owners),
        *_hop(0.7, "D7", "A7", "58000.00", owners),
    ]
    same_owner = {"E7": "C1", "F7": "C1", "G7": "C1"}
    own = [
        *_hop(0, "E7", "F7", "300000.00", same_owner),
        *_hop(0.3, "F7", "G7", "300000.00", same_owner),
        *_hop(0.7, "G7", "E7", "300000.00", same_owner),
    ]
    assert of(scan([*different, *own]), "cycle") == []


def test_alert_ids_are_deterministic_and_scores_bounded() -> None:
    history = [
        post(at(10), "A2", "credit", "200000.00", txn_id="P1"),
        post(at(10, 3), "A2", "debit", "191000.00", txn_id="P2"),
    ]
    first, second = scan(history), scan(list(reversed(history)))
    assert [a.alert_id for a in first] == [a.alert_id for a in second]
    assert all(0.0 <= a.score <= 1.0 for a in first)
