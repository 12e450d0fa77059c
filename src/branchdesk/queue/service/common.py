"""Shared pieces of the queue services: errors, the estimator protocol, look-ups, events."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import (
    Branch,
    BranchService,
    Counter,
    CounterStatus,
    ServiceType,
    counter_services,
)
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.events import Event, record_event
from branchdesk.identity.principal import Principal
from branchdesk.queue.models import QueueSettings, Ticket, TicketState
from branchdesk.queue.policy import CounterView, PolicyConfig, WaitingTicket


class BranchClosed(Conflict):
    code = "branch_closed"


class CounterNotOpen(Conflict):
    code = "counter_not_open"


class CounterBusy(Conflict):
    code = "counter_busy"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class WaitEstimator(Protocol):
    """The live wait-time model (queue/live.py); tests may pass a simple stand-in."""

    def observe(self, branch_id: uuid.UUID, event: Event) -> None: ...

    def estimate(
        self, branch_id: uuid.UUID, ticket_id: uuid.UUID, now: datetime | None = None
    ) -> int | None: ...


# --- look-ups -----------------------------------------------------------------------------------


def queue_settings(db: Session, branch: Branch) -> QueueSettings:
    found = db.get(QueueSettings, branch.id)
    if found is not None:
        return found
    return QueueSettings(
        branch_id=branch.id,
        enforce_opening_hours=True,
        vip_bonus_seconds=900,
        appointment_bonus_seconds=1200,
        elderly_bonus_seconds=600,
        aging_bonus_seconds=900,
        vip_counter_preference_seconds=3600,
        appointment_lead_minutes=5,
        recalls_before_no_show=1,
        come_back_minutes=10,
    )


def policy_config(settings: QueueSettings) -> PolicyConfig:
    return PolicyConfig(
        vip_bonus=timedelta(seconds=settings.vip_bonus_seconds),
        appointment_bonus=timedelta(seconds=settings.appointment_bonus_seconds),
        elderly_bonus=timedelta(seconds=settings.elderly_bonus_seconds),
        aging_bonus=timedelta(seconds=settings.aging_bonus_seconds),
        vip_counter_preference=timedelta(seconds=settings.vip_counter_preference_seconds),
        appointment_lead=timedelta(minutes=settings.appointment_lead_minutes),
    )


def offered_service(db: Session, branch: Branch, service_code: str) -> tuple[ServiceType, int]:
    """The service and its target wait in minutes here. Raises RuleViolation when not offered."""
    row = db.execute(
        select(ServiceType, BranchService)
        .join(BranchService, BranchService.service_type_id == ServiceType.id)
        .where(
            BranchService.branch_id == branch.id,
            BranchService.is_enabled.is_(True),
            ServiceType.is_active.is_(True),
            ServiceType.code == service_code.upper(),
        )
    ).first()
    if row is None:
        raise RuleViolation(
            f"{service_code!r} is not offered at {branch.code}", field="service_code"
        )
    service, offered = row
    return service, offered.target_max_wait_minutes or service.target_max_wait_minutes


def get_ticket(db: Session, ticket_id: uuid.UUID, *, lock: bool = False) -> Ticket:
    """Raises NotFound."""
    query = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        query = query.with_for_update()
    ticket = db.execute(query).scalar_one_or_none()
    if ticket is None:
        raise NotFound("no such ticket")
    return ticket


def get_ticket_by_token(db: Session, token: str) -> Ticket:
    ticket = db.execute(select(Ticket).where(Ticket.public_token == token)).scalar_one_or_none()
    if ticket is None:
        raise NotFound("no such ticket")
    return ticket


def _branch_of(db: Session, ticket: Ticket) -> Branch:
    branch = db.get(Branch, ticket.branch_id)
    assert branch is not None
    return branch


def _code_of_service(db: Session, service_id: uuid.UUID) -> str:
    return str(
        db.execute(select(ServiceType.code).where(ServiceType.id == service_id)).scalar_one()
    )


def _counter_code(db: Session, counter_id: uuid.UUID | None) -> str | None:
    if counter_id is None:
        return None
    return db.execute(select(Counter.code).where(Counter.id == counter_id)).scalar_one_or_none()


# --- events -------------------------------------------------------------------------------------


def _ticket_event(
    db: Session,
    branch: Branch,
    ticket: Ticket,
    kind: str,
    now: datetime,
    *,
    actor: Principal | None = None,
    counter_code: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Event:
    payload: dict[str, Any] = {
        "ts": catalog.local_now(branch, now).isoformat(),
        "type": kind,
        "ticket": str(ticket.id),
        "number": ticket.number,
        "service": _code_of_service(db, ticket.service_type_id),
        "priority": ticket.priority,
        "branch": branch.code,
    }
    if counter_code:
        payload["counter"] = counter_code
    if extra:
        payload.update(extra)
    return record_event(
        db,
        type=f"ticket.{kind}",
        aggregate_type="ticket",
        aggregate_id=ticket.id,
        branch_id=branch.id,
        actor_id=actor.user_id if actor else None,
        payload=payload,
        now=now,
    )


def _observe(estimator: WaitEstimator | None, branch: Branch, event: Event) -> None:
    if estimator is not None:
        estimator.observe(branch.id, event)


def _counter_view(db: Session, counter: Counter) -> CounterView:
    codes = db.execute(
        select(ServiceType.code)
        .join(counter_services, counter_services.c.service_type_id == ServiceType.id)
        .where(counter_services.c.counter_id == counter.id)
    ).scalars()
    return CounterView(
        code=counter.code,
        service_codes=frozenset(codes),
        is_vip=counter.is_vip,
        is_open=counter.status == CounterStatus.open,
    )


def _waiting(db: Session, branch: Branch, now: datetime) -> list[tuple[Ticket, WaitingTicket]]:
    day = catalog.business_day(branch, now)
    rows = db.execute(
        select(
            Ticket,
            ServiceType.code,
            ServiceType.target_max_wait_minutes,
            BranchService.target_max_wait_minutes,
        )
        .join(ServiceType, ServiceType.id == Ticket.service_type_id)
        .join(
            BranchService,
            (BranchService.service_type_id == Ticket.service_type_id)
            & (BranchService.branch_id == Ticket.branch_id),
            isouter=True,
        )
        .where(
            Ticket.branch_id == branch.id,
            Ticket.business_on == day,
            Ticket.state == TicketState.waiting,
        )
    ).all()
    counters = {
        c.id: c.code
        for c in db.execute(select(Counter).where(Counter.branch_id == branch.id)).scalars()
    }
    result = []
    for ticket, code, target, local_target in rows:
        result.append(
            (
                ticket,
                WaitingTicket(
                    id=ticket.id,
                    number=ticket.number,
                    service_code=code,
                    priority=ticket.priority,
                    queued_at=ticket.queued_at,
                    target_wait=timedelta(minutes=local_target or target),
                    is_checked_in=ticket.checked_in_at is not None,
                    booked_at=ticket.booked_at,
                    target_counter=counters.get(ticket.target_counter_id)
                    if ticket.target_counter_id
                    else None,
                ),
            )
        )
    return result
