"""Issuing tickets and moving them through their states."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import (
    Branch,
    Counter,
)
from branchdesk.core.errors import RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.references import next_value
from branchdesk.customers.models import Customer
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue.models import Channel, Priority, Ticket, TicketState
from branchdesk.queue.service.common import (
    BranchClosed,
    InvalidTransition,
    WaitEstimator,
    _branch_of,
    _counter_code,
    _observe,
    _remember_outlook,
    _ticket_event,
    get_ticket,
    is_open_now,
    offered_service,
    queue_settings,
)
from branchdesk.queue.service.screens import _outlook, _rival_groups, _serving_statuses

# --- issuing ------------------------------------------------------------------------------------


def issue_ticket(
    db: Session,
    *,
    branch: Branch,
    service_code: str,
    channel: Channel,
    now: datetime,
    priority: Priority | None = None,
    customer_id: uuid.UUID | None = None,
    contact_phone: str = "",
    actor: Principal | None = None,
    appointment_id: uuid.UUID | None = None,
    booked_at: datetime | None = None,
    estimator: WaitEstimator | None = None,
) -> Ticket:
    """Raises BranchClosed, RuleViolation (service not offered, priority not allowed), NotFound."""
    settings = queue_settings(db, branch)
    if settings.enforce_opening_hours and not is_open_now(db, branch, now):
        raise BranchClosed(f"{branch.code} is closed now")
    service, _target = offered_service(db, branch, service_code)
    channel = Channel(channel)
    chosen = Priority(priority or Priority.normal)
    if chosen in (Priority.vip, Priority.appointment) and channel in (
        Channel.kiosk,
        Channel.remote,
    ):
        raise RuleViolation("this priority is given by staff or an appointment", field="priority")
    if customer_id is not None:
        customer = db.get(Customer, customer_id)
        if customer is None:
            raise RuleViolation("unknown customer", field="customer_id")
        if customer.service_tier == "vip" and chosen is Priority.normal:
            chosen = Priority.vip
    # Read before taking the number: the number's row stays locked until commit, and every
    # other ticket with this prefix waits for it.
    ticket_id = new_id()
    statuses = _serving_statuses(db, branch.id, service.id)
    rivals = _rival_groups(
        db,
        branch=branch,
        now=now,
        ticket_id=ticket_id,
        service_type_id=service.id,
        target_counter_id=None,
    )
    day = catalog.business_day(branch, now)
    seq = next_value(db, f"ticket:{branch.id}:{day.isoformat()}:{service.ticket_prefix}")
    ticket = Ticket(
        id=ticket_id,
        branch_id=branch.id,
        service_type_id=service.id,
        business_on=day,
        prefix=service.ticket_prefix,
        seq=seq,
        number=f"{service.ticket_prefix}-{seq:03d}",
        priority=chosen,
        channel=channel,
        customer_id=customer_id,
        appointment_id=appointment_id,
        booked_at=booked_at,
        contact_phone=contact_phone,
        state=TicketState.waiting,
        issued_at=now,
        queued_at=now,
        checked_in_at=None if channel is Channel.remote else now,
        recall_count=0,
        transfer_count=0,
        public_token=secrets.token_urlsafe(24),
    )
    # The event goes first so the wait model has seen it when it estimates; the ticket row is
    # then written once, with its estimate (no INSERT followed by an UPDATE).
    event = _ticket_event(
        db, branch, ticket, "issued", now, actor=actor, extra={"channel": channel}
    )
    _observe(estimator, branch, event)
    place, ticket.estimated_wait_seconds = _outlook(
        db, ticket=ticket, now=now, estimator=estimator, statuses=statuses, groups=rivals
    )
    db.add(ticket)
    db.flush()
    # The response (same request, same ``now``) shows these without working them out again.
    _remember_outlook(db, ticket.id, now, place, ticket.estimated_wait_seconds)
    return ticket


def check_in(
    db: Session, *, ticket: Ticket, now: datetime, estimator: WaitEstimator | None = None
) -> Ticket:
    """A remote ticket's holder arrived. Raises InvalidTransition."""
    if ticket.state != TicketState.waiting or ticket.checked_in_at is not None:
        raise InvalidTransition(
            f"{ticket.number} is {ticket.state} and checked in already or closed"
        )
    ticket.checked_in_at = now
    event = _ticket_event(db, _branch_of(db, ticket), ticket, "checked_in", now)
    _observe(estimator, _branch_of(db, ticket), event)
    db.flush()
    return ticket


