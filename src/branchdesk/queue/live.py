"""Live parts of the queue: the per-branch wait-time models and the event fan-out for screens.

``LiveWaits`` keeps one ``WaitTimeModel`` per branch, fed by the same ticket events the queue
writes (the events table is the stream, so every app instance learns from every instance's
changes). ``EventFeed`` polls the events table (and, on PostgreSQL, wakes at once on
``LISTEN branchdesk_events``) and hands new events to server-sent-event subscribers and to
``LiveWaits``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from branchdesk.core.db import Database
from branchdesk.core.events import Event
from branchdesk.queue.waittime import EventType, QueueEvent, WaitTimeModel

log = logging.getLogger(__name__)

# ticket event kind in our payloads -> the wait model's event type
_MODEL_TYPES = {
    "issued": EventType.ISSUED,
    "checked_in": EventType.ISSUED,
    "called": EventType.CALLED,
    "completed": EventType.COMPLETED,
    "no_show": EventType.NO_SHOW,
    "cancelled": EventType.NO_SHOW,
    "counter_open": EventType.COUNTER_OPEN,
    "counter_close": EventType.COUNTER_CLOSE,
    "counter_pause": EventType.COUNTER_CLOSE,
}


def to_queue_event(payload: dict[str, Any]) -> QueueEvent | None:
    """The wait model's view of one of our event payloads (None: the model ignores it)."""
    kind = _MODEL_TYPES.get(str(payload.get("type")))
    if kind is None:
        return None
    if payload.get("type") == "issued" and payload.get("channel") == "remote":
        return None  # a remote ticket joins the physical queue when it checks in
    try:
        ts = datetime.fromisoformat(str(payload["ts"]))
    except (KeyError, ValueError):
        return None
    return QueueEvent(
        ts=ts,
        type=kind,
        ticket=payload.get("ticket"),
        service=payload.get("service"),
        priority=payload.get("priority"),
        counter=payload.get("counter"),
        services=tuple(payload.get("services") or ()),
    )


MIN_POLL_GAP = 0.1  # seconds between two polls, however many notifications arrive
COME_BACK_EVERY = 10.0  # seconds between two come-back rounds for one branch
MIN_COMPLETIONS = 30  # below this a branch's model has not seen enough; callers fall back


