from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from branchdesk.queue.policy import (
    CounterView,
    PolicyConfig,
    WaitingTicket,
    choose_next,
    rank_for_counter,
)

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
CONFIG = PolicyConfig()
TARGET = timedelta(minutes=15)
CASH_COUNTER = CounterView(code="C01", service_codes=frozenset({"CASH", "XFER"}))
VIP_COUNTER = CounterView(code="C06", service_codes=frozenset({"CASH", "WLTH"}), is_vip=True)


def ticket(
    number: str,
    *,
    service: str = "CASH",
    priority: str = "normal",
    waited_min: float = 0,
    checked_in: bool = True,
    booked_in_min: float | None = None,
    target_counter: str | None = None,
) -> WaitingTicket:
    return WaitingTicket(
        id=uuid.uuid4(),
        number=number,
        service_code=service,
        priority=priority,
        queued_at=NOW - timedelta(minutes=waited_min),
        target_wait=TARGET,
        is_checked_in=checked_in,
        booked_at=None if booked_in_min is None else NOW + timedelta(minutes=booked_in_min),
        target_counter=target_counter,
    )


def numbers(tickets: list[WaitingTicket]) -> list[str]:
    return [t.number for t in tickets]


def test_counters_serve_only_their_skills_and_checked_in_tickets() -> None:
    waiting = [
        ticket("A-001", waited_min=9),
        ticket("D-001", service="LOAN", waited_min=30),
        ticket("A-002", waited_min=3, checked_in=False),
        ticket("C-001", service="XFER", waited_min=5),
    ]
    assert numbers(rank_for_counter(waiting, CASH_COUNTER, NOW, CONFIG)) == ["A-001", "C-001"]
    closed = CounterView(code="C01", service_codes=frozenset({"CASH"}), is_open=False)
    assert choose_next(waiting, closed, NOW, CONFIG) is None


def test_priority_classes_then_arrival() -> None:
    waiting = [
        ticket("A-001", waited_min=10),
        ticket("A-002", priority="elderly", waited_min=2),
        ticket("A-003", priority="vip", waited_min=1),
    ]
    assert numbers(rank_for_counter(waiting, CASH_COUNTER, NOW, CONFIG)) == [
        "A-003",
        "A-002",
        "A-001",
    ]


def test_aging_lifts_a_normal_ticket_past_its_target_wait() -> None:
    waiting = [ticket("A-001", waited_min=16), ticket("A-002", priority="vip", waited_min=0)]
    # waited 960 s + aging 900 s = 1860 > vip 0 + 900
    assert choose_next(waiting, CASH_COUNTER, NOW, CONFIG) is not None
    assert numbers(rank_for_counter(waiting, CASH_COUNTER, NOW, CONFIG)) == ["A-001", "A-002"]


def test_vip_counter_prefers_vips_even_over_long_waiters() -> None:
    waiting = [ticket("A-001", waited_min=40), ticket("A-002", priority="vip", waited_min=0)]
    assert numbers(rank_for_counter(waiting, VIP_COUNTER, NOW, CONFIG))[0] == "A-002"


def test_appointments_count_only_near_their_booked_time() -> None:
    early = ticket("B-001", priority="appointment", waited_min=1, booked_in_min=30)
    due = ticket("B-002", priority="appointment", waited_min=1, booked_in_min=3)
    walk_in = ticket("B-003", waited_min=5)
    counter = CounterView(code="C03", service_codes=frozenset({"CASH"}))
    assert numbers(rank_for_counter([early, due, walk_in], counter, NOW, CONFIG)) == [
        "B-002",
        "B-003",
        "B-001",
    ]


def test_a_transfer_to_a_named_counter_goes_only_there() -> None:
    sent = ticket("A-009", service="LOAN", target_counter="C01", waited_min=0)
    assert numbers(
        rank_for_counter([sent, ticket("A-001", waited_min=5)], CASH_COUNTER, NOW, CONFIG)
    ) == [
        "A-009",
        "A-001",
    ]
    other = CounterView(code="C02", service_codes=frozenset({"LOAN"}))
    assert choose_next([sent], other, NOW, CONFIG) is None


priorities = st.sampled_from(["vip", "appointment", "elderly", "normal"])


@settings(max_examples=60, deadline=None)
@given(
    waits=st.lists(st.tuples(priorities, st.integers(0, 120)), min_size=1, max_size=25),
    arrivals_per_call=st.integers(0, 3),
)
def test_nobody_starves_and_nobody_is_served_twice(
    waits: list[tuple[str, int]], arrivals_per_call: int
) -> None:
    """Serve one ticket a minute while new VIPs keep arriving: every original ticket is still
    served, each exactly once, within a bounded time (the aging bonus outgrows any class bonus)."""
    now = NOW
    queue = [ticket(f"X-{i:03d}", priority=p, waited_min=w) for i, (p, w) in enumerate(waits)]
    originals = {t.number for t in queue}
    served: list[str] = []
    extra = 0
    for _minute in range(len(queue) * 8 + 120):
        for _ in range(arrivals_per_call):
            extra += 1
            queue.append(
                WaitingTicket(
                    id=uuid.uuid4(),
                    number=f"V-{extra:04d}",
                    service_code="CASH",
                    priority="vip",
                    queued_at=now,
                    target_wait=TARGET,
                )
            )
        chosen = choose_next(queue, CASH_COUNTER, now, CONFIG)
        if chosen is None:
            break
        served.append(chosen.number)
        queue = [t for t in queue if t.id != chosen.id]
        now += timedelta(minutes=1)
        if originals <= set(served):
            break
    assert len(served) == len(set(served))
    assert originals <= set(served)
