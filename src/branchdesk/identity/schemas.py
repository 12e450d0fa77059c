"""Input and output shapes for staff users and authentication."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from branchdesk.identity.roles import Role

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field(min_length=1, max_length=120)
    role: Role
    branch_codes: list[str] = Field(default_factory=list, max_length=200)
    password: str = Field(min_length=1, max_length=256)
    preferred_locale: str | None = Field(default=None, pattern=r"^(zh-Hant|zh-Hans|en)$")

    @field_validator("display_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    role: Role | None = None
    branch_codes: list[str] | None = Field(default=None, max_length=200)
    is_active: bool | None = None
    preferred_locale: str | None = Field(default=None, pattern=r"^(zh-Hant|zh-Hans|en)$")
    unlock: bool = False


class UserRead(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    branch_codes: list[str]
    is_active: bool
    is_locked: bool
    preferred_locale: str | None
    last_login_at: datetime | None
    created_at: datetime


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AuditEntryRead(BaseModel):
    seq: int
    occurred_at: datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str | None
    branch_id: uuid.UUID | None
    outcome: str
    detail: dict[str, object]
