"""Input and output shapes of the appointments API and pages."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from branchdesk.appointments.models import AppointmentState, BookingChannel

PHONE_PATTERN = r"^[0-9+\- ()]*$"


class SlotRead(BaseModel):
    id: uuid.UUID
    branch_code: str
    service_code: str
    starts_at: datetime
    ends_at: datetime
    local_start: str
    local_end: str
    capacity: int
    booked_count: int
    available: int


class SlotGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_on: date
    days: int = Field(default=7, ge=1, le=92)
    minutes: int = Field(default=30, ge=5, le=240)
    capacity: int = Field(default=1, ge=1, le=100)
    service_codes: list[str] = Field(default_factory=list)


class AppointmentCreate(BaseModel):
    """A booking: a known customer, or a name with a phone number or e-mail address."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slot_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    contact_name: str = Field(default="", max_length=120)
    contact_phone: str = Field(default="", max_length=32, pattern=PHONE_PATTERN)
    contact_email: str = Field(default="", max_length=254, pattern=r"^([^@\s]+@[^@\s]+)?$")
    locale: str | None = Field(default=None, pattern=r"^(zh-Hant|zh-Hans|en)$")
    note: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _someone_to_expect(self) -> AppointmentCreate:
        if self.customer_id is None and not self.contact_name:
            raise ValueError("give a customer or a contact name")
        if self.customer_id is None and not (self.contact_phone or self.contact_email):
            raise ValueError("give a phone number or an e-mail address")
        return self


class AppointmentReschedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID


class AppointmentCancel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=200)


class AppointmentRead(BaseModel):
    id: uuid.UUID
    reference: str
    branch_code: str
    service_code: str
    slot_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    local_start: str
    business_on: date
    customer_id: uuid.UUID | None
    contact_name: str
    has_phone: bool
    channel: BookingChannel
    state: AppointmentState
    is_late: bool
    ticket_number: str | None
    booked_at: datetime
    checked_in_at: datetime | None
    rescheduled_count: int


class CheckInRead(BaseModel):
    appointment: AppointmentRead
    ticket_id: uuid.UUID
    ticket_number: str
    priority: str
    is_late: bool


class AppointmentSettingsRead(BaseModel):
    branch_code: str
    early_checkin_minutes: int
    late_checkin_minutes: int
    reminder_hours: int


class AppointmentSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    early_checkin_minutes: int = Field(ge=0, le=240)
    late_checkin_minutes: int = Field(ge=0, le=240)
    reminder_hours: int = Field(ge=1, le=168)
