"""Shared pieces of the queue services: errors, the estimator protocol, look-ups, events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVarTuple

from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, aliased

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import (
    Branch,
    BranchService,
    Counter,
    CounterStatus,
    Holiday,
    OpeningHours,
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

_HELD = "branchdesk.queue.held"


def _hold(db: Session, *rows: object) -> None:
    """Keep catalog rows loaded alongside a ticket for the rest of the request.

    The session's identity map holds unchanged rows only weakly; holding them here lets the
    event and the response find the branch, service and counter with ``db.get`` instead of
    another round trip.
    """
    held: set[object] = db.info.setdefault(_HELD, set())
    held.update(row for row in rows if row is not None)


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
    _hold(db, service, offered)
    return service, offered.target_max_wait_minutes or service.target_max_wait_minutes


def get_ticket(db: Session, ticket_id: uuid.UUID, *, lock: bool = False) -> Ticket:
    """Raises NotFound.

    Loads the ticket's branch, service and counter in the same round trip (into the session's
    identity map, so the event and the response find them without another query); with
    ``lock`` only the ticket row is locked.
    """
    query = (
        select(Ticket, Branch, ServiceType, Counter)
        .join(Branch, Branch.id == Ticket.branch_id)
        .join(ServiceType, ServiceType.id == Ticket.service_type_id)
        .outerjoin(Counter, Counter.id == Ticket.counter_id)
        .where(Ticket.id == ticket_id)
    )
    if lock:
        query = query.with_for_update(of=Ticket)
    row = db.execute(query).first()
    if row is None:
        raise NotFound("no such ticket")
    _hold(db, *row[1:])
    return row[0]


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
    # db.get: usually already in the session (loaded with the ticket), so no round trip.
    service = db.get(ServiceType, service_id)
    assert service is not None
    return service.code


def _counter_code(db: Session, counter_id: uuid.UUID | None) -> str | None:
    if counter_id is None:
        return None
    counter = db.get(Counter, counter_id)
    return counter.code if counter is not None else None


def is_open_now(db: Session, branch: Branch, now: datetime) -> bool:
    """``catalog.is_open_at`` in one round trip (today's hours and the holiday check together)."""
    local = catalog.local_now(branch, now)
    holiday = (
        select(Holiday.id)
        .where(Holiday.branch_id == branch.id, Holiday.on == local.date())
        .exists()
    )
    row = db.execute(
        select(OpeningHours.opens_at, OpeningHours.closes_at, holiday).where(
            OpeningHours.branch_id == branch.id, OpeningHours.weekday == local.weekday()
        )
    ).first()
    if row is None or row[2]:
        return False
    return bool(row[0] <= local.time().replace(tzinfo=None) < row[1])


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
    _forget_outlooks(db)
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


def _counter_skills(db: Session, counter: Counter) -> list[ServiceType]:
    """The services this counter serves, loaded as rows (so later look-ups hit the session)."""
    skills = list(
        db.execute(
            select(ServiceType)
            .join(counter_services, counter_services.c.service_type_id == ServiceType.id)
            .where(counter_services.c.counter_id == counter.id)
        ).scalars()
    )
    _hold(db, counter, *skills)
    return skills


def _counter_view(
    db: Session, counter: Counter, skills: list[ServiceType] | None = None
) -> CounterView:
    if skills is None:
        skills = _counter_skills(db, counter)
    return CounterView(
        code=counter.code,
        service_codes=frozenset(s.code for s in skills),
        is_vip=counter.is_vip,
        is_open=counter.status == CounterStatus.open,
    )


_TargetCounter = aliased(Counter)
_Row = TypeVarTuple("_Row")


def _waiting_at(
    query: Select[*_Row], branch: Branch, day: date, where: Sequence[ColumnElement[bool]]
) -> Select[*_Row]:
    """``query`` over the branch's waiting tickets of ``day`` (narrowed by ``where``), joined
    with their service, its offer at the branch and the counter they were sent to."""
    return (
        query.join(ServiceType, ServiceType.id == Ticket.service_type_id)
        .outerjoin(
            BranchService,
            (BranchService.service_type_id == Ticket.service_type_id)
            & (BranchService.branch_id == Ticket.branch_id),
        )
        .outerjoin(_TargetCounter, _TargetCounter.id == Ticket.target_counter_id)
        .where(
            Ticket.branch_id == branch.id,
            Ticket.business_on == day,
            Ticket.state == TicketState.waiting,
            *where,
        )
    )


def _waiting_rows(
    db: Session,
    branch: Branch,
    now: datetime,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    entities: bool = False,
    per_group: int | None = None,
) -> list[tuple[Ticket | None, WaitingTicket]]:
    """Today's waiting tickets at a branch as the policy sees them, in one round trip.

    ``where`` narrows the rows to those that matter to the caller (the policy would skip the
    others anyway); ``entities`` also loads the ticket rows (screens need them), otherwise only
    the columns the policy reads are fetched.

    ``per_group`` keeps only the first few of each group of alike tickets (same priority,
    service, target counter and booked time), in arrival order. Within such a group the policy's
    score never rises with a later arrival (same bonuses, same target wait, waited time falls)
    and ties go to the earlier arrival, then the lower number, so the policy's first N over the
    kept rows are its first N over all of them, for any N up to ``per_group``. Call-next needs
    only the first few, whatever the length of the queue.
    """
    day = catalog.business_day(branch, now)
    columns = (
        Ticket.id,
        Ticket.number,
        ServiceType.code,
        Ticket.priority,
        Ticket.queued_at,
        ServiceType.target_max_wait_minutes,
        BranchService.target_max_wait_minutes,
        Ticket.checked_in_at,
        Ticket.booked_at,
        _TargetCounter.code,
    )
    query: Select[*tuple[Any, ...]]
    if per_group is not None:
        # One pass: number the rows within their group and keep the first few, in a subquery
        # over the same scan (an ``id IN (windowed subquery)`` let PostgreSQL, with the fresh
        # statistics of a queue filled that morning, re-read the window once per waiting row).
        assert not entities, "per_group reads columns only"
        place = func.row_number().over(
            partition_by=(
                Ticket.priority,
                Ticket.service_type_id,
                Ticket.target_counter_id,
                Ticket.booked_at,
            ),
            order_by=(Ticket.queued_at, Ticket.number),
        )
        labelled = [column.label(f"c{index}") for index, column in enumerate(columns)]
        ranked = _waiting_at(select(*labelled, place.label("place")), branch, day, where)
        kept = ranked.subquery()
        query = select(literal(None), *(kept.c[f"c{index}"] for index in range(len(columns))))
        rows = db.execute(query.where(kept.c.place <= per_group)).all()
    else:
        query = select(Ticket, *columns) if entities else select(literal(None), *columns)
        rows = db.execute(_waiting_at(query, branch, day, where)).all()
    return [
        (
            ticket,
            WaitingTicket(
                id=ticket_id,
                number=number,
                service_code=code,
                priority=priority,
                queued_at=queued_at,
                target_wait=timedelta(minutes=local_target or target),
                is_checked_in=checked_in_at is not None,
                booked_at=booked_at,
                target_counter=target_counter,
            ),
        )
        for (
            ticket, ticket_id, number, code, priority, queued_at, target, local_target,
            checked_in_at, booked_at, target_counter,
        ) in rows
    ]  # fmt: skip


def _waiting(db: Session, branch: Branch, now: datetime) -> list[tuple[Ticket, WaitingTicket]]:
    """All of today's waiting tickets at a branch, with their rows (for the screens)."""
    pairs = _waiting_rows(db, branch, now, entities=True)
    return [(ticket, waiting) for ticket, waiting in pairs if ticket is not None]


# --- the per-request outlook of a waiting ticket (position and estimate) ------------------------

_OUTLOOK = "branchdesk.queue.outlook"


def _forget_outlooks(db: Session) -> None:
    """A write happened: positions computed earlier in this request may be stale."""
    db.info.pop(_OUTLOOK, None)


@sa_event.listens_for(Session, "after_flush")
def _forget_after_flush(db: Session, _context: object) -> None:
    if _OUTLOOK in db.info:
        _forget_outlooks(db)


def _remember_outlook(
    db: Session, ticket_id: uuid.UUID, now: datetime, position: int | None, wait: int | None
) -> None:
    db.info.setdefault(_OUTLOOK, {})[ticket_id] = (now, position, wait)


def _remembered_outlook(
    db: Session, ticket_id: uuid.UUID, now: datetime
) -> tuple[int | None, int | None] | None:
    found = db.info.get(_OUTLOOK, {}).get(ticket_id)
    if found is None or found[0] != now or db.new or db.dirty or db.deleted:
        return None
    return found[1], found[2]
