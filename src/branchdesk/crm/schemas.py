"""The customer 360 as plain values (for the API, the page and the console panel)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from branchdesk.care.schemas import EducationReadLine, RelationshipManagerRead
from branchdesk.loyalty.schemas import LoyaltySummary


class Profile(BaseModel):
    customer_number: str
    full_name: str
    latin_name: str
    id_document_type: str
    id_number_masked: str
    id_expires_on: date | None
    kyc_status: str  # valid, expiring (within 30 days), expired, unknown
    birth_on: date | None
    preferred_locale: str
    has_marketing_consent: bool
    home_branch_code: str | None
    service_tier: str
    customer_since: date


class AccountLine(BaseModel):
    number: str
    type: str
    currency: str
    status: str
    balance_minor: int


class TransactionLine(BaseModel):
    booked_at: datetime
    account_number: str
    kind: str
    amount_minor: int
    currency: str


class VisitLine(BaseModel):
    kind: str  # ticket or appointment
    reference: str
    on: date
    channel: str
    state: str


class SurveyLine(BaseModel):
    answered_at: datetime
    csat: int
    nps: int
    is_detractor: bool


class ComplaintLine(BaseModel):
    reference: str
    subject: str
    state: str
    received_at: datetime


class SegmentLine(BaseModel):
    kind: str
    segment: str
    label: str  # the segment in the request's language
    valid_from: date


class ReasonPartRead(BaseModel):
    """One reason code and its parameters (branchdesk.analytics.recommend.reasons)."""

    code: str
    parameters: dict[str, Any]


class RecommendationLine(BaseModel):
    rank: int
    product_code: str
    product_name: str  # in the request's language
    reason: str  # worded in the request's language
    reason_parts: list[ReasonPartRead]  # empty for rows stored before reason codes


class CareTaskLine(BaseModel):
    rule_code: str
    due_on: date
    status: str
    detail: str


class Analytics(BaseModel):
    as_of: date
    assets_minor: int
    base_currency: str
    recency_days: int | None
    frequency: int
    monetary_minor: int
    risk_tolerance: str
    is_risk_tolerance_default: bool


class Customer360(BaseModel):
    profile: Profile
    accounts: list[AccountLine]
    transactions: list[TransactionLine]
    visits: list[VisitLine]
    surveys: list[SurveyLine]
    complaints: list[ComplaintLine]
    segments: list[SegmentLine]
    loyalty_tier: str | None
    loyalty_points: int
    loyalty: LoyaltySummary
    analytics: Analytics | None
    recommendations: list[RecommendationLine]
    care_tasks: list[CareTaskLine]
    # care: who looks after the customer, and what they read of the education library
    relationship_manager: RelationshipManagerRead | None = None
    education_reads: list[EducationReadLine] = []


class CareTaskRead(BaseModel):
    id: uuid.UUID
    customer_number: str
    customer_name: str
    rule_code: str
    due_on: date
    status: str
    detail: str
    branch_code: str | None
