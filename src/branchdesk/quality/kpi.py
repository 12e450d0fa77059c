"""Service-quality KPI queries: one SQL statement per figure family, on SQLite and PostgreSQL.

Every figure comes from the ``tickets`` table and its timestamps (the queue writes one per
transition next to its event rows) and from ``complaint_cases``:

- wait: from arrival (``checked_in_at``, or ``issued_at`` when a ticket never checked in) to the
  first call (``called_at``); p50/p90 by the nearest-rank method (the smallest wait with at least
  p% of the called tickets at or below it), computed with ``row_number()``/``count()`` windows;
- within target: called tickets whose wait is at most the service's target wait (the branch's own
  target from ``branch_services`` when it sets one, else the service type's);
- service time: ``started_at`` -> ``finished_at`` of completed tickets (average and p50);
- abandonment: cancelled before being called, over all tickets issued; no-show: ``no_show`` over
  all tickets issued;
- complaints: cases received per 1,000 tickets issued; SLA compliance: of the cases given a final
  answer (``resolved_at``) in the range, the share answered by ``final_due_at``; open past due:
  cases without a final answer whose ``final_due_at`` lies before ``now``.

Groups (``Level``) are the bank, a region, a branch, a counter, a teller or a service; buckets
(``Period``) are business days, ISO weeks (Monday) or the whole range.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from branchdesk.catalog.models import Branch, BranchService, ServiceType
from branchdesk.complaints.models import Case
from branchdesk.queue.models import Ticket, TicketState


class Level(StrEnum):
    bank = "bank"
    region = "region"
    branch = "branch"
    counter = "counter"
    teller = "teller"
    service = "service"


class Period(StrEnum):
    day = "day"
    week = "week"
    all = "all"


ALL = "all"


class seconds_between(FunctionElement[int]):
    """Whole seconds from the first instant to the second (rounded), on either database."""

    type = Integer()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"CAST(ROUND((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0) AS INTEGER)"
    )


@compiles(seconds_between, "postgresql")
def _seconds_postgres(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"CAST(ROUND(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)}))) AS INTEGER)"
    )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def buckets(from_on: date, to_on: date, period: Period) -> list[str]:
    """The bucket labels of a range in order (ISO dates of days or of week Mondays)."""
    if period == Period.all:
        return [ALL]
    if period == Period.day:
        days = (to_on - from_on).days + 1
        return [(from_on + timedelta(days=n)).isoformat() for n in range(days)]
    first = week_start(from_on)
    return [
        (first + timedelta(weeks=n)).isoformat()
        for n in range((week_start(to_on) - first).days // 7 + 1)
    ]


def date_bucket(column: Any, from_on: date, to_on: date, period: Period) -> Any:
    if period == Period.all:
        return literal(ALL)
    if period == Period.day:
        return column
    whens = [
        (column.between(date.fromisoformat(b), date.fromisoformat(b) + timedelta(days=6)), b)
        for b in buckets(from_on, to_on, period)
    ]
    return case(*whens, else_=literal(""))


def _instant_bucket(column: Any, from_on: date, to_on: date, period: Period) -> Any:
    if period == Period.all:
        return literal(ALL)
    span = 1 if period == Period.day else 7
    whens = []
    for label in buckets(from_on, to_on, period):
        start = datetime.combine(date.fromisoformat(label), time(), tzinfo=UTC)
        whens.append((and_(column >= start, column < start + timedelta(days=span)), label))
    return case(*whens, else_=literal(""))


def _group_key(level: Level) -> Any:
    return {
        Level.bank: literal(ALL),
        Level.region: Branch.region,
        Level.branch: Ticket.branch_id,
        Level.counter: Ticket.counter_id,
        Level.teller: Ticket.served_by_id,
        Level.service: Ticket.service_type_id,
    }[level]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Figures:
    """The raw counts and order statistics of one group in one bucket."""

    tickets: int = 0
    called: int = 0
    completed: int = 0
    abandoned: int = 0
    no_show: int = 0
    within_target: int = 0
    wait_p50_seconds: int | None = None
    wait_p90_seconds: int | None = None
    served: int = 0
    service_seconds_sum: int = 0
    service_p50_seconds: int | None = None
    complaints: int = 0
    answered: int = 0
    answered_in_time: int = 0
    open_past_due: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def within_target_share(self) -> float | None:
        return round(self.within_target / self.called, 4) if self.called else None

    @property
    def abandonment_rate(self) -> float | None:
        return round(self.abandoned / self.tickets, 4) if self.tickets else None

    @property
    def no_show_rate(self) -> float | None:
        return round(self.no_show / self.tickets, 4) if self.tickets else None

    @property
    def service_average_seconds(self) -> float | None:
        return round(self.service_seconds_sum / self.served, 1) if self.served else None

    @property
    def complaint_rate_per_1000(self) -> float | None:
        return round(1000 * self.complaints / self.tickets, 2) if self.tickets else None

    @property
    def sla_compliance(self) -> float | None:
        return round(self.answered_in_time / self.answered, 4) if self.answered else None


Key = tuple[str, str]  # (group, bucket)


def _wait_seconds() -> Any:
    return seconds_between(func.coalesce(Ticket.checked_in_at, Ticket.issued_at), Ticket.called_at)


def _service_seconds() -> Any:
    return seconds_between(Ticket.started_at, Ticket.finished_at)


def _ticket_filter(branch_ids: Sequence[uuid.UUID], from_on: date, to_on: date) -> list[Any]:
    return [Ticket.branch_id.in_(list(branch_ids)), Ticket.business_on.between(from_on, to_on)]


def _percentiles(
    db: Session,
    *,
    value: Any,
    where: list[Any],
    group: Any,
    bucket: Any,
    needs_branch: bool,
    percents: Sequence[int],
) -> dict[Key, list[int | None]]:
    """Nearest-rank percentiles of ``value`` per (group, bucket) with window functions."""
    ranked = select(
        group.label("g"),
        bucket.label("b"),
        value.label("v"),
        func.row_number().over(partition_by=(group, bucket), order_by=value).label("rn"),
        func.count().over(partition_by=(group, bucket)).label("n"),
    ).select_from(Ticket)
    if needs_branch:
        ranked = ranked.join(Branch, Branch.id == Ticket.branch_id)
    sub = ranked.where(*where).subquery()
    picks = [
        func.max(case((sub.c.rn == (p * sub.c.n + 99) // 100, sub.c.v))).label(f"p{p}")
        for p in percents
    ]
    out: dict[Key, list[int | None]] = {}
    for row in db.execute(select(sub.c.g, sub.c.b, *picks).group_by(sub.c.g, sub.c.b)):
        out[(_text(row[0]), _text(row[1]))] = [None if v is None else int(v) for v in row[2:]]
    return out


@dataclass(frozen=True)
class TicketMeasures:
    """The per-ticket SQL expressions every ticket figure is counted from.

    The raw KPI queries below and the per-day roll-up (``quality.rollup``) both use these, so a
    rule (what counts as abandoned, within target, served) lives here once. Queries that use
    ``within_target`` select from ``with_targets(...)`` (the service's and branch's targets).
    """

    called: ColumnElement[bool]
    completed: ColumnElement[bool]
    abandoned: ColumnElement[bool]
    no_show: ColumnElement[bool]
    within_target: ColumnElement[bool]
    served: ColumnElement[bool]
    wait_seconds: Any
    service_seconds: Any


def measures() -> TicketMeasures:
    target = func.coalesce(
        BranchService.target_max_wait_minutes, ServiceType.target_max_wait_minutes
    )
    wait = _wait_seconds()
    called = Ticket.called_at.is_not(None)
    return TicketMeasures(
        called=called,
        completed=Ticket.state == TicketState.completed,
        abandoned=and_(Ticket.state == TicketState.cancelled, Ticket.called_at.is_(None)),
        no_show=Ticket.state == TicketState.no_show,
        within_target=and_(called, wait <= target * 60),
        served=and_(
            Ticket.state == TicketState.completed,
            Ticket.started_at.is_not(None),
            Ticket.finished_at.is_not(None),
        ),
        wait_seconds=wait,
        service_seconds=_service_seconds(),
    )


def with_targets(query: Any) -> Any:
    """Join what ``TicketMeasures.within_target`` reads (the service's and branch's targets)."""
    return query.join(ServiceType, ServiceType.id == Ticket.service_type_id).outerjoin(
        BranchService,
        and_(
            BranchService.branch_id == Ticket.branch_id,
            BranchService.service_type_id == Ticket.service_type_id,
        ),
    )


def ticket_figures(
    db: Session,
    *,
    branch_ids: Sequence[uuid.UUID],
    from_on: date,
    to_on: date,
    level: Level,
    period: Period,
) -> dict[Key, Figures]:
    """Queue figures per (group, bucket) over business days ``from_on``..``to_on``, straight
    from the tickets with exact nearest-rank percentiles (the reference the roll-up is tested
    against; the dashboard reads ``quality.rollup``)."""
    group = _group_key(level)
    bucket = date_bucket(Ticket.business_on, from_on, to_on, period)
    needs_branch = level == Level.region
    where = _ticket_filter(branch_ids, from_on, to_on)
    m = measures()

    def count_if(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    counts = with_targets(
        select(
            group,
            bucket,
            func.count(),
            count_if(m.called),
            count_if(m.completed),
            count_if(m.abandoned),
            count_if(m.no_show),
            count_if(m.within_target),
            count_if(m.served),
            func.sum(case((m.served, m.service_seconds), else_=0)),
        ).select_from(Ticket)
    )
    if needs_branch:
        counts = counts.join(Branch, Branch.id == Ticket.branch_id)
    counts = counts.where(*where).group_by(group, bucket)
    figures: dict[Key, Figures] = {}
    for row in db.execute(counts):
        figures[(_text(row[0]), _text(row[1]))] = Figures(
            tickets=int(row[2]),
            called=int(row[3] or 0),
            completed=int(row[4] or 0),
            abandoned=int(row[5] or 0),
            no_show=int(row[6] or 0),
            within_target=int(row[7] or 0),
            served=int(row[8] or 0),
            service_seconds_sum=int(row[9] or 0),
        )
    waits = _percentiles(
        db, value=m.wait_seconds, where=[*where, m.called], group=group, bucket=bucket,
        needs_branch=needs_branch, percents=(50, 90),
    )  # fmt: skip
    for key, (p50, p90) in waits.items():
        item = figures.setdefault(key, Figures())
        item.wait_p50_seconds, item.wait_p90_seconds = p50, p90
    services = _percentiles(
        db, value=m.service_seconds, where=[*where, m.served], group=group, bucket=bucket,
        needs_branch=needs_branch, percents=(50,),
    )  # fmt: skip
    for key, (p50,) in services.items():
        figures.setdefault(key, Figures()).service_p50_seconds = p50
    return figures


def _case_group(level: Level) -> Any:
    if level == Level.bank:
        return literal(ALL)
    if level == Level.region:
        return Branch.region
    if level == Level.branch:
        return Case.branch_id
    raise ValueError(f"complaints are counted per branch, not per {level}")


def complaint_figures(
    db: Session,
    *,
    branch_ids: Sequence[uuid.UUID],
    from_on: date,
    to_on: date,
    level: Level,
    period: Period,
    now: datetime,
) -> dict[Key, Figures]:
    """Complaints received, answered (in time) per bucket; open past due at ``now`` (bucket "all").

    Days are UTC days of ``received_at``/``resolved_at``.
    """
    group = _case_group(level)
    start = datetime.combine(from_on, time(), tzinfo=UTC)
    end = datetime.combine(to_on + timedelta(days=1), time(), tzinfo=UTC)
    scope = Case.branch_id.in_(list(branch_ids))
    figures: dict[Key, Figures] = {}

    def grouped(query: Any) -> Any:
        if level == Level.region:
            query = query.join(Branch, Branch.id == Case.branch_id)
        return query

    received = _instant_bucket(Case.received_at, from_on, to_on, period)
    query = grouped(select(group, received, func.count()).select_from(Case)).where(
        scope, Case.received_at >= start, Case.received_at < end
    )
    for g, b, n in db.execute(query.group_by(group, received)):
        figures.setdefault((_text(g), _text(b)), Figures()).complaints = int(n)
    answered = _instant_bucket(Case.resolved_at, from_on, to_on, period)
    in_time = and_(Case.final_due_at.is_not(None), Case.resolved_at <= Case.final_due_at)
    query = grouped(
        select(group, answered, func.count(), func.sum(case((in_time, 1), else_=0))).select_from(
            Case
        )
    ).where(scope, Case.resolved_at >= start, Case.resolved_at < end)
    for g, b, n, ok in db.execute(query.group_by(group, answered)):
        item = figures.setdefault((_text(g), _text(b)), Figures())
        item.answered, item.answered_in_time = int(n), int(ok or 0)
    query = grouped(select(group, func.count()).select_from(Case)).where(
        scope, Case.resolved_at.is_(None), Case.closed_at.is_(None), Case.final_due_at < now
    )
    for g, n in db.execute(query.group_by(group)):
        figures.setdefault((_text(g), ALL), Figures()).open_past_due = int(n)
    return figures


def combined(
    db: Session,
    *,
    branch_ids: Sequence[uuid.UUID],
    from_on: date,
    to_on: date,
    level: Level,
    period: Period,
    now: datetime,
) -> dict[Key, Figures]:
    """Ticket figures plus, for bank/region/branch groups, the complaint figures."""
    figures = ticket_figures(
        db, branch_ids=branch_ids, from_on=from_on, to_on=to_on, level=level, period=period
    )
    if level in (Level.bank, Level.region, Level.branch):
        for key, item in complaint_figures(
            db, branch_ids=branch_ids, from_on=from_on, to_on=to_on, level=level, period=period,
            now=now,
        ).items():  # fmt: skip
            target = figures.setdefault(key, Figures())
            target.complaints = item.complaints
            target.answered, target.answered_in_time = item.answered, item.answered_in_time
            target.open_past_due = item.open_past_due
    return figures
