"""Input and output models of the loyalty programme."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class EntryLine(BaseModel):
    kind: str
    points: int
    rule_code: str
    earned_on: date
    expires_on: date | None


class LoyaltySummary(BaseModel):
    balance: int
    expiring_soon: int  # points whose lots expire within the programme's expiring_soon_days
    expiring_by: date  # ... on or before this day
    next_expiry_on: date | None
    tier: str | None
    tier_since: date | None
    benefits: list[str]
    window_points: int
    next_tier: str | None
    points_to_next_tier: int
    progress_percent: int  # 0-100 toward the next tier (100 at the top)
    recent: list[EntryLine]


class EarningRuleCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    source: Literal["posting", "survey"]
    posting_kind: str | None = Field(default=None, max_length=24)
    product: str | None = Field(default=None, max_length=24)
    campaign: str | None = Field(default=None, max_length=40)
    unit_minor: int = Field(ge=0, le=10**15)
    points: int = Field(ge=1, le=1_000_000)
    multiplier_bp: int = Field(default=10_000, ge=1, le=1_000_000)
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> EarningRuleCreate:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return self


class EarningRuleRead(EarningRuleCreate):
    id: uuid.UUID
    is_active: bool


class EarningRuleUpdate(BaseModel):
    """End or pause a rule (rules are never deleted: entries name them)."""

    is_active: bool | None = None
    valid_to: date | None = None


class RewardUpdate(BaseModel):
    is_active: bool | None = None
    stock: int | None = Field(default=None, ge=0, le=10_000_000)
    valid_to: date | None = None


class RewardCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name_zh_hant: str = Field(min_length=1, max_length=120)
    name_zh_hans: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)
    points_cost: int = Field(ge=1, le=10_000_000)
    stock: int = Field(ge=0, le=10_000_000)
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> RewardCreate:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return self


class RewardRead(RewardCreate):
    id: uuid.UUID
    is_active: bool
    name: str  # in the reader's language


class RedeemBody(BaseModel):
    reward_code: str = Field(min_length=1, max_length=40)
    idempotency_key: str = Field(min_length=8, max_length=80)


class RedemptionRead(BaseModel):
    id: uuid.UUID
    reward_code: str
    reward_name: str
    points: int
    channel: str
    balance_after: int
    created_at: datetime
    is_replay: bool = False  # the same idempotency key again: the first redemption


class AdjustmentCreate(BaseModel):
    points: int = Field(ge=-10_000_000, le=10_000_000)
    reason: str = Field(min_length=3, max_length=200)

    @model_validator(mode="after")
    def _not_zero(self) -> AdjustmentCreate:
        if self.points == 0:
            raise ValueError("points must not be 0")
        return self


class AdjustmentRead(BaseModel):
    id: uuid.UUID
    customer_number: str
    points: int
    reason: str
    state: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
