"""What the screens show: positions, ticket views and the branch queue snapshot."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
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
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User
from branchdesk.queue.models import Priority, Ticket, TicketState
from branchdesk.queue.policy import (
    CounterView,
    PolicyConfig,
    WaitingTicket,
    arrivals_ahead,
    rank_for_counter,
    sort_key,
)
from branchdesk.queue.service.common import (
    WaitEstimator,
    _branch_of,
    _counter_code,
    _remember_outlook,
    _remembered_outlook,
    _TargetCounter,
    _waiting,
    _waiting_at,
    policy_config,
    queue_settings,
)

# --- what the screens show ---------------------------------------------------------------------


@dataclass(frozen=True)
class HallView:
    """One branch's queue as the policy sees it, loaded once per request."""

    waiting: list[WaitingTicket]
    counters: dict[uuid.UUID, CounterView]
    config: PolicyConfig
    handling_minutes: dict[str, int]
    tickets: dict[uuid.UUID, Ticket]  # the waiting rows behind ``waiting``
    counter_rows: list[Counter]  # ordered by code


def hall_view(db: Session, *, branch: Branch, now: datetime) -> HallView:
    counters = list(
        db.execute(
            select(Counter).where(Counter.branch_id == branch.id).order_by(Counter.code)
        ).scalars()
    )
    skills: dict[uuid.UUID, set[str]] = {c.id: set() for c in counters}
    if counters:
        for counter_id, code in db.execute(
            select(counter_services.c.counter_id, ServiceType.code)
            .join(ServiceType, ServiceType.id == counter_services.c.service_type_id)
            .where(counter_services.c.counter_id.in_(list(skills)))
        ):
            skills[counter_id].add(code)
    handling = dict(
        db.execute(select(ServiceType.code, ServiceType.standard_handling_minutes)).all()
    )
    pairs = _waiting(db, branch, now)
    return HallView(
        waiting=[w for _ticket, w in pairs],
        counters={
            c.id: CounterView(
                code=c.code,
                service_codes=frozenset(skills[c.id]),
                is_vip=c.is_vip,
                is_open=c.status == CounterStatus.open,
            )
            for c in counters
        },
        config=policy_config(queue_settings(db, branch)),
        handling_minutes=handling,
        tickets={ticket.id: ticket for ticket, _w in pairs},
        counter_rows=counters,
    )


def _position_in(hall: HallView, ticket_id: uuid.UUID, now: datetime) -> int | None:
    mine = next((w for w in hall.waiting if w.id == ticket_id), None)
    if mine is None:
        return None
    mine = replace(mine, is_checked_in=True)
    notional = CounterView(
        code=mine.target_counter or "*", service_codes=frozenset({mine.service_code})
    )
    others = [w for w in hall.waiting if w.id != ticket_id]
    ranked = rank_for_counter([*others, mine], notional, now, hall.config)
    return next(index for index, w in enumerate(ranked, start=1) if w.id == ticket_id)


def _standard_estimate(hall: HallView, ticket_id: uuid.UUID, now: datetime) -> int | None:
    """Tickets ahead x the service's standard handling time / counters that serve it."""
    mine = next((w for w in hall.waiting if w.id == ticket_id), None)
    if mine is None:
        return None
    ahead = (_position_in(hall, ticket_id, now) or 1) - 1
    serving = [v for v in hall.counters.values() if mine.service_code in v.service_codes]
    open_serving = [v for v in serving if v.is_open] or serving
    minutes = hall.handling_minutes.get(mine.service_code, 5)
    return round(ahead * minutes * 60 / max(1, len(open_serving)))


def _as_waiting(db: Session, ticket: Ticket) -> WaitingTicket:
    """The policy's view of one ticket (its service, offer and target come from the session)."""
    service = db.get(ServiceType, ticket.service_type_id)
    assert service is not None
    offered = db.get(BranchService, (ticket.branch_id, ticket.service_type_id))
    local_target = offered.target_max_wait_minutes if offered is not None else None
    return WaitingTicket(
        id=ticket.id,
        number=ticket.number,
        service_code=service.code,
        priority=ticket.priority,
        queued_at=ticket.queued_at,
        target_wait=timedelta(minutes=local_target or service.target_max_wait_minutes),
        is_checked_in=ticket.checked_in_at is not None,
        booked_at=ticket.booked_at,
        target_counter=_counter_code(db, ticket.target_counter_id),
    )


