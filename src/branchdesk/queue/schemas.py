"""Input and output shapes of the queue API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from branchdesk.queue.models import Priority, TicketState


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_code: str = Field(min_length=1, max_length=32)
    priority: Priority | None = None
    customer_id: uuid.UUID | None = None
    contact_phone: str = Field(default="", max_length=32, pattern=r"^[0-9+\- ()]*$")


class TicketRead(BaseModel):
    id: uuid.UUID
    number: str
    branch_code: str
    service_code: str
    service_name: str
    priority: Priority
    channel: str
    state: TicketState
    position: int | None
    estimated_wait_seconds: int | None
    counter_code: str | None
    issued_at: datetime
    called_at: datetime | None
    recall_count: int
    public_url: str
    customer_name: str | None = None


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome_code: str = Field(default="done", pattern=r"^[a-z][a-z0-9_]{1,31}$")


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_code: str | None = Field(default=None, min_length=1, max_length=32)
    counter_code: str | None = Field(default=None, min_length=1, max_length=16)


class CounterAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern=r"^(open|paused|closed)$")


class ServiceQueue(BaseModel):
    service_code: str
    service_name: str
    waiting: int
    estimated_wait_seconds: int | None


class CounterQueue(BaseModel):
    code: str
    name: str
    status: str
    is_vip: bool
    service_codes: list[str]
    staffed_by: str | None
    current_ticket: str | None
    current_state: str | None


class RecentCall(BaseModel):
    number: str
    counter_code: str
    called_at: datetime
    recall_count: int
    # "called" while the counter waits for the customer; then serving, completed, no_show, ...
    state: str


class QueueSnapshot(BaseModel):
    branch_code: str
    business_on: str
    services: list[ServiceQueue]
    counters: list[CounterQueue]
    recent_calls: list[RecentCall]
    waiting_total: int
