"""The per-day roll-up behind the quality dashboard (table ``quality_daily``, migration 0018).

A closed business day of a branch is counted once into rows per (branch, day, dimension, member):
``service`` rows (every ticket has a service; the bank, region, branch and series figures add
these up), ``teller`` and ``counter`` rows (the branch page's breakdowns). Each row holds the
ticket counts of ``kpi.TicketMeasures``, the survey counts of ``feedback.rules`` and two sparse
histograms (wait, service time) of ``BUCKET_SECONDS``-wide buckets up to ``CAP_SECONDS`` plus an
overflow bucket. Percentiles come from the summed histograms by nearest rank and are reported as
the lower edge of their bucket, so they are exact to within one bucket (15 s); counts are exact.

``quality_rollup_days`` lists the branch days held, each with a fingerprint of its source rows
(tickets and survey answers). ``rollup()`` (the ``quality.rollup`` job, hourly, and
``branchdesk quality rollup [--since DAY]``) recomputes every closed day whose fingerprint changed:
late survey answers or corrections update the day, an unchanged day is left alone, so running it
again is a no-op. Days not held (today, or a day the job has not reached yet) are counted live
from the raw rows with the same code and merged, so the figures never depend on the job having
run, only their speed does. Complaint figures stay live reads of ``complaint_cases`` (about one
case per 1,000 tickets, read through its branch index).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    Integer,
    LargeBinary,
    String,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from branchdesk.catalog.models import Branch
from branchdesk.core.jobs import Job, register_job
from branchdesk.feedback.models import SurveyResponse
from branchdesk.feedback.rules import Tally, is_nps_detractor, is_promoter
from branchdesk.quality import kpi
from branchdesk.quality.kpi import ALL, Figures, Key, Level, Period
from branchdesk.quality.models import DailyFigures, RollupDay
from branchdesk.queue.models import Ticket, TicketState

BUCKET_SECONDS = 15
CAP_SECONDS = 4 * 3600
BUCKETS = CAP_SECONDS // BUCKET_SECONDS + 1  # the last one holds every value >= CAP_SECONDS
DIMENSIONS = ("service", "teller", "counter")
COUNTS = (
    "tickets", "called", "completed", "abandoned", "no_show", "within_target", "served",
    "service_seconds_sum", "responses", "csat_sum", "csat_1", "csat_2", "csat_3", "csat_4",
    "csat_5", "promoters", "detractors",
)  # fmt: skip
_C = {name: n for n, name in enumerate(COUNTS)}
LATE_DAYS = 35  # the hourly job re-checks this many closed days for late survey answers
_CHUNK_DAYS = 31
_PAIR = np.dtype("<u2")
_PAIR_MAX = 65535

RowKey = tuple[uuid.UUID, date, str, str]  # branch, day, dimension, member


def bucket_of(seconds: int) -> int:
    return min(max(seconds, 0) // BUCKET_SECONDS, BUCKETS - 1)


def encode(histogram: Counter[int]) -> bytes:
    """(bucket, count) pairs of uint16; a count above 65535 is split into several pairs of the
    same bucket (readers add pairs up, so a bucket may appear more than once)."""
    pairs = []
    for bucket, count in sorted(histogram.items()):
        while count > _PAIR_MAX:
            pairs.append((bucket, _PAIR_MAX))
            count -= _PAIR_MAX
        pairs.append((bucket, count))
    return np.array(pairs, dtype=_PAIR).reshape(-1).tobytes() if pairs else b""


@dataclass
class Counts:
    """One roll-up row being counted."""

    values: list[int] = field(default_factory=lambda: [0] * len(COUNTS))
    waits: Counter[int] = field(default_factory=Counter)
    services: Counter[int] = field(default_factory=Counter)

    def as_row(self, key: RowKey) -> dict[str, Any]:
        branch_id, day, dimension, member = key
        row: dict[str, Any] = dict(zip(COUNTS, self.values, strict=True))
        row.update(
            branch_id=branch_id, business_on=day, dimension=dimension, member=member,
            wait_histogram=encode(self.waits), service_histogram=encode(self.services),
        )  # fmt: skip
        return row


def _member(value: uuid.UUID | None) -> str:
    return "" if value is None else str(value)


def _hex(value: uuid.UUID | str) -> str:
    return value.hex if isinstance(value, uuid.UUID) else value.replace("-", "")


def _text(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


def count_days(
    db: Session, *, branch_ids: Sequence[uuid.UUID], from_on: date, to_on: date
) -> dict[RowKey, Counts]:
    """Count the raw tickets and survey answers of business days ``from_on``..``to_on``."""
    m = kpi.measures()

    def flag(condition: Any) -> Any:
        return case((condition, 1), else_=0)

    tickets = kpi.with_targets(
        select(
            Ticket.branch_id,
            Ticket.business_on,
            Ticket.service_type_id,
            Ticket.served_by_id,
            Ticket.counter_id,
            flag(m.called),
            flag(m.completed),
            flag(m.abandoned),
            flag(m.no_show),
            flag(m.within_target),
            flag(m.served),
            case((m.called, m.wait_seconds)),
            case((m.served, m.service_seconds)),
        ).select_from(Ticket)
    )  # fmt: skip
    tickets = tickets.where(
        Ticket.branch_id.in_(list(branch_ids)), Ticket.business_on.between(from_on, to_on)
    )
    out: dict[RowKey, Counts] = defaultdict(Counts)
    for b, day, service, teller, counter, *flags, wait, spent in db.execute(tickets):
        members = (str(service), _member(teller), _member(counter))
        for dimension, member in zip(DIMENSIONS, members, strict=True):
            item = out[(b, day, dimension, member)]
            values = item.values
            values[0] += 1
            for n, value in enumerate(flags, 1):
                values[n] += value
            if wait is not None:
                item.waits[bucket_of(int(wait))] += 1
            if spent is not None:
                values[_C["service_seconds_sum"]] += int(spent)
                item.services[bucket_of(int(spent))] += 1
    answers = select(
        SurveyResponse.branch_id, SurveyResponse.business_on, SurveyResponse.service_type_id,
        SurveyResponse.teller_id, SurveyResponse.counter_id, SurveyResponse.csat,
        SurveyResponse.nps,
    ).where(
        SurveyResponse.branch_id.in_(list(branch_ids)),
        SurveyResponse.business_on.between(from_on, to_on),
    )  # fmt: skip
    for b, day, service, teller, counter, csat, nps in db.execute(answers):
        members = (str(service), _member(teller), _member(counter))
        for dimension, member in zip(DIMENSIONS, members, strict=True):
            values = out[(b, day, dimension, member)].values
            values[_C["responses"]] += 1
            values[_C["csat_sum"]] += csat
            values[_C["csat_1"] + csat - 1] += 1
            values[_C["promoters"]] += int(is_promoter(nps))
            values[_C["detractors"]] += int(is_nps_detractor(nps))
    return dict(out)


# --- keeping the roll-up ------------------------------------------------------------------------


def fingerprints(db: Session, *, from_on: date, to_on: date) -> dict[tuple[uuid.UUID, date], str]:
    """A cheap digest of each branch day's source rows (changes when a late event lands)."""
    states = [
        func.sum(case((Ticket.state == state, 1), else_=0))
        for state in (TicketState.completed, TicketState.no_show, TicketState.cancelled)
    ]
    tickets = (
        select(
            Ticket.branch_id, Ticket.business_on, func.count(), *states,
            func.count(Ticket.called_at), func.count(Ticket.finished_at),
            func.count(Ticket.served_by_id), func.max(Ticket.finished_at),
        )
        .where(Ticket.business_on.between(from_on, to_on))
        .group_by(Ticket.branch_id, Ticket.business_on)
    )  # fmt: skip
    out: dict[tuple[uuid.UUID, date], str] = {}
    for b, day, *values in db.execute(tickets):
        last = values.pop()
        out[(b, day)] = (
            "t"
            + ":".join(str(int(v or 0)) for v in values)
            + (f"@{last.isoformat()}" if last is not None else "")
        )
    answers = (
        select(
            SurveyResponse.branch_id, SurveyResponse.business_on, func.count(),
            func.sum(SurveyResponse.csat), func.sum(SurveyResponse.nps),
        )
        .where(SurveyResponse.business_on.between(from_on, to_on))
        .group_by(SurveyResponse.branch_id, SurveyResponse.business_on)
    )  # fmt: skip
    for b, day, n, csat, nps in db.execute(answers):
        out[(b, day)] = out.get((b, day), "") + f"|r{n}:{csat}:{nps}"
    return out


