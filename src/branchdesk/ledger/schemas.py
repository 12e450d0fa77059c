"""Ledger API schemas. Amounts are integer minor units with a currency code."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from branchdesk.ledger.models import AccountStatus, AccountType, PostingKind

Currency = Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")]
AccountRef = Annotated[str, Field(min_length=1, max_length=40, description="number or id")]
IdempotencyKey = Annotated[str | None, Field(default=None, max_length=120)]
MAX_BATCH = 1000


class AccountOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_number: str = Field(min_length=1, max_length=20)
    joint_customer_numbers: list[str] = Field(default_factory=list, max_length=4)
    type: AccountType = AccountType.current
    currency: Currency
    branch_code: str = Field(min_length=1, max_length=16)
    overdraft_limit_minor: StrictInt = Field(default=0, ge=0)
    term_months: int | None = Field(default=None, ge=1, le=120)
    rate_bps: int | None = Field(default=None, ge=0, le=10_000)


class AccountStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AccountStatus
    reason: str = Field(default="", max_length=200)


class AccountRead(BaseModel):
    id: uuid.UUID
    number: str
    type: AccountType
    currency: str
    status: AccountStatus
    branch_code: str
    balance_minor: int
    overdraft_limit_minor: int
    holders: list[str]  # customer numbers, primary first
    term_months: int | None = None
    rate_bps: int | None = None
    matures_on: date | None = None
    opened_at: datetime


class EntryRead(BaseModel):
    seq: int
    posting_id: uuid.UUID
    kind: PostingKind
    amount_minor: int
    currency: str
    balance_after_minor: int
    booked_at: datetime


class _PostingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: StrictInt
    currency: Currency
    idempotency_key: IdempotencyKey = None
    branch_code: str | None = Field(default=None, max_length=16)
    memo: str = Field(default="", max_length=200)


class CashBody(_PostingBody):
    account: AccountRef
    counter_code: str | None = Field(default=None, max_length=16)


class TransferBody(_PostingBody):
    from_account: AccountRef
    to_account: AccountRef


class FeeBody(_PostingBody):
    account: AccountRef


class RemittanceBody(_PostingBody):
    from_account: AccountRef
    beneficiary: str = Field(min_length=1, max_length=200)
    # the beneficiary bank's ISO 3166 alpha-2 country (the AML cross-border rule reads it)
    country: str = Field(default="", pattern=r"^([A-Z]{2})?$")


class TimeDepositWithdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_account: AccountRef
    idempotency_key: IdempotencyKey = None
    branch_code: str | None = Field(default=None, max_length=16)


class ClearingResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(pattern="^(settled|returned)$")
    idempotency_key: IdempotencyKey = None


class ReversalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idempotency_key: IdempotencyKey = None
    memo: str = Field(default="", max_length=200)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=300)


class ApprovalLimitSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch_code: str = Field(min_length=1, max_length=16)
    kind: PostingKind
    currency: Currency
    amount_minor: StrictInt = Field(ge=0)


class ApprovalLimitRead(ApprovalLimitSet):
    pass


class LegRead(BaseModel):
    account_number: str
    amount_minor: int
    balance_after_minor: int | None = None  # None until posted


class PostingRead(BaseModel):
    id: uuid.UUID
    kind: PostingKind
    status: str
    amount_minor: int
    currency: str
    idempotency_key: str
    branch_code: str
    legs: list[LegRead]
    memo: str
    hold_reason: str
    reverses_id: uuid.UUID | None
    remittance_status: str | None
    maker: str | None
    checker: str | None
    created_at: datetime
    posted_at: datetime | None
    decided_at: datetime | None


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfers: list[TransferBody] = Field(min_length=1, max_length=MAX_BATCH)


class BatchItemResult(BaseModel):
    index: int
    outcome: str  # "applied", "replayed", "pending_approval", "pending_review", "refused"
    posting: PostingRead | None = None
    error: str | None = None
    detail: str | None = None


class BatchResult(BaseModel):
    applied: int
    replayed: int
    pending: int
    refused: int
    results: list[BatchItemResult]
