"""Pure loan rules: decisions (approve / refer / decline exactly), limits, allocation, buckets."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from branchdesk.loans.rules import (
    Applicant,
    Bucket,
    DecisionRules,
    Outcome,
    allocate,
    bucket_of,
    credit_limit_minor,
    daily_penalty_minor,
    debt_service_ratio,
    decide,
)
from branchdesk.loans.schedule import annuity_payment_minor

RULES = DecisionRules()  # approve >= 560, decline < 480, DSR refer > 0.40, max 0.50, age 20..70
BASE = Applicant(
    score=600.0, age_years=40, term_months=24, is_kyc_valid=True, monthly_income_minor=1_000_000,
    monthly_obligations_minor=100_000, monthly_payment_minor=100_000, amount_minor=2_000_000,
    credit_limit_minor=5_000_000,
)  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "outcome", "reasons"),
    [
        ({}, Outcome.approve, ("score_and_affordability_pass",)),
        ({"score": 560.0}, Outcome.approve, ("score_and_affordability_pass",)),
        ({"score": 559.99}, Outcome.refer, ("score_in_refer_band",)),
        ({"score": 480.0}, Outcome.refer, ("score_in_refer_band",)),
        ({"score": 479.99}, Outcome.decline, ("score_below_decline",)),
        # the DSR is compared after rounding half-even to 4 places: 0.40005 counts as 0.4000
        ({"monthly_payment_minor": 300_050}, Outcome.approve, ("score_and_affordability_pass",)),
        ({"monthly_payment_minor": 300_051}, Outcome.refer, ("dsr_near_limit",)),
        ({"monthly_payment_minor": 400_000}, Outcome.refer, ("dsr_near_limit",)),
        ({"monthly_payment_minor": 400_051}, Outcome.decline, ("dsr_above_limit",)),
        ({"age_years": 19}, Outcome.decline, ("too_young",)),
        ({"age_years": 68}, Outcome.approve, ("score_and_affordability_pass",)),
        ({"age_years": 69}, Outcome.decline, ("too_old_at_maturity",)),
        ({"age_years": None}, Outcome.decline, ("no_birth_date",)),
        ({"is_kyc_valid": False}, Outcome.decline, ("kyc_expired",)),
        ({"documents_missing": ("income_proof",)}, Outcome.refer, ("documents_missing",)),
        ({"amount_minor": 5_000_001}, Outcome.refer, ("amount_above_limit",)),
        (
            {"score": 500.0, "amount_minor": 6_000_000, "documents_missing": ("id_document",)},
            Outcome.refer,
            ("score_in_refer_band", "documents_missing", "amount_above_limit"),
        ),
        (
            {"score": 100.0, "is_kyc_valid": False, "age_years": 18},
            Outcome.decline,
            ("too_young", "kyc_expired", "score_below_decline"),
        ),
    ],
)
def test_decisions_are_exact(
    changes: dict[str, object], outcome: Outcome, reasons: tuple[str, ...]
) -> None:
    decision = decide(replace(BASE, **changes), RULES)  # type: ignore[arg-type]
    assert (decision.outcome, decision.reasons) == (outcome, reasons)
    assert decision.credit_limit_minor == (0 if outcome is Outcome.decline else 5_000_000)


def test_rules_round_trip_as_data() -> None:
    rules = DecisionRules(approve_score=600, decline_score=500, max_dsr=Decimal("0.35"))
    assert DecisionRules.from_json(rules.to_json()) == rules
    assert decide(BASE, rules).outcome is Outcome.approve
    assert decide(replace(BASE, score=550.0), rules).outcome is Outcome.refer


def test_debt_service_ratio_rounds_half_even_and_guards_zero_income() -> None:
    assert debt_service_ratio(income_minor=3, obligations_minor=0, payment_minor=1) == Decimal(
        "0.3333"
    )
    assert debt_service_ratio(income_minor=0, obligations_minor=0, payment_minor=1) == Decimal(
        "99.9999"
    )


@given(
    income=st.integers(min_value=0, max_value=10**8),
    obligations=st.integers(min_value=0, max_value=10**7),
    term=st.integers(min_value=1, max_value=360),
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.3"), places=4),
)
def test_credit_limit_is_the_largest_affordable_principal(
    income: int, obligations: int, term: int, rate: Decimal
) -> None:
    cap = 10**9
    limit = credit_limit_minor(
        income_minor=income, obligations_minor=obligations, annual_rate=rate, term_months=term,
        max_dsr=Decimal("0.5"), product_max_minor=cap,
    )  # fmt: skip
    allowance = round(Decimal(income) * Decimal("0.5")) - obligations
    assert 0 <= limit <= cap
    if limit > 0:
        assert annuity_payment_minor(limit, rate, term) <= allowance
    if 0 < limit < cap:
        assert annuity_payment_minor(limit + 1, rate, term) > allowance


@given(
    penalty=st.integers(min_value=0, max_value=10**6),
    interest=st.integers(min_value=0, max_value=10**6),
    due=st.integers(min_value=0, max_value=10**7),
    not_due=st.integers(min_value=0, max_value=10**8),
    share=st.floats(min_value=0.0, max_value=1.0),
)
def test_allocation_pays_penalty_then_interest_then_principal(
    penalty: int, interest: int, due: int, not_due: int, share: float
) -> None:
    owed = penalty + interest + due + not_due
    amount = max(1, int(owed * share))
    if owed == 0:
        with pytest.raises(ValueError, match="larger"):
            allocate(1, penalty_due_minor=0, interest_due_minor=0, principal_due_minor=0,
                     principal_not_due_minor=0)  # fmt: skip
        return
    split = allocate(
        amount, penalty_due_minor=penalty, interest_due_minor=interest, principal_due_minor=due,
        principal_not_due_minor=not_due,
    )  # fmt: skip
    assert split.total_minor == amount
    assert split.penalty_minor == min(amount, penalty)
    assert split.interest_minor == min(amount - split.penalty_minor, interest)
    if split.prepayment_minor:
        assert (split.penalty_minor, split.interest_minor, split.principal_minor) == (
            penalty, interest, due,
        )  # fmt: skip


def test_allocation_refuses_more_than_owed_and_nothing() -> None:
    kwargs = {"penalty_due_minor": 1, "interest_due_minor": 2, "principal_due_minor": 3,
              "principal_not_due_minor": 4}  # fmt: skip
    assert allocate(10, **kwargs).prepayment_minor == 4
    with pytest.raises(ValueError, match="larger"):
        allocate(11, **kwargs)
    with pytest.raises(ValueError, match="positive"):
        allocate(0, **kwargs)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, Bucket.current), (1, Bucket.dpd_1_30), (30, Bucket.dpd_1_30), (31, Bucket.dpd_31_60),
        (60, Bucket.dpd_31_60), (61, Bucket.dpd_61_90), (90, Bucket.dpd_61_90),
        (91, Bucket.dpd_90_plus), (400, Bucket.dpd_90_plus),
    ],
)  # fmt: skip
def test_buckets(days: int, bucket: Bucket) -> None:
    assert bucket_of(days) is bucket


def test_daily_penalty_is_actual_365_half_even() -> None:
    # 100,000.00 at 18 % a year: 49.3150... a day -> 4,932 minor units
    assert daily_penalty_minor(10_000_000, Decimal("0.18")) == 4_932
    assert daily_penalty_minor(0, Decimal("0.18")) == 0
    # 0.5 rounds to even: 365 * 2 = 730 minor at 50 % -> 1.0 exactly; 365 at 50 % -> 0.5 -> 0
    assert daily_penalty_minor(365, Decimal("0.5")) == 0
    assert daily_penalty_minor(3 * 365, Decimal("0.5")) == 2
