from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from branchdesk.core.events import Event
from branchdesk.core.ids import is_valid_mod97, mod97_check_digits, new_id


def _event(at: datetime) -> Event:
    return Event(
        id=new_id(),
        occurred_at=at,
        type="test.happened",
        aggregate_type="test",
        aggregate_id=None,
        payload={},
    )


def test_utc_datetime_converts_offsets_to_utc_and_reads_back_aware(db: Session) -> None:
    taipei = timezone(timedelta(hours=8))
    event = _event(datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=taipei))
    db.add(event)
    db.flush()
    db.expire_all()
    loaded = db.execute(select(Event).where(Event.id == event.id)).scalar_one()
    assert loaded.occurred_at == datetime(2026, 3, 2, 2, 30, 15, 123456, tzinfo=UTC)
    assert loaded.occurred_at.tzinfo is not None
    assert loaded.occurred_at.utcoffset() == timedelta(0)


def test_utc_datetime_refuses_naive_values(db: Session) -> None:
    db.add(_event(datetime(2026, 3, 2, 10, 30)))  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError, match="naive datetime refused"):
        db.flush()


def test_new_id_is_uuid7_and_time_ordered() -> None:
    ids = [new_id() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert all(isinstance(i, uuid.UUID) for i in ids)
    assert [i.int >> 80 for i in ids] == sorted(i.int >> 80 for i in ids)


def test_mod97_check_digits_catch_a_typo() -> None:
    body = "12345678"
    reference = body + mod97_check_digits(body)
    assert reference == "1234567889"
    assert is_valid_mod97(reference)
    assert not is_valid_mod97("1234567883")
    assert not is_valid_mod97("2134567889")
