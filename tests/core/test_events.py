from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.events import (
    Consumer,
    Event,
    EventView,
    OutboxMessage,
    OutboxStatus,
    deliver_outbox,
    record_event,
    register_consumer,
    unregister_consumer,
)
from branchdesk.core.references import next_value
from tests.factories import NOW


class Recorder:
    def __init__(self, failures: int = 0) -> None:
        self.seen: list[EventView] = []
        self.failures = failures

    def __call__(self, event: EventView) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("gateway down")
        self.seen.append(event)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    register_consumer(Consumer(name="test-recorder", prefixes=("test.",), handler=handler))
    yield handler
    unregister_consumer("test-recorder")


def test_event_and_outbox_rows_are_written_in_the_callers_transaction(
    db: Session, recorder: Recorder
) -> None:
    event = record_event(
        db, type="test.created", aggregate_type="thing", aggregate_id=None,
        payload={"n": 1}, now=NOW,
    )  # fmt: skip
    other = record_event(
        db, type="other.created", aggregate_type="thing", aggregate_id=None, payload={}, now=NOW
    )
    messages = db.execute(select(OutboxMessage)).scalars().all()
    assert [(m.event_seq, m.consumer, m.status) for m in messages] == [
        (event.seq, "test-recorder", OutboxStatus.pending)
    ]
    assert other.seq > event.seq
    assert deliver_outbox(db, now=NOW) == 1
    assert [(e.type, e.payload) for e in recorder.seen] == [("test.created", {"n": 1})]
    assert deliver_outbox(db, now=NOW) == 0  # delivered once


def test_failed_delivery_backs_off_retries_and_finally_goes_dead(db: Session) -> None:
    handler = Recorder(failures=10)
    register_consumer(Consumer(name="flaky", prefixes=("test.",), handler=handler, max_attempts=3))
    try:
        record_event(
            db, type="test.flaky", aggregate_type="t", aggregate_id=None, payload={}, now=NOW
        )
        assert deliver_outbox(db, now=NOW) == 0
        message = db.execute(select(OutboxMessage)).scalar_one()
        assert message.attempts == 1
        assert message.next_attempt_at == NOW + timedelta(seconds=2)
        assert message.last_error == "RuntimeError: gateway down"
        assert deliver_outbox(db, now=NOW + timedelta(seconds=1)) == 0  # not due yet
        assert message.attempts == 1
        deliver_outbox(db, now=NOW + timedelta(seconds=2))
        deliver_outbox(db, now=NOW + timedelta(hours=1))
        assert message.attempts == 3
        assert message.status == OutboxStatus.dead
    finally:
        unregister_consumer("flaky")


def test_rolled_back_transaction_leaves_no_event(db: Session) -> None:
    before = db.execute(select(func.count()).select_from(Event)).scalar_one()
    nested = db.begin_nested()
    record_event(db, type="test.gone", aggregate_type="t", aggregate_id=None, payload={}, now=NOW)
    nested.rollback()
    assert db.execute(select(func.count()).select_from(Event)).scalar_one() == before


def test_reference_numbers_are_gap_free_and_returned_on_rollback(db: Session) -> None:
    assert [next_value(db, "test-key") for _ in range(3)] == [1, 2, 3]
    nested = db.begin_nested()
    assert next_value(db, "test-key") == 4
    nested.rollback()
    assert next_value(db, "test-key") == 4
    assert next_value(db, "other-key") == 1
