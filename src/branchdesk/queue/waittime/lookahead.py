"""One forward run of a branch queue, from a plan of its state, until a ticket is called.

The counters call, in the inferred calling order (smallest key `issued - boost` among the
services they serve), the tickets ahead of the predicted one: those waiting now and those
expected to arrive later with a priority that overtakes it. Counters finish the ticket in
hand, take their usual break and stop at their usual hard closing time.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from branchdesk.queue.waittime.arrivals import ArrivalCurve
from branchdesk.queue.waittime.service_times import ServiceTimes

MAX_STEPS = 4000
OWN_SEQUENCE = 1 << 40  # the predicted ticket's tie-breaker in the look-ahead heaps


@dataclass(slots=True)
class SimCounter:
    """A counter as the look-ahead sees it: when it can start, breaks, its ticket in hand."""

    name: str
    skills: tuple[str, ...]  # sorted, so runs draw in the same order whatever the hash seed
    start: float = 0.0
    break_start: float | None = None
    break_end: float = 0.0
    hard_close: float | None = None
    busy_expected: float = 0.0
    busy_sampler: Callable[[random.Random], float] | None = None


@dataclass(slots=True)
class Plan:
    """Everything a look-ahead run starts from, shared by the sampled runs."""

    now: float
    midnight: float
    heaps: dict[str, list[tuple[float, int]]]
    arrivals: list[tuple[float, float, str]]  # expected arrivals, evenly placed
    curves: list[tuple[str, float, ArrivalCurve]]  # service, boost, expected count
    counters: list[SimCounter]
    sequence: int
    services: set[str]
    caps: list[float] = field(default_factory=list)  # per curve: sample arrivals up to count
    # per counter position and service: a duration sampler, or the expected duration
    samplers: list[dict[str, Callable[[random.Random], float] | float]] = field(
        default_factory=list
    )
    expected: list[dict[str, Callable[[random.Random], float] | float]] = field(
        default_factory=list
    )


def simulate(
    plan: Plan, rng: random.Random | None, times: ServiceTimes, *, random_arrivals: bool = True
) -> float | None:
    """One run of the queue forward from `plan.now`: seconds until the ticket is called.

    Without `rng` it is the mean-value run (expected durations, evenly placed arrivals);
    with it, durations and arrivals are drawn. None: the ticket is not called in the run.
    """
    now = plan.now
    heaps = {service: list(heap) for service, heap in plan.heaps.items()}
    for service in plan.services:
        heaps.setdefault(service, [])
    arrivals = plan.arrivals
    if rng is not None and random_arrivals:
        midnight = plan.midnight
        arrivals = sorted(
            (at + midnight, at + midnight - boost, service)
            for (service, boost, curve), cap in zip(plan.curves, plan.caps, strict=True)
            for at in curve.sample(rng, cap)
        )
    tables = plan.samplers if rng is not None else plan.expected
    sequence = plan.sequence
    events: list[tuple[float, int]] = []
    break_starts: list[float | None] = []
    counter_heaps: list[list[tuple[str, list[tuple[float, int]]]]] = []
    for position, sim in enumerate(plan.counters):
        start = sim.start
        if sim.busy_sampler is not None:
            busy = sim.busy_sampler(rng) if rng is not None else sim.busy_expected
            start = max(start, now + busy)
        events.append((start, position))
        break_starts.append(sim.break_start)
        counter_heaps.append([(service, heaps[service]) for service in sim.skills])
    heapq.heapify(events)
    heappush, heappop = heapq.heappush, heapq.heappop
    next_arrival = 0
    arrival_count = len(arrivals)
    steps = 0
    while events and steps < MAX_STEPS:
        steps += 1
        at, position = heappop(events)
        sim = plan.counters[position]
        if sim.hard_close is not None and at >= sim.hard_close:
            continue
        break_start = break_starts[position]
        if break_start is not None and at >= break_start:
            break_starts[position] = None
            heappush(events, (max(at, sim.break_end), position))
            continue
        while next_arrival < arrival_count and arrivals[next_arrival][0] <= at:
            _, key, arriving = arrivals[next_arrival]
            sequence += 1
            heappush(heaps[arriving], (key, sequence))
            next_arrival += 1
        best_service = ""
        best_heap: list[tuple[float, int]] | None = None
        for service, heap in counter_heaps[position]:
            if heap and (best_heap is None or heap[0] < best_heap[0]):
                best_heap, best_service = heap, service
        if best_heap is None:
            if next_arrival < arrival_count:
                heappush(events, (arrivals[next_arrival][0], position))
            continue
        if best_heap[0][1] == OWN_SEQUENCE:
            return at - now
        heappop(best_heap)
        table = tables[position]
        entry = table.get(best_service)
        if entry is None:
            name = plan.counters[position].name
            entry = (
                times.expected_duration(best_service, name)
                if rng is None
                else times.duration_sampler(best_service, name)
            )
            table[best_service] = entry
        duration = entry if isinstance(entry, float) else entry(rng)  # type: ignore[arg-type]
        heappush(events, (at + duration, position))
    return None
