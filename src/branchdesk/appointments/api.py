"""JSON API of appointments: slot availability (public), bookings and check-in (staff)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from branchdesk.appointments import service
from branchdesk.appointments.models import BookingChannel
from branchdesk.appointments.schemas import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentRead,
    AppointmentReschedule,
    AppointmentSettingsRead,
    AppointmentSettingsUpdate,
    CheckInRead,
    SlotGenerate,
    SlotRead,
)
from branchdesk.catalog import service as catalog
from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.queue.deps import waits

router = APIRouter(prefix="/api/v1", tags=["appointments"])


@router.get(
    "/branches/{branch_code}/appointment-slots",
    response_model=list[SlotRead],
    summary="Bookable slots of one branch-local day (public: availability only)",
)
def list_slots(
    db: DbSession,
    branch_code: str,
    on: Annotated[date | None, Query(description="Branch-local day; default today")] = None,
    service_code: Annotated[str | None, Query(max_length=32)] = None,
) -> list[SlotRead]:
    branch = catalog.get_branch_by_code(db, branch_code)
    day = on or catalog.business_day(branch, utcnow())
    return service.list_slots(db, branch=branch, on=day, service_code=service_code)


@router.post(
    "/branches/{branch_code}/appointment-slots/generate",
    status_code=201,
    summary="Create slots from the branch's opening hours (existing slots are kept)",
)
def generate_slots(
    db: DbSession, principal: ApiUser, branch_code: str, body: SlotGenerate
) -> dict[str, int]:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    created = service.generate_slots(
        db, branch=branch, start_on=body.from_on, days=body.days, minutes=body.minutes,
        capacity=body.capacity, service_codes=body.service_codes, now=utcnow(), actor=principal,
    )  # fmt: skip
    return {"created": created}


@router.get("/branches/{branch_code}/appointments", response_model=list[AppointmentRead])
def list_appointments(
    db: DbSession, principal: ApiUser, branch_code: str, on: date | None = None
) -> list[AppointmentRead]:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    day = on or catalog.business_day(branch, utcnow())
    rows = service.list_appointments(db, branch=branch, on=day, actor=principal)
    return [service.appointment_read(db, a) for a in rows]


@router.get("/branches/{branch_code}/appointment-settings", response_model=AppointmentSettingsRead)
def get_settings(db: DbSession, principal: ApiUser, branch_code: str) -> AppointmentSettingsRead:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    return service.settings_read(db, branch=branch)


@router.put("/branches/{branch_code}/appointment-settings", response_model=AppointmentSettingsRead)
def update_settings(
    db: DbSession, principal: ApiUser, branch_code: str, body: AppointmentSettingsUpdate
) -> AppointmentSettingsRead:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    return service.update_settings(db, branch=branch, data=body, actor=principal, now=utcnow())


@router.post(
    "/appointments",
    response_model=AppointmentRead,
    status_code=201,
    summary="Book a place in a slot (409 slot_full when none is left)",
)
def book(db: DbSession, principal: ApiUser, body: AppointmentCreate) -> AppointmentRead:
    appointment = service.book_appointment(
        db, data=body, channel=BookingChannel.api, now=utcnow(), actor=principal
    )
    return service.appointment_read(db, appointment)


@router.get("/appointments/{reference}", response_model=AppointmentRead)
def get_appointment(db: DbSession, principal: ApiUser, reference: str) -> AppointmentRead:
    appointment = service.get_appointment(db, reference=reference, actor=principal)
    return service.appointment_read(db, appointment)


@router.post(
    "/appointments/{reference}/reschedule",
    response_model=AppointmentRead,
    summary="Move to another slot atomically (409 slot_full: nothing changes)",
)
def reschedule(
    db: DbSession, principal: ApiUser, reference: str, body: AppointmentReschedule
) -> AppointmentRead:
    appointment = service.reschedule_appointment(
        db, reference=reference, slot_id=body.slot_id, now=utcnow(), actor=principal
    )
    return service.appointment_read(db, appointment)


@router.post("/appointments/{reference}/cancel", response_model=AppointmentRead)
def cancel(
    db: DbSession, principal: ApiUser, reference: str, body: AppointmentCancel | None = None
) -> AppointmentRead:
    appointment = service.cancel_appointment(
        db, reference=reference, now=utcnow(), actor=principal,
        reason=body.reason if body else "",
    )  # fmt: skip
    return service.appointment_read(db, appointment)


@router.post(
    "/appointments/{reference}/check-in",
    response_model=CheckInRead,
    summary="Arrived: issue the queue ticket (422 too_early before the window; late: walk-in)",
)
def check_in(request: Request, db: DbSession, principal: ApiUser, reference: str) -> CheckInRead:
    result = service.check_in_appointment(
        db, reference=reference, now=utcnow(), actor=principal, estimator=waits(request)
    )
    return CheckInRead(
        appointment=service.appointment_read(db, result.appointment),
        ticket_id=result.ticket.id,
        ticket_number=result.ticket.number,
        priority=result.ticket.priority,
        is_late=result.is_late,
    )
