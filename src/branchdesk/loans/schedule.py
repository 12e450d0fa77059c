"""Amortisation schedules: one pure module for every repayment method (no session, no clock).

Conventions (named so that a reviewer can check them by hand):

* Interest of a period is ``balance_before * annual_rate / 12`` (monthly periods, 30/360 style),
  converted to minor units with ``ROUND_HALF_EVEN``.
* ``equal_instalment``: the annuity ``P * r / (1 - (1 + r) ** -n)`` rounded half-even to minor
  units (``annuity_payment_minor``), lowered a minor unit at a time while it would repay the loan
  before the last row (with a high rate over a long term, the rounding compounds: see
  ``instalment_minor``); each row's principal is that payment minus the row's interest (never
  below zero, never above the balance). ``equal_principal``: ``P / n`` rounded half-even (never
  above the balance).
  ``interest_only``: interest every month, the whole principal with the last instalment (bullet).
* The first ``grace_months`` rows are interest-only for every method; the method applies to the
  remaining rows.
* The last instalment absorbs the rounding: its principal is whatever balance is left. So the
  principal parts sum exactly to the principal, every ``payment = principal + interest`` and every
  ``balance_after = balance_before - principal``, ending at zero.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from enum import StrEnum

from branchdesk.core.money import CURRENCY_EXPONENTS


class RepaymentMethod(StrEnum):
    equal_instalment = "equal_instalment"
    equal_principal = "equal_principal"
    interest_only = "interest_only"  # interest monthly, principal as a bullet at the end


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    number: int
    due_on: date
    principal_minor: int
    interest_minor: int
    balance_after_minor: int

    @property
    def payment_minor(self) -> int:
        return self.principal_minor + self.interest_minor


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months, the day clamped to the month's length (31 Jan + 1 = 28 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def round_minor(amount_in_minor: Decimal) -> int:
    """A Decimal amount already in minor units to an int, ROUND_HALF_EVEN."""
    return int(amount_in_minor.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def monthly_rate(annual_rate: Decimal) -> Decimal:
    return annual_rate / Decimal(12)


def period_interest_minor(balance_minor: int, annual_rate: Decimal) -> int:
    """One month's interest on ``balance_minor``, half-even to minor units."""
    with localcontext() as ctx:
        ctx.prec = 40
        return round_minor(Decimal(balance_minor) * monthly_rate(annual_rate))


def annuity_payment_minor(principal_minor: int, annual_rate: Decimal, periods: int) -> int:
    """The equal instalment that repays ``principal_minor`` in ``periods`` months."""
    if periods <= 0:
        raise ValueError("periods must be positive")
    with localcontext() as ctx:
        ctx.prec = 40
        r = monthly_rate(annual_rate)
        if r == 0:
            return round_minor(Decimal(principal_minor) / periods)
        factor = 1 - (1 + r) ** -periods
        return round_minor(Decimal(principal_minor) * r / factor)


def instalment_minor(principal_minor: int, annual_rate: Decimal, periods: int) -> int:
    """The equal instalment a schedule uses: the rounded annuity, unless the rounding (compounded
    over many periods at a high rate) would repay the loan before the last period; then the
    largest smaller payment that does not, so every instalment but the last is equal."""
    payment = annuity_payment_minor(principal_minor, annual_rate, periods)
    while payment > 1 and _repaid_before_the_last(principal_minor, annual_rate, periods, payment):
        payment -= 1
    return payment


def _repaid_before_the_last(
    principal_minor: int, annual_rate: Decimal, periods: int, payment: int
) -> bool:
    balance = principal_minor
    for _ in range(periods - 1):
        principal = payment - period_interest_minor(balance, annual_rate)
        if principal >= balance:
            return True
        balance -= max(principal, 0)
    return False


def check_inputs(
    *, principal_minor: int, annual_rate: Decimal, term_months: int, grace_months: int
) -> None:
    if principal_minor <= 0:
        raise ValueError("the principal must be positive")
    if term_months <= 0:
        raise ValueError("the term must be at least one month")
    if not 0 <= grace_months < term_months:
        raise ValueError("the grace period must be shorter than the term")
    if annual_rate < 0:
        raise ValueError("the rate cannot be negative")


def build_schedule(
    *,
    principal_minor: int,
    annual_rate: Decimal,
    term_months: int,
    method: RepaymentMethod,
    first_due_on: date,
    grace_months: int = 0,
) -> list[ScheduleRow]:
    """The whole schedule; see the module docstring for the rounding rules. Raises ValueError."""
    check_inputs(
        principal_minor=principal_minor,
        annual_rate=annual_rate,
        term_months=term_months,
        grace_months=grace_months,
    )
    amortising = term_months - grace_months
    payment = instalment_minor(principal_minor, annual_rate, amortising)
    with localcontext() as ctx:
        ctx.prec = 40
        equal_part = round_minor(Decimal(principal_minor) / amortising)
    rows: list[ScheduleRow] = []
    balance = principal_minor
    for index in range(term_months):
        interest = period_interest_minor(balance, annual_rate)
        is_last = index == term_months - 1
        if is_last:
            principal = balance
        elif index < grace_months or method is RepaymentMethod.interest_only:
            principal = 0
        elif method is RepaymentMethod.equal_instalment:
            principal = min(max(payment - interest, 0), balance)
        else:
            principal = min(equal_part, balance)
        balance -= principal
        rows.append(
            ScheduleRow(
                number=index + 1,
                due_on=add_months(first_due_on, index),
                principal_minor=principal,
                interest_minor=interest,
                balance_after_minor=balance,
            )
        )
    return rows


def minor_to_text(minor: int, currency: str) -> str:
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"
