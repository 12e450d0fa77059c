"""Plain values for the teller panel, the counter forms and the receipt page."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class CounterForm(BaseModel):
    """One console form as posted (every field text; amounts in major units, e.g. 1,000.50)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    ticket_id: str = Field(default="", max_length=40)
    idempotency_key: str = Field(default="", max_length=120)
    account: str = Field(default="", max_length=40)
    to_account: str = Field(default="", max_length=40)
    other_account: str = Field(default="", max_length=40)
    amount: str = Field(default="", max_length=32)
    currency: str = Field(default="", max_length=3)
    beneficiary: str = Field(default="", max_length=200)
    country: str = Field(default="", max_length=8)  # checked as two letters by the service
    memo: str = Field(default="", max_length=200)
    term_months: str = Field(default="", max_length=4)
    query: str = Field(default="", max_length=40)


class AccountOption(BaseModel):
    number: str
    masked: str
    type: str
    currency: str
    status: str
    balance_minor: int
    term_months: int | None = None
    rate_bps: int | None = None
    matures_on: date | None = None


class LinkedPosting(BaseModel):
    posting_id: uuid.UUID
    reference: str
    action: str
    kind: str
    status: str
    amount_minor: int
    currency: str
    hold_reason: str
    decision_note: str
    created_at: datetime


class TermOption(BaseModel):
    months: int
    rate_bps: int


class TellerPanel(BaseModel):
    ticket_id: uuid.UUID
    ticket_number: str
    is_serving: bool
    can_post: bool
    customer_number: str | None = None
    customer_name: str | None = None
    identified_by: str | None = None  # "ticket", "customer_number" or "id_number"
    accounts: list[AccountOption] = Field(default_factory=list)
    time_deposits: list[AccountOption] = Field(default_factory=list)
    postings: list[LinkedPosting] = Field(default_factory=list)
    keys: dict[str, str] = Field(default_factory=dict)  # one fresh idempotency key per form
    currencies: list[str] = Field(default_factory=list)
    terms: list[TermOption] = Field(default_factory=list)

    @property
    def has_pending(self) -> bool:
        return any(p.status.startswith("pending") for p in self.postings)


class CounterOutcome(BaseModel):
    posting_id: uuid.UUID
    reference: str
    status: str
    is_replay: bool


class ReceiptLine(BaseModel):
    label: str  # "from", "to", "account"
    masked: str
    currency: str
    amount_minor: int


class Receipt(BaseModel):
    posting_id: uuid.UUID
    reference: str
    kind: str
    status: str
    amount_minor: int
    currency: str
    lines: list[ReceiptLine]
    beneficiary: str
    memo: str
    branch_names: tuple[str, str, str]  # zh-Hant, zh-Hans, en
    branch_code: str
    counter_code: str | None
    teller: str | None
    customer_name: str | None
    locale: str
    local_time: str  # in the branch's time zone, with its UTC offset
    timezone: str
    hold_reason: str
