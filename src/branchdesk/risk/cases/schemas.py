"""Input and output models of AML alerts and cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from branchdesk.risk.cases.models import CaseStatus


class AlertRead(BaseModel):
    id: uuid.UUID
    typology: str
    account_number: str
    customer_id: uuid.UUID | None
    customer_number: str
    posting_ids: list[str]
    score_pct: int
    reason: str
    source: str
    is_report: bool
    case_id: uuid.UUID | None
    case_reference: str
    first_booked_at: datetime
    created_at: datetime


class CaseEventRead(BaseModel):
    occurred_at: datetime
    actor_label: str
    action: str
    from_status: str
    to_status: str
    note: str


class HeldPostingRead(BaseModel):
    id: uuid.UUID
    kind: str
    status: str
    amount_minor: int
    currency: str
    hold_reason: str
    created_at: datetime


class CaseRead(BaseModel):
    id: uuid.UUID
    reference: str
    status: CaseStatus
    customer_id: uuid.UUID
    customer_number: str
    customer_name: str
    assignee: str
    closing_reason: str
    alert_count: int
    created_at: datetime
    updated_at: datetime


class CaseDetail(CaseRead):
    alerts: list[AlertRead]
    timeline: list[CaseEventRead]
    held_postings: list[HeldPostingRead]
    allowed_transitions: list[CaseStatus]
    kyc_status: str = Field(description="valid, expiring, expired, unknown; empty: not rated yet")
    kyc_rating: str = Field(description="low, medium, high; empty: not rated yet")
    kyc_reasons: list[str]
    kyc_missing: list[str]


class SweepRead(BaseModel):
    held_postings_seen: int
    ledger_findings: int
    new_alerts: int
    cases_opened: int


class TransitionBody(BaseModel):
    to: CaseStatus
    note: str = Field(default="", max_length=1000)
    reason: str = Field(default="", max_length=500, description="Required to close without action")


class NoteBody(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class AssigneeBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)


class PostingDecisionBody(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=300)


_SLUG = r"^[a-z][a-z0-9_]{0,63}$"


class KycFactsUpdate(BaseModel):
    """The rating facts a compliance officer keeps on a customer's KYC profile."""

    model_config = ConfigDict(extra="forbid")

    occupation: str = Field(default="", pattern=r"^([a-z][a-z0-9_]{0,63})?$")
    nationality: str = Field(default="", pattern=r"^([A-Z]{2})?$")
    residence_country: str = Field(default="", pattern=r"^([A-Z]{2})?$")
    is_pep: bool = False
    products: list[Annotated[str, Field(pattern=_SLUG)]] = Field(default=[], max_length=20)
    channels: list[Annotated[str, Field(pattern=_SLUG)]] = Field(default=[], max_length=10)


class KycProfileRead(BaseModel):
    customer_id: uuid.UUID
    customer_number: str
    customer_name: str
    status: str
    rating: str
    rating_reasons: list[str]
    missing: list[str]
    occupation: str
    nationality: str
    residence_country: str
    is_pep: bool
    products: list[str]  # kept on the profile
    ledger_products: list[str]  # what the ledger shows
    channels: list[str]
    updated_at: datetime