class LiveWaits:
    """Thread-safe per-branch wait-time models; implements ``service.WaitEstimator``.

    ``estimate`` returns None until the branch's model has seen ``MIN_COMPLETIONS`` services,
    so a new branch shows the catalog's standard-time estimate rather than a guess.
    """

    def __init__(self, *, min_completions: int = MIN_COMPLETIONS) -> None:
        self.min_completions = min_completions
        self._completions: dict[uuid.UUID, int] = {}
        self._models: dict[uuid.UUID, WaitTimeModel] = {}
        self._last_ts: dict[uuid.UUID, datetime] = {}
        self._seen: deque[int] = deque(maxlen=50_000)
        self._seen_set: set[int] = set()
        self._lock = threading.Lock()

    def _model(self, branch_id: uuid.UUID) -> WaitTimeModel:
        model = self._models.get(branch_id)
        if model is None:
            model = self._models[branch_id] = WaitTimeModel()
        return model

    def observe(self, branch_id: uuid.UUID, event: Event) -> None:
        self.observe_payload(branch_id, event.seq, event.payload)

    def observe_payload(self, branch_id: uuid.UUID, seq: int, payload: dict[str, Any]) -> None:
        queue_event = to_queue_event(payload)
        if queue_event is None:
            return
        with self._lock:
            if seq in self._seen_set:
                return
            if len(self._seen) == self._seen.maxlen:
                self._seen_set.discard(self._seen[0])
            self._seen.append(seq)
            self._seen_set.add(seq)
            last = self._last_ts.get(branch_id)
            if last is not None and queue_event.ts < last:
                # Another instance's event that committed late: keep the model's clock monotone.
                queue_event = QueueEvent(
                    ts=last, type=queue_event.type, ticket=queue_event.ticket,
                    service=queue_event.service, priority=queue_event.priority,
                    counter=queue_event.counter, services=queue_event.services,
                )  # fmt: skip
            self._last_ts[branch_id] = queue_event.ts
            if queue_event.type is EventType.COMPLETED:
                self._completions[branch_id] = self._completions.get(branch_id, 0) + 1
            self._model(branch_id).observe(queue_event)

    def estimate(
        self, branch_id: uuid.UUID, ticket_id: uuid.UUID, now: datetime | None = None
    ) -> int | None:
        with self._lock:
            model = self._models.get(branch_id)
            if model is None or self._completions.get(branch_id, 0) < self.min_completions:
                return None
            return model.predict_wait_seconds(str(ticket_id), now=now)

    def _replay(self, database: Database, *, since: datetime, after_seq: int) -> int:
        last = after_seq
        with database.read_only() as db:
            rows = db.execute(
                select(Event.seq, Event.branch_id, Event.payload)
                .where(
                    Event.seq > after_seq,
                    Event.occurred_at >= since,
                    Event.branch_id.is_not(None),
                    Event.type.like("ticket.%") | Event.type.like("counter.%"),
                )
                .order_by(Event.seq)
            )
            for seq, branch_id, payload in rows:
                self.observe_payload(branch_id, seq, payload)
                last = seq
        return last

    def warm_up(self, database: Database, *, now: datetime, days: int = 14) -> int:
        """Learn from the recent history in the events table, off the request path.

        The history is replayed into fresh models that replace the live ones in one step; the
        events that committed meanwhile are replayed after, so nothing is lost or doubled.
        """
        fresh = LiveWaits(min_completions=self.min_completions)
        last = fresh._replay(database, since=now - timedelta(days=days), after_seq=0)
        with self._lock:
            self._models, self._completions = fresh._models, fresh._completions
            self._last_ts = fresh._last_ts
            self._seen, self._seen_set = fresh._seen, fresh._seen_set
        self._replay(database, since=now - timedelta(days=days), after_seq=last)
        return sum(fresh._completions.values())


@dataclass(frozen=True, slots=True)
class FeedItem:
    seq: int
    branch_id: uuid.UUID | None
    type: str
    payload: dict[str, Any]


