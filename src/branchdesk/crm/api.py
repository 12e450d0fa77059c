"""JSON API of the customer 360."""

from __future__ import annotations

from fastapi import APIRouter

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.crm import service
from branchdesk.crm.schemas import Customer360
from branchdesk.identity.deps import ApiUser

router = APIRouter(prefix="/api/v1", tags=["crm"])


@router.get("/customers/{customer_number}/360", response_model=Customer360)
def customer_360(db: DbSession, principal: ApiUser, customer_number: str) -> Customer360:
    """Profile (masked ID), KYC, accounts, activity, segments, loyalty, recommendations, tasks.

    404 when the customer is unknown or outside the caller's branches; 403 without
    customer.view.
    """
    return service.get_customer_360(
        db, customer_number=customer_number, actor=principal, now=utcnow()
    )
