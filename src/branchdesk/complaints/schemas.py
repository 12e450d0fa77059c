"""Complaint API input and output models."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

StaffChannel = Literal["counter", "phone", "email", "web", "chat"]
SeverityName = Literal["low", "normal", "high", "critical"]
ActionName = Literal["acknowledge", "start", "wait", "resume", "resolve", "close", "reopen"]


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: StaffChannel = "counter"
    branch_code: str = Field(min_length=1, max_length=16)
    subject: str = Field(default="", max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    severity: SeverityName = "normal"
    category: str | None = Field(default=None, max_length=40)
    customer_number: str | None = Field(default=None, max_length=20)
    related_ticket_id: uuid.UUID | None = None
    related_posting_id: uuid.UUID | None = None
    contact_name: str = Field(default="", max_length=120)
    contact_email: str = Field(default="", max_length=254)
    contact_phone: str = Field(default="", max_length=32)
    locale: Literal["zh-Hant", "zh-Hans", "en"] = "zh-Hant"


class CaseRead(BaseModel):
    reference: str
    channel: str
    subject: str
    body: str
    category: str | None
    severity: str
    is_complex: bool
    state: str
    branch_id: uuid.UUID
    customer_id: uuid.UUID | None
    related_ticket_id: uuid.UUID | None
    related_posting_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    contact_name: str
    jurisdiction: str
    policy_code: str
    policy_version: int
    received_at: datetime
    acknowledged_at: datetime | None
    first_reply_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    acknowledge_due_at: datetime | None
    interim_due_at: datetime | None
    final_due_at: datetime | None
    extended_final_days: int | None
    root_cause: str
    resolution: str
    predicted_category: str | None
    predicted_category_confidence: float | None
    predicted_sentiment: str | None
    predicted_sentiment_confidence: float | None
    detected_language: str | None
    is_overdue: bool
    allowed_actions: list[str]


class TimelineRead(BaseModel):
    occurred_at: datetime
    kind: str
    actor_label: str
    body: str
    data: dict[str, Any]


class ExtensionRead(BaseModel):
    id: uuid.UUID
    total_days: int
    reason: str
    status: str
    requested_at: datetime
    decided_at: datetime | None
    customer_notified_at: datetime | None


class CaseDetail(BaseModel):
    case: CaseRead
    timeline: list[TimelineRead]
    extensions: list[ExtensionRead]


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: ActionName
    note: str = Field(default="", max_length=2000)
    root_cause: str = Field(default="", max_length=2000)
    resolution: str = Field(default="", max_length=2000)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: uuid.UUID


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["reply", "note"] = "reply"
    text: str = Field(min_length=1, max_length=10_000)


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=40)


class ComplexityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_complex: bool
    reason: str = Field(min_length=1, max_length=500)


class ExtensionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total_days: int = Field(ge=1, le=366)
    reason: str = Field(min_length=1, max_length=1000)


class ExtensionDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool


class ImprovementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=64, description="The owner's username.")
    due_on: date
    kpi: str = Field(min_length=1, max_length=120)
    case_reference: str | None = Field(default=None, max_length=20)
    topic: str = Field(default="", max_length=120)
    baseline_value: float | None = None


class ImprovementUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "in_progress", "done", "cancelled"] | None = None
    measured_value: float | None = None


class ImprovementRead(BaseModel):
    id: uuid.UUID
    case_reference: str
    topic: str
    title: str
    owner: str
    due_on: date
    kpi: str
    baseline_value: float | None
    measured_value: float | None
    effect: float | None
    status: str


class IntakeRead(BaseModel):
    accepted: int
    ignored: int
    references: list[str]


class EmailHookIn(BaseModel):
    message_id: str = Field(min_length=1, max_length=998)
    from_address: str = Field(min_length=3, max_length=254)
    from_name: str = Field(default="", max_length=120)
    subject: str = Field(default="", max_length=998)
    text: str = Field(default="", max_length=100_000)
    branch_code: str = Field(default="", max_length=16)


class EmailHookRead(BaseModel):
    reference: str
    is_new_case: bool


class TargetRead(BaseModel):
    days: int
    unit: str


class PolicyRuleRead(BaseModel):
    channel: str
    severity: str
    acknowledge: TargetRead
    interim: TargetRead
    final: TargetRead
    complex_final_days: int
    max_final_days: int


class PolicyRead(BaseModel):
    jurisdiction: str
    code: str
    version: int
    name: str
    warn_lead_hours: int
    rules: list[PolicyRuleRead]


class JurisdictionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jurisdiction: str = Field(min_length=2, max_length=8)


class JurisdictionRead(BaseModel):
    branch_code: str
    jurisdiction: str
    policy_code: str
