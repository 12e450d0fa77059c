from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from branchdesk.core.money import CurrencyMismatch, Money, format_money, parse_major, to_minor


def test_money_adds_within_one_currency() -> None:
    assert Money(150, "CNY") + Money(250, "CNY") == Money(400, "CNY")
    assert Money(150, "CNY") - Money(250, "CNY") == Money(-100, "CNY")
    assert Money(1234, "USD").to_major() == Decimal("12.34")


def test_money_refuses_mixing_currencies_and_floats() -> None:
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(TypeError):
        Money(1.5, "CNY")  # type: ignore[arg-type]  # the refusal is what we test
    with pytest.raises(ValueError, match="unknown currency"):
        Money(1, "XXX")


def test_to_minor_names_its_rounding() -> None:
    assert to_minor(Decimal("0.125"), "CNY") == 12  # half-even
    assert to_minor(Decimal("0.135"), "CNY") == 14
    assert to_minor(Decimal("0.125"), "CNY", rounding=ROUND_HALF_UP) == 13
    assert to_minor(Decimal("1500"), "JPY") == 1500


def test_format_money() -> None:
    assert format_money(123456789, "CNY") == "CNY 1,234,567.89"
    assert format_money(1500, "JPY") == "JPY 1,500"


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1,000.50", "CNY", 100_050),
        (" 12 ", "TWD", 1_200),
        ("1500", "JPY", 1_500),
        ("0.01", "HKD", 1),
    ],
)
def test_parse_major_is_exact(text: str, currency: str, minor: int) -> None:
    assert parse_major(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "enter the amount as a number, e.g. 1,000.00"),
        ("NaN", "enter the amount as a number, e.g. 1,000.00"),
        ("1.001", "CNY has no smaller unit than that"),
        ("0", "the amount must be positive"),
        ("-5", "the amount must be positive"),
    ],
)
def test_parse_major_refuses_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parse_major(text, "CNY")
