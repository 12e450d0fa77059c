"""JSON API for customers (the full account-opening flow arrives with the ledger)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.customers import service
from branchdesk.customers.schemas import CustomerCreate, CustomerRead
from branchdesk.identity.deps import ApiUser, signer

router = APIRouter(prefix="/api/v1", tags=["customers"])


@router.post("/customers", response_model=CustomerRead, status_code=201)
def create_customer(
    request: Request, db: DbSession, principal: ApiUser, body: CustomerCreate
) -> CustomerRead:
    customer = service.create_customer(
        db, data=body, actor=principal, pii=signer(request), now=utcnow()
    )
    return service.customer_read(db, customer)


@router.get("/customers", response_model=list[CustomerRead])
def search_customers(
    db: DbSession,
    principal: ApiUser,
    q: Annotated[str, Query(max_length=120)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CustomerRead]:
    found = service.search_customers(db, actor=principal, query=q, limit=limit)
    return [service.customer_read(db, c) for c in found]


@router.get("/customers/{customer_number}", response_model=CustomerRead)
def get_customer(db: DbSession, principal: ApiUser, customer_number: str) -> CustomerRead:
    customer = service.get_customer(db, customer_number=customer_number, actor=principal)
    return service.customer_read(db, customer)
