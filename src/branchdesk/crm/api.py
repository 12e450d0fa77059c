"""JSON API of the customer 360."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession, request_locale
from branchdesk.crm import service
from branchdesk.crm.schemas import CareTaskRead, Customer360
from branchdesk.identity.deps import ApiUser

router = APIRouter(prefix="/api/v1", tags=["crm"])


@router.get("/customers/{customer_number}/360", response_model=Customer360)
def customer_360(
    request: Request, db: DbSession, principal: ApiUser, customer_number: str
) -> Customer360:
    """Profile (masked ID), KYC, accounts, activity, segments, loyalty, recommendations, tasks.

    Segment labels, product names and reasons are in the request's language (``bd_lang``
    cookie, else Accept-Language); each reason also comes as codes with parameters. 404 when
    the customer is unknown or outside the caller's branches; 403 without customer.view.
    """
    return service.get_customer_360(
        db, customer_number=customer_number, actor=principal, now=utcnow(),
        locale=request_locale(request),
    )  # fmt: skip


@router.get("/care-tasks", response_model=list[CareTaskRead])
def list_care_tasks(
    db: DbSession,
    principal: ApiUser,
    status: Annotated[str, Query(pattern="^(open|done)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[CareTaskRead]:
    """Care tasks of the caller's branches, by due date (403 without customer.view)."""
    return service.list_care_tasks(db, actor=principal, status=status, limit=limit)


@router.post("/care-tasks/{task_id}/done", response_model=CareTaskRead)
def complete_care_task(db: DbSession, principal: ApiUser, task_id: uuid.UUID) -> CareTaskRead:
    """Mark a care task done (audited); 409 when it is already done."""
    return service.complete_care_task(db, task_id=task_id, actor=principal, now=utcnow())
