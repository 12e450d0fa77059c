"""Bookings: book, reschedule, cancel, check in, and reading them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.appointments.models import (
    Appointment,
    AppointmentSlot,
    AppointmentState,
    BookingChannel,
)
from branchdesk.appointments.schemas import (
    AppointmentCreate,
    AppointmentRead,
)
from branchdesk.appointments.service.common import (
    TooEarly,
    TooLate,
    append_event,
    appointment_settings,
    audit,
    bookable_slot,
    branch_of,
    day_bounds,
    local_time,
    locked_appointment,
    notify,
    release_place,
    require_state,
    take_place,
)
from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.core.errors import NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.references import next_value
from branchdesk.customers.models import Customer
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue import service as queue
from branchdesk.queue.models import Channel, Priority, Ticket

# --- appointments ----------------------------------------------------------------------------


def get_appointment(db: Session, *, reference: str, actor: Principal) -> Appointment:
    """Raises NotFound or Forbidden."""
    appointment = db.execute(
        select(Appointment).where(Appointment.reference == reference.upper())
    ).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"no appointment {reference!r}")
    actor.require(Permission.queue_view, appointment.branch_id)
    return appointment


def list_appointments(
    db: Session, *, branch: Branch, on: date, actor: Principal
) -> list[Appointment]:
    """One branch-local day's appointments in time order. Raises Forbidden."""
    actor.require(Permission.queue_view, branch.id)
    start, end = day_bounds(branch, on)
    return list(
        db.execute(
            select(Appointment)
            .where(
                Appointment.branch_id == branch.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(Appointment.starts_at, Appointment.reference)
        ).scalars()
    )


def appointment_read(db: Session, appointment: Appointment) -> AppointmentRead:
    branch = branch_of(db, appointment.branch_id)
    service = db.get(ServiceType, appointment.service_type_id)
    ticket = db.get(Ticket, appointment.ticket_id) if appointment.ticket_id else None
    customer = db.get(Customer, appointment.customer_id) if appointment.customer_id else None
    return AppointmentRead(
        id=appointment.id,
        reference=appointment.reference,
        branch_code=branch.code,
        service_code=service.code if service else "",
        slot_id=appointment.slot_id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        local_start=local_time(branch, appointment.starts_at).strftime("%Y-%m-%d %H:%M"),
        business_on=appointment.business_on,
        customer_id=appointment.customer_id,
        contact_name=appointment.contact_name or (customer.full_name if customer else ""),
        has_phone=bool(appointment.contact_phone or (customer and customer.phone)),
        channel=BookingChannel(appointment.channel),
        state=AppointmentState(appointment.state),
        is_late=appointment.is_late,
        ticket_number=ticket.number if ticket else None,
        booked_at=appointment.booked_at,
        checked_in_at=appointment.checked_in_at,
        rescheduled_count=appointment.rescheduled_count,
    )


def book_appointment(
    db: Session,
    *,
    data: AppointmentCreate,
    channel: BookingChannel,
    now: datetime,
    actor: Principal | None,
) -> Appointment:
    """Take one place in a slot. Raises NotFound, Forbidden, SlotInPast, SlotFull,
    RuleViolation (unknown customer); a refused booking writes nothing."""
    slot = bookable_slot(db, data.slot_id, now, actor)
    locale = data.locale
    if data.customer_id is not None:
        customer = db.get(Customer, data.customer_id)
        if customer is None:
            raise RuleViolation("unknown customer", field="customer_id")
        locale = locale or customer.preferred_locale
    take_place(db, slot)
    branch = branch_of(db, slot.branch_id)
    day = local_time(branch, slot.starts_at).date()
    number = next_value(db, f"appointment:{day:%Y%m%d}")
    appointment = Appointment(
        id=new_id(),
        reference=f"AP-{day:%Y%m%d}-{number:04d}",
        branch_id=slot.branch_id,
        service_type_id=slot.service_type_id,
        slot_id=slot.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        business_on=day,
        customer_id=data.customer_id,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        contact_email=data.contact_email,
        locale=locale or "zh-Hant",
        note=data.note,
        channel=channel,
        state=AppointmentState.booked,
        is_late=False,
        booked_at=now,
        booked_by_id=actor.user_id if actor else None,
        rescheduled_count=0,
        updated_at=now,
    )
    db.add(appointment)
    db.flush()
    append_event(db, appointment, "booked", now, actor, {"channel": channel})
    audit(db, appointment, "book", now, actor, {"channel": channel})
    notify(db, appointment, "appointment.booked", now, actor)
    db.flush()
    return appointment


def reschedule_appointment(
    db: Session, *, reference: str, slot_id: uuid.UUID, now: datetime, actor: Principal | None
) -> Appointment:
    """Move a booking to another slot in one transaction (the new place is taken first).
    Raises NotFound, Forbidden, InvalidAppointmentState, SlotInPast, SlotFull, RuleViolation."""
    appointment = locked_appointment(db, reference, actor)
    require_state(appointment, AppointmentState.booked)
    if slot_id == appointment.slot_id:
        raise RuleViolation("the appointment is already in this slot", field="slot_id")
    slot = bookable_slot(db, slot_id, now, actor)
    # Both slot rows in id order, so two reschedules swapping slots cannot deadlock.
    db.execute(
        select(AppointmentSlot.id)
        .where(AppointmentSlot.id.in_([slot.id, appointment.slot_id]))
        .order_by(AppointmentSlot.id)
        .with_for_update()
    ).all()
    take_place(db, slot)
    old_slot_id, old_starts_at = appointment.slot_id, appointment.starts_at
    release_place(db, old_slot_id)
    branch = branch_of(db, slot.branch_id)
    appointment.slot_id = slot.id
    appointment.branch_id = slot.branch_id
    appointment.service_type_id = slot.service_type_id
    appointment.starts_at = slot.starts_at
    appointment.ends_at = slot.ends_at
    appointment.business_on = local_time(branch, slot.starts_at).date()
    appointment.rescheduled_count += 1
    appointment.reminder_queued_at = None  # a new time deserves a new reminder
    appointment.updated_at = now
    db.flush()
    moved = {"from_slot_id": str(old_slot_id), "from_starts_at": old_starts_at.isoformat()}
    append_event(db, appointment, "rescheduled", now, actor, moved)
    audit(db, appointment, "reschedule", now, actor, moved)
    notify(db, appointment, "appointment.rescheduled", now, actor)
    db.flush()
    return appointment


def cancel_appointment(
    db: Session, *, reference: str, now: datetime, actor: Principal | None, reason: str = ""
) -> Appointment:
    """Cancel a booking and give its place back. Raises NotFound, Forbidden,
    InvalidAppointmentState."""
    appointment = locked_appointment(db, reference, actor)
    require_state(appointment, AppointmentState.booked)
    release_place(db, appointment.slot_id)
    appointment.state = AppointmentState.cancelled
    appointment.cancelled_at = now
    appointment.closed_at = now
    appointment.updated_at = now
    db.flush()
    append_event(db, appointment, "cancelled", now, actor, {"reason": reason})
    audit(db, appointment, "cancel", now, actor, {"reason": reason})
    notify(db, appointment, "appointment.cancelled", now, actor)
    db.flush()
    return appointment


@dataclass(frozen=True, slots=True)
class CheckIn:
    appointment: Appointment
    ticket: Ticket
    is_late: bool


def check_in_appointment(
    db: Session,
    *,
    reference: str,
    now: datetime,
    actor: Principal | None,
    estimator: queue.WaitEstimator | None = None,
) -> CheckIn:
    """Issue the queue ticket for an arrived customer: appointment priority inside
    [start - early, start + late], a walk-in ticket with normal priority after that (same local
    day). Raises NotFound, Forbidden, InvalidAppointmentState, TooEarly, TooLate, and the
    queue's BranchClosed / RuleViolation; a refused check-in changes nothing."""
    appointment = locked_appointment(db, reference, actor)
    require_state(appointment, AppointmentState.booked)
    settings = appointment_settings(db, appointment.branch_id)
    opens = appointment.starts_at - timedelta(minutes=settings.early_checkin_minutes)
    closes = appointment.starts_at + timedelta(minutes=settings.late_checkin_minutes)
    branch = branch_of(db, appointment.branch_id)
    if now < opens:
        raise TooEarly(
            f"check-in opens at {local_time(branch, opens):%H:%M}, "
            f"{settings.early_checkin_minutes} minutes before the appointment"
        )
    if catalog.business_day(branch, now) > appointment.business_on:  # early across midnight is fine
        raise TooLate("this appointment was for another day; take a new ticket")
    is_late = now > closes
    service = db.get(ServiceType, appointment.service_type_id)
    assert service is not None  # a foreign key
    ticket = queue.issue_ticket(
        db,
        branch=branch,
        service_code=service.code,
        channel=Channel.lobby if is_late else Channel.appointment,
        priority=Priority.normal if is_late else Priority.appointment,
        booked_at=None if is_late else appointment.starts_at,
        appointment_id=appointment.id,
        customer_id=appointment.customer_id,
        contact_phone=appointment.contact_phone,
        actor=actor,
        now=now,
        estimator=estimator,
    )
    appointment.state = AppointmentState.checked_in
    appointment.checked_in_at = now
    appointment.ticket_id = ticket.id
    appointment.is_late = is_late
    appointment.updated_at = now
    db.flush()
    detail = {"ticket": ticket.number, "is_late": is_late}
    append_event(db, appointment, "checked_in", now, actor, detail)
    audit(db, appointment, "check_in", now, actor, detail)
    db.flush()
    return CheckIn(appointment=appointment, ticket=ticket, is_late=is_late)