# --- transitions --------------------------------------------------------------------------------


def _require_state(ticket: Ticket, *states: TicketState, action: str) -> None:
    if ticket.state not in states:
        wanted = " or ".join(states)
        raise InvalidTransition(
            f"cannot {action} {ticket.number}: it is {ticket.state}, not {wanted}"
        )


def _staff_ticket(
    db: Session, ticket_id: uuid.UUID, actor: Principal, permission: Permission
) -> tuple[Ticket, Branch]:
    ticket = get_ticket(db, ticket_id, lock=True)
    branch = _branch_of(db, ticket)
    actor.require(permission, branch.id)
    return ticket, branch


def recall(db: Session, *, ticket_id: uuid.UUID, actor: Principal, now: datetime) -> Ticket:
    """Call the same ticket again. Raises Forbidden, NotFound, InvalidTransition."""
    ticket, branch = _staff_ticket(db, ticket_id, actor, Permission.queue_serve)
    _require_state(ticket, TicketState.called, action="recall")
    ticket.recall_count += 1
    ticket.called_at = now
    _ticket_event(
        db,
        branch,
        ticket,
        "recalled",
        now,
        actor=actor,
        counter_code=_counter_code(db, ticket.counter_id),
        extra={"recall_count": ticket.recall_count},
    )
    db.flush()
    return ticket


def start_service(db: Session, *, ticket_id: uuid.UUID, actor: Principal, now: datetime) -> Ticket:
    """The customer is at the counter. Raises Forbidden, NotFound, InvalidTransition."""
    ticket, branch = _staff_ticket(db, ticket_id, actor, Permission.queue_serve)
    _require_state(ticket, TicketState.called, action="start")
    ticket.state = TicketState.serving
    ticket.started_at = now
    _ticket_event(
        db,
        branch,
        ticket,
        "started",
        now,
        actor=actor,
        counter_code=_counter_code(db, ticket.counter_id),
    )
    db.flush()
    return ticket


def complete(
    db: Session,
    *,
    ticket_id: uuid.UUID,
    outcome_code: str,
    actor: Principal,
    now: datetime,
    estimator: WaitEstimator | None = None,
) -> Ticket:
    """Raises Forbidden, NotFound, InvalidTransition (the ticket is not being served)."""
    ticket, branch = _staff_ticket(db, ticket_id, actor, Permission.queue_serve)
    _require_state(ticket, TicketState.serving, action="complete")
    ticket.state = TicketState.completed
    ticket.finished_at = now
    ticket.outcome_code = outcome_code
    event = _ticket_event(
        db,
        branch,
        ticket,
        "completed",
        now,
        actor=actor,
        counter_code=_counter_code(db, ticket.counter_id),
        extra={"outcome": outcome_code},
    )
    _observe(estimator, branch, event)
    db.flush()
    return ticket


def no_show(
    db: Session,
    *,
    ticket_id: uuid.UUID,
    actor: Principal,
    now: datetime,
    estimator: WaitEstimator | None = None,
) -> Ticket:
    """Raises Forbidden, NotFound, InvalidTransition (not called, or not recalled enough yet)."""
    ticket, branch = _staff_ticket(db, ticket_id, actor, Permission.queue_serve)
    _require_state(ticket, TicketState.called, action="mark as no-show")
    needed = queue_settings(db, branch).recalls_before_no_show
    if ticket.recall_count < needed:
        raise InvalidTransition(
            f"recall {ticket.number} {needed - ticket.recall_count} more time(s) before a no-show"
        )
    ticket.state = TicketState.no_show
    ticket.finished_at = now
    event = _ticket_event(
        db,
        branch,
        ticket,
        "no_show",
        now,
        actor=actor,
        counter_code=_counter_code(db, ticket.counter_id),
    )
    _observe(estimator, branch, event)
    db.flush()
    return ticket


