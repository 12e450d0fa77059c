"""Portal input and output models (JSON API, and plain values for the pages)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator


class LoginBody(BaseModel):
    identifier: str = Field(
        min_length=1, max_length=254, description="Customer number, registered phone or e-mail."
    )
    password: str = Field(min_length=1, max_length=256)


class CodeSentRead(BaseModel):
    challenge_id: uuid.UUID
    expires_at: datetime
    sent_to: str = Field(description="Masked phone number or e-mail address.")


class VerifyBody(BaseModel):
    challenge_id: uuid.UUID
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


class ResendBody(BaseModel):
    challenge_id: uuid.UUID


class ActivateBody(BaseModel):
    customer_number: str = Field(min_length=1, max_length=20)
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")
    password: str = Field(min_length=1, max_length=256)


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    customer_number: str
    display_name: str


class EnrolmentRead(BaseModel):
    customer_number: str
    status: str
    code_sent_to: str | None


class AccountSummary(BaseModel):
    number: str
    type: str
    currency: str
    status: str
    branch_code: str
    balance_minor: int
    available_minor: int


class StatementQuery(BaseModel):
    from_on: date | None = None
    to_on: date | None = None
    text: str = Field(default="", max_length=100)
    min_amount_minor: int | None = Field(default=None, ge=0)
    max_amount_minor: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ranges(self) -> StatementQuery:
        if self.from_on and self.to_on and self.from_on > self.to_on:
            raise ValueError("from_on must not be after to_on")
        if (
            self.min_amount_minor is not None
            and self.max_amount_minor is not None
            and self.min_amount_minor > self.max_amount_minor
        ):
            raise ValueError("min_amount_minor must not be above max_amount_minor")
        return self


class StatementLine(BaseModel):
    seq: int
    booked_at: datetime
    local_time: str
    kind: str
    memo: str
    amount_minor: int
    balance_after_minor: int
    currency: str


class PendingLine(BaseModel):
    """A posting on the account that waits for a decision (not in the balance yet)."""

    posting_id: uuid.UUID
    created_at: datetime
    local_time: str
    kind: str
    status: str = Field(description="pending_approval (supervisor) or pending_review (compliance)")
    memo: str
    amount_minor: int = Field(description="Signed change this account will see if approved.")
    currency: str


class StatementRead(BaseModel):
    account: AccountSummary
    query: StatementQuery
    lines: list[StatementLine]
    pending: list[PendingLine] = Field(default_factory=list)
    timezone: str


class TransferBody(BaseModel):
    from_account: str = Field(min_length=1, max_length=40)
    to_account: str = Field(min_length=1, max_length=40)
    amount_minor: int = Field(description="Positive, in minor units.")
    currency: str = Field(min_length=3, max_length=3)
    memo: str = Field(default="", max_length=140)
    idempotency_key: str = Field(
        min_length=1, max_length=80, description="Your retry key: the same key never pays twice."
    )


class TransferResult(BaseModel):
    posting_id: uuid.UUID
    status: str = Field(description="posted, pending_approval or pending_review (held).")
    is_replay: bool
    from_account: str
    to_account: str
    amount_minor: int
    currency: str
    memo: str
    hold_reason: str


class PortalTransferRead(BaseModel):
    posting_id: uuid.UUID
    kind: str
    status: str
    from_account: str
    to_account: str
    amount_minor: int
    currency: str
    memo: str
    local_time: str


class LimitRead(BaseModel):
    currency: str
    limit_minor: int
    used_today_minor: int


class PaymentRequestBody(BaseModel):
    account: str = Field(min_length=1, max_length=40)
    amount_minor: int


class PaymentRequestRead(BaseModel):
    payload: str
    account: str
    amount_minor: int
    currency: str
    ref: str
    expires_at: datetime
    qr_svg: str = Field(description="The payload as an inline SVG QR code.")


class PayBody(BaseModel):
    payload: str = Field(min_length=1, max_length=400)
    from_account: str = Field(min_length=1, max_length=40)


class TicketBody(BaseModel):
    branch_code: str = Field(min_length=1, max_length=16)
    service_code: str = Field(min_length=1, max_length=32)


class TicketTaken(BaseModel):
    number: str
    branch_code: str
    state: str
    estimated_wait_seconds: int | None
    url: str = Field(description="The ticket's live page.")


class BookBody(BaseModel):
    slot_id: uuid.UUID


class RescheduleBody(BaseModel):
    slot_id: uuid.UUID


class BranchChoice(BaseModel):
    code: str
    name: str
    services: dict[str, str]


class NotificationSettings(BaseModel):
    transaction_alerts_sms: bool
    transaction_alerts_email: bool
    appointment_reminders_sms: bool
    appointment_reminders_email: bool
    queue_come_back_sms: bool
    queue_come_back_email: bool
    # care greetings and marketing offers (older clients may leave them out: the defaults)
    greetings_sms: bool = True
    greetings_email: bool = False
    offers_sms: bool = True
    offers_email: bool = True
