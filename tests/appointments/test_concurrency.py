"""Concurrent bookings on committed data (PostgreSQL row locks): the last place is taken once,
and two reschedules swapping slots both succeed without a deadlock."""

from __future__ import annotations

import threading
import time as time_module
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from branchdesk.appointments import service
from branchdesk.appointments.models import Appointment, AppointmentSlot, BookingChannel
from branchdesk.appointments.schemas import AppointmentCreate
from branchdesk.catalog.models import Branch, BranchService, OpeningHours, ServiceType
from branchdesk.core.db import Database
from branchdesk.core.events import Event, OutboxMessage
from branchdesk.core.ids import new_id
from branchdesk.core.references import ReferenceCounter

STARTS_AT = datetime(2031, 1, 6, 2, 0, tzinfo=UTC)  # far from every other test's day
NOW = STARTS_AT - timedelta(days=1)


@dataclass
class Committed:
    branch_id: uuid.UUID
    slot_ids: list[uuid.UUID]


@pytest.fixture
def committed(database: Database) -> Iterator[Committed]:
    """A branch with two committed slots (2 places each); everything is deleted afterwards."""
    branch_id, service_id = new_id(), new_id()
    slot_ids = [new_id(), new_id()]
    with database.unit_of_work() as db:
        db.add(
            Branch(
                id=branch_id, code="RACE", name_zh_hant="競", name_zh_hans="竞", name_en="Race",
                timezone="Asia/Taipei", created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        db.add(
            ServiceType(
                id=service_id, code="RACESVC", name_zh_hant="競", name_zh_hans="竞",
                name_en="Race", ticket_prefix="RQ", standard_handling_minutes=5,
                target_max_wait_minutes=10, required_documents=[], created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        db.flush()
        db.add(OpeningHours(branch_id=branch_id, weekday=0, opens_at=time(9), closes_at=time(17)))
        db.add(BranchService(branch_id=branch_id, service_type_id=service_id))
        for index, slot_id in enumerate(slot_ids):
            starts_at = STARTS_AT + timedelta(hours=index)
            db.add(
                AppointmentSlot(
                    id=slot_id, branch_id=branch_id, service_type_id=service_id,
                    starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), capacity=2,
                    booked_count=0, created_at=NOW,
                )
            )  # fmt: skip
    try:
        yield Committed(branch_id, slot_ids)
    finally:
        with database.unit_of_work() as db:
            _clean(db, branch_id, service_id, slot_ids)


def _clean(
    db: Session, branch_id: uuid.UUID, service_id: uuid.UUID, slot_ids: list[uuid.UUID]
) -> None:
    ids = list(
        db.execute(select(Appointment.id).where(Appointment.slot_id.in_(slot_ids))).scalars()
    )
    mine = Event.aggregate_id.in_(ids) | (Event.branch_id == branch_id)
    db.execute(
        delete(OutboxMessage).where(OutboxMessage.event_seq.in_(select(Event.seq).where(mine)))
    )
    db.execute(delete(Event).where(mine))
    db.execute(delete(Appointment).where(Appointment.slot_id.in_(slot_ids)))
    db.execute(delete(AppointmentSlot).where(AppointmentSlot.id.in_(slot_ids)))
    db.execute(delete(BranchService).where(BranchService.branch_id == branch_id))
    db.execute(delete(OpeningHours).where(OpeningHours.branch_id == branch_id))
    db.execute(delete(ServiceType).where(ServiceType.id == service_id))
    db.execute(delete(Branch).where(Branch.id == branch_id))
    db.execute(delete(ReferenceCounter).where(ReferenceCounter.key == "appointment:20310106"))


def _race(database: Database, *work: Callable[[Session], object]) -> list[str]:
    """Run each callable in its own transaction at the same moment; their outcomes."""
    barrier = threading.Barrier(len(work))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job: Callable[[Session], object]) -> None:
        try:
            with database.unit_of_work() as db:
                barrier.wait(timeout=10)
                job(db)
        except service.SlotFull:
            result = "full"
        except Exception as exc:  # a deadlock or anything else fails the test below
            result = type(exc).__name__
        else:
            result = "ok"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def _book(slot_id: uuid.UUID, name: str) -> Callable[[Session], object]:
    data = AppointmentCreate(slot_id=slot_id, contact_name=name, contact_phone="0900")
    return lambda db: service.book_appointment(
        db, data=data, channel=BookingChannel.api, now=NOW, actor=None
    )


@pytest.mark.postgres
def test_two_bookings_of_the_last_place_one_wins(database: Database, committed: Committed) -> None:
    slot_id = committed.slot_ids[0]
    assert _race(database, _book(slot_id, "first")) == ["ok"]
    assert _race(database, _book(slot_id, "A"), _book(slot_id, "B")) == ["full", "ok"]
    with database.unit_of_work() as db:
        slot = db.get(AppointmentSlot, slot_id)
        assert slot is not None
        assert slot.booked_count == 2
        rows = db.execute(select(Appointment.id).where(Appointment.slot_id == slot_id)).all()
        assert len(rows) == 2


@pytest.mark.postgres
def test_two_reschedules_swapping_slots_both_succeed(
    database: Database, committed: Committed
) -> None:
    first, second = committed.slot_ids
    with database.unit_of_work() as db:
        one = _book(first, "one")(db)
        two = _book(second, "two")(db)
        assert isinstance(one, Appointment)
        assert isinstance(two, Appointment)
        references = (one.reference, two.reference)

    def move(reference: str, slot_id: uuid.UUID) -> Callable[[Session], object]:
        return lambda db: service.reschedule_appointment(
            db, reference=reference, slot_id=slot_id, now=NOW, actor=None
        )

    def slow_slot_updates(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE APPOINTMENT_SLOTS"):
            time_module.sleep(0.05)  # let the two transactions interleave between their updates

    event.listen(database.engine, "before_cursor_execute", slow_slot_updates)
    try:
        outcomes = _race(database, move(references[0], second), move(references[1], first))
    finally:
        event.remove(database.engine, "before_cursor_execute", slow_slot_updates)
    assert outcomes == ["ok", "ok"]
    with database.unit_of_work() as db:
        counts = [db.get(AppointmentSlot, s).booked_count for s in (first, second)]  # type: ignore[union-attr]
        assert counts == [1, 1]
