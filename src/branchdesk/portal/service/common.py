"""The acting customer, the portal's errors, and look-ups shared by the portal's services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import DomainError, Forbidden, NotFound, Unauthorized
from branchdesk.customers.models import Customer
from branchdesk.portal.models import PortalLogin


class PortalAccountLocked(Forbidden):
    code = "login_locked"


class InvalidLogin(Unauthorized):
    code = "invalid_credentials"


class CodeRejected(Unauthorized):
    """Wrong, expired or used-up one-time code."""

    code = "invalid_code"


class TooSoon(DomainError):
    code = "too_soon"
    status_code = 429


class CustomerNotFound(NotFound):
    code = "customer_not_found"


@dataclass(frozen=True, slots=True)
class CustomerPrincipal:
    """The logged-in customer as plain values (never a staff ``Principal``)."""

    customer_id: uuid.UUID
    customer_number: str
    display_name: str
    login_id: uuid.UUID
    auth_epoch: int
    preferred_locale: str
    home_branch_id: uuid.UUID | None
    phone: str
    email: str

    @property
    def label(self) -> str:
        return f"customer:{self.customer_number}"


def customer_principal(customer: Customer, login: PortalLogin) -> CustomerPrincipal:
    return CustomerPrincipal(
        customer_id=customer.id,
        customer_number=customer.customer_number,
        display_name=customer.full_name,
        login_id=login.id,
        auth_epoch=login.auth_epoch,
        preferred_locale=customer.preferred_locale,
        home_branch_id=customer.home_branch_id,
        phone=customer.phone,
        email=customer.email,
    )


def load_customer_principal(
    db: Session, *, customer_id: uuid.UUID, auth_epoch: int
) -> CustomerPrincipal | None:
    """The customer behind a session or token, or None when logged out / disabled since."""
    row = db.execute(
        select(Customer, PortalLogin)
        .join(PortalLogin, PortalLogin.customer_id == Customer.id)
        .where(Customer.id == customer_id)
    ).first()
    if row is None:
        return None
    customer, login = row
    if login.status != "active" or login.auth_epoch != auth_epoch:
        return None
    return customer_principal(customer, login)


def home_zone(db: Session, customer: CustomerPrincipal) -> ZoneInfo:
    """The customer's home-branch time zone (Asia/Taipei when they have no home branch)."""
    if customer.home_branch_id is not None:
        branch = db.get(Branch, customer.home_branch_id)
        if branch is not None:
            return ZoneInfo(branch.timezone)
    return ZoneInfo("Asia/Taipei")


def home_day(db: Session, customer: CustomerPrincipal, now: datetime) -> date:
    return now.astimezone(home_zone(db, customer)).date()


def mask_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "*" * max(0, len(digits) - 3) + digits[-3:] if digits else ""


def mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return (name[:1] + "***@" + domain) if domain else ""
