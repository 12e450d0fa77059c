"""Money as integer minor units. Rates are Decimal; one helper converts back with named rounding."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents for the currencies the bank deals in.
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "SGD": 2,
    "MOP": 2,
    "AUD": 2,
}


class CurrencyMismatch(ValueError):
    pass


def check_currency(currency: str) -> str:
    if currency not in CURRENCY_EXPONENTS:
        raise ValueError(f"unknown currency {currency!r}")
    return currency


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError("Money.minor must be an int of minor units")
        check_currency(self.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def to_major(self) -> Decimal:
        return Decimal(self.minor).scaleb(-CURRENCY_EXPONENTS[self.currency])


def to_minor(amount: Decimal, currency: str, *, rounding: str = ROUND_HALF_EVEN) -> int:
    """Convert a major-unit Decimal (e.g. interest) to minor units with the caller's rounding."""
    exponent = CURRENCY_EXPONENTS[check_currency(currency)]
    return int(amount.scaleb(exponent).quantize(Decimal(1), rounding=rounding))


def format_money(minor: int, currency: str) -> str:
    """Display form used by the one template filter: ``CNY 1,234.50``."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    value = Decimal(minor).scaleb(-exponent)
    return f"{currency} {value:,.{exponent}f}"


def parse_major(text: str, currency: str) -> int:
    """An amount typed by a person in major units (``1,000.50``) -> exact minor units.

    Raises ValueError with a message fit to show; callers turn it into their 422 error.
    """
    cleaned = text.strip().replace(",", "").replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("enter the amount as a number, e.g. 1,000.00") from exc
    if not value.is_finite():
        raise ValueError("enter the amount as a number, e.g. 1,000.00")
    minor = value.scaleb(CURRENCY_EXPONENTS.get(currency, 2))
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency} has no smaller unit than that")
    if minor <= 0:
        raise ValueError("the amount must be positive")
    return int(minor)
