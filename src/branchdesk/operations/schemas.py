"""Input and output models of operations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from branchdesk.operations.models import IncidentStatus, LossKind, Scenario


class OfflineBlockCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(min_length=1, max_length=32)
    size: int = Field(default=50, ge=1, le=500)
    business_on: date | None = None  # default: the branch's business day today


class OfflineBlockRead(BaseModel):
    id: uuid.UUID
    service_code: str
    business_on: date
    first_number: str
    last_number: str
    absorbed_count: int


class PaperTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=12)
    issued_at: datetime


class AbsorbBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: list[PaperTicket] = Field(min_length=1, max_length=500)


class AbsorbedTicket(BaseModel):
    number: str
    ticket_id: uuid.UUID
    issued_at: datetime
    position: int  # 1-based arrival order within this upload


class AbsorbResult(BaseModel):
    block_id: uuid.UUID
    absorbed: list[AbsorbedTicket]


class PlanStep(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    zh_hant: str = Field(alias="zh-Hant", min_length=1, max_length=500)
    zh_hans: str = Field(alias="zh-Hans", min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


class PlanPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_zh_hant: str = Field(min_length=1, max_length=200)
    title_zh_hans: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    steps: list[PlanStep] = Field(min_length=1, max_length=50)


class PlanRead(BaseModel):
    scenario: Scenario
    title_zh_hant: str
    title_zh_hans: str
    title_en: str
    version: int
    steps: list[dict[str, str]]


class IncidentOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: Scenario
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=4000)


class IncidentStepRead(BaseModel):
    position: int
    text_zh_hant: str
    text_zh_hans: str
    text_en: str
    ticked_by: str | None
    ticked_at: datetime | None


class IncidentRead(BaseModel):
    id: uuid.UUID
    branch_code: str
    scenario: Scenario
    title: str
    description: str
    status: IncidentStatus
    plan_version: int | None
    opened_by: str | None
    opened_at: datetime
    closed_at: datetime | None
    closing_note: str
    steps: list[IncidentStepRead]


class IncidentClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=4000)


class LossEventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: LossKind
    category: str = Field(min_length=1, max_length=64)
    amount_minor: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    root_cause: str = Field(min_length=1, max_length=4000)
    occurred_on: date
    incident_id: uuid.UUID | None = None


class LossEventRead(BaseModel):
    id: uuid.UUID
    branch_code: str
    kind: LossKind
    category: str
    amount_minor: int
    currency: str
    root_cause: str
    occurred_on: date
    incident_id: uuid.UUID | None


class CsaQuestionnaireCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
    title_zh_hant: str = Field(min_length=1, max_length=200)
    title_zh_hans: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    questions: list[PlanStep] = Field(min_length=1, max_length=100)


class CsaQuestionnaireRead(BaseModel):
    id: uuid.UUID
    code: str
    title_en: str
    title_zh_hant: str
    title_zh_hans: str
    questions: list[dict[str, str]]


class CsaAnswer(StrEnum):
    yes = "yes"
    partial = "partial"
    no = "no"


class CsaResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questionnaire_code: str = Field(min_length=1, max_length=32)
    period: str = Field(pattern=r"^\d{4}-(Q[1-4]|0[1-9]|1[0-2])$")
    answers: list[CsaAnswer] = Field(min_length=1, max_length=100)
    comment: str = Field(default="", max_length=4000)


class CsaResponseRead(BaseModel):
    id: uuid.UUID
    questionnaire_code: str
    branch_code: str
    period: str
    answers: list[CsaAnswer]
    score: int
    submitted_at: datetime
    comment: str = ""
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str = ""
