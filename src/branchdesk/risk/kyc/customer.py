"""The plain customer record every KYC check takes (services build it from their tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = ["Customer", "CustomerType"]


class CustomerType(StrEnum):
    INDIVIDUAL = "individual"
    BUSINESS = "business"


@dataclass(frozen=True)
class Customer:
    """What KYC needs to know about one customer; empty strings and None mean "not given"."""

    customer_id: str
    customer_type: CustomerType
    name: str
    aliases: tuple[str, ...] = ()  # other spellings: 陳大文 / CHAN Tai Man
    birth_date: date | None = None  # individuals
    country: str = ""  # nationality or country of incorporation, ISO 3166 alpha-2
    residence_country: str = ""  # residence or principal place of business
    occupation: str = ""  # individuals, lower_snake code
    industry: str = ""  # businesses, lower_snake code
    id_type: str = ""
    id_number: str = ""
    id_expires_on: date | None = None
    address: str = ""
    phone: str = ""
    registration_number: str = ""  # businesses
    beneficial_owners: tuple[str, ...] = ()  # businesses
    is_pep: bool = False
    products: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    cash_share_percent: int | None = None  # expected share of turnover in cash, 0..100

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)
