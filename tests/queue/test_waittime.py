"""The online wait-time model, its learners, the baselines and the stream generator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from branchdesk.queue.baselines import ClassicalBaselines
from branchdesk.queue.streamgen import random_branch, stream_lines
from branchdesk.queue.waittime import (
    EventFormatError,
    EventType,
    QueueEvent,
    WaitTimeModel,
    parse_event,
)
from branchdesk.queue.waittime.evaluation import evaluate_events
from branchdesk.queue.waittime.learners import STRICT_BOOST, CallingOrder

TZ = timezone(timedelta(hours=8))
DAY = datetime(2026, 1, 5, 9, 0, tzinfo=TZ)


def at(seconds: float, day: int = 0) -> datetime:
    return DAY + timedelta(days=day, seconds=seconds)


def opened(t: datetime, counter: str, *services: str) -> QueueEvent:
    return QueueEvent(t, EventType.COUNTER_OPEN, counter=counter, services=services)


def issued(t: datetime, ticket: str, service: str = "CASH", priority: str = "normal") -> QueueEvent:
    return QueueEvent(t, EventType.ISSUED, ticket=ticket, service=service, priority=priority)


def called(t: datetime, ticket: str, counter: str) -> QueueEvent:
    return QueueEvent(t, EventType.CALLED, ticket=ticket, counter=counter)


def completed(t: datetime, ticket: str) -> QueueEvent:
    return QueueEvent(t, EventType.COMPLETED, ticket=ticket)


# ---- parsing ----------------------------------------------------------------------------


def test_parse_event_reads_every_field() -> None:
    line = (
        '{"ts": "2026-01-05T09:00:55+08:00", "type": "issued", "ticket": "20260105-0001",'
        ' "service": "REMIT", "priority": "vip"}'
    )
    event = parse_event(line)
    assert event == QueueEvent(
        ts=datetime(2026, 1, 5, 1, 0, 55, tzinfo=UTC),
        type=EventType.ISSUED,
        ticket="20260105-0001",
        service="REMIT",
        priority="vip",
    )
    assert event.ts.utcoffset() == timedelta(hours=8)


def test_parse_event_accepts_a_byte_order_mark_and_crlf() -> None:
    event = parse_event(
        '\ufeff{"ts": "2026-01-05T09:00:00Z", "type": "completed", "ticket": "t"}\r\n'
    )
    assert event == QueueEvent(datetime(2026, 1, 5, 9, tzinfo=UTC), EventType.COMPLETED, "t")


def test_parse_event_reads_counter_skills() -> None:
    event = parse_event(
        '{"ts": "2026-01-05T08:55:00+08:00", "type": "counter_open", "counter": "C1",'
        ' "services": ["CASH", "CARD"]}'
    )
    assert event.counter == "C1"
    assert event.services == ("CASH", "CARD")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"type": "issued"}', "missing or non-string field 'ts'"),
        ('{"ts": "2026-01-05T09:00:00", "type": "completed", "ticket": "x"}', "no UTC offset"),
        ('{"ts": "yesterday", "type": "completed", "ticket": "x"}', "not an ISO 8601 time"),
        ('{"ts": "2026-01-05T09:00:00+08:00", "type": "served", "ticket": "x"}', "unknown event"),
        ('{"ts": "2026-01-05T09:00:00+08:00", "type": "issued", "ticket": "x"}', "'service'"),
        (
            '{"ts": "2026-01-05T09:00:00+08:00", "type": "counter_open", "counter": "C1",'
            ' "services": "CASH"}',
            "list of service codes",
        ),
    ],
)
def test_parse_event_rejects_bad_lines(line: str, message: str) -> None:
    with pytest.raises(EventFormatError, match=message):
        parse_event(line)


# ---- the model ----------------------------------------------------------------------------


def test_idle_counter_means_no_wait_and_busy_counter_means_its_expected_remaining_time() -> None:
    model = WaitTimeModel(samples=0)
    model.observe(opened(at(-300), "C1", "CASH"))
    model.observe(issued(at(0), "A"))
    assert model.predict_wait_seconds("A") == 0
    model.observe(called(at(0), "A", "C1"))
    model.observe(issued(at(0), "B"))
    # no history yet: prior service mean 300 s, no-show prior 0.2/6 with a 60 s no-show
    assert model.predict_wait_seconds("B") == 292
    # refreshed live 100 s later: past the no-show window, 300 - 100 s of service remain
    assert model.predict_wait_seconds("B", now=at(100)) == 200
    # a time before the latest event is not taken: the answer stays as of that event
    assert model.predict_wait_seconds("B", now=at(-50)) == 292


def test_unknown_and_called_tickets_predict_zero() -> None:
    model = WaitTimeModel()
    model.observe(opened(at(-300), "C1", "CASH"))
    model.observe(issued(at(0), "A"))
    model.observe(called(at(5), "A", "C1"))
    assert model.predict_wait_seconds("A") == 0
    assert model.predict_wait_seconds("nobody") == 0


def _busy_day(day: int, model: WaitTimeModel) -> None:
    """One counter, service times of 200 s, tickets every 100 s: the queue grows."""
    model.observe(opened(at(-300, day), "C1", "CASH"))
    queue: list[str] = []
    busy_until = 0.0
    in_hand: str | None = None
    for index in range(30):
        t = index * 100.0
        if in_hand is not None and busy_until <= t:
            model.observe(completed(at(busy_until, day), in_hand))
            in_hand = None
            if queue:
                in_hand = queue.pop(0)
                model.observe(called(at(busy_until, day), in_hand, "C1"))
                busy_until += 200.0
        ticket = f"d{day}-{index:03d}"
        model.observe(issued(at(t, day), ticket))
        model.predict_wait_seconds(ticket)
        if in_hand is None:
            in_hand = ticket
            model.observe(called(at(t, day), ticket, "C1"))
            busy_until = t + 200.0
        else:
            queue.append(ticket)


def test_learned_service_time_makes_the_estimate_grow_with_the_queue() -> None:
    model = WaitTimeModel(samples=0)
    for day in range(3):
        _busy_day(day, model)
    assert model.service_times.mean("CASH") == pytest.approx(200.0, abs=1.0)
    model.observe(opened(at(-300, 3), "C1", "CASH"))
    model.observe(issued(at(0, 3), "first"))
    model.observe(called(at(0, 3), "first", "C1"))
    for index in range(5):
        model.observe(issued(at(10 + index, 3), f"w{index}"))
    # "first" has 200 - 14 s left (less a little for the chance of a no-show); each ticket
    # ahead adds one expected service time
    times = model.service_times
    remaining = times.residual("CASH", "C1", 14.0)
    assert 184.0 < remaining < 186.0
    assert model.predict_wait_seconds("w0") == round(remaining)
    each = times.expected_duration("CASH", "C1")
    assert 198.0 < each < 200.0
    assert model.predict_wait_seconds("w4") == round(remaining + 4 * each)


def test_a_new_local_day_starts_an_empty_queue() -> None:
    model = WaitTimeModel()
    model.observe(opened(at(-300), "C1", "CASH"))
    model.observe(issued(at(0), "A"))
    model.observe(called(at(0), "A", "C1"))
    model.observe(issued(at(1), "B"))
    assert model.predict_wait_seconds("B") > 0
    model.observe(opened(at(-300, 1), "C1", "CASH"))
    assert model.predict_wait_seconds("B") == 0
    model.observe(issued(at(0, 1), "C"))
    assert model.predict_wait_seconds("C") == 0


def test_calling_order_learns_strict_priority_from_calls() -> None:
    order = CallingOrder()
    for index in range(3):
        # a vip ticket is called while a normal one issued 600 s earlier waits
        order.observe_call("vip", 1000.0 * index + 600.0, {"normal": 1000.0 * index})
    boosts = order.boosts()
    assert boosts["vip"] - boosts["normal"] >= STRICT_BOOST
    assert boosts["vip"] - boosts["normal"] < 1.1 * STRICT_BOOST


def test_calling_order_learns_a_finite_aging_boost_between_its_bounds() -> None:
    order = CallingOrder()
    for index in range(3):
        # elderly overtakes normal tickets up to 500 s older ...
        order.observe_call("elderly", 1000.0 * index + 500.0, {"normal": 1000.0 * index})
    # ... but a normal ticket 700 s older than a waiting elderly one goes first
    order.observe_call("normal", 5000.0, {"elderly": 5700.0})
    boosts = order.boosts()
    assert boosts["elderly"] - boosts["normal"] == pytest.approx(600.0, abs=1.0)


def test_vip_ticket_is_predicted_to_overtake_after_strict_priority_is_learned() -> None:
    model = WaitTimeModel(samples=0)
    model.observe(opened(at(-300), "C1", "CASH"))
    model.observe(issued(at(0), "n0"))
    model.observe(called(at(0), "n0", "C1"))
    for index in range(1, 4):
        model.observe(issued(at(index), f"n{index}"))
    for index in range(3):
        t = 200.0 * (index + 1)
        model.observe(issued(at(t - 1), f"v{index}", priority="vip"))
        model.observe(completed(at(t), "n0" if index == 0 else f"v{index - 1}"))
        model.observe(called(at(t), f"v{index}", "C1"))
    model.observe(issued(at(601), "late-normal"))
    model.observe(issued(at(602), "late-vip", priority="vip"))
    normal_wait = model.predict_wait_seconds("late-normal")
    vip_wait = model.predict_wait_seconds("late-vip")
    assert vip_wait < normal_wait
    assert normal_wait - vip_wait >= 3 * 150  # three older normal tickets still wait


def test_predictions_are_deterministic_for_a_seed() -> None:
    lines = list(stream_lines(random_branch(3, days=2, counters=3), 3))
    answers = []
    for _ in range(2):
        model = WaitTimeModel(seed=7)
        out = []
        for line in lines:
            event = parse_event(line)
            model.observe(event)
            if event.type is EventType.ISSUED and event.ticket is not None:
                out.append(model.predict_wait_seconds(event.ticket))
        answers.append(out)
    assert answers[0] == answers[1]
    assert len(answers[0]) > 50


# ---- baselines ----------------------------------------------------------------------------


def test_baselines_follow_their_definitions() -> None:
    baselines = ClassicalBaselines()
    for event in [
        opened(at(-300), "C1", "CASH"),
        opened(at(-300), "C2", "CASH", "LOAN"),
        issued(at(0), "A"),
        called(at(0), "A", "C1"),
        issued(at(10), "B"),
        called(at(10), "B", "C2"),
        completed(at(110), "A"),  # CASH mean service time 110 s
        issued(at(120), "C"),
        issued(at(130), "D", priority="vip"),
        issued(at(150), "E"),
    ]:
        baselines.observe(event)
    answers = baselines.predict("E", at(150).timestamp())
    assert answers["service/queue_length"] == 2 * 110 / 2
    assert answers["service+priority/queue_length"] == 1 * 110 / 2
    assert answers["service/last_to_enter_service"] == 0.0
    assert answers["service/head_of_line"] == 30.0
    assert answers["service+priority/head_of_line"] == 30.0
    assert answers["service/recent_hour_mean"] == 0.0
    vip = baselines.predict("D", at(150).timestamp())
    assert vip["service+priority/head_of_line"] == 0.0
    assert vip["service/head_of_line"] == 30.0


# ---- generator and the figure -------------------------------------------------------------


def test_generator_is_deterministic_and_differs_by_seed() -> None:
    first = list(stream_lines(random_branch(11, days=2), 11))
    again = list(stream_lines(random_branch(11, days=2), 11))
    other = list(stream_lines(random_branch(12, days=2), 12))
    assert first == again
    assert first != other


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000))
def test_generated_streams_are_valid_and_consistent(seed: int) -> None:
    config = random_branch(seed, days=1)
    skills: dict[str, set[str]] = {}
    service_of: dict[str, str] = {}
    issued_at: dict[str, datetime] = {}
    previous: datetime | None = None
    called_tickets: set[str] = set()
    for line in stream_lines(config, seed):
        event = parse_event(line)
        assert json.loads(line)["type"] == event.type.value
        if previous is not None:
            assert event.ts >= previous
        previous = event.ts
        if event.type is EventType.COUNTER_OPEN and event.counter is not None:
            skills[event.counter] = set(event.services)
        elif event.type is EventType.ISSUED and event.ticket and event.service:
            assert event.ticket not in issued_at
            issued_at[event.ticket] = event.ts
            service_of[event.ticket] = event.service
        elif event.type is EventType.CALLED and event.ticket and event.counter:
            assert event.ticket in issued_at
            assert event.ticket not in called_tickets
            assert service_of[event.ticket] in skills[event.counter]
            called_tickets.add(event.ticket)
    if config.drain_queue:
        assert called_tickets == set(issued_at)


@pytest.mark.parametrize(("seed", "policy"), [(8, "mixed"), (52, "bonus")])
def test_model_beats_the_best_classical_predictor_on_a_generated_branch(
    seed: int, policy: str
) -> None:
    config = random_branch(seed, days=6, counters=4, load=0.95, policy=policy)
    events = [parse_event(line) for line in stream_lines(config, seed)]
    result = evaluate_events(events, warmup_days=3, model=WaitTimeModel(seed=0))
    assert result.days == 6
    assert result.scored > 300
    assert result.ratio < 0.75


_KINDS = list(EventType)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(_KINDS),
            st.integers(min_value=0, max_value=4),  # ticket
            st.sampled_from(["CASH", "LOAN"]),
            st.sampled_from(["vip", "normal", "elderly", "other"]),
            st.sampled_from(["C1", "C2", "V1"]),
            st.integers(min_value=0, max_value=40_000),  # seconds after the previous event
        ),
        max_size=40,
    )
)
def test_any_event_sequence_is_absorbed_and_answers_are_non_negative(
    steps: list[tuple[EventType, int, str, str, str, int]],
) -> None:
    model = WaitTimeModel(samples=4)
    t = at(0)
    for kind, ticket, service, priority, counter, gap in steps:
        t += timedelta(seconds=gap)
        event = QueueEvent(
            t,
            kind,
            ticket=f"T{ticket}",
            service=service,
            priority=priority,
            counter=counter,
            services=(service,) if kind is EventType.COUNTER_OPEN else (),
        )
        model.observe(event)
        for other in range(5):
            assert model.predict_wait_seconds(f"T{other}") >= 0
