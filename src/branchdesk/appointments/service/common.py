"""Errors, shared helpers and the per-branch settings of the appointments services."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from branchdesk.appointments.models import (
    Appointment,
    AppointmentSettings,
    AppointmentSlot,
    AppointmentState,
)
from branchdesk.appointments.notifications import appointment_message
from branchdesk.appointments.schemas import (
    AppointmentSettingsRead,
    AppointmentSettingsUpdate,
)
from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.notify import queue_notification
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission


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


# --- helpers ---------------------------------------------------------------------------------


def local_time(branch: Branch, instant: datetime) -> datetime:
    return instant.astimezone(ZoneInfo(branch.timezone))


def branch_of(db: Session, branch_id: uuid.UUID) -> Branch:
    branch = db.get(Branch, branch_id)
    if branch is None:
        raise NotFound("no such branch")
    return branch


def append_event(
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


def audit(
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
        actor=actor,
        detail={"reference": appointment.reference, **(detail or {})},
    )


def take_place(db: Session, slot: AppointmentSlot) -> None:
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


def release_place(db: Session, slot_id: uuid.UUID) -> None:
    db.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == slot_id, AppointmentSlot.booked_count > 0)
        .values(booked_count=AppointmentSlot.booked_count - 1)
        .execution_options(synchronize_session=False)
    )
    slot = db.get(AppointmentSlot, slot_id)
    if slot is not None:
        db.expire(slot, ["booked_count"])


def bookable_slot(
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


def locked_appointment(db: Session, reference: str, actor: Principal | None) -> Appointment:
    appointment = db.execute(
        select(Appointment).where(Appointment.reference == reference.upper()).with_for_update()
    ).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"no appointment {reference!r}")
    if actor is not None:
        actor.require(Permission.queue_issue, appointment.branch_id)
    return appointment


def require_state(appointment: Appointment, *states: AppointmentState) -> None:
    if appointment.state not in states:
        raise InvalidAppointmentState(f"{appointment.reference} is {appointment.state}")


def notify(
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
        actor=actor,
        detail=data.model_dump(),
    )
    record_event(
        db,
        type="appointment.settings_updated",
        aggregate_type="branch",
        aggregate_id=branch.id,
        branch_id=branch.id,
        actor_id=actor.user_id,
        now=now,
        payload=data.model_dump(),
    )
    db.flush()
    return settings_read(db, branch=branch)


def day_bounds(branch: Branch, on: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(branch.timezone)
    start = datetime.combine(on, datetime.min.time(), zone)
    return start, datetime.combine(on + timedelta(days=1), datetime.min.time(), zone)
