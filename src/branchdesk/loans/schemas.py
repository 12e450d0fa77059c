"""Loan API schemas. Amounts are integer minor units with a currency; rates are Decimal strings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from branchdesk.loans.models import ProductKind, RateType
from branchdesk.loans.schedule import RepaymentMethod

Currency = Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")]
Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=12, decimal_places=8)]
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=120)]

CHECKING_CHOICES = ("no checking account", "below 0", "0 to 200", "200 or more")
SAVINGS_CHOICES = ("below 100", "100 to 500", "500 to 1000", "1000 or more", "unknown")
HOUSING_CHOICES = ("own", "rent", "for free")
PURPOSE_CHOICES = (
    "car (new)",
    "car (used)",
    "furniture",
    "radio/television",
    "education",
    "business",
    "repairs",
    "retraining",
)
DOCUMENT_CHOICES = (
    "id_document",
    "income_proof",
    "bank_statements",
    "property_valuation",
    "vehicle_quote",
    "business_registration",
    "financial_statements",
)


class DecisionRulesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve_score: int = Field(default=560, ge=0, le=2000)
    decline_score: int = Field(default=480, ge=0, le=2000)
    max_dsr: Rate = Decimal("0.50")
    refer_dsr: Rate = Decimal("0.40")
    min_age: int = Field(default=20, ge=16, le=100)
    max_age_at_maturity: int = Field(default=70, ge=18, le=120)


class LoanProductBody(BaseModel):
    """Create (every field) or update (the same fields; the code cannot change)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=32, pattern="^[A-Z0-9_-]+$")
    kind: ProductKind
    name_zh_hant: str = Field(min_length=1, max_length=120)
    name_zh_hans: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)
    currency: Currency
    min_amount_minor: StrictInt = Field(gt=0, lt=10**15)
    max_amount_minor: StrictInt = Field(gt=0, lt=10**15)
    min_term_months: int = Field(ge=1, le=480)
    max_term_months: int = Field(ge=1, le=480)
    rate_type: RateType
    fixed_rate: Rate = Decimal("0")
    reference_rate_name: str = Field(default="", max_length=40)
    reference_rate: Rate = Decimal("0")
    margin: Annotated[Decimal, Field(ge=-1, le=1, max_digits=12, decimal_places=8)] = Decimal("0")
    repayment_method: RepaymentMethod
    fee_flat_minor: StrictInt = Field(default=0, ge=0, lt=10**15)
    fee_bps: int = Field(default=0, ge=0, le=2000)
    grace_months: int = Field(default=0, ge=0, le=120)
    penalty_rate: Rate = Decimal("0")
    required_documents: list[Literal[DOCUMENT_CHOICES]] = Field(  # type: ignore[valid-type]  # a tuple of literals
        default_factory=lambda: ["id_document", "income_proof"], max_length=10
    )
    decision_rules: DecisionRulesBody = Field(default_factory=DecisionRulesBody)
    is_active: bool = True


class LoanProductRead(BaseModel):
    id: uuid.UUID
    code: str
    kind: ProductKind
    name_zh_hant: str
    name_zh_hans: str
    name_en: str
    currency: str
    min_amount_minor: int
    max_amount_minor: int
    min_term_months: int
    max_term_months: int
    rate_type: RateType
    fixed_rate: Decimal
    reference_rate_name: str
    reference_rate: Decimal
    margin: Decimal
    annual_rate: Decimal  # what a new loan pays now: fixed, or reference + margin
    repayment_method: RepaymentMethod
    fee_flat_minor: int
    fee_bps: int
    grace_months: int
    penalty_rate: Decimal
    required_documents: list[str]
    decision_rules: DecisionRulesBody
    is_active: bool


class LoanApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_number: str = Field(min_length=1, max_length=20)
    product_code: str = Field(min_length=1, max_length=32)
    amount_minor: StrictInt = Field(gt=0, lt=10**15)
    term_months: int = Field(ge=1, le=480)
    monthly_income_minor: StrictInt = Field(gt=0, lt=10**15)
    monthly_obligations_minor: StrictInt = Field(default=0, ge=0, lt=10**15)
    checking_account_status: Literal[CHECKING_CHOICES]  # type: ignore[valid-type]  # tuple
    savings_account: Literal[SAVINGS_CHOICES]  # type: ignore[valid-type]  # tuple
    housing: Literal[HOUSING_CHOICES]  # type: ignore[valid-type]  # tuple
    purpose: Literal[PURPOSE_CHOICES]  # type: ignore[valid-type]  # tuple
    employment_years: Decimal | None = Field(default=None, ge=0, le=70, decimal_places=1)
    residence_years: int = Field(default=1, ge=0, le=100)
    documents: list[Literal[DOCUMENT_CHOICES]] = Field(default_factory=list, max_length=10)  # type: ignore[valid-type]  # tuple
    has_consent: bool
    branch_code: str | None = Field(default=None, max_length=16)
    idempotency_key: IdempotencyKey

    @field_validator("has_consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the applicant's consent to the credit check is required")
        return value


