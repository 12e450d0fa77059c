"""Jobs: reminders before the appointment and the no-show sweep after it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from branchdesk.appointments.models import (
    Appointment,
    AppointmentState,
)
from branchdesk.appointments.notifications import appointment_message
from branchdesk.appointments.service.common import (
    append_event,
    appointment_settings,
    branch_of,
    notify,
)
from branchdesk.catalog import service as catalog
from branchdesk.queue import service as queue
from branchdesk.queue.models import TicketState

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
        notify(db, appointment, "appointment.reminder", now, None)
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
                branch_of(db, appointment.branch_id), now
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
        append_event(db, appointment, str(outcome), now, None)
        if outcome == AppointmentState.completed:
            completed += 1
        else:
            no_show += 1
    db.flush()
    return SweepResult(no_show=no_show, completed=completed)