@dataclass(frozen=True)
class RollupResult:
    days_checked: int
    days_recomputed: int
    rows_written: int


def last_closed_days(db: Session, now: datetime) -> dict[uuid.UUID, date]:
    """Per branch, the last business day that is over in the branch's own time zone."""
    return {
        branch_id: now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
        for branch_id, zone in db.execute(select(Branch.id, Branch.timezone))
    }


def rollup(
    db: Session, *, now: datetime, since: date | None = None, recount: bool = False
) -> RollupResult:
    """Count every closed branch day from ``since`` (default: the first ticket) whose source rows
    changed since it was last counted (every one with ``recount``, e.g. after a target change);
    idempotent."""
    closed = last_closed_days(db, now)
    if since is None:
        first = db.execute(select(func.min(Ticket.business_on))).scalar()
        answered = db.execute(select(func.min(SurveyResponse.business_on))).scalar()
        starts = [d for d in (first, answered) if d is not None]
        if not starts:
            return RollupResult(0, 0, 0)
        since = min(starts)
    if not closed or since > max(closed.values()):
        return RollupResult(0, 0, 0)
    until = max(closed.values())
    current = fingerprints(db, from_on=since, to_on=until)
    stored = {
        (b, d): fp
        for b, d, fp in db.execute(
            select(RollupDay.branch_id, RollupDay.business_on, RollupDay.fingerprint).where(
                RollupDay.business_on.between(since, until)
            )
        )
    }
    wanted: dict[tuple[uuid.UUID, date], str] = {}
    for branch_id, last in closed.items():
        day = since
        while day <= last:
            wanted[(branch_id, day)] = current.get((branch_id, day), "")
            day += timedelta(days=1)
    changed = sorted(pair for pair, fp in wanted.items() if recount or stored.get(pair) != fp)
    written = 0
    for chunk in _chunks(changed):
        written += _recount(db, chunk, wanted, now)
    return RollupResult(len(wanted), len(changed), written)


