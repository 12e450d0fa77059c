"""The online wait-time model of one branch: live queue state plus a learned look-ahead.

`WaitTimeModel.observe` keeps the live state (who waits for which service at which priority,
which counters are open with which skills, who is in service since when) and updates the
learners: service times and counter speeds, no-shows, arrival rates by time of day, the
calling order between priority classes, and the counters' usual breaks and closing times.

`WaitTimeModel.predict_wait_seconds` plans a look-ahead from that state (`lookahead.py`): the
tickets ahead of this one, now and expected later, and the counters. It runs it once with
expected values and a few times with drawn durations and arrivals, and answers a blend of the
two whose weight is chosen online from the waits the stream reveals later. State resets at
each new local date; what was learned carries over.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from branchdesk.queue.waittime.arrivals import ArrivalCurve, ArrivalRates
from branchdesk.queue.waittime.events import EventType, QueueEvent
from branchdesk.queue.waittime.learners import (
    CallingOrder,
    CounterSchedule,
    FloatArray,
    OnlineRidge,
)
from branchdesk.queue.waittime.lookahead import OWN_SEQUENCE, Plan, SimCounter, simulate
from branchdesk.queue.waittime.service_times import ServiceTimes

_CORRECTION_WARMUP = 50
# the answer mixes the mean-value look-ahead (weight) with the sampled runs (1 - weight);
# another weight replaces the default once its discounted squared error is 5% lower
_BLEND_WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)
_DEFAULT_BLEND = 0  # index of the weight used until another one is clearly better
_BLEND_WARMUP = 200
_BLEND_MEMORY = 0.999
_STEP_BUDGET = 2500  # simulated calls per prediction, shared by the sampled runs


@dataclass(slots=True)
class _Ticket:
    issued: float
    service: str
    priority: str


@dataclass(slots=True)
class _Counter:
    skills: frozenset[str]
    is_open: bool = True
    ticket: str | None = None
    service: str | None = None
    since: float = 0.0


@dataclass(slots=True)
class _Pending:
    """What the model said at issue time, kept until the ticket is called."""

    features: FloatArray
    expected: float  # mean-value look-ahead
    sampled: float  # mean of the sampled look-ahead runs
    look_ahead: float  # their blend
    corrected: float


class WaitTimeModel:
    """Online wait-time estimate for one branch (one instance per branch).

    Feed every event of the branch with `observe` (in time order) and ask
    `predict_wait_seconds` for a waiting ticket. `samples` is the number of sampled look-ahead
    runs per answer (0: the mean-value run only); `seed` makes the draws reproducible.
    `use_correction` turns on a residual ridge regression over the look-ahead, used only while
    it beats the plain look-ahead on the waits seen; it is off by default because on the
    generated branches it did not pay.
    """

    def __init__(self, *, use_correction: bool = False, samples: int = 16, seed: int = 0) -> None:
        self.use_correction = use_correction
        self.samples = samples
        self.random_arrivals = True
        self.step_budget = _STEP_BUDGET
        self._rng = random.Random(seed)
        self.service_times = ServiceTimes()
        self.arrivals = ArrivalRates()
        self.calling_order = CallingOrder()
        self.schedule = CounterSchedule()
        # residual regression on the look-ahead (in kiloseconds), used only while it pays
        self.correction = OnlineRidge(2, ridge=30.0, forgetting=1.0)
        self._raw_error = 0.0
        self._corrected_error = 0.0
        self._blend_errors = [0.0] * len(_BLEND_WEIGHTS)
        self._blend_labels = 0
        self._day: date | None = None
        self._midnight = 0.0
        self._now = 0.0
        self._queues: dict[str, dict[str, dict[str, float]]] = {}
        self._tickets: dict[str, _Ticket] = {}
        self._counters: dict[str, _Counter] = {}
        self._pending: dict[str, _Pending] = {}
        self._wait_sum: dict[tuple[str, str], float] = {}
        self._wait_count: dict[tuple[str, str], int] = {}

    # ---- event intake -------------------------------------------------------------------

    def observe(self, event: QueueEvent) -> None:
        """Feed one event of the branch stream (in time order)."""
        now = event.ts.timestamp()
        local_day = event.ts.date()
        if self._day is None or local_day > self._day:
            self._start_day(event.ts)
        self._now = now
        tod = now - self._midnight
        kind = event.type
        if kind is EventType.ISSUED:
            self._on_issued(event, now, tod)
        elif kind is EventType.CALLED:
            self._on_called(event, now)
        elif kind in (EventType.COMPLETED, EventType.NO_SHOW):
            self._on_finished(event, now)
        elif kind is EventType.COUNTER_OPEN:
            self._on_counter_open(event, tod)
        elif kind is EventType.COUNTER_CLOSE:
            self._on_counter_close(event, tod)

    def _start_day(self, ts: datetime) -> None:
        if self._day is not None:
            self.arrivals.end_day()
            self.schedule.end_day()
        self._day = ts.date()
        self._midnight = datetime(ts.year, ts.month, ts.day, tzinfo=ts.tzinfo).timestamp()
        self._queues = {}
        self._tickets = {}
        self._pending = {}
        for counter in self._counters.values():
            counter.is_open = False
            counter.ticket = None
            counter.service = None

    def _on_issued(self, event: QueueEvent, now: float, tod: float) -> None:
        ticket, service, priority = event.ticket, event.service, event.priority
        if ticket is None or service is None or priority is None:
            return
        self._tickets[ticket] = _Ticket(now, service, priority)
        self._queues.setdefault(service, {}).setdefault(priority, {})[ticket] = now
        self.arrivals.record(priority, service, tod)

    def _on_called(self, event: QueueEvent, now: float) -> None:
        ticket_id, counter_id = event.ticket, event.counter
        if ticket_id is None or counter_id is None:
            return
        ticket = self._tickets.get(ticket_id)
        counter = self._counters.get(counter_id)
        if counter is None:
            counter = _Counter(skills=frozenset({ticket.service} if ticket else ()))
            self._counters[counter_id] = counter
        if ticket is not None:
            by_priority = self._queues.get(ticket.service, {})
            by_priority.get(ticket.priority, {}).pop(ticket_id, None)
            self._learn_order(ticket, counter)
            self.service_times.record_call(ticket.service)
            wait = now - ticket.issued
            key = (ticket.service, ticket.priority)
            self._wait_sum[key] = self._wait_sum.get(key, 0.0) + wait
            self._wait_count[key] = self._wait_count.get(key, 0) + 1
            pending = self._pending.pop(ticket_id, None)
            if pending is not None:
                self._learn_wait(pending, wait)
            if ticket.service not in counter.skills:
                counter.skills = counter.skills | {ticket.service}
        counter.ticket = ticket_id
        counter.service = ticket.service if ticket else None
        counter.since = now

    def _learn_order(self, ticket: _Ticket, counter: _Counter) -> None:
        oldest: dict[str, float] = {}
        for service in counter.skills:
            for priority, waiting in self._queues.get(service, {}).items():
                if priority == ticket.priority or not waiting:
                    continue
                first = next(iter(waiting.values()))
                if first < oldest.get(priority, float("inf")):
                    oldest[priority] = first
        self.calling_order.observe_call(ticket.priority, ticket.issued, oldest)

    def _on_finished(self, event: QueueEvent, now: float) -> None:
        ticket_id = event.ticket
        if ticket_id is None:
            return
        ticket = self._tickets.pop(ticket_id, None)
        for name, counter in self._counters.items():
            if counter.ticket == ticket_id:
                if ticket is not None:
                    seconds = now - counter.since
                    if event.type is EventType.NO_SHOW:
                        self.service_times.record_no_show(ticket.service, seconds)
                    else:
                        self.service_times.record_service(ticket.service, name, seconds)
                counter.ticket = None
                counter.service = None
                break

    def _on_counter_open(self, event: QueueEvent, tod: float) -> None:
        name = event.counter
        if name is None:
            return
        counter = self._counters.get(name)
        if counter is None:
            counter = _Counter(skills=frozenset(event.services))
            self._counters[name] = counter
        counter.skills = frozenset(event.services)
        counter.is_open = True
        self.schedule.record_open(name, tod)

    def _on_counter_close(self, event: QueueEvent, tod: float) -> None:
        name = event.counter
        if name is None:
            return
        counter = self._counters.get(name)
        has_work = False
        if counter is not None:
            counter.is_open = False
            has_work = any(
                waiting
                for service in counter.skills
                for waiting in self._queues.get(service, {}).values()
            )
        self.schedule.record_close(name, tod, has_waiting_work=has_work)

    # ---- prediction ---------------------------------------------------------------------

    def predict_wait_seconds(self, ticket_id: str, *, now: datetime | None = None) -> int:
        """Seconds from `now` until the ticket is expected to be called.

        `now` defaults to the time of the latest observed event (and is never taken earlier
        than it), so right after the ticket's `issued` event this is the whole expected wait;
        the live queue passes the current time to refresh the estimate. Unknown or already
        called tickets get 0.
        """
        ticket = self._tickets.get(ticket_id)
        if ticket is None or ticket_id not in self._queues.get(ticket.service, {}).get(
            ticket.priority, {}
        ):
            return 0
        at = self._now if now is None else max(self._now, now.timestamp())
        expected, sampled = self._look_ahead(ticket_id, ticket, at)
        fallback = self._fallback(ticket) if expected is None or sampled is None else 0.0
        expected = fallback if expected is None else expected
        sampled = fallback if sampled is None else sampled
        look_ahead = self._blend(expected, sampled)
        features = np.array([1.0, look_ahead / 1000.0])
        corrected = look_ahead
        if self.correction.count >= _CORRECTION_WARMUP:
            corrected = max(look_ahead + 1000.0 * self.correction.predict(features), 0.0)
        if ticket_id not in self._pending and at == ticket.issued:
            self._pending[ticket_id] = _Pending(features, expected, sampled, look_ahead, corrected)
        answer = corrected if self._correction_pays() else look_ahead
        return max(round(answer), 0)

    def _blend(self, expected: float, sampled: float) -> float:
        """Mix of the mean-value and the sampled look-ahead that has done best on past waits."""
        weight = _BLEND_WEIGHTS[_DEFAULT_BLEND]
        if self._blend_labels >= _BLEND_WARMUP:
            errors = self._blend_errors
            best = min(range(len(errors)), key=errors.__getitem__)
            if errors[best] < 0.95 * errors[_DEFAULT_BLEND]:
                weight = _BLEND_WEIGHTS[best]
        return weight * expected + (1.0 - weight) * sampled

    def _correction_pays(self) -> bool:
        """Use the regression only while it has beaten the plain look-ahead on recent waits."""
        return (
            self.use_correction
            and self.correction.count >= _CORRECTION_WARMUP
            and self._corrected_error < 0.95 * self._raw_error
        )

    def _learn_wait(self, pending: _Pending, wait: float) -> None:
        for index, weight in enumerate(_BLEND_WEIGHTS):
            guess = weight * pending.expected + (1.0 - weight) * pending.sampled
            self._blend_errors[index] = (
                _BLEND_MEMORY * self._blend_errors[index] + (guess - wait) ** 2
            )
        self._blend_labels += 1
        rate = 0.02
        raw = (pending.look_ahead - wait) ** 2
        corrected = (pending.corrected - wait) ** 2
        self._raw_error += rate * (raw - self._raw_error)
        self._corrected_error += rate * (corrected - self._corrected_error)
        self.correction.update(pending.features, (wait - pending.look_ahead) / 1000.0)

    def _fallback(self, ticket: _Ticket) -> float:
        key = (ticket.service, ticket.priority)
        count = self._wait_count.get(key, 0)
        if count:
            return self._wait_sum[key] / count
        total = sum(self._wait_count.values())
        return sum(self._wait_sum.values()) / total if total else 0.0

    def _look_ahead(
        self, ticket_id: str, ticket: _Ticket, now: float
    ) -> tuple[float | None, float | None]:
        """Time until the ticket is called: mean-value run, mean of sampled runs (None: never)."""
        plan = self._plan(ticket_id, ticket, now)
        expected = simulate(plan, None, self.service_times)
        if self.samples <= 0:
            return expected, expected
        # sampled arrivals matter only until the ticket is called: sample a generous horizon
        horizon = plan.now + (3.0 * expected + 3600.0 if expected is not None else 4 * 3600.0)
        plan.caps = [curve.count_at(horizon - plan.midnight) for _, _, curve in plan.curves]
        size = sum(len(heap) for heap in plan.heaps.values()) + len(plan.arrivals) + 1
        runs = max(4, min(self.samples, self.step_budget // size))
        results = [
            simulate(plan, self._rng, self.service_times, random_arrivals=self.random_arrivals)
            for _ in range(runs)
        ]
        called = [value for value in results if value is not None]
        if len(called) * 2 < runs:
            return expected, None
        return expected, sum(called) / len(called)

    def _plan(self, ticket_id: str, ticket: _Ticket, now: float) -> Plan:
        midnight = self._midnight
        tod = now - midnight
        boosts = self.calling_order.boosts()
        own_boost = boosts.get(ticket.priority, 0.0)
        own_key = ticket.issued - own_boost
        # tickets ahead, per service: heap of (key, sequence)
        heaps: dict[str, list[tuple[float, int]]] = {}
        sequence = 0
        for service, by_priority in self._queues.items():
            heap: list[tuple[float, int]] = []
            for priority, waiting in by_priority.items():
                boost = boosts.get(priority, 0.0)
                for other_id, issued in waiting.items():
                    key = issued - boost
                    if key > own_key or (key == own_key and other_id >= ticket_id):
                        break
                    sequence += 1
                    heap.append((key, sequence))
            if heap:
                heapq.heapify(heap)
                heaps[service] = heap
        own_entry = (own_key, OWN_SEQUENCE)
        heapq.heappush(heaps.setdefault(ticket.service, []), own_entry)
        # expected arrivals that will overtake this ticket
        arrivals: list[tuple[float, float, str]] = []
        curves: list[tuple[str, float, ArrivalCurve]] = []
        factor = self.arrivals.load_factor(tod)
        known = {s for c in self._counters.values() for s in c.skills} | {ticket.service}
        for service in sorted(known):  # sorted: the same draws whatever the hash seed
            for priority, boost in boosts.items():
                if boost <= own_boost:
                    continue
                until = min(ticket.issued + boost - own_boost, midnight + 86399.0) - midnight
                curve = self.arrivals.arrival_curve(priority, service, tod, until, factor)
                if curve is None:
                    continue
                curves.append((service, boost, curve))
                levels = [k + 0.5 for k in range(min(int(curve.total + 0.5), 400))]
                for at in curve.times_at(levels):
                    arrivals.append((at + midnight, at + midnight - boost, service))
        arrivals.sort()
        counters: list[SimCounter] = []
        times = self.service_times
        for name, counter in self._counters.items():
            sim = SimCounter(name, tuple(sorted(counter.skills)))
            hard = self.schedule.hard_close(name)
            sim.hard_close = hard + midnight if hard is not None else None
            if counter.is_open:
                sim.start = now
                planned = self.schedule.next_break(name, tod)
                if planned is not None:
                    sim.break_start = planned[0] + midnight
                    sim.break_end = planned[1] + midnight
            else:
                reopen = self.schedule.reopen_at(name, tod)
                if reopen is None:
                    continue
                sim.start = reopen + midnight
            if counter.ticket is not None and counter.service is not None:
                elapsed = now - counter.since
                sim.busy_expected = times.residual(counter.service, name, elapsed)
                sim.busy_sampler = times.residual_sampler(counter.service, name, elapsed)
            counters.append(sim)
        services = {ticket.service, *heaps, *(service for service, _, _ in curves)}
        for sim in counters:
            services.update(sim.skills)
        return Plan(
            now,
            midnight,
            heaps,
            arrivals,
            curves,
            counters,
            sequence,
            services,
            samplers=[{} for _ in counters],
            expected=[{} for _ in counters],
        )
