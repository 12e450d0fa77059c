"""Synthetic branch event streams for evaluating the wait-time model on held-out-like branches.

A `BranchConfig` describes one branch: counters with skills (optionally a VIP counter that
calls VIP tickets first), services with log-normal service times, an hourly arrival profile,
lunch breaks, a priority mix, no-shows and a calling policy (priority classes with optional
aging: a ticket's calling key is its issue time minus a per-priority boost, so an infinite
boost means strict priority and a finite one means the class ages past it). `random_branch`
draws a whole branch from a seed; `generate_events` simulates it day by day and yields events
in the replay format of shared/data/waittime/README.md. Everything is deterministic given the
seed.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

PRIORITIES = ("vip", "appointment", "elderly", "normal")
_SERVICE_POOL = ("CASH", "REMIT", "CARD", "OPEN", "LOAN", "WEALTH", "FX", "INS", "BIZ", "MORT")


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A service: mean service time in seconds and its coefficient of variation."""

    mean_seconds: float
    cv: float
    share: float


@dataclass(frozen=True, slots=True)
class CounterSpec:
    """A counter, its skills, its speed (service time multiplier) and its lunch break."""

    name: str
    services: tuple[str, ...]
    speed: float = 1.0
    is_vip: bool = False
    lunch_start_minute: int | None = None  # minutes after local midnight
    lunch_minutes: int = 60


@dataclass(frozen=True, slots=True)
class BranchConfig:
    """Everything that makes one synthetic branch."""

    counters: tuple[CounterSpec, ...]
    services: dict[str, ServiceSpec]
    priority_mix: dict[str, float]
    # calling-key boost per priority in seconds; math.inf = strict priority over finite ones
    boosts: dict[str, float]
    hourly_profile: tuple[float, ...]  # relative arrival weight for each opening hour
    tickets_per_day: float
    daily_load_sd: float = 0.15
    no_show_probability: float = 0.04
    no_show_seconds: int = 90
    open_minute: int = 9 * 60
    counters_open_minute: int = 8 * 60 + 55
    close_minute: int = 17 * 60
    drain_queue: bool = True  # serve everyone issued before closing; else close at the hour
    utc_offset_hours: int = 8
    days: int = 12
    # past this wait a ticket gains `aging_bonus` seconds of priority (None: no step aging)
    aging_after_seconds: float | None = None
    aging_bonus: float = 900.0
    # a VIP counter's preference for VIP tickets in seconds (None: it calls them first)
    vip_counter_bonus: float | None = None
    start: date = field(default_factory=lambda: date(2026, 3, 2))


def random_branch(
    seed: int,
    *,
    counters: int | None = None,
    load: float | None = None,
    policy: str | None = None,
    vip_counter: bool | None = None,
    days: int = 12,
) -> BranchConfig:
    """Draw a branch: counters, skills, services, load and policy all depend on the seed."""
    rng = random.Random(seed)
    n_counters = counters if counters is not None else rng.randint(2, 10)
    n_services = rng.randint(2, min(7, len(_SERVICE_POOL)))
    codes = rng.sample(_SERVICE_POOL, n_services)
    services: dict[str, ServiceSpec] = {}
    for code in codes:
        services[code] = ServiceSpec(
            mean_seconds=rng.choice([150.0, 240.0, 360.0, 480.0, 700.0, 1000.0, 1500.0])
            * rng.uniform(0.8, 1.25),
            cv=rng.uniform(0.3, 0.9),
            share=rng.uniform(0.2, 1.0) ** 2,
        )
    has_vip = vip_counter if vip_counter is not None else (n_counters >= 3 and rng.random() < 0.6)
    specs: list[CounterSpec] = []
    for index in range(n_counters):
        is_vip = has_vip and index == n_counters - 1
        if is_vip:
            skills = list(codes)
        else:
            k = rng.randint(1, n_services)
            skills = rng.sample(codes, k)
        lunch: int | None = None
        if n_counters > 1 and rng.random() < 0.6:
            lunch = rng.choice([11 * 60 + 30, 12 * 60, 12 * 60 + 30, 13 * 60])
        specs.append(
            CounterSpec(
                name=("V" if is_vip else "K") + str(index + 1),
                services=tuple(skills),
                speed=rng.uniform(0.8, 1.25),
                is_vip=is_vip,
                lunch_start_minute=lunch,
                lunch_minutes=rng.choice([30, 45, 60]),
            )
        )
    # every service needs at least one counter
    for code in codes:
        if not any(code in spec.services for spec in specs):
            target = rng.randrange(len(specs))
            old = specs[target]
            specs[target] = CounterSpec(
                old.name,
                (*old.services, code),
                old.speed,
                old.is_vip,
                old.lunch_start_minute,
                old.lunch_minutes,
            )
    mix_weights = [rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.15), rng.uniform(0.02, 0.25), 1.0]
    total = sum(mix_weights)
    priority_mix = {p: w / total for p, w in zip(PRIORITIES, mix_weights, strict=True)}
    kind = policy if policy is not None else rng.choice(["strict", "aging", "mixed", "bonus"])
    if kind == "strict":
        # strict tiers: boosts far larger than any wait
        boosts = {"vip": 3e9, "appointment": 2e9, "elderly": 1e9, "normal": 0.0}
    elif kind == "aging":
        boosts = {
            "vip": rng.choice([1200.0, 1800.0, 3600.0]),
            "appointment": rng.choice([900.0, 1800.0]),
            "elderly": rng.choice([300.0, 600.0, 900.0]),
            "normal": 0.0,
        }
    elif kind == "bonus":
        # score = waited + class bonus, + an aging bonus past a target wait, + a VIP-counter
        # preference: the shape of a production policy, not a pure key order
        boosts = {"vip": 900.0, "appointment": 1200.0, "elderly": 600.0, "normal": 0.0}
    else:
        boosts = {
            "vip": 3e9,
            "appointment": 2e9,
            "elderly": rng.choice([300.0, 900.0]),
            "normal": 0.0,
        }
    aging_after = rng.choice([900.0, 1800.0]) if kind == "bonus" else None
    vip_counter_bonus = 3600.0 if kind == "bonus" else None
    # load: expected work per day relative to capacity of the opening hours
    mean_work = sum(s.mean_seconds * s.share for s in services.values()) / sum(
        s.share for s in services.values()
    )
    hours = 8
    capacity = n_counters * hours * 3600 * 0.85
    utilisation = load if load is not None else rng.uniform(0.6, 1.05)
    profile = tuple(rng.uniform(0.5, 1.5) for _ in range(hours))
    return BranchConfig(
        counters=tuple(specs),
        services=services,
        priority_mix=priority_mix,
        boosts=boosts,
        hourly_profile=profile,
        tickets_per_day=utilisation * capacity / mean_work,
        daily_load_sd=rng.uniform(0.05, 0.25),
        no_show_probability=rng.uniform(0.0, 0.08),
        no_show_seconds=rng.choice([60, 90, 120]),
        close_minute=17 * 60,
        drain_queue=rng.random() < 0.7,
        utc_offset_hours=rng.choice([8, 9, 7, -5, 1]),
        days=days,
        aging_after_seconds=aging_after,
        vip_counter_bonus=vip_counter_bonus,
    )


