"""JSON API for branches, opening hours, holidays, counters and the service catalog."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from branchdesk.catalog import service
from branchdesk.catalog.schemas import (
    BranchCreate,
    BranchRead,
    BranchServiceIn,
    BranchServiceRead,
    BranchUpdate,
    CounterCreate,
    CounterRead,
    CounterUpdate,
    HolidayIn,
    HolidayRead,
    OpeningHoursIn,
    ServiceTypeCreate,
    ServiceTypeRead,
    ServiceTypeUpdate,
    StandardVersionRead,
)
from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.identity.roles import Permission

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/branches", response_model=list[BranchRead])
def list_branches(db: DbSession, principal: ApiUser) -> list[BranchRead]:
    return service.branch_reads(db, service.list_branches(db, actor=principal))


@router.post("/branches", response_model=BranchRead, status_code=201)
def create_branch(db: DbSession, principal: ApiUser, body: BranchCreate) -> BranchRead:
    branch = service.create_branch(db, data=body, actor=principal, now=utcnow())
    return service.branch_read(db, branch)


@router.get("/branches/{branch_code}", response_model=BranchRead)
def get_branch(db: DbSession, principal: ApiUser, branch_code: str) -> BranchRead:
    return service.branch_read(db, service.get_branch(db, code=branch_code, actor=principal))


@router.patch("/branches/{branch_code}", response_model=BranchRead)
def update_branch(
    db: DbSession, principal: ApiUser, branch_code: str, body: BranchUpdate
) -> BranchRead:
    branch = service.update_branch(db, code=branch_code, data=body, actor=principal, now=utcnow())
    return service.branch_read(db, branch)


@router.put("/branches/{branch_code}/opening-hours", response_model=BranchRead)
def set_opening_hours(
    db: DbSession, principal: ApiUser, branch_code: str, body: list[OpeningHoursIn]
) -> BranchRead:
    branch = service.set_opening_hours(
        db, code=branch_code, hours=body, actor=principal, now=utcnow()
    )
    return service.branch_read(db, branch)


@router.get("/branches/{branch_code}/holidays", response_model=list[HolidayRead])
def list_holidays(
    db: DbSession,
    principal: ApiUser,
    branch_code: str,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[HolidayRead]:
    return service.list_holidays(db, code=branch_code, actor=principal, year=year)


@router.post("/branches/{branch_code}/holidays", response_model=HolidayRead, status_code=201)
def add_holiday(
    db: DbSession, principal: ApiUser, branch_code: str, body: HolidayIn
) -> HolidayRead:
    holiday = service.add_holiday(db, code=branch_code, data=body, actor=principal, now=utcnow())
    return HolidayRead(id=holiday.id, on=holiday.on, name=holiday.name)


@router.delete("/branches/{branch_code}/holidays/{holiday_id}", status_code=204)
def remove_holiday(
    db: DbSession, principal: ApiUser, branch_code: str, holiday_id: uuid.UUID
) -> Response:
    service.remove_holiday(
        db, code=branch_code, holiday_id=holiday_id, actor=principal, now=utcnow()
    )
    return Response(status_code=204)


@router.get("/branches/{branch_code}/services", response_model=list[BranchServiceRead])
def list_branch_services(
    db: DbSession, principal: ApiUser, branch_code: str
) -> list[BranchServiceRead]:
    branch = service.get_branch(db, code=branch_code, actor=principal)
    return service.list_branch_services(db, branch=branch)


@router.put("/branches/{branch_code}/services/{service_code}", response_model=BranchServiceRead)
def set_branch_service(
    db: DbSession, principal: ApiUser, branch_code: str, service_code: str, body: BranchServiceIn
) -> BranchServiceRead:
    return service.set_branch_service(
        db, code=branch_code, service_code=service_code, data=body, actor=principal, now=utcnow()
    )


@router.get("/branches/{branch_code}/counters", response_model=list[CounterRead])
def list_counters(db: DbSession, principal: ApiUser, branch_code: str) -> list[CounterRead]:
    return service.list_counters(db, code=branch_code, actor=principal)


@router.post("/branches/{branch_code}/counters", response_model=CounterRead, status_code=201)
def create_counter(
    db: DbSession, principal: ApiUser, branch_code: str, body: CounterCreate
) -> CounterRead:
    return service.create_counter(db, code=branch_code, data=body, actor=principal, now=utcnow())


@router.get("/branches/{branch_code}/counters/{counter_code}", response_model=CounterRead)
def get_counter(
    db: DbSession, principal: ApiUser, branch_code: str, counter_code: str
) -> CounterRead:
    branch = service.get_branch(db, code=branch_code, actor=principal)
    counter = service.get_counter(db, branch=branch, counter_code=counter_code)
    return service.counter_read(db, branch=branch, counter=counter)


@router.patch("/branches/{branch_code}/counters/{counter_code}", response_model=CounterRead)
def update_counter(
    db: DbSession, principal: ApiUser, branch_code: str, counter_code: str, body: CounterUpdate
) -> CounterRead:
    return service.update_counter(
        db, code=branch_code, counter_code=counter_code, data=body, actor=principal, now=utcnow()
    )


@router.get("/service-types", response_model=list[ServiceTypeRead])
def list_service_types(db: DbSession, principal: ApiUser) -> list[ServiceTypeRead]:
    return [service.service_type_read(s) for s in service.list_service_types(db, actor=principal)]


@router.post("/service-types", response_model=ServiceTypeRead, status_code=201)
def create_service_type(
    db: DbSession, principal: ApiUser, body: ServiceTypeCreate
) -> ServiceTypeRead:
    created = service.create_service_type(db, data=body, actor=principal, now=utcnow())
    return service.service_type_read(created)


@router.get("/service-types/{service_code}", response_model=ServiceTypeRead)
def get_service_type(db: DbSession, principal: ApiUser, service_code: str) -> ServiceTypeRead:
    principal.require(Permission.catalog_view)
    return service.service_type_read(service.get_service_type(db, code=service_code))


@router.patch("/service-types/{service_code}", response_model=ServiceTypeRead)
def update_service_type(
    db: DbSession, principal: ApiUser, service_code: str, body: ServiceTypeUpdate
) -> ServiceTypeRead:
    updated = service.update_service_type(
        db, code=service_code, data=body, actor=principal, now=utcnow()
    )
    return service.service_type_read(updated)


@router.get("/service-types/{service_code}/versions", response_model=list[StandardVersionRead])
def list_versions(
    db: DbSession, principal: ApiUser, service_code: str
) -> list[StandardVersionRead]:
    return service.list_standard_versions(db, code=service_code, actor=principal)