def _chunks(
    pairs: list[tuple[uuid.UUID, date]],
) -> Iterable[list[tuple[uuid.UUID, date]]]:
    by_start: dict[int, list[tuple[uuid.UUID, date]]] = defaultdict(list)
    for pair in pairs:
        by_start[pair[1].toordinal() // _CHUNK_DAYS].append(pair)
    for key in sorted(by_start):
        yield by_start[key]


def _recount(
    db: Session,
    pairs: list[tuple[uuid.UUID, date]],
    wanted: dict[tuple[uuid.UUID, date], str],
    now: datetime,
) -> int:
    days = [d for _, d in pairs]
    counted = count_days(
        db, branch_ids=sorted({b for b, _ in pairs}), from_on=min(days), to_on=max(days)
    )
    keep = set(pairs)
    params = [{"b": b, "d": d} for b, d in pairs]
    connection = db.connection()  # an executemany DELETE is a Core statement
    daily = cast(Table, DailyFigures.__table__)
    held = cast(Table, RollupDay.__table__)
    connection.execute(
        delete(daily).where(
            daily.c.dimension == bindparam("dim"),  # the primary key starts with the dimension
            daily.c.branch_id == bindparam("b"),
            daily.c.business_on == bindparam("d"),
        ),
        [{**p, "dim": dimension} for dimension in DIMENSIONS for p in params],
    )
    connection.execute(
        delete(held).where(
            held.c.branch_id == bindparam("b"), held.c.business_on == bindparam("d")
        ),
        params,
    )
    rows = [item.as_row(key) for key, item in counted.items() if (key[0], key[1]) in keep]
    if rows:
        db.execute(insert(DailyFigures), rows)
    db.execute(
        insert(RollupDay),
        [
            {"branch_id": b, "business_on": d, "fingerprint": wanted[(b, d)], "computed_at": now}
            for b, d in pairs
        ],
    )
    return len(rows)


def _job(db: Session, now: datetime) -> object:
    latest = db.execute(select(func.max(RollupDay.business_on))).scalar()
    since = None
    if latest is not None:  # the recent days (late answers) and any the job has not reached
        since = min(latest + timedelta(days=1), now.date() - timedelta(days=LATE_DAYS))
    return rollup(db, now=now, since=since)


register_job(Job(name="quality.rollup", every=timedelta(hours=1), run=_job))


# --- reading it ---------------------------------------------------------------------------------

IntArray = npt.NDArray[np.int64]


@dataclass
class Block:
    """The roll-up rows of one dimension in scope, summed per branch, member and bucket of the
    source's grain (stored days plus the live ones), as arrays: per row the index of its branch
    (in ``branches``), member (in ``members``) and bucket label (in ``buckets``)."""

    branches: list[uuid.UUID]
    members: list[str]
    buckets: list[str]
    branch: IntArray
    member: IntArray
    bucket: IntArray
    counts: IntArray  # rows x len(COUNTS)
    wait_rows: IntArray  # one entry per non-empty histogram bucket: row, bucket, count
    wait_buckets: IntArray
    wait_counts: IntArray
    service_rows: IntArray
    service_buckets: IntArray
    service_counts: IntArray


class concat_bytes(FunctionElement[bytes]):
    """Aggregate: the group's byte strings joined (in any order: histograms are lists of pairs)."""

    type = LargeBinary()
    inherit_cache = True


@compiles(concat_bytes, "sqlite")
def _concat_sqlite(element: concat_bytes, compiler: Any, **kw: Any) -> str:
    return f"CAST(group_concat({compiler.process(element.clauses, **kw)}, '') AS BLOB)"


@compiles(concat_bytes, "postgresql")
def _concat_postgres(element: concat_bytes, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ''::bytea)"


class days_since(FunctionElement[int]):
    """Whole days from a fixed date (a bound value) to a date column."""

    type = Integer()
    inherit_cache = True


@compiles(days_since, "sqlite")
def _days_sqlite(element: days_since, compiler: Any, **kw: Any) -> str:
    start, day = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(day, **kw)}) - "
        f"julianday({compiler.process(start, **kw)}) AS INTEGER)"
    )