def _serving_statuses(db: Session, branch_id: uuid.UUID, service_type_id: uuid.UUID) -> list[str]:
    """The status of every counter at the branch that serves the service."""
    return list(
        db.execute(
            select(Counter.status)
            .join(counter_services, counter_services.c.counter_id == Counter.id)
            .where(
                Counter.branch_id == branch_id,
                counter_services.c.service_type_id == service_type_id,
            )
        ).scalars()
    )


@dataclass(frozen=True, slots=True)
class RivalGroup:
    """Checked-in tickets alike ``alike`` (all fields but id, number and arrival) that compete
    with one ticket: how many, and when the first and last of them arrived."""

    alike: WaitingTicket
    where: tuple[ColumnElement[bool], ...]
    count: int
    earliest: datetime
    latest: datetime


def _rival_groups(
    db: Session,
    *,
    branch: Branch,
    now: datetime,
    ticket_id: uuid.UUID,
    service_type_id: uuid.UUID,
    target_counter_id: uuid.UUID | None,
) -> list[RivalGroup]:
    """The checked-in tickets that compete with a ticket for the same counters (same service,
    or sent to the same counter), counted per group of alike tickets: one round trip, a row per
    group, however long the queue."""
    same_service = Ticket.target_counter_id.is_(None) & (Ticket.service_type_id == service_type_id)
    rivals = (
        same_service | (Ticket.target_counter_id == target_counter_id)
        if target_counter_id is not None
        else same_service
    )
    keys = (
        Ticket.priority,
        Ticket.booked_at,
        Ticket.service_type_id,
        Ticket.target_counter_id,
        ServiceType.code,
        ServiceType.target_max_wait_minutes,
        BranchService.target_max_wait_minutes,
        _TargetCounter.code,
    )
    query = select(
        *keys, func.count(), func.min(Ticket.queued_at), func.max(Ticket.queued_at)
    ).group_by(*keys)
    where = (Ticket.id != ticket_id, Ticket.checked_in_at.is_not(None), rivals)
    day = catalog.business_day(branch, now)
    groups = []
    for (
        priority, booked_at, service_id, target_id, code, target, local_target, target_code,
        count, earliest, latest,
    ) in db.execute(_waiting_at(query, branch, day, where)):  # fmt: skip
        alike = WaitingTicket(
            id=ticket_id,
            number="",
            service_code=code,
            priority=priority,
            queued_at=earliest,
            target_wait=timedelta(minutes=local_target or target),
            booked_at=booked_at,
            target_counter=target_code,
        )
        group_where = (
            *where,
            Ticket.priority == priority,
            Ticket.booked_at.is_(None) if booked_at is None else Ticket.booked_at == booked_at,
            Ticket.service_type_id == service_id,
            Ticket.target_counter_id.is_(None)
            if target_id is None
            else Ticket.target_counter_id == target_id,
        )
        groups.append(RivalGroup(alike, group_where, count, earliest, latest))
    return groups


def _ahead_count(
    db: Session,
    *,
    branch: Branch,
    now: datetime,
    mine: WaitingTicket,
    groups: list[RivalGroup],
    config: PolicyConfig,
) -> int:
    """How many rivals ``rank_for_counter`` puts before ``mine`` at a counter serving just its
    service (or its target counter), counted in SQL from each group's boundary.

    A group wholly ahead or wholly behind needs no more reading; only when a group straddles
    ``mine`` (rare for a new ticket) does one more round trip count its rows up to the
    boundary. Rows that tie with ``mine`` on score and arrival (same microsecond) come back by
    number and are ranked by the policy itself.
    """
    mine = replace(mine, is_checked_in=True)
    counter = CounterView(
        code=mine.target_counter or "*", service_codes=frozenset({mine.service_code})
    )
    mine_key = sort_key(mine, counter, now, config)
    ahead = 0
    surely: list[ColumnElement[bool]] = []
    maybe: list[ColumnElement[bool]] = []
    alike_at: dict[datetime, WaitingTicket] = {}
    for group in groups:
        found = arrivals_ahead(
            group.alike, mine, counter, now, config, earliest=group.earliest, latest=group.latest
        )
        if found.surely == group.latest and found.maybe is None:
            ahead += group.count
            continue
        if found.surely is not None:
            surely.append(and_(*group.where, Ticket.queued_at <= found.surely))
        if found.maybe is not None:
            maybe.append(and_(*group.where, Ticket.queued_at == found.maybe))
            alike_at[found.maybe] = group.alike
    if not surely and not maybe:
        return ahead
    tie = or_(*maybe) if maybe else false()
    rows = _waiting_at(
        select(
            case((tie, Ticket.queued_at), else_=None).label("tie_at"),
            case((tie, Ticket.number), else_=None).label("tie_number"),
        ),
        branch,
        catalog.business_day(branch, now),
        [or_(*surely, *maybe)],
    ).subquery()
    for tie_at, tie_number, count in db.execute(
        select(rows.c.tie_at, rows.c.tie_number, func.count()).group_by(
            rows.c.tie_at, rows.c.tie_number
        )
    ):
        if tie_at is None:
            ahead += count
            continue
        rival = replace(alike_at[tie_at], queued_at=tie_at, number=tie_number)
        if sort_key(rival, counter, now, config) < mine_key:
            ahead += count
    return ahead


