"""Social API input and output models."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class PostContent(BaseModel):
    """The text of a post (the channel code is checked against ``channels.json``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: str = Field(min_length=1, max_length=16)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    link_url: str = Field(default="", max_length=500)
    scheduled_at: AwareDatetime | None = None


class PostCreate(PostContent):
    branch_code: str = Field(min_length=1, max_length=16)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=1000)


class PostRead(BaseModel):
    reference: str
    branch_code: str
    channel: str
    title: str
    body: str
    link_url: str
    state: str
    scheduled_at: datetime | None
    drafted_by: str
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    published_at: datetime | None
    published_by: str
    created_at: datetime
    updated_at: datetime
    interactions: int


class InteractionRead(BaseModel):
    id: uuid.UUID
    hook: str
    kind: str
    branch_code: str
    post_reference: str | None
    case_reference: str | None
    sender_handle: str
    sender_name: str
    text: str
    received_at: datetime


class ChannelRead(BaseModel):
    code: str
    name: str
    hook: str
    max_length: int
