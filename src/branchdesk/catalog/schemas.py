"""Input and output shapes for branches, counters and the service catalog."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from branchdesk.catalog.models import CounterStatus

CODE = r"^[A-Z0-9][A-Z0-9_-]{0,15}$"
SERVICE_CODE = r"^[A-Z0-9][A-Z0-9_-]{0,31}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class OpeningHoursIn(_In):
    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    opens_at: time
    closes_at: time

    @model_validator(mode="after")
    def _order(self) -> OpeningHoursIn:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class BranchCreate(_In):
    code: str = Field(pattern=CODE)
    name_zh_hant: str = Field(min_length=1, max_length=120)
    name_zh_hans: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)
    address: str = Field(default="", max_length=300)
    region: str = Field(default="", max_length=60)
    timezone: str = "Asia/Taipei"
    phone: str = Field(default="", max_length=40)
    opening_hours: list[OpeningHoursIn] = Field(default_factory=list, max_length=7)

    _tz = field_validator("timezone")(_check_timezone)


class BranchUpdate(_In):
    name_zh_hant: str | None = Field(default=None, min_length=1, max_length=120)
    name_zh_hans: str | None = Field(default=None, min_length=1, max_length=120)
    name_en: str | None = Field(default=None, min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=60)
    timezone: str | None = None
    phone: str | None = Field(default=None, max_length=40)
    is_active: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)


class OpeningHoursRead(BaseModel):
    weekday: int
    opens_at: time
    closes_at: time


class HolidayIn(_In):
    on: date
    name: str = Field(min_length=1, max_length=120)


class HolidayRead(BaseModel):
    id: uuid.UUID
    on: date
    name: str


class BranchRead(BaseModel):
    id: uuid.UUID
    code: str
    name_zh_hant: str
    name_zh_hans: str
    name_en: str
    address: str
    region: str
    timezone: str
    phone: str
    is_active: bool
    opening_hours: list[OpeningHoursRead]
    updated_at: datetime


class CounterCreate(_In):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=80)
    is_vip: bool = False
    service_codes: list[str] = Field(default_factory=list, max_length=100)


class CounterUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    is_vip: bool | None = None
    service_codes: list[str] | None = Field(default=None, max_length=100)
    status: CounterStatus | None = None


class CounterRead(BaseModel):
    id: uuid.UUID
    branch_code: str
    code: str
    name: str
    status: CounterStatus
    is_vip: bool
    service_codes: list[str]


class ServiceTypeCreate(_In):
    code: str = Field(pattern=SERVICE_CODE)
    name_zh_hant: str = Field(min_length=1, max_length=120)
    name_zh_hans: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)
    ticket_prefix: str = Field(pattern=r"^[A-Z]{1,2}$")
    standard_handling_minutes: int = Field(ge=1, le=480)
    target_max_wait_minutes: int = Field(ge=1, le=480)
    required_documents: list[str] = Field(default_factory=list, max_length=30)
    script: str = Field(default="", max_length=20000)


class ServiceTypeUpdate(_In):
    name_zh_hant: str | None = Field(default=None, min_length=1, max_length=120)
    name_zh_hans: str | None = Field(default=None, min_length=1, max_length=120)
    name_en: str | None = Field(default=None, min_length=1, max_length=120)
    standard_handling_minutes: int | None = Field(default=None, ge=1, le=480)
    target_max_wait_minutes: int | None = Field(default=None, ge=1, le=480)
    required_documents: list[str] | None = Field(default=None, max_length=30)
    script: str | None = Field(default=None, max_length=20000)
    is_active: bool | None = None
    change_note: str = Field(default="", max_length=300)


class ServiceTypeRead(BaseModel):
    id: uuid.UUID
    code: str
    name_zh_hant: str
    name_zh_hans: str
    name_en: str
    ticket_prefix: str
    standard_handling_minutes: int
    target_max_wait_minutes: int
    required_documents: list[str]
    script: str
    current_version: int
    is_active: bool
    updated_at: datetime


class StandardVersionRead(BaseModel):
    version: int
    standard_handling_minutes: int
    target_max_wait_minutes: int
    required_documents: list[str]
    script: str
    change_note: str
    changed_by: str
    changed_at: datetime


class BranchServiceIn(_In):
    is_enabled: bool = True
    target_max_wait_minutes: int | None = Field(default=None, ge=1, le=480)


class BranchServiceRead(BaseModel):
    service_code: str
    name_zh_hant: str
    name_zh_hans: str
    name_en: str
    ticket_prefix: str
    is_enabled: bool
    target_max_wait_minutes: int
    has_local_target: bool
