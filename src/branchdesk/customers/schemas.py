"""Input and output shapes for customers. The clear ID number goes in, only the mask comes out."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from branchdesk.customers.models import IdDocumentType


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=120)
    latin_name: str = Field(default="", max_length=120)
    id_document_type: IdDocumentType
    id_number: str = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9()\- ]+$")
    id_expires_on: date | None = None
    phone: str = Field(default="", max_length=32, pattern=r"^[0-9+\- ()]*$")
    email: EmailStr | None = None
    birth_on: date | None = None
    preferred_locale: str = Field(default="zh-Hant", pattern=r"^(zh-Hant|zh-Hans|en)$")
    has_marketing_consent: bool = False
    home_branch_code: str | None = None


class CustomerRead(BaseModel):
    id: uuid.UUID
    customer_number: str
    full_name: str
    latin_name: str
    id_document_type: IdDocumentType
    id_number_masked: str
    id_expires_on: date | None
    phone: str
    email: str
    birth_on: date | None
    preferred_locale: str
    has_marketing_consent: bool
    home_branch_code: str | None
    created_at: datetime
