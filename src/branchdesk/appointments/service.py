"""Slots and appointments: book, reschedule, cancel, check in; the only code that writes them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from branchdesk.appointments.models import (
    Appointment,
    AppointmentSettings,
    AppointmentSlot,
    AppointmentState,
    BookingChannel,
)
from branchdesk.appointments.notifications import appointment_message
from branchdesk.appointments.schemas import (
    AppointmentCreate,
    AppointmentRead,
    AppointmentSettingsRead,
    AppointmentSettingsUpdate,
    SlotRead,
)
from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.core.notify import queue_notification
from branchdesk.core.references import next_value
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue import service as queue
from branchdesk.queue.models import Channel, Priority, Ticket, TicketState


class SlotFull(Conflict):
    code = "slot_full"


class InvalidAppointmentState(Conflict):
    code = "invalid_state"


class SlotInPast(RuleViolation):
    code = "slot_in_past"


class TooEarly(RuleViolation):
    code = "too_early"


class TooLate(RuleViolation):
    code = "too_late"


DEFAULT_EARLY_MINUTES = 30
DEFAULT_LATE_MINUTES = 15
DEFAULT_REMINDER_HOURS = 24
HELD_STATES = (
    AppointmentState.booked,
    AppointmentState.checked_in,
    AppointmentState.no_show,
    AppointmentState.completed,
)


# --- helpers ---------------------------------------------------------------------------------


def _local(branch: Branch, instant: datetime) -> datetime:
    return instant.astimezone(ZoneInfo(branch.timezone))


def _branch(db: Session, branch_id: uuid.UUID) -> Branch:
    branch = db.get(Branch, branch_id)
    if branch is None:
        raise NotFound("no such branch")
    return branch


def _event(
    db: Session,
    appointment: Appointment,
    what: str,
    now: datetime,
    actor: Principal | None,
    extra: dict[str, Any] | None = None,
) -> None:
    record_event(
        db,
        type=f"appointment.{what}",
        aggregate_type="appointment",
        aggregate_id=appointment.id,
        branch_id=appointment.branch_id,
        actor_id=actor.user_id if actor else None,
        now=now,
        payload={
            "reference": appointment.reference,
            "state": appointment.state,
            "slot_id": str(appointment.slot_id),
            "starts_at": appointment.starts_at.isoformat(),
            **(extra or {}),
        },
    )


def _audit(
    db: Session,
    appointment: Appointment,
    action: str,
    now: datetime,
    actor: Principal | None,
    detail: Mapping[str, object] | None = None,
) -> None:
    if actor is None:
        return
    append_audit(
        db,
        action=f"appointment.{action}",
        object_type="appointment",
        object_id=appointment.id,
        branch_id=appointment.branch_id,
        now=now,
        actor_id=actor.user_id,
        actor_label=actor.label,
        detail={"reference": appointment.reference, **(detail or {})},
    )


def _take_place(db: Session, slot: AppointmentSlot) -> None:
    """One place more in ``slot``, atomically; raises SlotFull (nothing written) when full."""
    taken = db.execute(
        update(AppointmentSlot)
        .where(
            AppointmentSlot.id == slot.id, AppointmentSlot.booked_count < AppointmentSlot.capacity
        )
        .values(booked_count=AppointmentSlot.booked_count + 1)
        .returning(AppointmentSlot.booked_count)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.expire(slot, ["booked_count"])
    if taken is None:
        raise SlotFull("this slot is fully booked; choose another time", field="slot_id")


def _release_place(db: Session, slot_id: uuid.UUID) -> None:
    db.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == slot_id, AppointmentSlot.booked_count > 0)
        .values(booked_count=AppointmentSlot.booked_count - 1)
        .execution_options(synchronize_session=False)
    )
    slot = db.get(AppointmentSlot, slot_id)
    if slot is not None:
        db.expire(slot, ["booked_count"])


def _bookable_slot(
    db: Session, slot_id: uuid.UUID, now: datetime, actor: Principal | None
) -> AppointmentSlot:
    slot = db.get(AppointmentSlot, slot_id)
    if slot is None:
        raise NotFound("no such appointment slot", field="slot_id")
    if actor is not None:
        actor.require(Permission.queue_issue, slot.branch_id)
    if slot.starts_at <= now:
        raise SlotInPast("this slot has already started", field="slot_id")
    return slot


def _locked(db: Session, reference: str, actor: Principal | None) -> Appointment:
    appointment = db.execute(
        select(Appointment).where(Appointment.reference == reference.upper()).with_for_update()
    ).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"no appointment {reference!r}")
    if actor is not None:
        actor.require(Permission.queue_issue, appointment.branch_id)
    return appointment


def _require_state(appointment: Appointment, *states: AppointmentState) -> None:
    if appointment.state not in states:
        raise InvalidAppointmentState(f"{appointment.reference} is {appointment.state}")


def _notify(
    db: Session, appointment: Appointment, template: str, now: datetime, actor: Principal | None
) -> bool:
    message = appointment_message(db, appointment, template)
    if message is None:
        return False
    queue_notification(
        db,
        message=message,
        now=now,
        aggregate_type="appointment",
        aggregate_id=appointment.id,
        branch_id=appointment.branch_id,
        actor_id=actor.user_id if actor else None,
    )
    return True


# --- settings --------------------------------------------------------------------------------


def appointment_settings(db: Session, branch_id: uuid.UUID) -> AppointmentSettings:
    """The branch's row, or the defaults (not added to the session) when it has none."""
    settings = db.get(AppointmentSettings, branch_id)
    if settings is None:
        settings = AppointmentSettings(
            branch_id=branch_id,
            early_checkin_minutes=DEFAULT_EARLY_MINUTES,
            late_checkin_minutes=DEFAULT_LATE_MINUTES,
            reminder_hours=DEFAULT_REMINDER_HOURS,
        )
    return settings