def _outlook(
    db: Session,
    *,
    ticket: Ticket,
    now: datetime,
    estimator: WaitEstimator | None,
    statuses: list[str] | None = None,
    groups: list[RivalGroup] | None = None,
) -> tuple[int | None, int | None]:
    """(position, estimated wait seconds) of a waiting ticket, else (None, None).

    Reads only what decides them: the checked-in tickets that compete with this one for the
    same counters (same service, or sent to the same counter), counted per group of alike
    tickets, and the counters that serve its service - two round trips (three when a group
    straddles the ticket), whatever else waits in the hall. Gives what ``_position_in`` and
    ``estimate_wait`` give on the whole hall. ``statuses`` and ``groups`` may be read earlier
    by the caller (issue reads them before it takes the ticket's number).
    """
    if ticket.state != TicketState.waiting:
        return None, None
    remembered = _remembered_outlook(db, ticket.id, now)
    if remembered is not None:
        return remembered
    branch = _branch_of(db, ticket)
    mine = _as_waiting(db, ticket)
    if groups is None:
        groups = _rival_groups(
            db,
            branch=branch,
            now=now,
            ticket_id=ticket.id,
            service_type_id=ticket.service_type_id,
            target_counter_id=ticket.target_counter_id,
        )
    config = policy_config(queue_settings(db, branch))
    place = 1 + _ahead_count(db, branch=branch, now=now, mine=mine, groups=groups, config=config)
    if statuses is None:
        statuses = _serving_statuses(db, branch.id, ticket.service_type_id)
    open_count = sum(1 for status in statuses if status == CounterStatus.open)
    wait: int | None = None
    # As in estimate_wait: the learned model while a counter serves the physical queue.
    if estimator is not None and ticket.checked_in_at is not None and open_count:
        wait = estimator.estimate(ticket.branch_id, ticket.id, now)
    if wait is None:
        service = db.get(ServiceType, ticket.service_type_id)
        assert service is not None
        minutes = service.standard_handling_minutes
        wait = round((place - 1) * minutes * 60 / max(1, open_count or len(statuses)))
    _remember_outlook(db, ticket.id, now, place, wait)
    return place, wait


def position(db: Session, *, ticket: Ticket, now: datetime) -> int | None:
    """1 = next for its service (as the policy would order a counter that serves it)."""
    return _outlook(db, ticket=ticket, now=now, estimator=None)[0]


def estimate_wait(
    db: Session,
    *,
    ticket: Ticket,
    now: datetime,
    estimator: WaitEstimator | None,
    hall: HallView | None = None,
) -> int | None:
    """Seconds until this waiting ticket is called: the branch's learned model when it has
    history, otherwise the catalog standard (tickets ahead x standard handling time / counters
    that serve the service)."""
    if ticket.state != TicketState.waiting:
        return None
    if hall is None:
        return _outlook(db, ticket=ticket, now=now, estimator=estimator)[1]
    mine = next((w for w in hall.waiting if w.id == ticket.id), None)
    serving_now = mine is not None and any(
        v.is_open and mine.service_code in v.service_codes for v in hall.counters.values()
    )
    # The learned model follows the physical queue while counters serve it; a remote ticket
    # joins it at check-in, and with no counter open for the service there is nothing to learn
    # from, so those cases use the standard times.
    if estimator is not None and ticket.checked_in_at is not None and serving_now:
        learned = estimator.estimate(ticket.branch_id, ticket.id, now)
        if learned is not None:
            return learned
    return _standard_estimate(hall, ticket.id, now)


