"""Branch visits from the portal: a remote queue ticket (the queue's own ``issue_ticket``, as
``/b/{code}/take`` uses it) and appointments (the appointments service, channel ``portal``).

The customer's notification choices decide the contact details given to those services:
the come-back SMS goes to the ticket's phone only if ``queue_come_back_sms`` is on, and an
appointment carries the phone / e-mail the customer wants reminders on.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.appointments import service as appointments
from branchdesk.appointments.models import Appointment, AppointmentState, BookingChannel
from branchdesk.appointments.schemas import AppointmentCreate, AppointmentRead, SlotRead
from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, BranchService, ServiceType
from branchdesk.core.errors import NotFound
from branchdesk.portal.schemas import BranchChoice, TicketTaken
from branchdesk.portal.service.common import CustomerPrincipal
from branchdesk.portal.service.preferences import wants
from branchdesk.queue import service as queue
from branchdesk.queue.models import Channel


def branch_choices(db: Session, *, locale: str) -> list[BranchChoice]:
    """Active branches and the services each offers (for the ticket and booking forms)."""
    from branchdesk.core.i18n import localized

    rows = db.execute(
        select(Branch, ServiceType)
        .join(BranchService, BranchService.branch_id == Branch.id)
        .join(ServiceType, ServiceType.id == BranchService.service_type_id)
        .where(Branch.is_active.is_(True), BranchService.is_enabled.is_(True))
        .order_by(Branch.code, ServiceType.code)
    ).all()
    found: dict[str, BranchChoice] = {}
    for branch, service in rows:
        choice = found.setdefault(
            branch.code,
            BranchChoice(
                code=branch.code,
                name=localized(branch.name_zh_hant, branch.name_zh_hans, branch.name_en, locale),
                services={},
            ),
        )
        choice.services[service.code] = localized(
            service.name_zh_hant, service.name_zh_hans, service.name_en, locale
        )
    return list(found.values())


def take_ticket(
    db: Session,
    *,
    customer: CustomerPrincipal,
    branch_code: str,
    service_code: str,
    now: datetime,
    estimator: queue.WaitEstimator | None = None,
) -> TicketTaken:
    """Raises NotFound (branch), BranchClosed, RuleViolation (service not offered)."""
    branch = catalog.get_branch_by_code(db, branch_code)
    phone = (
        customer.phone
        if wants(db, customer_id=customer.customer_id, event="queue_come_back", channel="sms")
        else ""
    )
    ticket = queue.issue_ticket(
        db, branch=branch, service_code=service_code.strip().upper(), channel=Channel.remote,
        now=now, customer_id=customer.customer_id, contact_phone=phone, estimator=estimator,
    )  # fmt: skip
    return TicketTaken(
        number=ticket.number,
        branch_code=branch.code,
        state=str(ticket.state),
        estimated_wait_seconds=ticket.estimated_wait_seconds,
        url=f"/t/{ticket.public_token}",
    )


def list_slots(db: Session, *, branch_code: str, on: date, service_code: str) -> list[SlotRead]:
    branch = catalog.get_branch_by_code(db, branch_code)
    return appointments.list_slots(db, branch=branch, on=on, service_code=service_code or None)


def my_appointments(db: Session, *, customer: CustomerPrincipal) -> list[AppointmentRead]:
    rows = db.execute(
        select(Appointment)
        .where(Appointment.customer_id == customer.customer_id)
        .order_by(Appointment.starts_at.desc(), Appointment.reference)
        .limit(50)
    ).scalars()
    return [appointments.appointment_read(db, row) for row in rows]


def _contacts(db: Session, customer: CustomerPrincipal) -> tuple[str, str]:
    sms = wants(db, customer_id=customer.customer_id, event="appointment_reminders", channel="sms")
    email = wants(
        db, customer_id=customer.customer_id, event="appointment_reminders", channel="email"
    )
    return (customer.phone if sms else ""), (customer.email if email else "")


def book(
    db: Session, *, customer: CustomerPrincipal, slot_id: uuid.UUID, now: datetime
) -> AppointmentRead:
    """Raises NotFound, SlotInPast, SlotFull."""
    phone, email = _contacts(db, customer)
    data = AppointmentCreate(
        slot_id=slot_id,
        customer_id=customer.customer_id,
        contact_name=customer.display_name,
        contact_phone=phone,
        contact_email=email,
        locale=customer.preferred_locale,
    )
    appointment = appointments.book_appointment(
        db, data=data, channel=BookingChannel.portal, now=now, actor=None
    )
    return appointments.appointment_read(db, appointment)


def _own(db: Session, customer: CustomerPrincipal, reference: str) -> Appointment:
    found = db.execute(
        select(Appointment).where(
            Appointment.reference == reference.strip().upper(),
            Appointment.customer_id == customer.customer_id,
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("no such appointment", field="reference")
    return found


def reschedule(
    db: Session,
    *,
    customer: CustomerPrincipal,
    reference: str,
    slot_id: uuid.UUID,
    now: datetime,
) -> AppointmentRead:
    """Raises NotFound (not the customer's), InvalidAppointmentState, SlotFull, SlotInPast."""
    own = _own(db, customer, reference)
    moved = appointments.reschedule_appointment(
        db, reference=own.reference, slot_id=slot_id, now=now, actor=None
    )
    return appointments.appointment_read(db, moved)


def cancel(
    db: Session, *, customer: CustomerPrincipal, reference: str, now: datetime
) -> AppointmentRead:
    """Raises NotFound (not the customer's), InvalidAppointmentState."""
    own = _own(db, customer, reference)
    cancelled = appointments.cancel_appointment(
        db, reference=own.reference, now=now, actor=None, reason="cancelled by the customer"
    )
    return appointments.appointment_read(db, cancelled)


def is_open(appointment: AppointmentRead) -> bool:
    return appointment.state == AppointmentState.booked
