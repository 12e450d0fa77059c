"""Two customers take the last place at the same moment: exactly one wins (committed data)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import delete, select

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


@pytest.mark.postgres
def test_two_bookings_of_the_last_place_one_wins(database: Database) -> None:
    branch_id, service_id, slot_id = new_id(), new_id(), new_id()
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
        db.add(
            AppointmentSlot(
                id=slot_id, branch_id=branch_id, service_type_id=service_id,
                starts_at=STARTS_AT, ends_at=STARTS_AT + timedelta(minutes=30), capacity=2,
                booked_count=1, created_at=NOW,
            )
        )  # fmt: skip
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def book(name: str) -> None:
        data = AppointmentCreate(slot_id=slot_id, contact_name=name, contact_phone="0900")
        try:
            with database.unit_of_work() as db:
                barrier.wait(timeout=10)
                service.book_appointment(
                    db, data=data, channel=BookingChannel.api, now=NOW, actor=None
                )
        except service.SlotFull:
            result = "full"
        else:
            result = "booked"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=book, args=(n,)) for n in ("A", "B")]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["booked", "full"]
        with database.unit_of_work() as db:
            slot = db.get(AppointmentSlot, slot_id)
            assert slot is not None
            assert slot.booked_count == 2
            count = len(db.execute(select(Appointment).where(Appointment.slot_id == slot_id)).all())
            assert count == 1
    finally:
        with database.unit_of_work() as db:
            ids = list(
                db.execute(select(Appointment.id).where(Appointment.slot_id == slot_id)).scalars()
            )
            seqs = select(Event.seq).where(
                (Event.aggregate_id.in_(ids)) | (Event.branch_id == branch_id)
            )
            db.execute(delete(OutboxMessage).where(OutboxMessage.event_seq.in_(seqs)))
            db.execute(
                delete(Event).where((Event.aggregate_id.in_(ids)) | (Event.branch_id == branch_id))
            )
            db.execute(delete(Appointment).where(Appointment.slot_id == slot_id))
            db.execute(delete(AppointmentSlot).where(AppointmentSlot.id == slot_id))
            db.execute(delete(BranchService).where(BranchService.branch_id == branch_id))
            db.execute(delete(OpeningHours).where(OpeningHours.branch_id == branch_id))
            db.execute(delete(ServiceType).where(ServiceType.id == service_id))
            db.execute(delete(Branch).where(Branch.id == branch_id))
            db.execute(
                delete(ReferenceCounter).where(ReferenceCounter.key == "appointment:20310106")
            )
