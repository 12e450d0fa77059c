"""Counters: open, pause, close, and call the next ticket by the queue policy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import (
    Branch,
    Counter,
    CounterStatus,
)
from branchdesk.core.errors import NotFound
from branchdesk.core.events import record_event
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue.models import QueueSettings, Ticket, TicketState
from branchdesk.queue.policy import CounterView, WaitingTicket, rank_for_counter
from branchdesk.queue.service.common import (
    CounterBusy,
    CounterNotOpen,
    WaitEstimator,
    _counter_skills,
    _counter_view,
    _hold,
    _observe,
    _ticket_event,
    _waiting_rows,
    policy_config,
    queue_settings,
)
from branchdesk.training.service import certified_skills

# --- counters -----------------------------------------------------------------------------------


def set_counter_status(
    db: Session,
    *,
    branch: Branch,
    counter_code: str,
    status: CounterStatus,
    actor: Principal,
    now: datetime,
    estimator: WaitEstimator | None = None,
) -> Counter:
    """A teller opens, pauses or closes a counter. Raises Forbidden, NotFound, CounterBusy."""
    actor.require(Permission.queue_serve, branch.id)
    status = CounterStatus(status)
    counter = db.execute(
        select(Counter)
        .where(Counter.branch_id == branch.id, Counter.code == counter_code.upper())
        .with_for_update()
    ).scalar_one_or_none()
    if counter is None:
        raise NotFound(f"no counter {counter_code!r} at {branch.code}")
    if status == counter.status:
        return counter
    if status is CounterStatus.closed and _current_ticket(db, counter) is not None:
        raise CounterBusy(f"finish the ticket at {counter.code} before closing it")
    counter.status = status
    counter.status_changed_at = now
    counter.staffed_by_id = None if status is CounterStatus.closed else actor.user_id
    counter.updated_at = now
    view = _counter_view(db, counter)
    kind = {"open": "counter_open", "closed": "counter_close", "paused": "counter_pause"}[status]
    event = record_event(
        db,
        type=f"counter.{status}",
        aggregate_type="counter",
        aggregate_id=counter.id,
        branch_id=branch.id,
        actor_id=actor.user_id,
        now=now,
        payload={
            "ts": catalog.local_now(branch, now).isoformat(),
            "type": kind,
            "counter": counter.code,
            "services": sorted(view.service_codes),
            "branch": branch.code,
        },
    )
    _observe(estimator, branch, event)
    db.flush()
    return counter


def _current_ticket(db: Session, counter: Counter) -> Ticket | None:
    return db.execute(
        select(Ticket).where(
            Ticket.counter_id == counter.id,
            Ticket.state.in_([TicketState.called, TicketState.serving]),
        )
    ).scalar_one_or_none()


def current_ticket(db: Session, *, counter: Counter) -> Ticket | None:
    return _current_ticket(db, counter)


def call_next(
    db: Session,
    *,
    branch: Branch,
    counter_code: str,
    actor: Principal,
    now: datetime,
    estimator: WaitEstimator | None = None,
) -> Ticket | None:
    """Call the policy's choice to this counter; None when nobody waits for it.

    Raises Forbidden, NotFound, CounterNotOpen (closed or paused), CounterBusy (a ticket is
    still called or being served here).
    """
    actor.require(Permission.queue_serve, branch.id)
    row = db.execute(
        select(Counter, QueueSettings)
        .outerjoin(QueueSettings, QueueSettings.branch_id == Counter.branch_id)
        .where(Counter.branch_id == branch.id, Counter.code == counter_code.upper())
        .with_for_update(of=Counter)
    ).first()
    if row is None:
        raise NotFound(f"no counter {counter_code!r} at {branch.code}")
    counter = row[0]
    _hold(db, row[1])  # the branch's settings came along: queue_settings finds them
    if counter.status != CounterStatus.open:
        raise CounterNotOpen(f"counter {counter.code} is {counter.status}; open it first")
    held = _current_ticket(db, counter)
    if held is not None:
        raise CounterBusy(f"{held.number} is still {held.state} at {counter.code}")
    settings = queue_settings(db, branch)
    # The counter's skills that its teller is certified for today (an expired certification
    # takes the service off this counter until it is renewed).
    skills = certified_skills(db, counter=counter, skills=_counter_skills(db, counter), now=now)
    view = _counter_view(db, counter, skills)
    # Only the tickets this counter may call (the policy would skip the others).
    mine = (Ticket.target_counter_id == counter.id) | (
        Ticket.target_counter_id.is_(None) & Ticket.service_type_id.in_([s.id for s in skills])
    )
    ranked = _ranked_for(db, branch, counter, view, mine, now, settings, per_group=CALL_DEPTH)
    ticket = _take_first(db, branch, counter, ranked, actor=actor, now=now)
    if ticket is None and len(ranked) >= CALL_DEPTH:
        # Every one of the best few was taken by other tellers meanwhile: rank them all.
        tried = {w.id for w in ranked}
        rest = [
            w
            for w in _ranked_for(db, branch, counter, view, mine, now, settings, per_group=None)
            if w.id not in tried
        ]
        ticket = _take_first(db, branch, counter, rest, actor=actor, now=now)
    if ticket is None:
        return None
    event = _ticket_event(db, branch, ticket, "called", now, actor=actor, counter_code=counter.code)
    _observe(estimator, branch, event)
    db.flush()
    return ticket


# How many of each group of alike waiting tickets call-next reads (see _waiting_rows).
CALL_DEPTH = 16


def _ranked_for(
    db: Session,
    branch: Branch,
    counter: Counter,
    view: CounterView,
    mine: ColumnElement[bool],
    now: datetime,
    settings: QueueSettings,
    *,
    per_group: int | None,
) -> list[WaitingTicket]:
    candidates = [
        w
        for _t, w in _waiting_rows(
            db,
            branch,
            now,
            where=[Ticket.checked_in_at.is_not(None), mine],
            per_group=per_group,
        )
    ]
    return rank_for_counter(candidates, view, now, policy_config(settings))


def _take_first(
    db: Session,
    branch: Branch,
    counter: Counter,
    ranked: list[WaitingTicket],
    *,
    actor: Principal,
    now: datetime,
) -> Ticket | None:
    """Call the first of ``ranked`` that is still waiting and not held by another teller."""
    postgres = db.get_bind().dialect.name == "postgresql"
    for choice in ranked:
        # One statement: still waiting and (PostgreSQL) not locked by another teller's
        # transaction right now, else the next best.
        chosen = select(Ticket.id).where(
            Ticket.id == choice.id, Ticket.state == TicketState.waiting
        )
        if postgres:
            chosen = chosen.with_for_update(skip_locked=True)
        ticket = db.execute(
            update(Ticket)
            .where(Ticket.id == chosen.scalar_subquery())
            .values(
                state=TicketState.called,
                counter_id=counter.id,
                target_counter_id=None,
                called_at=now,
                served_by_id=actor.user_id,
            )
            .returning(Ticket),
            execution_options={"synchronize_session": False, "populate_existing": True},
        ).scalar_one_or_none()
        if ticket is not None:
            return ticket
    return None