@dataclass(slots=True)
class _Ticket:
    ticket: str
    service: str
    priority: str
    issued: float


@dataclass(slots=True)
class _Counter:
    spec: CounterSpec
    is_open: bool = False
    busy_until: float | None = None
    lunch_done: bool = False


def _lognormal(rng: random.Random, mean: float, cv: float) -> float:
    sigma2 = math.log(1.0 + cv * cv)
    mu = math.log(mean) - sigma2 / 2.0
    return rng.lognormvariate(mu, math.sqrt(sigma2))


def _working_days(start: date, count: int) -> list[date]:
    days: list[date] = []
    current = start
    while len(days) < count:
        if current.weekday() < 5:
            days.append(current)
        current += timedelta(days=1)
    return days


def generate_events(config: BranchConfig, seed: int) -> Iterator[dict[str, Any]]:
    """Simulate the branch and yield replay-format events (dicts) in time order."""
    rng = random.Random(seed * 7919 + 17)
    tz = timezone(timedelta(hours=config.utc_offset_hours))
    codes = list(config.services)
    shares = [config.services[c].share for c in codes]
    prios = list(config.priority_mix)
    prio_weights = [config.priority_mix[p] for p in prios]
    for day in _working_days(config.start, config.days):
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        yield from _simulate_day(config, rng, tz, day, midnight, codes, shares, prios, prio_weights)


