"""Input and output models of operations."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


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
