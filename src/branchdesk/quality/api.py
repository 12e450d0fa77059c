"""JSON API of the quality dashboards: the same figures the ``/quality`` pages chart."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.quality import checklists, service
from branchdesk.quality.kpi import Period
from branchdesk.quality.schemas import (
    ChecklistTemplate,
    Dashboard,
    VisitCreate,
    VisitRead,
    VisitTrendPoint,
)

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])

FromOn = Annotated[date | None, Query(alias="from", description="First business day")]
ToOn = Annotated[date | None, Query(alias="to", description="Last business day")]


@router.get(
    "/dashboard",
    response_model=Dashboard,
    summary="Quality KPIs of the bank (or your branches) or one branch, over time and broken down",
    responses={403: {"description": "No quality.view, or a branch outside your assignment"}},
)
def dashboard(
    db: DbSession,
    principal: ApiUser,
    from_on: FromOn = None,
    to_on: ToOn = None,
    period: Period = Period.day,
    branch: Annotated[str | None, Query(max_length=16, description="Branch code")] = None,
) -> Dashboard:
    now = utcnow()
    default_from, default_to = service.default_range(db, now)
    return service.dashboard(
        db, actor=principal, branch_code=branch, from_on=from_on or default_from,
        to_on=to_on or default_to, period=period, now=now,
    )  # fmt: skip


@router.get(
    "/checklists/{service_code}",
    response_model=ChecklistTemplate,
    summary="The checklist built from a service type's current standard version",
)
def checklist(db: DbSession, principal: ApiUser, service_code: str) -> ChecklistTemplate:
    return checklists.checklist_template(db, actor=principal, service_code=service_code)


@router.post(
    "/visits",
    status_code=201,
    response_model=VisitRead,
    summary="Record a mystery-shopper visit scoring every checklist item (quality officers)",
    responses={422: {"description": "Items missing or unknown, teller unknown, future date"}},
)
def record_visit(db: DbSession, principal: ApiUser, body: VisitCreate) -> VisitRead:
    return checklists.record_visit(db, actor=principal, data=body, now=utcnow())


@router.get("/visits", response_model=list[VisitRead], summary="Recorded visits, newest first")
def list_visits(
    db: DbSession,
    principal: ApiUser,
    branch: Annotated[str | None, Query(max_length=16, description="Branch code")] = None,
) -> list[VisitRead]:
    return checklists.list_visits(db, actor=principal, branch_code=branch)


@router.get(
    "/visits/trend",
    response_model=list[VisitTrendPoint],
    summary="Visits and average checklist score per branch and month",
)
def visit_trend(
    db: DbSession,
    principal: ApiUser,
    branch: Annotated[str | None, Query(max_length=16, description="Branch code")] = None,
) -> list[VisitTrendPoint]:
    return checklists.trend(db, actor=principal, branch_code=branch)