def _simulate_day(
    config: BranchConfig,
    rng: random.Random,
    tz: timezone,
    day: date,
    midnight: float,
    codes: list[str],
    shares: list[float],
    prios: list[str],
    prio_weights: list[float],
) -> Iterator[dict[str, Any]]:
    def stamp(t: float) -> str:
        return datetime.fromtimestamp(round(t), tz=tz).isoformat()

    load = max(0.2, rng.gauss(1.0, config.daily_load_sd))
    open_t = midnight + config.open_minute * 60
    close_t = midnight + config.close_minute * 60
    hours = len(config.hourly_profile)
    weight_sum = sum(config.hourly_profile)
    arrivals: list[float] = []
    for hour, weight in enumerate(config.hourly_profile):
        rate = config.tickets_per_day * load * weight / weight_sum / 3600.0
        t = open_t + hour * 3600
        end = min(close_t, t + 3600) if hour < hours - 1 else close_t
        while True:
            t += rng.expovariate(rate) if rate > 0 else math.inf
            if t >= end:
                break
            arrivals.append(t)
    counters = [_Counter(spec) for spec in config.counters]
    waiting: list[_Ticket] = []
    # timeline: (time, order, kind, payload index)
    timeline: list[tuple[float, int, str, int]] = []
    order = 0

    def push(t: float, kind: str, index: int) -> None:
        nonlocal order
        order += 1
        heapq.heappush(timeline, (t, order, kind, index))

    start_t = midnight + config.counters_open_minute * 60
    for index in range(len(counters)):
        push(start_t, "open", index)
        lunch = counters[index].spec.lunch_start_minute
        if lunch is not None:
            push(midnight + lunch * 60, "lunch", index)
    for index, t in enumerate(arrivals):
        push(t, "arrive", index)
    if not config.drain_queue:
        push(close_t, "shutdown", -1)
    in_hand: dict[int, tuple[_Ticket, str]] = {}
    serial = 0
    shutdown = False

    def key(ticket: _Ticket, counter: CounterSpec, now: float) -> float:
        value = ticket.issued - config.boosts.get(ticket.priority, 0.0)
        aging = config.aging_after_seconds
        if aging is not None and now - ticket.issued > aging:
            value -= config.aging_bonus
        if counter.is_vip and ticket.priority == "vip" and config.vip_counter_bonus is not None:
            value -= config.vip_counter_bonus
        return value

    def try_call(index: int, now: float) -> Iterator[dict[str, Any]]:
        counter = counters[index]
        if not counter.is_open or counter.busy_until is not None or shutdown:
            return
        skills = counter.spec.services
        best: _Ticket | None = None
        best_key = (2, 0.0)
        for ticket in waiting:
            if ticket.service not in skills:
                continue
            preferred = counter.spec.is_vip and ticket.priority == "vip"
            tier = 0 if preferred and config.vip_counter_bonus is None else 1
            candidate = (tier, key(ticket, counter.spec, now))
            if best is None or candidate < best_key:
                best, best_key = ticket, candidate
        if best is None:
            return
        waiting.remove(best)
        yield {
            "ts": stamp(now),
            "type": "called",
            "ticket": best.ticket,
            "counter": counter.spec.name,
        }
        if rng.random() < config.no_show_probability:
            duration = float(config.no_show_seconds)
            outcome = "no_show"
        else:
            spec = config.services[best.service]
            duration = max(20.0, _lognormal(rng, spec.mean_seconds * counter.spec.speed, spec.cv))
            outcome = "completed"
        counter.busy_until = now + duration
        in_hand[index] = (best, outcome)
        push(now + duration, "done", index)

    issuing_over = False
    while timeline:
        now, _, kind, index = heapq.heappop(timeline)
        if kind == "open":
            counter = counters[index]
            counter.is_open = True
            yield {
                "ts": stamp(now),
                "type": "counter_open",
                "counter": counter.spec.name,
                "services": list(counter.spec.services),
            }
            yield from try_call(index, now)
        elif kind == "lunch":
            counter = counters[index]
            if counter.busy_until is None and counter.is_open:
                counter.is_open = False
                counter.lunch_done = True
                yield {"ts": stamp(now), "type": "counter_close", "counter": counter.spec.name}
                push(now + counter.spec.lunch_minutes * 60, "open", index)
        elif kind == "arrive":
            serial += 1
            ticket = _Ticket(
                ticket=f"{day:%Y%m%d}-{serial:04d}",
                service=rng.choices(codes, shares)[0],
                priority=rng.choices(prios, prio_weights)[0],
                issued=now,
            )
            waiting.append(ticket)
            yield {
                "ts": stamp(now),
                "type": "issued",
                "ticket": ticket.ticket,
                "service": ticket.service,
                "priority": ticket.priority,
            }
            for i in range(len(counters)):
                if counters[i].busy_until is None and counters[i].is_open:
                    yield from try_call(i, now)
                    if ticket not in waiting:
                        break
            if index == len(arrivals) - 1:
                issuing_over = True
        elif kind == "done":
            counter = counters[index]
            ticket, outcome = in_hand.pop(index)
            counter.busy_until = None
            yield {"ts": stamp(now), "type": outcome, "ticket": ticket.ticket}
            lunch = counter.spec.lunch_start_minute
            if (
                lunch is not None
                and not counter.lunch_done
                and now >= midnight + lunch * 60
                and counter.is_open
            ):
                counter.is_open = False
                counter.lunch_done = True
                yield {"ts": stamp(now), "type": "counter_close", "counter": counter.spec.name}
                reopen = max(now + 60, midnight + (lunch + counter.spec.lunch_minutes) * 60)
                push(reopen, "open", index)
                continue
            yield from try_call(index, now)
        elif kind == "shutdown":
            shutdown = True
        if not arrivals:
            issuing_over = True
        idle = all(c.busy_until is None for c in counters)
        pending_opens = any(k == "open" for _, _, k, _ in timeline)
        if (issuing_over or shutdown) and idle and (not waiting or shutdown) and not pending_opens:
            end = max(now, close_t) if not shutdown else now
            for counter in counters:
                if counter.is_open:
                    counter.is_open = False
                    yield {"ts": stamp(end), "type": "counter_close", "counter": counter.spec.name}
            break


def stream_lines(config: BranchConfig, seed: int) -> Iterator[str]:
    """The generated events as JSON lines (without newline)."""
    for event in generate_events(config, seed):
        yield json.dumps(event)