def settings_read(db: Session, *, branch: Branch) -> AppointmentSettingsRead:
    settings = appointment_settings(db, branch.id)
    return AppointmentSettingsRead(
        branch_code=branch.code,
        early_checkin_minutes=settings.early_checkin_minutes,
        late_checkin_minutes=settings.late_checkin_minutes,
        reminder_hours=settings.reminder_hours,
    )


def update_settings(
    db: Session,
    *,
    branch: Branch,
    data: AppointmentSettingsUpdate,
    actor: Principal,
    now: datetime,
) -> AppointmentSettingsRead:
    """Raises Forbidden."""
    actor.require(Permission.branch_update, branch.id)
    settings = db.get(AppointmentSettings, branch.id)
    if settings is None:
        settings = AppointmentSettings(branch_id=branch.id)
        db.add(settings)
    for name, value in data.model_dump().items():
        setattr(settings, name, value)
    settings.updated_at = now
    append_audit(
        db,
        action="appointment_settings.update",
        object_type="branch",
        object_id=branch.id,
        branch_id=branch.id,
        now=now,
        actor_id=actor.user_id,
        actor_label=actor.label,
        detail=data.model_dump(),
    )
    db.flush()
    return settings_read(db, branch=branch)


# --- slots -----------------------------------------------------------------------------------


def generate_slots(
    db: Session,
    *,
    branch: Branch,
    start_on: date,
    days: int,
    minutes: int,
    capacity: int,
    now: datetime,
    service_codes: Sequence[str] = (),
    actor: Principal | None = None,
) -> int:
    """Slots of ``minutes`` within the opening hours of each day (holidays skipped) for each
    service (default: every service offered at the branch); existing slots are kept.
    Returns how many were created. Raises Forbidden, RuleViolation (service not offered, bad size).
    """
    if actor is not None:
        actor.require(Permission.branch_update, branch.id)
    if minutes < 5 or capacity < 1 or days < 1:
        raise RuleViolation("slots need at least 5 minutes, 1 place and 1 day")
    codes = [c.upper() for c in service_codes] or [
        s.service_code for s in catalog.list_branch_services(db, branch=branch, only_enabled=True)
    ]
    services = [queue.offered_service(db, branch, code)[0] for code in codes]
    zone = ZoneInfo(branch.timezone)
    end_on = start_on + timedelta(days=days - 1)
    holidays = catalog.holidays_between(db, branch_id=branch.id, start=start_on, end=end_on)
    hours = {h.weekday: h for h in catalog.opening_hours(db, branch.id)}
    windows: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = start_on + timedelta(days=offset)
        opening = hours.get(day.weekday())
        if day in holidays or opening is None:
            continue
        start = datetime.combine(day, opening.opens_at, zone)
        closes = datetime.combine(day, opening.closes_at, zone)
        step = timedelta(minutes=minutes)
        while start + step <= closes:
            windows.append((start.astimezone(UTC), (start + step).astimezone(UTC)))
            start += step
    if not windows:
        return 0
    created = 0
    for service in services:
        existing = set(
            db.execute(
                select(AppointmentSlot.starts_at).where(
                    AppointmentSlot.branch_id == branch.id,
                    AppointmentSlot.service_type_id == service.id,
                    AppointmentSlot.starts_at >= windows[0][0],
                    AppointmentSlot.starts_at <= windows[-1][0],
                )
            ).scalars()
        )
        for starts_at, ends_at in windows:
            if starts_at in existing:
                continue
            db.add(
                AppointmentSlot(
                    id=new_id(),
                    branch_id=branch.id,
                    service_type_id=service.id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    capacity=capacity,
                    booked_count=0,
                    created_at=now,
                )
            )
            created += 1
    record_event(
        db,
        type="appointment.slots_generated",
        aggregate_type="branch",
        aggregate_id=branch.id,
        branch_id=branch.id,
        actor_id=actor.user_id if actor else None,
        now=now,
        payload={
            "from_on": start_on.isoformat(),
            "days": days,
            "minutes": minutes,
            "capacity": capacity,
            "services": sorted(s.code for s in services),
            "created": created,
        },
    )
    if actor is not None:
        append_audit(
            db,
            action="appointment.slots_generate",
            object_type="branch",
            object_id=branch.id,
            branch_id=branch.id,
            now=now,
            actor_id=actor.user_id,
            actor_label=actor.label,
            detail={"from_on": start_on.isoformat(), "days": days, "created": created},
        )
    db.flush()
    return created


