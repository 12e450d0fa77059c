"""Amortisation schedules: exact sums and row consistency for every method (hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from branchdesk.loans.schedule import (
    RepaymentMethod,
    ScheduleRow,
    add_months,
    annuity_payment_minor,
    build_schedule,
    instalment_minor,
    period_interest_minor,
)

rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.36"), places=4)
methods = st.sampled_from(list(RepaymentMethod))


def _check(rows: list[ScheduleRow], principal: int, rate: Decimal, term: int, grace: int) -> None:
    assert len(rows) == term
    assert sum(r.principal_minor for r in rows) == principal
    balance = principal
    for index, row in enumerate(rows):
        assert row.number == index + 1
        assert row.principal_minor >= 0
        assert row.interest_minor == period_interest_minor(balance, rate)
        assert row.payment_minor == row.principal_minor + row.interest_minor
        assert row.balance_after_minor == balance - row.principal_minor
        if index < grace and index < term - 1:
            assert row.principal_minor == 0
        balance = row.balance_after_minor
    assert balance == 0


@settings(max_examples=300, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=10**11),
    rate=rates,
    term=st.integers(min_value=1, max_value=360),
    method=methods,
    grace_share=st.floats(min_value=0, max_value=0.5),
)
def test_every_schedule_sums_exactly_and_every_row_is_consistent(
    principal: int, rate: Decimal, term: int, method: RepaymentMethod, grace_share: float
) -> None:
    grace = min(int(term * grace_share), term - 1)
    rows = build_schedule(
        principal_minor=principal, annual_rate=rate, term_months=term, method=method,
        first_due_on=date(2026, 1, 31), grace_months=grace,
    )  # fmt: skip
    _check(rows, principal, rate, term, grace)


@settings(max_examples=200, deadline=None)
@given(
    principal=st.integers(min_value=10**6, max_value=10**10),
    rate=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.30"), places=4),
    term=st.integers(min_value=2, max_value=360),
)
# found by a full test run: at 26.55% over 317 months the rounded annuity repaid a row early
@example(principal=1_000_000, rate=Decimal("0.2655"), term=317)
def test_equal_instalments_are_equal_but_the_last(principal: int, rate: Decimal, term: int) -> None:
    rows = build_schedule(
        principal_minor=principal, annual_rate=rate, term_months=term,
        method=RepaymentMethod.equal_instalment, first_due_on=date(2026, 3, 15),
    )  # fmt: skip
    payment = instalment_minor(principal, rate, term)
    assert all(r.payment_minor == payment for r in rows[:-1])
    # the rounded annuity, or a minor unit or two less where its rounding would repay early
    assert 0 <= annuity_payment_minor(principal, rate, term) - payment <= 2
    # the last instalment only absorbs rounding: at most one minor unit per row (half from the
    # payment, half from the interest), compounded
    growth = (1 + rate / 12) ** term
    assert abs(rows[-1].payment_minor - payment) <= term * growth + 1


@settings(max_examples=200, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=10**10),
    rate=rates,
    term=st.integers(min_value=1, max_value=120),
)
def test_bullet_pays_principal_only_at_the_end(principal: int, rate: Decimal, term: int) -> None:
    rows = build_schedule(
        principal_minor=principal, annual_rate=rate, term_months=term,
        method=RepaymentMethod.interest_only, first_due_on=date(2026, 3, 15),
    )  # fmt: skip
    assert [r.principal_minor for r in rows] == [0] * (term - 1) + [principal]
    assert {r.interest_minor for r in rows} == {period_interest_minor(principal, rate)}


def test_a_known_annuity_by_hand() -> None:
    # 100,000.00 at 12 % a year over 12 months: 8,884.88 a month (1 % a month)
    rows = build_schedule(
        principal_minor=10_000_000, annual_rate=Decimal("0.12"), term_months=12,
        method=RepaymentMethod.equal_instalment, first_due_on=date(2026, 1, 31),
    )  # fmt: skip
    assert rows[0].interest_minor == 100_000
    assert rows[0].principal_minor == 888_488 - 100_000
    assert [r.payment_minor for r in rows[:-1]] == [888_488] * 11
    assert rows[-1].payment_minor == 888_485
    assert [r.due_on for r in rows[:3]] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


def test_equal_principal_rounds_half_even_and_the_last_absorbs() -> None:
    rows = build_schedule(
        principal_minor=10, annual_rate=Decimal("0"), term_months=4,
        method=RepaymentMethod.equal_principal, first_due_on=date(2026, 1, 1),
    )  # fmt: skip
    assert [r.principal_minor for r in rows] == [2, 2, 2, 4]  # 2.5 rounds to 2


def test_grace_months_pay_interest_only() -> None:
    rows = build_schedule(
        principal_minor=1_200_00, annual_rate=Decimal("0.06"), term_months=6,
        method=RepaymentMethod.equal_principal, first_due_on=date(2026, 1, 1), grace_months=2,
    )  # fmt: skip
    assert [r.principal_minor for r in rows] == [0, 0, 30000, 30000, 30000, 30000]
    assert [r.interest_minor for r in rows] == [600, 600, 600, 450, 300, 150]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal_minor": 0}, "principal"),
        ({"term_months": 0}, "term"),
        ({"grace_months": 12}, "grace"),
        ({"annual_rate": Decimal("-0.01")}, "rate"),
    ],
)
def test_bad_inputs_are_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "principal_minor": 1000, "annual_rate": Decimal("0.05"), "term_months": 12,
        "method": RepaymentMethod.equal_instalment, "first_due_on": date(2026, 1, 1),
    }  # fmt: skip
    with pytest.raises(ValueError, match=message):
        build_schedule(**{**base, **kwargs})  # type: ignore[arg-type]


def test_add_months_clamps_the_day() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