def ticket_read(
    db: Session,
    *,
    ticket: Ticket,
    now: datetime,
    estimator: WaitEstimator | None = None,
    include_customer: bool = False,
) -> Any:
    from branchdesk.core.i18n import localized
    from branchdesk.queue.schemas import TicketRead

    branch = _branch_of(db, ticket)
    service = db.get(ServiceType, ticket.service_type_id)
    assert service is not None
    place, estimate = _outlook(db, ticket=ticket, now=now, estimator=estimator)
    customer_name = None
    if include_customer and ticket.customer_id is not None:
        customer = db.get(Customer, ticket.customer_id)
        customer_name = customer.full_name if customer else None
    return TicketRead(
        id=ticket.id,
        number=ticket.number,
        branch_code=branch.code,
        service_code=service.code,
        service_name=localized(service.name_zh_hant, service.name_zh_hans, service.name_en),
        priority=Priority(ticket.priority),
        channel=ticket.channel,
        state=TicketState(ticket.state),
        position=place,
        estimated_wait_seconds=estimate,
        counter_code=_counter_code(db, ticket.counter_id or ticket.target_counter_id),
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
        recall_count=ticket.recall_count,
        public_url=f"/t/{ticket.public_token}",
        customer_name=customer_name,
    )


def snapshot(
    db: Session, *, branch: Branch, now: datetime, estimator: WaitEstimator | None = None
) -> Any:
    """Today's queue at a branch: waiting per service, counters, recent calls."""
    from branchdesk.core.i18n import localized
    from branchdesk.queue.schemas import CounterQueue, QueueSnapshot, RecentCall, ServiceQueue

    day = catalog.business_day(branch, now)
    hall = hall_view(db, branch=branch, now=now)
    waiting = [(hall.tickets[w.id], w) for w in hall.waiting]
    counters = hall.counter_rows
    views = hall.counters
    services = []
    for offered in catalog.list_branch_services(db, branch=branch, only_enabled=True):
        mine = [
            (t, w) for t, w in waiting if w.service_code == offered.service_code and w.is_checked_in
        ]
        estimate: int | None = None
        if mine:
            last = max(mine, key=lambda pair: pair[0].queued_at)[0]
            estimate = estimate_wait(db, ticket=last, now=now, estimator=estimator, hall=hall)
        elif any(v.is_open and offered.service_code in v.service_codes for v in views.values()):
            estimate = 0
        services.append(
            ServiceQueue(
                service_code=offered.service_code,
                service_name=localized(offered.name_zh_hant, offered.name_zh_hans, offered.name_en),
                waiting=len(mine),
                estimated_wait_seconds=estimate,
            )
        )
    current = {
        t.counter_id: t
        for t in db.execute(
            select(Ticket).where(
                Ticket.branch_id == branch.id,
                Ticket.state.in_([TicketState.called, TicketState.serving]),
            )
        ).scalars()
    }
    staff_names = dict(
        db.execute(
            select(User.id, User.display_name).where(
                User.id.in_([c.staffed_by_id for c in counters if c.staffed_by_id])
            )
        ).all()
    )
    counter_rows = [
        CounterQueue(
            code=c.code,
            name=c.name,
            status=c.status,
            is_vip=c.is_vip,
            service_codes=sorted(views[c.id].service_codes),
            staffed_by=staff_names.get(c.staffed_by_id) if c.staffed_by_id else None,
            current_ticket=current[c.id].number if c.id in current else None,
            current_state=current[c.id].state if c.id in current else None,
        )
        for c in counters
    ]
    codes = {c.id: c.code for c in counters}
    recent = db.execute(
        select(Ticket)
        .where(
            Ticket.branch_id == branch.id,
            Ticket.business_on == day,
            Ticket.called_at.is_not(None),
            Ticket.counter_id.is_not(None),
        )
        .order_by(Ticket.called_at.desc())
        .limit(8)
    ).scalars()
    return QueueSnapshot(
        branch_code=branch.code,
        business_on=day.isoformat(),
        services=services,
        counters=counter_rows,
        recent_calls=[
            RecentCall(
                number=t.number,
                counter_code=codes.get(t.counter_id, "?") if t.counter_id else "?",
                called_at=t.called_at,
                recall_count=t.recall_count,
                state=t.state,
            )
            for t in recent
            if t.called_at is not None
        ],
        waiting_total=sum(1 for _t, w in waiting if w.is_checked_in),
    )