def _day_bounds(branch: Branch, on: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(branch.timezone)
    start = datetime.combine(on, datetime.min.time(), zone)
    return start, datetime.combine(on + timedelta(days=1), datetime.min.time(), zone)


def list_slots(
    db: Session, *, branch: Branch, on: date, service_code: str | None = None
) -> list[SlotRead]:
    """The slots of one branch-local day (public: availability only, no names)."""
    start, end = _day_bounds(branch, on)
    query = (
        select(AppointmentSlot, ServiceType.code)
        .join(ServiceType, ServiceType.id == AppointmentSlot.service_type_id)
        .where(
            AppointmentSlot.branch_id == branch.id,
            AppointmentSlot.starts_at >= start,
            AppointmentSlot.starts_at < end,
        )
        .order_by(AppointmentSlot.starts_at, ServiceType.code)
    )
    if service_code:
        query = query.where(ServiceType.code == service_code.upper())
    return [
        SlotRead(
            id=slot.id,
            branch_code=branch.code,
            service_code=code,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            local_start=_local(branch, slot.starts_at).strftime("%H:%M"),
            local_end=_local(branch, slot.ends_at).strftime("%H:%M"),
            capacity=slot.capacity,
            booked_count=slot.booked_count,
            available=slot.capacity - slot.booked_count,
        )
        for slot, code in db.execute(query).all()
    ]


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
    start, end = _day_bounds(branch, on)
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
    branch = _branch(db, appointment.branch_id)
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
        local_start=_local(branch, appointment.starts_at).strftime("%Y-%m-%d %H:%M"),
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
    slot = _bookable_slot(db, data.slot_id, now, actor)
    locale = data.locale
    if data.customer_id is not None:
        customer = db.get(Customer, data.customer_id)
        if customer is None:
            raise RuleViolation("unknown customer", field="customer_id")
        locale = locale or customer.preferred_locale
    _take_place(db, slot)
    branch = _branch(db, slot.branch_id)
    day = _local(branch, slot.starts_at).date()
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
    _event(db, appointment, "booked", now, actor, {"channel": channel})
    _audit(db, appointment, "book", now, actor, {"channel": channel})
    _notify(db, appointment, "appointment.booked", now, actor)
    db.flush()
    return appointment


def reschedule_appointment(
    db: Session, *, reference: str, slot_id: uuid.UUID, now: datetime, actor: Principal | None
) -> Appointment:
    """Move a booking to another slot in one transaction (the new place is taken first).
    Raises NotFound, Forbidden, InvalidAppointmentState, SlotInPast, SlotFull, RuleViolation."""
    appointment = _locked(db, reference, actor)
    _require_state(appointment, AppointmentState.booked)
    if slot_id == appointment.slot_id:
        raise RuleViolation("the appointment is already in this slot", field="slot_id")
    slot = _bookable_slot(db, slot_id, now, actor)
    _take_place(db, slot)
    old_slot_id, old_starts_at = appointment.slot_id, appointment.starts_at
    _release_place(db, old_slot_id)
    branch = _branch(db, slot.branch_id)
    appointment.slot_id = slot.id
    appointment.branch_id = slot.branch_id
    appointment.service_type_id = slot.service_type_id
    appointment.starts_at = slot.starts_at
    appointment.ends_at = slot.ends_at
    appointment.business_on = _local(branch, slot.starts_at).date()
    appointment.rescheduled_count += 1
    appointment.reminder_queued_at = None  # a new time deserves a new reminder
    appointment.updated_at = now
    db.flush()
    moved = {"from_slot_id": str(old_slot_id), "from_starts_at": old_starts_at.isoformat()}
    _event(db, appointment, "rescheduled", now, actor, moved)
    _audit(db, appointment, "reschedule", now, actor, moved)
    _notify(db, appointment, "appointment.rescheduled", now, actor)
    db.flush()
    return appointment


def cancel_appointment(
    db: Session, *, reference: str, now: datetime, actor: Principal | None, reason: str = ""
) -> Appointment:
    """Cancel a booking and give its place back. Raises NotFound, Forbidden,
    InvalidAppointmentState."""
    appointment = _locked(db, reference, actor)
    _require_state(appointment, AppointmentState.booked)
    _release_place(db, appointment.slot_id)
    appointment.state = AppointmentState.cancelled
    appointment.cancelled_at = now
    appointment.closed_at = now
    appointment.updated_at = now
    db.flush()
    _event(db, appointment, "cancelled", now, actor, {"reason": reason})
    _audit(db, appointment, "cancel", now, actor, {"reason": reason})
    _notify(db, appointment, "appointment.cancelled", now, actor)
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
    appointment = _locked(db, reference, actor)
    _require_state(appointment, AppointmentState.booked)
    settings = appointment_settings(db, appointment.branch_id)
    opens = appointment.starts_at - timedelta(minutes=settings.early_checkin_minutes)
    closes = appointment.starts_at + timedelta(minutes=settings.late_checkin_minutes)
    branch = _branch(db, appointment.branch_id)
    if now < opens:
        raise TooEarly(
            f"check-in opens at {_local(branch, opens):%H:%M}, "
            f"{settings.early_checkin_minutes} minutes before the appointment"
        )
    if catalog.business_day(branch, now) != appointment.business_on:
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
    _event(db, appointment, "checked_in", now, actor, detail)
    _audit(db, appointment, "check_in", now, actor, detail)
    db.flush()
    return CheckIn(appointment=appointment, ticket=ticket, is_late=is_late)


# --- jobs ------------------------------------------------------------------------------------

MAX_REMINDER_HOURS = 168


def queue_reminders(db: Session, *, now: datetime) -> int:
    """Queue one reminder per booked appointment that starts within its branch's reminder lead
    (sent after commit by the notifier; never twice). Returns how many were queued."""
    candidates = db.execute(
        select(Appointment)
        .where(
            Appointment.state == AppointmentState.booked,
            Appointment.reminder_queued_at.is_(None),
            Appointment.starts_at > now,
            Appointment.starts_at <= now + timedelta(hours=MAX_REMINDER_HOURS),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).scalars()
    leads: dict[uuid.UUID, timedelta] = {}
    queued = 0
    for appointment in list(candidates):
        if appointment.branch_id not in leads:
            hours = appointment_settings(db, appointment.branch_id).reminder_hours
            leads[appointment.branch_id] = timedelta(hours=hours)
        if appointment.starts_at > now + leads[appointment.branch_id]:
            continue
        if appointment_message(db, appointment, "appointment.reminder") is None:
            continue  # nobody to remind
        claimed = db.execute(
            update(Appointment)
            .where(
                Appointment.id == appointment.id,
                Appointment.reminder_queued_at.is_(None),
                Appointment.state == AppointmentState.booked,
            )
            .values(reminder_queued_at=now)
            .returning(Appointment.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        db.expire(appointment, ["reminder_queued_at"])
        if claimed is None:
            continue  # another worker took it
        _notify(db, appointment, "appointment.reminder", now, None)
        queued += 1
    db.flush()
    return queued


@dataclass(frozen=True, slots=True)
class SweepResult:
    no_show: int
    completed: int


def sweep_no_shows(db: Session, *, now: datetime, lookback_days: int = 7) -> SweepResult:
    """Mark bookings whose branch-local day is over as no_show, and checked-in appointments
    whose ticket was served as completed (no_show when the ticket was a no-show)."""
    rows = db.execute(
        select(Appointment)
        .where(
            Appointment.state.in_([AppointmentState.booked, AppointmentState.checked_in]),
            Appointment.starts_at < now,
            Appointment.starts_at >= now - timedelta(days=lookback_days),
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .with_for_update(skip_locked=True)
    ).scalars()
    branches: dict[uuid.UUID, date] = {}
    no_show = completed = 0
    for appointment in list(rows):
        if appointment.branch_id not in branches:
            branches[appointment.branch_id] = catalog.business_day(
                _branch(db, appointment.branch_id), now
            )
        if appointment.state == AppointmentState.booked:
            if appointment.business_on >= branches[appointment.branch_id]:
                continue
            outcome = AppointmentState.no_show
        else:
            if appointment.ticket_id is None:
                continue
            ticket_state = queue.get_ticket(db, appointment.ticket_id).state
            if ticket_state == TicketState.completed:
                outcome = AppointmentState.completed
            elif ticket_state == TicketState.no_show:
                outcome = AppointmentState.no_show
            else:
                continue
        appointment.state = outcome
        appointment.closed_at = now
        appointment.updated_at = now
        db.flush()
        _event(db, appointment, str(outcome), now, None)
        if outcome == AppointmentState.completed:
            completed += 1
        else:
            no_show += 1
    db.flush()
    return SweepResult(no_show=no_show, completed=completed)
