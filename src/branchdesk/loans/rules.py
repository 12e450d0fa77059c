"""Pure loan rules without a session: decisions, credit limits, allocation, days past due, penalty.

Decision rules are data (``DecisionRules``, stored per product as JSON) and ``decide`` applies them
in a fixed order: policy exclusions decline, then the debt-service ratio, then the score cut-offs,
then the reasons to refer (documents missing, amount above the limit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from enum import StrEnum

from branchdesk.loans.schedule import annuity_payment_minor, round_minor


class Outcome(StrEnum):
    approve = "approve"
    refer = "refer"
    decline = "decline"


# Reason codes of a decision; the words (in three languages) are in the loans catalogs.
REASON_TEXT: dict[str, str] = {
    "too_young": "The applicant is younger than the product allows",
    "too_old_at_maturity": "The applicant would be older than the product allows at maturity",
    "kyc_expired": "The applicant's identity document has expired",
    "no_birth_date": "The applicant's date of birth is not on file",
    "dsr_above_limit": "Debt payments would be too high for the income",
    "dsr_near_limit": "Debt payments would be close to the limit for the income",
    "score_below_decline": "The credit score is below the decline cut-off",
    "score_in_refer_band": "The credit score is between the cut-offs",
    "documents_missing": "Required documents are missing",
    "amount_above_limit": "The amount asked for is above the credit limit",
    "score_and_affordability_pass": "Score and affordability pass every rule",
}


@dataclass(frozen=True)
class DecisionRules:
    approve_score: int = 560  # at or above: approve (if nothing else refers)
    decline_score: int = 480  # below: decline; in between: refer
    max_dsr: Decimal = Decimal("0.50")  # (obligations + new payment) / income
    refer_dsr: Decimal = Decimal("0.40")  # above this (up to max_dsr): refer
    min_age: int = 20
    max_age_at_maturity: int = 70

    def to_json(self) -> dict[str, object]:
        return {
            "approve_score": self.approve_score,
            "decline_score": self.decline_score,
            "max_dsr": str(self.max_dsr),
            "refer_dsr": str(self.refer_dsr),
            "min_age": self.min_age,
            "max_age_at_maturity": self.max_age_at_maturity,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> DecisionRules:
        default = cls()
        return cls(
            approve_score=int(str(data.get("approve_score", default.approve_score))),
            decline_score=int(str(data.get("decline_score", default.decline_score))),
            max_dsr=Decimal(str(data.get("max_dsr", default.max_dsr))),
            refer_dsr=Decimal(str(data.get("refer_dsr", default.refer_dsr))),
            min_age=int(str(data.get("min_age", default.min_age))),
            max_age_at_maturity=int(
                str(data.get("max_age_at_maturity", default.max_age_at_maturity))
            ),
        )


@dataclass(frozen=True)
class Applicant:
    """What the rules look at, already computed from the application."""

    score: float
    age_years: int | None
    term_months: int
    is_kyc_valid: bool
    monthly_income_minor: int
    monthly_obligations_minor: int
    monthly_payment_minor: int
    amount_minor: int
    credit_limit_minor: int
    documents_missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[str, ...]
    dsr: Decimal
    credit_limit_minor: int
    documents_missing: tuple[str, ...] = field(default=())


def debt_service_ratio(*, income_minor: int, obligations_minor: int, payment_minor: int) -> Decimal:
    """(obligations + new payment) / income, 4 places half-even; income 0 counts as 99.9999."""
    if income_minor <= 0:
        return Decimal("99.9999")
    with localcontext() as ctx:
        ctx.prec = 30
        ratio = Decimal(obligations_minor + payment_minor) / Decimal(income_minor)
    return ratio.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def credit_limit_minor(
    *,
    income_minor: int,
    obligations_minor: int,
    annual_rate: Decimal,
    term_months: int,
    max_dsr: Decimal,
    product_max_minor: int,
) -> int:
    """The largest principal whose equal instalment keeps the DSR within ``max_dsr``.

    Capped at the product's maximum; 0 when the obligations already use up the allowance.
    Found by bisection on the (monotonic) instalment, so it agrees with ``annuity_payment_minor``.
    """
    with localcontext() as ctx:
        ctx.prec = 30
        allowance = round_minor(Decimal(income_minor) * max_dsr) - obligations_minor
    if allowance <= 0 or term_months <= 0:
        return 0
    low, high = 0, product_max_minor
    while low < high:
        mid = (low + high + 1) // 2
        if annuity_payment_minor(mid, annual_rate, term_months) <= allowance:
            low = mid
        else:
            high = mid - 1
    return low


def age_on(birth_on: date, on: date) -> int:
    return on.year - birth_on.year - ((on.month, on.day) < (birth_on.month, birth_on.day))


def decide(applicant: Applicant, rules: DecisionRules) -> Decision:
    """Apply the rules in order; the reasons name every rule that fired."""
    dsr = debt_service_ratio(
        income_minor=applicant.monthly_income_minor,
        obligations_minor=applicant.monthly_obligations_minor,
        payment_minor=applicant.monthly_payment_minor,
    )
    limit = applicant.credit_limit_minor
    missing = applicant.documents_missing
    declines: list[str] = []
    if applicant.age_years is None:
        declines.append("no_birth_date")
    else:
        if applicant.age_years < rules.min_age:
            declines.append("too_young")
        if applicant.age_years + (applicant.term_months + 11) // 12 > rules.max_age_at_maturity:
            declines.append("too_old_at_maturity")
    if not applicant.is_kyc_valid:
        declines.append("kyc_expired")
    if dsr > rules.max_dsr:
        declines.append("dsr_above_limit")
    if applicant.score < rules.decline_score:
        declines.append("score_below_decline")
    if declines:
        return Decision(Outcome.decline, tuple(declines), dsr, 0, missing)
    refers: list[str] = []
    if applicant.score < rules.approve_score:
        refers.append("score_in_refer_band")
    if dsr > rules.refer_dsr:
        refers.append("dsr_near_limit")
    if missing:
        refers.append("documents_missing")
    if applicant.amount_minor > limit:
        refers.append("amount_above_limit")
    if refers:
        return Decision(Outcome.refer, tuple(refers), dsr, limit, missing)
    return Decision(Outcome.approve, ("score_and_affordability_pass",), dsr, limit, missing)


# --- servicing ----------------------------------------------------------------------------------


class Bucket(StrEnum):
    current = "current"
    dpd_1_30 = "1-30"
    dpd_31_60 = "31-60"
    dpd_61_90 = "61-90"
    dpd_90_plus = "90+"


BUCKETS: tuple[Bucket, ...] = tuple(Bucket)


def bucket_of(days_past_due: int) -> Bucket:
    if days_past_due <= 0:
        return Bucket.current
    if days_past_due <= 30:
        return Bucket.dpd_1_30
    if days_past_due <= 60:
        return Bucket.dpd_31_60
    if days_past_due <= 90:
        return Bucket.dpd_61_90
    return Bucket.dpd_90_plus


@dataclass(frozen=True, slots=True)
class Allocation:
    penalty_minor: int
    interest_minor: int
    principal_minor: int  # of instalments already due
    prepayment_minor: int  # principal not yet due, paid early

    @property
    def total_minor(self) -> int:
        return (
            self.penalty_minor + self.interest_minor + self.principal_minor + self.prepayment_minor
        )


def allocate(
    amount_minor: int,
    *,
    penalty_due_minor: int,
    interest_due_minor: int,
    principal_due_minor: int,
    principal_not_due_minor: int,
) -> Allocation:
    """Penalty first, then interest due, then principal due, then principal not yet due.

    Raises ValueError when the amount is not positive or larger than everything owed.
    """
    owed = penalty_due_minor + interest_due_minor + principal_due_minor + principal_not_due_minor
    if amount_minor <= 0:
        raise ValueError("the amount must be positive")
    if amount_minor > owed:
        raise ValueError("the amount is larger than everything owed")
    rest = amount_minor
    parts = []
    for due in (penalty_due_minor, interest_due_minor, principal_due_minor):
        part = min(rest, due)
        parts.append(part)
        rest -= part
    return Allocation(parts[0], parts[1], parts[2], rest)


def daily_penalty_minor(overdue_minor: int, penalty_rate: Decimal) -> int:
    """One day's penalty interest on the overdue amount: actual/365, half-even."""
    if overdue_minor <= 0:
        return 0
    with localcontext() as ctx:
        ctx.prec = 40
        return round_minor(Decimal(overdue_minor) * penalty_rate / Decimal(365))


