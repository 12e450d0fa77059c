"""Missing-information checks per customer type and ID expiry status with reminder dates.

An ID is valid up to and including its `expires_on` date and expired from the day after.
It is *expiring* when it expires within `warn_days` (inclusive: on the warning boundary day and
on the expiry day itself). Reminders go out `reminder_days_before` the expiry and
`reminder_days_after` it while the ID stays expired; `next_reminder_on` is the first reminder
on or after today.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from branchdesk.risk.kyc.customer import Customer, CustomerType

__all__ = [
    "LONG_TERM_ID_TYPES",
    "REQUIRED_FIELDS",
    "IdExpiry",
    "IdStatus",
    "KycStatus",
    "MissingField",
    "id_expiry",
    "kyc_status",
    "missing_information",
    "reminders_due",
]

REQUIRED_FIELDS: Mapping[CustomerType, tuple[str, ...]] = {
    CustomerType.INDIVIDUAL: (
        "name",
        "birth_date",
        "country",
        "residence_country",
        "occupation",
        "id_type",
        "id_number",
        "id_expires_on",
        "address",
        "phone",
    ),
    CustomerType.BUSINESS: (
        "name",
        "country",
        "residence_country",
        "industry",
        "registration_number",
        "beneficial_owners",
        "id_type",
        "id_number",
        "id_expires_on",
        "address",
        "phone",
    ),
}
# IDs without an expiry date (PRC resident ID cards issued at 46 or older are "长期").
LONG_TERM_ID_TYPES = frozenset({"cn_resident_id_long_term"})

_LABELS = {
    "name": "name",
    "birth_date": "date of birth",
    "country": "nationality / country of incorporation",
    "residence_country": "country of residence / place of business",
    "occupation": "occupation",
    "industry": "industry",
    "registration_number": "company registration number",
    "beneficial_owners": "beneficial owners",
    "id_type": "identity document type",
    "id_number": "identity document number",
    "id_expires_on": "identity document expiry date",
    "address": "address",
    "phone": "phone number",
}


@dataclass(frozen=True)
class MissingField:
    field: str
    message: str


def missing_information(
    customer: Customer,
    *,
    required: Mapping[CustomerType, tuple[str, ...]] = REQUIRED_FIELDS,
) -> tuple[MissingField, ...]:
    """Required fields of the customer's type that are empty, in the order of `required`."""
    missing: list[MissingField] = []
    for field_name in required[customer.customer_type]:
        value = getattr(customer, field_name)
        if field_name == "id_expires_on" and customer.id_type in LONG_TERM_ID_TYPES:
            continue
        if value is None or value == "" or value == ():
            label = _LABELS.get(field_name, field_name.replace("_", " "))
            missing.append(MissingField(field_name, f"{label} is missing"))
    return tuple(missing)


class IdStatus(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    LONG_TERM = "long_term"
    UNKNOWN = "unknown"  # no expiry date on file


@dataclass(frozen=True)
class IdExpiry:
    status: IdStatus
    expires_on: date | None
    days_left: int | None  # negative once expired
    reminders_on: tuple[date, ...]
    next_reminder_on: date | None

    def describe(self) -> str:
        if self.status is IdStatus.EXPIRED and self.days_left is not None:
            return f"ID expired on {self.expires_on} ({-self.days_left} days ago)"
        if self.status is IdStatus.EXPIRING:
            return f"ID expires on {self.expires_on} (in {self.days_left} days)"
        if self.status is IdStatus.VALID:
            return f"ID valid until {self.expires_on}"
        if self.status is IdStatus.LONG_TERM:
            return "ID valid without an expiry date"
        return "ID expiry date unknown"


def id_expiry(
    expires_on: date | None,
    *,
    today: date,
    warn_days: int = 30,
    reminder_days_before: tuple[int, ...] = (60, 30, 7, 0),
    reminder_days_after: tuple[int, ...] = (1, 30, 90),
    long_term: bool = False,
) -> IdExpiry:
    """Status of an ID on `today` and the dates its holder is reminded to renew it."""
    if warn_days < 0:
        raise ValueError("warn_days must not be negative")
    if long_term:
        return IdExpiry(IdStatus.LONG_TERM, None, None, (), None)
    if expires_on is None:
        return IdExpiry(IdStatus.UNKNOWN, None, None, (), None)
    days_left = (expires_on - today).days
    if days_left < 0:
        status = IdStatus.EXPIRED
    elif days_left <= warn_days:
        status = IdStatus.EXPIRING
    else:
        status = IdStatus.VALID
    reminders = sorted(
        {expires_on - timedelta(days=d) for d in reminder_days_before}
        | {expires_on + timedelta(days=d) for d in reminder_days_after}
    )
    upcoming = [day for day in reminders if day >= today]
    return IdExpiry(
        status, expires_on, days_left, tuple(reminders), upcoming[0] if upcoming else None
    )


@dataclass(frozen=True)
class KycStatus:
    """What the restrictions and the rating need to know about a customer's KYC on a day."""

    id_expiry: IdExpiry
    missing: tuple[MissingField, ...]

    @property
    def is_complete(self) -> bool:
        return not self.missing


def kyc_status(customer: Customer, *, today: date, warn_days: int = 30) -> KycStatus:
    """Missing information and ID expiry of one customer on `today`."""
    expiry = id_expiry(
        customer.id_expires_on,
        today=today,
        warn_days=warn_days,
        long_term=customer.id_type in LONG_TERM_ID_TYPES,
    )
    return KycStatus(expiry, missing_information(customer))


def reminders_due(
    customers: Iterable[Customer], *, today: date, warn_days: int = 30
) -> list[tuple[Customer, IdExpiry]]:
    """Customers to remind today (a reminder date of their ID falls on `today`), in input order."""
    due: list[tuple[Customer, IdExpiry]] = []
    for customer in customers:
        expiry = kyc_status(customer, today=today, warn_days=warn_days).id_expiry
        if today in expiry.reminders_on:
            due.append((customer, expiry))
    return due
