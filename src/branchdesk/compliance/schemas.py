"""Input and output models of compliance checks."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from branchdesk.compliance.models import (
    DisciplinaryOutcome,
    ItemResult,
    RunStatus,
    Schedule,
    Severity,
    ViolationStatus,
)


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=500)
    is_evidence_required: bool = False


class ChecklistCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
    title_zh_hant: str = Field(min_length=1, max_length=200)
    title_zh_hans: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    schedule: Schedule
    items: list[ItemCreate] = Field(min_length=1, max_length=100)


class ItemRead(BaseModel):
    id: uuid.UUID
    position: int
    text: str
    is_evidence_required: bool


class ChecklistRead(BaseModel):
    id: uuid.UUID
    code: str
    title_en: str
    title_zh_hant: str
    title_zh_hans: str
    schedule: Schedule
    items: list[ItemRead]


class RunStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checklist_code: str = Field(min_length=1, max_length=32)


class ResultInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=1)
    result: ItemResult
    evidence_note: str = Field(default="", max_length=2000)
    attachment_name: str = Field(default="", max_length=200)


class ResultsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[ResultInput] = Field(min_length=1, max_length=100)


class ResultRead(BaseModel):
    position: int
    text: str
    is_evidence_required: bool
    result: ItemResult | None
    evidence_note: str
    attachment_name: str


class RunRead(BaseModel):
    id: uuid.UUID
    checklist_code: str
    branch_code: str
    period: str
    status: RunStatus
    started_at: datetime
    submitted_at: datetime | None
    results: list[ResultRead]
    violation_ids: list[uuid.UUID]


class ViolationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch_code: str = Field(min_length=1, max_length=16)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=4000)
    severity: Severity
    owner_username: str | None = Field(default=None, max_length=64)
    remediation_due_on: date | None = None


class ViolationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: Severity | None = None
    owner_username: str | None = Field(default=None, max_length=64)
    remediation_due_on: date | None = None
    status: ViolationStatus | None = None
    disciplinary_outcome: DisciplinaryOutcome | None = None
    note: str = Field(default="", max_length=2000)


class ViolationRead(BaseModel):
    id: uuid.UUID
    branch_code: str
    title: str
    description: str
    severity: Severity
    owner: str | None
    remediation_due_on: date | None
    status: ViolationStatus
    disciplinary_outcome: DisciplinaryOutcome
    found_on: date
    run_id: uuid.UUID | None
    is_overdue: bool


class TrendRow(BaseModel):
    branch_code: str
    severity: Severity
    month: str
    count: int


class TrendMonth(BaseModel):
    """One month of the trend report: violations found per severity, the total and the change
    against the month before."""

    month: str
    by_severity: dict[str, int]
    total: int
    change: int


class TrendReport(BaseModel):
    months: list[TrendMonth]
    by_branch: dict[str, int]  # violations found in the report's months
    severities: list[str]
    peak: int  # the largest monthly total (for the bars)