@compiles(days_since, "postgresql")
def _days_postgres(element: days_since, compiler: Any, **kw: Any) -> str:
    start, day = list(element.clauses)
    return f"({compiler.process(day, **kw)} - CAST({compiler.process(start, **kw)} AS DATE))"


def _codes(values: Iterable[Any], labels: list[Any]) -> IntArray:
    """Each value's index in ``labels`` (values not seen yet are appended)."""
    seen = {v: n for n, v in enumerate(labels)}
    out = []
    for value in values:
        code = seen.get(value)
        if code is None:
            code = seen[value] = len(labels)
            labels.append(value)
        out.append(code)
    return np.array(out, dtype=np.int64)


def _decode(blobs: Sequence[bytes | None]) -> tuple[IntArray, IntArray, IntArray]:
    data = [bytes(b) if b else b"" for b in blobs]
    lengths = np.fromiter((len(b) // (2 * _PAIR.itemsize) for b in data), dtype=np.int64)
    flat = np.frombuffer(b"".join(data), dtype=_PAIR).astype(np.int64).reshape(-1, 2)
    rows = np.repeat(np.arange(len(data), dtype=np.int64), lengths)
    return rows, flat[:, 0], flat[:, 1]


def percentile(histograms: npt.NDArray[np.float64], percent: int) -> list[int | None]:
    """Nearest rank per row of ``histograms``: the lower edge of the bucket holding it."""
    if histograms.shape[0] == 0:
        return []
    cumulative = histograms.cumsum(axis=1)
    totals = cumulative[:, -1].astype(np.int64)
    ranks = (percent * totals + 99) // 100
    index = (cumulative < ranks[:, None]).sum(axis=1)
    return [
        None if n == 0 else min(int(i) * BUCKET_SECONDS, CAP_SECONDS)
        for n, i in zip(totals, index, strict=True)
    ]


@dataclass(frozen=True)
class Aggregate:
    figures: dict[Key, Figures]
    tallies: dict[Key, Tally]


class Source:
    """The dashboard's figures for a set of branches and business days, from the roll-up.

    Each dimension is read once, summed in SQL per branch, member and bucket of ``grain`` (the
    page's series period; coarser periods are added up from it), branch days the roll-up does
    not hold counted live from the raw rows and merged; then numpy adds rows up per (group,
    bucket) and reads the percentiles off the summed histograms.
    """

    def __init__(
        self,
        db: Session,
        *,
        branch_ids: Sequence[uuid.UUID],
        from_on: date,
        to_on: date,
        grain: Period = Period.day,
    ) -> None:
        self.db = db
        self.branch_ids = list(branch_ids)
        self.from_on, self.to_on = from_on, to_on
        self.grain = grain
        self._blocks: dict[str, Block] = {}
        self._live: dict[RowKey, Counts] | None = None
        self._regions: dict[uuid.UUID, str] | None = None
        self._cases: dict[Key, Figures] | None = None

    def _live_rows(self) -> dict[RowKey, Counts]:
        if self._live is None:
            table = cast(Table, RollupDay.__table__)
            span = [
                self.from_on + timedelta(days=n)
                for n in range((self.to_on - self.from_on).days + 1)
            ]
            in_range = table.c.business_on.between(self.from_on, self.to_on)
            query = (
                select(table.c.branch_id, func.count())
                .where(table.c.branch_id.in_(self.branch_ids), in_range)
                .group_by(table.c.branch_id)
            )
            complete = {b for b, n in self.db.connection().execute(query).all() if n == len(span)}
            partial = [b for b in self.branch_ids if b not in complete]
            held: set[tuple[uuid.UUID, date]] = set()
            if partial:
                query = select(table.c.branch_id, table.c.business_on).where(
                    table.c.branch_id.in_(partial), in_range
                )
                held = {(b, d) for b, d in self.db.connection().execute(query).all()}
            missing = {(b, d) for b in partial for d in span if (b, d) not in held}
            self._live = {}
            if missing:
                days = [d for _, d in missing]
                counted = count_days(
                    self.db, branch_ids=sorted({b for b, _ in missing}), from_on=min(days),
                    to_on=max(days),
                )  # fmt: skip
                self._live = {k: v for k, v in counted.items() if (k[0], k[1]) in missing}
        return self._live

    def _label(self, day: date) -> str:
        if self.grain == Period.all:
            return ALL
        if self.grain == Period.week:
            return kpi.week_start(day).isoformat()
        return day.isoformat()

    def block(self, dimension: str) -> Block:
        if dimension in self._blocks:
            return self._blocks[dimension]
        t = cast(Table, DailyFigures.__table__)
        # branch ids come back raw (32 hex digits on SQLite) and are converted once per branch
        keys: list[Any] = [type_coerce(t.c.branch_id, String()), t.c.member]
        first = kpi.week_start(self.from_on) if self.grain == Period.week else self.from_on
        if self.grain == Period.week:  # whole weeks since the first Monday: cheaper than a CASE
            keys.append(days_since(literal(first.isoformat()), t.c.business_on) // 7)
        elif self.grain == Period.day:
            keys.append(t.c.business_on)
        query = (
            select(
                *keys, *(func.sum(t.c[c]) for c in COUNTS),
                concat_bytes(t.c.wait_histogram), concat_bytes(t.c.service_histogram),
            )
            .where(
                t.c.dimension == dimension, t.c.branch_id.in_(self.branch_ids),
                t.c.business_on.between(self.from_on, self.to_on),
            )
            .group_by(*keys)
        )  # fmt: skip
        rows: list[tuple[Any, ...]] = []
        for row in self.db.connection().execute(query).all():
            if self.grain == Period.all:
                head = (row[0], row[1], ALL)
            elif self.grain == Period.week:
                head = (row[0], row[1], (first + timedelta(weeks=int(row[2]))).isoformat())
            else:
                head = (row[0], row[1], row[2])
            rows.append((*head, *row[len(keys) :]))
        for key, item in self._live_rows().items():
            if key[2] == dimension:
                rows.append(
                    (key[0].hex, key[3], self._label(key[1]), *item.values, encode(item.waits),
                     encode(item.services))
                )  # fmt: skip
        width = len(COUNTS)
        columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) or [()] * (width + 5)
        raw_branches: list[Any] = []
        members: list[str] = []
        buckets: list[str] = []
        counts = np.array(columns[3 : 3 + width], dtype=np.int64).reshape(width, -1).T
        waits = _decode(columns[-2])
        services = _decode(columns[-1])
        block = Block(
            branch=_codes((_hex(b) for b in columns[0]), raw_branches),
            branches=[uuid.UUID(hex=b) for b in raw_branches], members=members, buckets=buckets,
            member=_codes(columns[1], members),
            bucket=_codes((_text(b) for b in columns[2]), buckets),
            counts=np.ascontiguousarray(counts), wait_rows=waits[0], wait_buckets=waits[1],
            wait_counts=waits[2], service_rows=services[0], service_buckets=services[1],
            service_counts=services[2],
        )  # fmt: skip
        self._blocks[dimension] = block
        return block

    def _region(self, branch_id: uuid.UUID) -> str:
        if self._regions is None:
            query = select(Branch.id, Branch.region).where(Branch.id.in_(self.branch_ids))
            self._regions = {b: str(region) for b, region in self.db.execute(query).all()}
        return self._regions.get(branch_id, "")

    def _groups(self, block: Block, level: Level) -> tuple[IntArray, list[str]]:
        if level == Level.bank:
            return np.zeros(len(block.branch), dtype=np.int64), [ALL]
        if level == Level.region:
            labels: list[str] = []
            regions = _codes((self._region(b) for b in block.branches), labels)
            return regions[block.branch] if len(block.branch) else block.branch, labels
        if level == Level.branch:
            return block.branch, [str(b) for b in block.branches]
        return block.member, block.members

    def _buckets(self, block: Block, period: Period) -> tuple[IntArray, list[str]]:
        if period == Period.all:
            return np.zeros(len(block.bucket), dtype=np.int64), [ALL]
        if period == self.grain:
            return block.bucket, block.buckets
        if period == Period.week and self.grain == Period.day:
            labels: list[str] = []
            weeks = _codes(
                (kpi.week_start(date.fromisoformat(d)).isoformat() for d in block.buckets), labels
            )
            return weeks[block.bucket] if len(block.bucket) else block.bucket, labels
        raise ValueError(f"a source counted by {self.grain} cannot answer by {period}")

    def aggregate(self, level: Level, period: Period) -> Aggregate:
        """Figures and survey tallies per (group, bucket), like ``kpi.ticket_figures``."""
        dimension = {Level.teller: "teller", Level.counter: "counter"}.get(level, "service")
        block = self.block(dimension)
        group, group_labels = self._groups(block, level)
        bucket, bucket_labels = self._buckets(block, period)
        if not len(group):
            return Aggregate(figures={}, tallies={})
        combined = group * len(bucket_labels) + bucket
        keys, rows = np.unique(combined, return_inverse=True)
        rows = rows.reshape(-1)
        size = len(keys)
        sums = np.zeros((size, len(COUNTS)), dtype=np.int64)
        np.add.at(sums, rows, block.counts)

        def histograms(entry_rows: IntArray, bucket: IntArray, n: IntArray) -> Any:
            flat = rows[entry_rows] * BUCKETS + bucket
            return np.bincount(flat, weights=n, minlength=size * BUCKETS).reshape(size, BUCKETS)

        waits = histograms(block.wait_rows, block.wait_buckets, block.wait_counts)
        services = histograms(block.service_rows, block.service_buckets, block.service_counts)
        p50, p90 = percentile(waits, 50), percentile(waits, 90)
        s50 = percentile(services, 50)
        figures: dict[Key, Figures] = {}
        tallies: dict[Key, Tally] = {}
        for n, code in enumerate(keys.tolist()):
            key = (
                group_labels[code // len(bucket_labels)],
                bucket_labels[code % len(bucket_labels)],
            )
            v = [int(x) for x in sums[n]]
            figures[key] = Figures(
                tickets=v[0], called=v[1], completed=v[2], abandoned=v[3], no_show=v[4],
                within_target=v[5], served=v[6], service_seconds_sum=v[7],
                wait_p50_seconds=p50[n], wait_p90_seconds=p90[n], service_p50_seconds=s50[n],
            )  # fmt: skip
            tallies[key] = Tally(
                completed=v[2], responses=v[8], csat_sum=v[9],
                csat_counts=(v[10], v[11], v[12], v[13], v[14]), promoters=v[15],
                detractors=v[16],
            )  # fmt: skip
        return Aggregate(figures=figures, tallies=tallies)

    def _complaints(self, now: datetime) -> dict[Key, Figures]:
        """Complaint figures per (branch, bucket of the grain), read once per page."""
        if self._cases is None:
            self._cases = kpi.complaint_figures(
                self.db, branch_ids=self.branch_ids, from_on=self.from_on, to_on=self.to_on,
                level=Level.branch, period=self.grain, now=now,
            )  # fmt: skip
        return self._cases

    def combined(self, level: Level, period: Period, now: datetime) -> Aggregate:
        """``aggregate`` plus, for bank, region and branch groups, the live complaint figures."""
        result = self.aggregate(level, period)
        if level not in (Level.bank, Level.region, Level.branch):
            return result
        for (branch, bucket), item in self._complaints(now).items():
            if level == Level.bank:
                group = ALL
            elif level == Level.region:
                group = self._region(uuid.UUID(branch))
            else:
                group = branch
            if bucket == ALL or period == Period.all:  # open past due is counted at "now": ALL
                label = ALL
            elif period == self.grain:
                label = bucket
            else:
                label = kpi.week_start(date.fromisoformat(bucket)).isoformat()
            target = result.figures.setdefault((group, label), Figures())
            target.complaints += item.complaints
            target.answered += item.answered
            target.answered_in_time += item.answered_in_time
            target.open_past_due += item.open_past_due
        return result
