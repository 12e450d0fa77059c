"""Care inputs and outputs as plain values (for the API, the pages and the customer 360)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field, field_validator

from branchdesk.care.models import EducationKind
from branchdesk.care.rules import OUTCOMES


class ManagerAssign(BaseModel):
    """``username`` of the new relationship manager; null removes the assignment."""

    username: str | None = Field(default=None, max_length=64)


class RelationshipManagerRead(BaseModel):
    username: str
    display_name: str


class AssessmentCreate(BaseModel):
    risk_tolerance: str = Field(pattern=r"^C[1-5]$")
    note: str = Field(default="", max_length=300)


class AssessmentRead(BaseModel):
    risk_tolerance: str
    assessed_at: datetime
    expires_on: date
    is_expired: bool
    assessed_by: str | None


class TaskDone(BaseModel):
    outcome: str
    note: str = Field(default="", max_length=300)

    @field_validator("outcome")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        return value


class WorklistTask(BaseModel):
    id: uuid.UUID
    customer_number: str
    customer_name: str
    rule_code: str
    due_on: date
    status: str
    detail: str
    branch_code: str | None
    assignee: str | None  # username of the relationship manager who has it
    is_overdue: bool
    outcome: str
    outcome_note: str


class SegmentCount(BaseModel):
    kind: str
    segment: str
    customers: int


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    branch_code: str = Field(min_length=1, max_length=16)
    segment_kind: str = Field(min_length=1, max_length=16)
    segment: str = Field(min_length=1, max_length=40)
    text_zh_hant: str = Field(min_length=1, max_length=500)
    text_zh_hans: str = Field(min_length=1, max_length=500)
    text_en: str = Field(min_length=1, max_length=500)
    scheduled_at: datetime

    @field_validator("scheduled_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("give a time zone (e.g. 2026-12-01T09:00:00+08:00)")
        return value


class CampaignDecision(BaseModel):
    note: str = Field(default="", max_length=300)


class CampaignRead(BaseModel):
    id: uuid.UUID
    name: str
    branch_code: str
    segment_kind: str
    segment: str
    text_zh_hant: str
    text_zh_hans: str
    text_en: str
    scheduled_at: datetime
    status: str
    created_by: str
    decided_by: str | None
    decision_note: str
    sent_at: datetime | None
    # recipients by outcome once sent: sent, no_consent, opted_out, no_contact
    results: dict[str, int]
    targeted: int


class EducationCreate(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
    kind: EducationKind
    title_zh_hant: str = Field(min_length=1, max_length=160)
    title_zh_hans: str = Field(min_length=1, max_length=160)
    title_en: str = Field(min_length=1, max_length=160)
    body_zh_hant: str = Field(min_length=1, max_length=20_000)
    body_zh_hans: str = Field(min_length=1, max_length=20_000)
    body_en: str = Field(min_length=1, max_length=20_000)
    segment_kind: str | None = Field(default=None, max_length=16)
    segment: str | None = Field(default=None, max_length=40)


class EducationView(BaseModel):
    """An item in one language (what a customer or the kiosk sees)."""

    slug: str
    kind: str
    title: str
    body: str


class EducationLine(BaseModel):
    """An item for staff: titles, targeting and how often it was read."""

    id: uuid.UUID
    slug: str
    kind: str
    title_en: str
    title_zh_hant: str
    title_zh_hans: str
    segment_kind: str | None
    segment: str | None
    is_published: bool
    portal_reads: int
    kiosk_reads: int
    readers: int  # distinct customers


class EducationReadLine(BaseModel):
    """One education read of a customer (customer 360)."""

    slug: str
    title: str
    channel: str
    read_at: datetime


class GreetingSummary(BaseModel):
    on: date
    occasions: dict[str, int]  # occasion -> customers considered today
    sent: int
    opted_out: int
    no_contact: int