class ScoreReason(BaseModel):
    feature: str
    value: str | None
    points_below_best: float
    text: str  # in English; pages show the translated words


class LoanApplicationRead(BaseModel):
    id: uuid.UUID
    reference: str
    branch_code: str
    customer_number: str
    customer_name: str
    product_code: str
    amount_minor: int
    currency: str
    term_months: int
    annual_rate: Decimal
    monthly_income_minor: int
    monthly_obligations_minor: int
    monthly_payment_minor: int
    dsr: Decimal
    documents: list[str]
    documents_missing: list[str]
    status: str
    outcome: str
    score: float
    probability_bad: float
    model_version: str
    score_reasons: list[ScoreReason]
    decision_reasons: list[str]
    decision_reason_texts: list[str]
    credit_limit_minor: int
    maker: str  # empty when the customer applied on the portal
    channel: str  # branch, portal
    approver: str | None
    decision_note: str
    loan_number: str | None
    created_at: datetime
    decided_at: datetime | None


class ApplicationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str = Field(default="", max_length=300)


class DisbursementBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str = Field(min_length=1, max_length=40, description="customer's account number")
    idempotency_key: IdempotencyKey


class RepaymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: StrictInt = Field(gt=0, lt=10**15)
    currency: Currency
    account: str | None = Field(default=None, max_length=40, description="default: the loan's")
    idempotency_key: IdempotencyKey


class InstalmentRead(BaseModel):
    number: int
    due_on: date
    principal_minor: int
    interest_minor: int
    payment_minor: int
    paid_principal_minor: int
    paid_interest_minor: int
    is_paid: bool


class RepaymentRead(BaseModel):
    posting_id: uuid.UUID
    amount_minor: int
    penalty_minor: int
    interest_minor: int
    principal_minor: int
    prepayment_minor: int
    paid_on: date


class LoanRead(BaseModel):
    id: uuid.UUID
    number: str
    application_reference: str
    branch_code: str
    customer_number: str
    product_code: str
    account_number: str
    currency: str
    principal_minor: int
    fee_minor: int
    annual_rate: Decimal
    penalty_rate: Decimal
    repayment_method: RepaymentMethod
    term_months: int
    disbursed_on: date
    status: str
    outstanding_principal_minor: int
    penalty_due_minor: int
    days_past_due: int
    bucket: str
    reference_rate_name: str = ""  # floating: re-priced to this reference + margin
    margin: Decimal = Decimal("0")
    interest_receivable_minor: int = 0  # accrued, not yet paid
    penalty_receivable_minor: int = 0  # penalty accrued to the ledger, not yet paid
    disbursement_posting_id: uuid.UUID
    instalments: list[InstalmentRead]
    repayments: list[RepaymentRead]
    restructurings: list[RestructuringRead] = Field(default_factory=list)


class DailyResult(BaseModel):
    as_of: date
    loans: int
    overdue: int
    penalty_accrued_minor: int
    days_accrued: int
    interest_accrued_minor: int = 0  # net interest recognised by this run (all loans)
    repriced: int = 0  # floating-rate loans moved to a new reference rate
    snapshots: int = 0  # DPD snapshots written for as_of


class PortfolioRow(BaseModel):
    product: str
    currency: str
    loans: int
    outstanding_by_bucket_minor: dict[str, int]
    total_minor: int


class EarlyWarningRead(BaseModel):
    loan_number: str
    product_code: str
    days_past_due: int
    bucket: str
    outstanding_minor: int
    currency: str
    signals: list[str]  # dpd_rising, missed_payment, balance_drop


class PortfolioRead(BaseModel):
    buckets: list[str]
    rows: list[PortfolioRow]
    warnings: list[EarlyWarningRead]


class RestructuringBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_term_months: int = Field(ge=1, le=480, description="months to spread the principal over")
    reason: str = Field(min_length=1, max_length=300)


class RestructuringRead(BaseModel):
    id: uuid.UUID
    loan_number: str
    new_term_months: int
    reason: str
    status: str
    requested_by: str
    decided_by: str | None
    decision_note: str
    created_at: datetime
    decided_at: datetime | None


LoanRead.model_rebuild()


class LoanAlertRead(BaseModel):
    id: uuid.UUID
    loan_number: str
    status: str
    score: int  # 0-100: bucket weight plus early-warning signals
    reasons: list[str]
    actions: list[dict[str, str]]
    opened_on: date
    closed_at: datetime | None


class AlertActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["call", "visit", "restructure"]
    outcome: str = Field(min_length=1, max_length=300)
    close: bool = False


# --- reference rates, collateral, declared debts --------------------------------------------------


class ReferenceRateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, description="as products name it: LPR 1Y")
    rate: Rate
    effective_on: date


class ReferenceRateRead(BaseModel):
    name: str
    effective_on: date
    rate: Decimal


class CollateralValuationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value_minor: StrictInt = Field(gt=0, lt=10**15)
    valued_on: date
    note: str = Field(default="", max_length=300)


class CollateralValuationRead(BaseModel):
    valued_on: date
    value_minor: int
    currency: str
    note: str
    recorded_by: str


class DeclaredDebtBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lender: str = Field(min_length=1, max_length=120)
    monthly_payment_minor: StrictInt = Field(ge=0, lt=10**15)
    balance_minor: StrictInt = Field(default=0, ge=0, lt=10**15)
    declared_on: date


class DeclaredDebtRead(BaseModel):
    lender: str
    monthly_payment_minor: int
    balance_minor: int
    currency: str
    declared_on: date


# --- portfolio history ----------------------------------------------------------------------------


class RollRateRead(BaseModel):
    from_month: str  # YYYY-MM: bucket at the end of this month ...
    to_month: str  # ... and at the end of the next
    counts: dict[str, dict[str, int]]  # from bucket -> to bucket -> loans
    rates: dict[str, dict[str, float | None]]  # the same as shares of each row


class VintageRead(BaseModel):
    cohort: str  # YYYY-MM of the pay-out
    loans: int
    principal_minor: int
    currency: str
    dpd30: list[float | None]  # cumulative share of principal ever 30+ DPD by months on book
    dpd90: list[float | None]


class ExposureRow(BaseModel):
    dimension: str  # product_kind, branch, segment
    segment: str
    currency: str
    loans: int
    outstanding_minor: int
    overdue_minor: int  # outstanding of loans past due


class PortfolioHistoryRead(BaseModel):
    roll_rates: list[RollRateRead]
    vintages: list[VintageRead]
    exposure: list[ExposureRow]


# --- the customer portal ------------------------------------------------------------------------


class PortalLoanApplication(BaseModel):
    """What a customer fills in on /my/loans (the branch is the customer's home branch)."""

    model_config = ConfigDict(extra="forbid")

    product_code: str = Field(min_length=1, max_length=32)
    amount_minor: StrictInt = Field(gt=0, lt=10**15)
    term_months: int = Field(ge=1, le=480)
    monthly_income_minor: StrictInt = Field(gt=0, lt=10**15)
    monthly_obligations_minor: StrictInt = Field(default=0, ge=0, lt=10**15)
    checking_account_status: Literal[CHECKING_CHOICES]  # type: ignore[valid-type]  # tuple
    savings_account: Literal[SAVINGS_CHOICES]  # type: ignore[valid-type]  # tuple
    housing: Literal[HOUSING_CHOICES]  # type: ignore[valid-type]  # tuple
    purpose: Literal[PURPOSE_CHOICES]  # type: ignore[valid-type]  # tuple
    employment_years: Decimal | None = Field(default=None, ge=0, le=70, decimal_places=1)
    residence_years: int = Field(default=1, ge=0, le=100)
    has_consent: bool
    idempotency_key: IdempotencyKey

    @field_validator("has_consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the applicant's consent to the credit check is required")
        return value


class PortalApplicationRead(BaseModel):
    reference: str
    product_code: str
    amount_minor: int
    currency: str
    term_months: int
    status: str
    score: float
    monthly_payment_minor: int
    created_at: datetime