def transfer(
    db: Session,
    *,
    ticket_id: uuid.UUID,
    service_code: str | None,
    counter_code: str | None,
    actor: Principal,
    now: datetime,
    estimator: WaitEstimator | None = None,
) -> Ticket:
    """Send a ticket to another service or counter; it keeps its original arrival time.

    Raises Forbidden, NotFound, InvalidTransition, RuleViolation (nothing or both named, not
    offered, unknown counter).
    """
    ticket, branch = _staff_ticket(db, ticket_id, actor, Permission.queue_serve)
    _require_state(ticket, TicketState.called, TicketState.serving, action="transfer")
    if (service_code is None) == (counter_code is None):
        raise RuleViolation("name either a service or a counter", field="service_code")
    from_counter = _counter_code(db, ticket.counter_id)
    if service_code is not None:
        service, _target = offered_service(db, branch, service_code)
        ticket.service_type_id = service.id
        ticket.target_counter_id = None
    else:
        assert counter_code is not None
        target = db.execute(
            select(Counter).where(
                Counter.branch_id == branch.id, Counter.code == counter_code.upper()
            )
        ).scalar_one_or_none()
        if target is None:
            raise RuleViolation(f"no counter {counter_code!r} here", field="counter_code")
        ticket.target_counter_id = target.id
    completed = _ticket_event(
        db,
        branch,
        ticket,
        "completed",
        now,
        actor=actor,
        counter_code=from_counter,
        extra={"outcome": "transferred"},
    )
    _observe(estimator, branch, completed)
    ticket.state = TicketState.waiting
    ticket.counter_id = None
    ticket.transfer_count += 1
    event = _ticket_event(
        db,
        branch,
        ticket,
        "issued",
        now,
        actor=actor,
        extra={"transfer": True, "to_counter": counter_code.upper() if counter_code else None},
    )
    _observe(estimator, branch, event)
    db.flush()
    return ticket


def park(db: Session, *, ticket_id: uuid.UUID, actor: Principal, now: datetime) -> Ticket:
    """Hold a called or served ticket (e.g. the customer fetches a document)."""
    ticket, branch = _staff_ticket(db, ticket_id, actor, Permission.queue_serve)
    _require_state(ticket, TicketState.called, TicketState.serving, action="park")
    counter = _counter_code(db, ticket.counter_id)
    ticket.state = TicketState.parked
    ticket.target_counter_id = ticket.counter_id  # comes back to the same counter
    ticket.counter_id = None
    _ticket_event(db, branch, ticket, "parked", now, actor=actor, counter_code=counter)
    db.flush()
    return ticket


def unpark(db: Session, *, ticket_id: uuid.UUID, actor: Principal, now: datetime) -> Ticket:
    """Back in the queue with the original arrival time, for the counter that parked it."""
    ticket, branch = _staff_ticket(db, ticket_id, actor, Permission.queue_serve)
    _require_state(ticket, TicketState.parked, action="return")
    ticket.state = TicketState.waiting
    _ticket_event(db, branch, ticket, "unparked", now, actor=actor)
    db.flush()
    return ticket


def cancel(
    db: Session,
    *,
    ticket: Ticket,
    now: datetime,
    actor: Principal | None = None,
    estimator: WaitEstimator | None = None,
) -> Ticket:
    """The customer (by their ticket link) or staff cancels. Raises InvalidTransition."""
    branch = _branch_of(db, ticket)
    if actor is not None:
        actor.require(Permission.queue_manage, branch.id)
    _require_state(ticket, TicketState.waiting, TicketState.parked, action="cancel")
    ticket.state = TicketState.cancelled
    ticket.finished_at = now
    event = _ticket_event(db, branch, ticket, "cancelled", now, actor=actor)
    # For the wait model a cancelled ticket left the queue like a no-show.
    _observe(estimator, branch, event)
    db.flush()
    return ticket


def rejoin(
    db: Session,
    *,
    ticket_id: uuid.UUID,
    actor: Principal,
    now: datetime,
    estimator: WaitEstimator | None = None,
) -> Ticket:
    """A no-show customer came back: the same number goes to the back of today's queue."""
    ticket, branch = _staff_ticket(db, ticket_id, actor, Permission.queue_manage)
    _require_state(ticket, TicketState.no_show, action="rejoin")
    if ticket.business_on != catalog.business_day(branch, now):
        raise InvalidTransition(f"{ticket.number} was for another day; issue a new ticket")
    ticket.state = TicketState.waiting
    ticket.queued_at = now
    ticket.counter_id = None
    ticket.finished_at = None
    ticket.recall_count = 0
    event = _ticket_event(db, branch, ticket, "issued", now, actor=actor, extra={"rejoin": True})
    _observe(estimator, branch, event)
    db.flush()
    return ticket
