"""Input and output models of training."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from branchdesk.identity.roles import Role
from branchdesk.training.models import CourseCategory

_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"


class CourseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE)
    category: CourseCategory
    title_zh_hant: str = Field(min_length=1, max_length=200)
    title_zh_hans: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    pass_mark: int = Field(ge=0, le=100)
    is_annual: bool = False


class CourseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    category: CourseCategory
    title_zh_hant: str
    title_zh_hans: str
    title_en: str
    pass_mark: int
    is_annual: bool


class AssignmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course_code: str = Field(min_length=1, max_length=32)
    role: Role
    due_on: date


class AssignmentRead(BaseModel):
    id: uuid.UUID
    course_code: str
    role: Role
    due_on: date


class CompletionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course_code: str = Field(min_length=1, max_length=32)
    username: str = Field(min_length=1, max_length=64)
    score: int = Field(ge=0, le=100)
    completed_at: datetime | None = None


class CompletionRead(BaseModel):
    id: uuid.UUID
    course_code: str
    username: str
    score: int
    is_passed: bool
    completed_at: datetime


class CertificationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE)
    name_zh_hant: str = Field(min_length=1, max_length=200)
    name_zh_hans: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    service_code: str | None = Field(default=None, max_length=32)
    validity_months: int = Field(ge=1, le=120)


class CertificationRead(BaseModel):
    id: uuid.UUID
    code: str
    name_en: str
    service_code: str | None
    validity_months: int


class StaffCertificationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    certification_code: str = Field(min_length=1, max_length=32)
    issued_on: date
    expires_on: date | None = None  # default: issued_on + the certification's validity


class StaffCertificationRead(BaseModel):
    id: uuid.UUID
    username: str
    certification_code: str
    issued_on: date
    expires_on: date


class OverdueRow(BaseModel):
    username: str
    display_name: str
    role: Role
    course_code: str
    due_on: date
    days_overdue: int


class AnnualRow(BaseModel):
    """One staff member and one annual compliance course assigned to their role."""

    username: str
    display_name: str
    role: Role
    course_code: str
    due_on: date
    last_passed_on: date | None
    status: str  # done, due, overdue
    days_overdue: int


class SkillCell(BaseModel):
    certification_code: str
    service_code: str | None
    expires_on: date | None
    is_valid: bool


class SkillRow(BaseModel):
    username: str
    display_name: str
    role: Role
    certifications: list[SkillCell]
    passed_courses: list[str]


class CounterServices(BaseModel):
    counter_code: str
    staffed_by: str | None
    counter_services: list[str]
    served_services: list[str]
    removed: list[str]
