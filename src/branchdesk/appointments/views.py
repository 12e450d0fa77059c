"""Staff pages: one branch's appointments of one day, with book (phone), cancel and check-in."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.appointments import service
from branchdesk.appointments.models import AppointmentState, BookingChannel
from branchdesk.appointments.schemas import AppointmentCreate, SlotGenerate
from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, NotFound
from branchdesk.core.web import DbSession, redirect, refusal_errors, render, validate_form
from branchdesk.identity.deps import PageUser, PostedForm
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue.deps import waits

router = APIRouter(include_in_schema=False)

LOCALES = ("zh-Hant", "zh-Hans", "en")


def _day(branch: Branch, on: str | None) -> date:
    if on:
        try:
            return date.fromisoformat(on)
        except ValueError:
            pass
    return catalog.business_day(branch, utcnow())


def _page(
    request: Request,
    db: DbSession,
    principal: Principal,
    branch: Branch,
    day: date,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    appointments = [
        service.appointment_read(db, a)
        for a in service.list_appointments(db, branch=branch, on=day, actor=principal)
    ]
    slots = service.list_slots(db, branch=branch, on=day)
    return render(
        request,
        "appointments/day.html",
        {
            "branch": catalog.branch_read(db, branch),
            "day": day.isoformat(),
            "previous_day": (day - timedelta(days=1)).isoformat(),
            "next_day": (day + timedelta(days=1)).isoformat(),
            "appointments": appointments,
            "slots": slots,
            "open_slots": [s for s in slots if s.available > 0 and s.starts_at > utcnow()],
            "booked_state": AppointmentState.booked.value,
            "can_book": principal.can(Permission.queue_issue, branch.id),
            "can_generate": principal.can(Permission.branch_update, branch.id),
            "locales": LOCALES,
            "ticket": request.query_params.get("ticket", ""),
            "saved": request.query_params.get("saved") == "1",
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


def _back(branch: Branch, day: date, **extra: str) -> Response:
    query = "&".join(f"{k}={v}" for k, v in {"on": day.isoformat(), **extra}.items())
    return redirect(f"/branches/{branch.code}/appointments?{query}")


def _refused(
    request: Request,
    db: DbSession,
    principal: Principal,
    branch: Branch,
    day: date,
    exc: DomainError,
    values: dict[str, Any] | None = None,
) -> Response:
    errors = refusal_errors(db, exc)
    return _page(
        request, db, principal, branch, day, errors=errors, values=values,
        status_code=exc.status_code,
    )  # fmt: skip


@router.get("/branches/{code}/appointments", response_class=HTMLResponse)
def day_page(
    request: Request, db: DbSession, principal: PageUser, code: str, on: str | None = None
) -> Response:
    branch = catalog.get_branch(db, code=code, actor=principal)
    return _page(request, db, principal, branch, _day(branch, on))


@router.post("/branches/{code}/appointments")
def book(
    request: Request, db: DbSession, principal: PageUser, code: str, form: PostedForm
) -> Response:
    branch = catalog.get_branch(db, code=code, actor=principal)
    principal.require(Permission.queue_issue, branch.id)
    day = _day(branch, str(form.get("on", "")))
    values: dict[str, Any] = {
        k: v for k, v in form.items() if isinstance(v, str) and k != "on" and v != ""
    }
    data, errors = validate_form(AppointmentCreate, values)
    if data is None:
        return _page(request, db, principal, branch, day, errors=errors, values=values,
                     status_code=422)  # fmt: skip
    try:
        appointment = service.book_appointment(
            db, data=data, channel=BookingChannel.phone, now=utcnow(), actor=principal
        )
    except DomainError as exc:
        return _refused(request, db, principal, branch, day, exc, values)
    return _back(branch, appointment.business_on, saved="1")


def _own(db: DbSession, principal: Principal, branch: Branch, reference: str) -> date:
    appointment = service.get_appointment(db, reference=reference, actor=principal)
    if appointment.branch_id != branch.id:
        raise NotFound(f"no appointment {reference!r} at {branch.code}")
    return appointment.business_on


@router.post("/branches/{code}/appointments/{reference}/cancel")
def cancel(
    request: Request,
    db: DbSession,
    principal: PageUser,
    code: str,
    reference: str,
    form: PostedForm,
) -> Response:
    branch = catalog.get_branch(db, code=code, actor=principal)
    day = _own(db, principal, branch, reference)
    try:
        service.cancel_appointment(
            db, reference=reference, now=utcnow(), actor=principal,
            reason=str(form.get("reason", ""))[:200],
        )  # fmt: skip
    except DomainError as exc:
        return _refused(request, db, principal, branch, day, exc)
    return _back(branch, day, saved="1")


@router.post("/branches/{code}/appointments/{reference}/check-in")
def check_in(
    request: Request,
    db: DbSession,
    principal: PageUser,
    code: str,
    reference: str,
    form: PostedForm,
) -> Response:
    branch = catalog.get_branch(db, code=code, actor=principal)
    day = _own(db, principal, branch, reference)
    try:
        result = service.check_in_appointment(
            db, reference=reference, now=utcnow(), actor=principal, estimator=waits(request)
        )
    except DomainError as exc:
        return _refused(request, db, principal, branch, day, exc)
    return _back(branch, day, ticket=result.ticket.number)


@router.post("/branches/{code}/appointments/generate")
def generate(
    request: Request, db: DbSession, principal: PageUser, code: str, form: PostedForm
) -> Response:
    branch = catalog.get_branch(db, code=code, actor=principal)
    principal.require(Permission.branch_update, branch.id)
    fields = ("from_on", "days", "minutes", "capacity")
    values: dict[str, Any] = {k: v for k, v in form.items() if k in fields and v != ""}
    data, errors = validate_form(SlotGenerate, values)
    day = _day(branch, str(form.get("from_on", "")))
    if data is None:
        return _page(request, db, principal, branch, day, errors=errors, status_code=422)
    try:
        service.generate_slots(
            db, branch=branch, start_on=data.from_on, days=data.days, minutes=data.minutes,
            capacity=data.capacity, service_codes=data.service_codes, now=utcnow(),
            actor=principal,
        )  # fmt: skip
    except DomainError as exc:
        return _refused(request, db, principal, branch, day, exc)
    return _back(branch, data.from_on, saved="1")