# --- watch list ---------------------------------------------------------------------------------

BUCKET_WEIGHT = {
    Bucket.current: 0,
    Bucket.dpd_1_30: 20,
    Bucket.dpd_31_60: 40,
    Bucket.dpd_61_90: 60,
    Bucket.dpd_90_plus: 80,
}
# Early-warning signals (see service/signals.py for how each is found) and their weights.
SIGNAL_WEIGHT = {
    "dpd_rising": 10,  # days past due above a week ago
    "missed_payment": 10,  # an instalment past due with nothing paid
    "balance_drop": 20,  # balance collapse: under half of the balance 30 days before
    "salary_stopped": 20,  # regular income credits seen before, none in the last 35 days
    "new_debt_elsewhere": 15,  # a debt at another lender declared after the pay-out
    "many_applications": 15,  # several loan applications by the borrower within 30 days
    "collateral_drop": 20,  # the latest collateral value under 80 % of the first one
}
WATCH_THRESHOLD = 30  # a score at or above this puts the loan on the watch list


def watch_score(bucket: Bucket, signals: list[str]) -> int:
    """0-100: the delinquency bucket's weight plus the weight of each early-warning signal."""
    return min(100, BUCKET_WEIGHT[bucket] + sum(SIGNAL_WEIGHT.get(s, 0) for s in set(signals)))


