"""Currencies known to the monitoring rules: minor-unit exponent and reference rate in CNY.

The table is configuration (`RuleConfig.currencies`); a currency missing from it makes an export
row invalid ("unknown currency"). A bank replaces the reference rates with its daily table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["DEFAULT_CURRENCIES", "CurrencyInfo"]


@dataclass(frozen=True)
class CurrencyInfo:
    """Minor-unit exponent and the rate in CNY for one major unit (a configurable table)."""

    exponent: int
    cny_per_unit: Decimal


# Reference rates for equivalence checks; a bank replaces them with its daily table.
DEFAULT_CURRENCIES: Mapping[str, CurrencyInfo] = {
    "CNY": CurrencyInfo(2, Decimal("1")),
    "USD": CurrencyInfo(2, Decimal("7.10")),
    "EUR": CurrencyInfo(2, Decimal("7.70")),
    "GBP": CurrencyInfo(2, Decimal("9.00")),
    "HKD": CurrencyInfo(2, Decimal("0.91")),
    "MOP": CurrencyInfo(2, Decimal("0.88")),
    "TWD": CurrencyInfo(2, Decimal("0.22")),
    "JPY": CurrencyInfo(0, Decimal("0.047")),
    "KRW": CurrencyInfo(0, Decimal("0.0052")),
    "SGD": CurrencyInfo(2, Decimal("5.30")),
    "AUD": CurrencyInfo(2, Decimal("4.70")),
    "CAD": CurrencyInfo(2, Decimal("5.20")),
    "CHF": CurrencyInfo(2, Decimal("8.10")),
    "NZD": CurrencyInfo(2, Decimal("4.30")),
    "SEK": CurrencyInfo(2, Decimal("0.66")),
    "NOK": CurrencyInfo(2, Decimal("0.66")),
    "DKK": CurrencyInfo(2, Decimal("1.03")),
    "THB": CurrencyInfo(2, Decimal("0.20")),
    "MYR": CurrencyInfo(2, Decimal("1.55")),
    "PHP": CurrencyInfo(2, Decimal("0.125")),
    "IDR": CurrencyInfo(2, Decimal("0.00044")),
    "VND": CurrencyInfo(0, Decimal("0.00028")),
    "INR": CurrencyInfo(2, Decimal("0.085")),
    "RUB": CurrencyInfo(2, Decimal("0.080")),
    "AED": CurrencyInfo(2, Decimal("1.93")),
    "SAR": CurrencyInfo(2, Decimal("1.89")),
    "KZT": CurrencyInfo(2, Decimal("0.014")),
    "MNT": CurrencyInfo(2, Decimal("0.0021")),
    "ZAR": CurrencyInfo(2, Decimal("0.39")),
    "BRL": CurrencyInfo(2, Decimal("1.30")),
    "MXN": CurrencyInfo(2, Decimal("0.38")),
}
