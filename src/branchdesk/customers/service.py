"""Customers: capture with the ID number protected, look-up by number, scoped listing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.ids import mod97_check_digits, new_id
from branchdesk.core.references import next_value
from branchdesk.core.security import Signer, mask_identifier
from branchdesk.customers.models import Customer, IdDocumentType
from branchdesk.customers.schemas import CustomerCreate, CustomerRead
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission


def _customer_number(db: Session) -> str:
    body = f"{next_value(db, 'customer'):08d}"
    return body + mod97_check_digits(body)


def create_customer(
    db: Session, *, data: CustomerCreate, actor: Principal | None, pii: Signer, now: datetime
) -> Customer:
    """Raises Forbidden, Conflict (same ID document exists), RuleViolation (bad branch/dates)."""
    branch: Branch | None = None
    if data.home_branch_code:
        branch = db.execute(
            select(Branch).where(Branch.code == data.home_branch_code.upper())
        ).scalar_one_or_none()
        if branch is None:
            raise RuleViolation("unknown branch", field="home_branch_code")
    if actor is not None:
        actor.require(Permission.customer_manage, branch.id if branch else None)
    if data.birth_on is not None and data.birth_on >= now.date():
        raise RuleViolation("birth date must be in the past", field="birth_on")
    lookup = pii.lookup_hash(data.id_number)
    duplicate = db.execute(
        select(Customer.id).where(
            Customer.id_document_type == data.id_document_type, Customer.id_number_hash == lookup
        )
    ).first()
    if duplicate:
        raise Conflict("a customer with this ID document exists", field="id_number")
    customer = Customer(
        id=new_id(),
        customer_number=_customer_number(db),
        full_name=data.full_name,
        latin_name=data.latin_name,
        id_document_type=data.id_document_type,
        id_number_encrypted=pii.encrypt("".join(data.id_number.split()).upper()),
        id_number_hash=lookup,
        id_number_masked=mask_identifier(data.id_number.upper()),
        id_expires_on=data.id_expires_on,
        phone=data.phone,
        email=str(data.email or ""),
        birth_on=data.birth_on,
        preferred_locale=data.preferred_locale,
        has_marketing_consent=data.has_marketing_consent,
        home_branch_id=branch.id if branch else None,
        created_at=now,
        updated_at=now,
    )
    db.add(customer)
    db.flush()
    append_audit(
        db,
        action="customer.create",
        object_type="customer",
        object_id=customer.id,
        branch_id=customer.home_branch_id,
        now=now,
        actor=actor,
        detail={"customer_number": customer.customer_number},
    )
    # watch-list screening at onboarding (hits become AML alerts on a case) and the KYC profile
    from branchdesk.risk.cases.kyc import screen_at_onboarding

    screen_at_onboarding(db, customer=customer, now=now)
    return customer


def _visible(actor: Principal, customer: Customer) -> bool:
    if actor.is_bank_wide or customer.home_branch_id is None:
        return True
    return customer.home_branch_id in actor.branch_ids


def get_customer(db: Session, *, customer_number: str, actor: Principal) -> Customer:
    """Raises Forbidden (role) or NotFound (unknown or outside the actor's branches)."""
    actor.require(Permission.customer_view)
    customer = db.execute(
        select(Customer).where(Customer.customer_number == customer_number)
    ).scalar_one_or_none()
    if customer is None or not _visible(actor, customer):
        raise NotFound("no such customer")
    return customer


def search_customers(
    db: Session, *, actor: Principal, query: str = "", limit: int = 50
) -> list[Customer]:
    actor.require(Permission.customer_view)
    stmt = select(Customer).order_by(Customer.customer_number).limit(limit)
    if query:
        like = f"%{query.strip()}%"
        stmt = stmt.where(
            or_(
                Customer.full_name.ilike(like),
                Customer.latin_name.ilike(like),
                Customer.customer_number == query.strip(),
                Customer.phone == query.strip(),
            )
        )
    if not actor.is_bank_wide:
        stmt = stmt.where(
            or_(Customer.home_branch_id.in_(actor.branch_ids), Customer.home_branch_id.is_(None))
        )
    return list(db.execute(stmt).scalars())


def customer_read(db: Session, customer: Customer) -> CustomerRead:
    code = None
    if customer.home_branch_id is not None:
        branch = db.get(Branch, customer.home_branch_id)
        code = branch.code if branch else None
    return CustomerRead(
        id=customer.id,
        customer_number=customer.customer_number,
        full_name=customer.full_name,
        latin_name=customer.latin_name,
        id_document_type=IdDocumentType(customer.id_document_type),
        id_number_masked=customer.id_number_masked,
        id_expires_on=customer.id_expires_on,
        phone=customer.phone,
        email=customer.email,
        birth_on=customer.birth_on,
        preferred_locale=customer.preferred_locale,
        has_marketing_consent=customer.has_marketing_consent,
        home_branch_code=code,
        created_at=customer.created_at,
    )