def watch_reasons(bucket: Bucket, signals: list[str]) -> list[str]:
    """The reasons shown with an alert: the bucket (when overdue), then each signal."""
    return [f"bucket:{bucket}", *signals] if bucket != Bucket.current else list(signals)


# --- interest accrual ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccrualPeriod:
    """One instalment's interest and the days it accrues over: (starts_on, due_on]."""

    starts_on: date
    due_on: date
    interest_minor: int


def accrued_interest_minor(periods: list[AccrualPeriod], on: date) -> int:
    """Interest earned up to the end of ``on``: each period's interest spread evenly over its days.

    A period accrues ``interest * days_elapsed / days_in_period`` rounded ``ROUND_HALF_EVEN`` per
    period; once the due date is reached the whole interest has accrued, so daily accruals of a
    period sum exactly to the instalment's interest (no rounding drift against the schedule).
    """
    total = 0
    for period in periods:
        if on >= period.due_on:
            total += period.interest_minor
            continue
        if on <= period.starts_on:
            continue
        days = (period.due_on - period.starts_on).days
        elapsed = (on - period.starts_on).days
        with localcontext() as ctx:
            ctx.prec = 40
            total += round_minor(Decimal(period.interest_minor) * elapsed / Decimal(days))
    return total


# --- portfolio history --------------------------------------------------------------------------


def roll_rates(start: dict[object, str], end: dict[object, str]) -> dict[str, dict[str, int]]:
    """Bucket-to-bucket transition counts of the loans seen at both month ends.

    ``start`` and ``end`` map a loan to its bucket at the two dates; rows are the starting bucket,
    columns the ending one (every bucket present, zeros included)."""
    matrix = {str(a): {str(b): 0 for b in BUCKETS} for a in BUCKETS}
    for loan, before in start.items():
        after = end.get(loan)
        if after is not None:
            matrix[before][after] += 1
    return matrix


def months_on_book(disbursed_on: date, on: date) -> int:
    """Whole months from the pay-out to ``on`` (0 in the first month)."""
    months = (on.year - disbursed_on.year) * 12 + on.month - disbursed_on.month
    return max(0, months - (on.day < disbursed_on.day))


def vintage_curve(
    loans: list[tuple[int, list[tuple[int, int]]]], *, threshold: int, max_mob: int
) -> list[float | None]:
    """Cumulative share of a cohort's principal that has been ``threshold``+ days past due by each
    month on book (0..max_mob).

    ``loans``: (principal, [(months_on_book, days_past_due), ...]) per loan of the cohort. A month
    is ``None`` when no loan of the cohort has been observed that long."""
    total = sum(principal for principal, _ in loans)
    observed = max((mob for _, seen in loans for mob, _ in seen), default=-1)
    first_bad: list[tuple[int, int]] = []
    for principal, seen in loans:
        hits = [mob for mob, dpd in seen if dpd >= threshold]
        if hits:
            first_bad.append((min(hits), principal))
    curve: list[float | None] = []
    for mob in range(max_mob + 1):
        if mob > observed or total == 0:
            curve.append(None)
            continue
        bad = sum(principal for first, principal in first_bad if first <= mob)
        curve.append(round(bad / total, 4))
    return curve