class EventFeed:
    """One poller per process; subscribers get the events of their branch as they commit."""

    def __init__(
        self,
        database: Database,
        waits: LiveWaits,
        *,
        interval: float = 0.5,
        on_activity: Callable[[set[uuid.UUID]], None] | None = None,
    ) -> None:
        self.database = database
        self.waits = waits
        self.interval = interval
        self.on_activity = on_activity
        self._subscribers: set[tuple[uuid.UUID | None, asyncio.Queue[FeedItem]]] = set()
        self._cursor: int | None = None
        self._recent: deque[int] = deque(maxlen=5000)
        self._recent_set: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._listener: threading.Thread | None = None
        self._stopping = threading.Event()

    # lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is not None:
            return
        self._stopping.clear()
        self._wake = asyncio.Event()
        self._cursor = await asyncio.to_thread(self._max_seq)
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        if self.database.dialect == "postgresql":
            self._listener = threading.Thread(target=self._listen, args=(loop,), daemon=True)
            self._listener.start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _max_seq(self) -> int:
        with self.database.read_only() as db:
            from sqlalchemy import func

            return int(db.execute(select(func.coalesce(func.max(Event.seq), 0))).scalar_one())

    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """PostgreSQL LISTEN in a thread: any instance's commit wakes this poller at once."""
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        while not self._stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("LISTEN branchdesk_events")
                    for _notify in conn.notifies(timeout=1.0, stop_after=None):
                        loop.call_soon_threadsafe(self._wake.set)
                        if self._stopping.is_set():
                            return
            except Exception:  # reconnect after a database restart; polling covers the gap
                log.warning("LISTEN connection lost; retrying")
                self._stopping.wait(2.0)

    # polling ----------------------------------------------------------------------------------
    def _fetch(self, cursor: int) -> list[FeedItem]:
        # On PostgreSQL a lower sequence number can commit after a higher one, so re-read a
        # small window behind the cursor and drop what was already delivered.
        low = max(0, cursor - 200) if self.database.dialect == "postgresql" else cursor
        with self.database.read_only() as db:
            rows = db.execute(
                select(Event.seq, Event.branch_id, Event.type, Event.payload)
                .where(Event.seq > low)
                .order_by(Event.seq)
                .limit(2000)
            ).all()
        return [FeedItem(seq, branch, kind, payload) for seq, branch, kind, payload in rows]

    async def poll_once(self) -> int:
        cursor = self._cursor or 0
        items = await asyncio.to_thread(self._fetch, cursor)
        delivered = 0
        active: set[uuid.UUID] = set()
        for item in items:
            if item.seq in self._recent_set:
                continue
            if len(self._recent) == self._recent.maxlen:
                self._recent_set.discard(self._recent[0])
            self._recent.append(item.seq)
            self._recent_set.add(item.seq)
            self._cursor = max(self._cursor or 0, item.seq)
            if item.branch_id is not None and (
                item.type.startswith("ticket.") or item.type.startswith("counter.")
            ):
                self.waits.observe_payload(item.branch_id, item.seq, item.payload)
                active.add(item.branch_id)
            for branch_id, queue in list(self._subscribers):
                if branch_id is None or branch_id == item.branch_id:
                    queue.put_nowait(item)
            delivered += 1
        if active and self.on_activity is not None:
            await asyncio.to_thread(self.on_activity, active)
        return delivered

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:  # keep the feed alive through a database hiccup
                log.exception("event feed poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            # A busy hall notifies many times a second: gather them into one poll.
            await asyncio.sleep(MIN_POLL_GAP)
            self._wake.clear()

    def missed(self, branch_id: uuid.UUID, after_seq: int, *, limit: int = 1000) -> list[FeedItem]:
        """The branch's queue events after ``after_seq`` (a reconnecting client's Last-Event-ID),
        oldest first, at most ``limit`` of them (the newest)."""
        with self.database.read_only() as db:
            rows = db.execute(
                select(Event.seq, Event.branch_id, Event.type, Event.payload)
                .where(
                    Event.seq > after_seq,
                    Event.branch_id == branch_id,
                    Event.type.like("ticket.%") | Event.type.like("counter.%"),
                )
                .order_by(Event.seq.desc())
                .limit(limit)
            ).all()
        return [FeedItem(seq, branch, kind, data) for seq, branch, kind, data in reversed(rows)]

    async def subscribe(
        self, branch_id: uuid.UUID | None, *, ready: asyncio.Event | None = None
    ) -> AsyncIterator[FeedItem]:
        """The events of ``branch_id`` (all branches: None) as they commit; ``ready`` is set once
        the subscription is in place (nothing committed after that is missed)."""
        await self.start()
        queue: asyncio.Queue[FeedItem] = asyncio.Queue(maxsize=10_000)
        entry = (branch_id, queue)
        self._subscribers.add(entry)
        if ready is not None:
            ready.set()
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(entry)


def come_back_notices(database: Database, waits: LiveWaits) -> Callable[[set[uuid.UUID]], None]:
    """Feed hook: after queue activity at a branch, notify remote holders whose turn is near."""

    last_round: dict[uuid.UUID, float] = {}

    def run(branch_ids: set[uuid.UUID]) -> None:
        from branchdesk.catalog.models import Branch
        from branchdesk.core.clock import utcnow
        from branchdesk.queue.service.notices import send_come_back_notices

        for branch_id in branch_ids:
            if time.monotonic() - last_round.get(branch_id, -COME_BACK_EVERY) < COME_BACK_EVERY:
                continue
            last_round[branch_id] = time.monotonic()
            try:
                with database.unit_of_work() as db:
                    branch = db.get(Branch, branch_id)
                    if branch is not None:
                        send_come_back_notices(db, branch=branch, now=utcnow(), estimator=waits)
            except Exception:  # a failed notice round must not stop the live feed
                log.exception("come-back notices failed")

    return run
