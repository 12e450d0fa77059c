from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.appointments import service
from branchdesk.appointments.models import (
    Appointment,
    AppointmentSettings,
    AppointmentSlot,
    AppointmentState,
    BookingChannel,
)
from branchdesk.appointments.schemas import AppointmentCreate
from branchdesk.catalog.models import Holiday
from branchdesk.core.errors import Forbidden
from branchdesk.core.events import Event, OutboxMessage, deliver_outbox
from branchdesk.core.notify import RecordingNotifier
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.queue.models import Ticket
from tests.appointments.conftest import World
from tests.factories import NOW, make_branch, make_slot, make_user, principal

ELEVEN = NOW + timedelta(hours=1)  # the world's slot starts at 11:00 Taipei


def _book(
    db: Session, world: World, slot: AppointmentSlot | None = None, **fields: object
) -> Appointment:
    values: dict[str, object] = {"contact_name": "Lin", "contact_phone": "0911-000-111"}
    values.update(fields, slot_id=(slot or world.slot).id)
    data = AppointmentCreate.model_validate(values)
    return service.book_appointment(
        db, data=data, channel=BookingChannel.phone, now=NOW, actor=world.teller
    )


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


def _state(db: Session) -> tuple[int, ...]:
    return tuple(
        _count(db, model) for model in (Appointment, Event, AuditEntry, Ticket, OutboxMessage)
    )


def _booked(db: Session, slot: AppointmentSlot) -> int:
    db.expire(slot)
    return slot.booked_count


def test_booking_takes_a_place_and_gets_a_readable_reference(db: Session, world: World) -> None:
    first = _book(db, world)
    second = _book(db, world, note="passport renewal")
    assert (first.reference, second.reference) == ("AP-20260302-0001", "AP-20260302-0002")
    assert first.state == AppointmentState.booked
    assert (first.starts_at, first.ends_at) == (ELEVEN, ELEVEN + timedelta(minutes=30))
    assert first.business_on == date(2026, 3, 2)
    assert _booked(db, world.slot) == 2
    events = db.execute(
        select(Event.type).where(Event.aggregate_id == first.id).order_by(Event.seq)
    ).scalars()
    assert list(events) == ["appointment.booked", "notify.requested"]
    actions = db.execute(
        select(AuditEntry.action).where(AuditEntry.object_id == str(first.id))
    ).scalars()
    assert list(actions) == ["appointment.book"]


def test_a_full_slot_is_refused_with_409_and_nothing_changes(db: Session, world: World) -> None:
    _book(db, world)
    _book(db, world)
    before = _state(db)
    with pytest.raises(service.SlotFull) as refused:
        _book(db, world)
    assert (refused.value.status_code, refused.value.code) == (409, "slot_full")
    assert _state(db) == before
    assert _booked(db, world.slot) == 2


def test_a_slot_that_started_cannot_be_booked(db: Session, world: World) -> None:
    past = make_slot(db, world.branch, world.service, starts_at=NOW - timedelta(minutes=30))
    before = _state(db)
    with pytest.raises(service.SlotInPast):
        _book(db, world, slot=past)
    assert _state(db) == before


def test_staff_of_another_branch_may_not_book(db: Session, world: World) -> None:
    outsider = principal(db, make_user(db, Role.teller, (make_branch(db),)))
    data = AppointmentCreate(slot_id=world.slot.id, contact_name="A", contact_phone="1")
    with pytest.raises(Forbidden):
        service.book_appointment(
            db, data=data, channel=BookingChannel.phone, now=NOW, actor=outsider
        )
    assert _booked(db, world.slot) == 0


def test_reschedule_moves_the_place_in_one_step(db: Session, world: World) -> None:
    appointment = _book(db, world)
    moved = service.reschedule_appointment(
        db, reference=appointment.reference, slot_id=world.other_slot.id, now=NOW,
        actor=world.teller,
    )  # fmt: skip
    assert moved.reference == appointment.reference
    assert (moved.slot_id, moved.starts_at) == (world.other_slot.id, NOW + timedelta(hours=3))
    assert moved.rescheduled_count == 1
    assert (_booked(db, world.slot), _booked(db, world.other_slot)) == (0, 1)


def test_reschedule_into_a_full_slot_changes_nothing(db: Session, world: World) -> None:
    _book(db, world, slot=world.other_slot)  # its only place
    appointment = _book(db, world)
    before = _state(db)
    with pytest.raises(service.SlotFull):
        service.reschedule_appointment(
            db, reference=appointment.reference, slot_id=world.other_slot.id, now=NOW,
            actor=world.teller,
        )  # fmt: skip
    assert _state(db) == before
    db.expire(appointment)
    assert appointment.slot_id == world.slot.id
    assert (_booked(db, world.slot), _booked(db, world.other_slot)) == (1, 1)


def test_cancel_gives_the_place_back_once(db: Session, world: World) -> None:
    appointment = _book(db, world)
    cancelled = service.cancel_appointment(
        db, reference=appointment.reference, now=NOW, actor=world.teller, reason="ill"
    )
    assert (cancelled.state, cancelled.cancelled_at) == (AppointmentState.cancelled, NOW)
    assert _booked(db, world.slot) == 0
    before = _state(db)
    with pytest.raises(service.InvalidAppointmentState) as refused:
        service.cancel_appointment(db, reference=appointment.reference, now=NOW, actor=world.teller)
    assert refused.value.status_code == 409
    assert _state(db) == before
    assert _booked(db, world.slot) == 0


def test_check_in_inside_the_window_issues_an_appointment_ticket(db: Session, world: World) -> None:
    appointment = _book(db, world)
    at = ELEVEN - timedelta(minutes=30)  # the window opens 30 minutes early by default
    result = service.check_in_appointment(
        db, reference=appointment.reference, now=at, actor=world.teller
    )
    ticket = result.ticket
    assert result.is_late is False
    assert (ticket.priority, ticket.channel, ticket.booked_at) == (
        "appointment", "appointment", ELEVEN,
    )  # fmt: skip
    assert (ticket.appointment_id, ticket.state) == (appointment.id, "waiting")
    assert (appointment.state, appointment.checked_in_at, appointment.ticket_id) == (
        AppointmentState.checked_in, at, ticket.id,
    )  # fmt: skip
    on_time_limit = _book(db, world)
    late_edge = service.check_in_appointment(
        db, reference=on_time_limit.reference, now=ELEVEN + timedelta(minutes=15),
        actor=world.teller,
    )  # fmt: skip
    assert (late_edge.is_late, late_edge.ticket.priority) == (False, "appointment")


def test_check_in_before_the_window_is_refused_and_changes_nothing(
    db: Session, world: World
) -> None:
    appointment = _book(db, world)
    before = _state(db)
    with pytest.raises(service.TooEarly) as refused:
        service.check_in_appointment(
            db, reference=appointment.reference, now=ELEVEN - timedelta(minutes=31),
            actor=world.teller,
        )  # fmt: skip
    assert (refused.value.status_code, refused.value.code) == (422, "too_early")
    assert _state(db) == before
    db.expire(appointment)
    assert (appointment.state, appointment.ticket_id) == (AppointmentState.booked, None)


def test_late_arrival_gets_a_walk_in_ticket_with_normal_priority(db: Session, world: World) -> None:
    appointment = _book(db, world)
    result = service.check_in_appointment(
        db, reference=appointment.reference, now=ELEVEN + timedelta(minutes=16),
        actor=world.teller,
    )  # fmt: skip
    assert result.is_late is True
    assert (result.ticket.priority, result.ticket.channel, result.ticket.booked_at) == (
        "normal", "lobby", None,
    )  # fmt: skip
    assert (appointment.state, appointment.is_late) == (AppointmentState.checked_in, True)


def test_check_in_windows_follow_the_branch_settings(db: Session, world: World) -> None:
    db.add(
        AppointmentSettings(
            branch_id=world.branch.id, early_checkin_minutes=10, late_checkin_minutes=5,
            reminder_hours=2, updated_at=NOW,
        )
    )  # fmt: skip
    appointment = _book(db, world)
    with pytest.raises(service.TooEarly):
        service.check_in_appointment(
            db, reference=appointment.reference, now=ELEVEN - timedelta(minutes=11),
            actor=world.teller,
        )  # fmt: skip
    result = service.check_in_appointment(
        db, reference=appointment.reference, now=ELEVEN + timedelta(minutes=6), actor=world.teller
    )
    assert result.is_late is True


def test_check_in_on_a_later_day_is_refused(db: Session, world: World) -> None:
    appointment = _book(db, world)
    before = _state(db)
    with pytest.raises(service.TooLate):
        service.check_in_appointment(
            db, reference=appointment.reference, now=NOW + timedelta(days=1), actor=world.teller
        )
    assert _state(db) == before


def test_reminders_are_queued_once_and_sent_after_delivery(
    db: Session, world: World, notifier: RecordingNotifier
) -> None:
    appointment = _book(
        db, world, contact_phone="", contact_email="", customer_id=world.customer.id
    )
    far = make_slot(db, world.branch, world.service, starts_at=NOW + timedelta(days=3))
    _book(db, world, slot=far)
    deliver_outbox(db, now=NOW)
    notifier.sent.clear()  # the booking confirmations
    assert service.queue_reminders(db, now=NOW) == 1
    assert notifier.sent == []  # nothing leaves before the outbox delivers
    assert service.queue_reminders(db, now=NOW + timedelta(minutes=5)) == 0
    assert deliver_outbox(db, now=NOW) == 1
    assert [(m.template, m.to_phone, m.locale) for m in notifier.sent] == [
        ("appointment.reminder", "0912-345-678", "en")
    ]
    assert appointment.reference in notifier.sent[0].text
    assert "11:00" in notifier.sent[0].text
    assert deliver_outbox(db, now=NOW + timedelta(hours=1)) == 0
    assert len(notifier.sent) == 1


def test_a_rolled_back_reminder_run_sends_nothing(
    db: Session, world: World, notifier: RecordingNotifier
) -> None:
    appointment = _book(db, world)
    deliver_outbox(db, now=NOW)
    notifier.sent.clear()
    nested = db.begin_nested()
    assert service.queue_reminders(db, now=NOW) == 1
    nested.rollback()
    assert deliver_outbox(db, now=NOW) == 0
    assert notifier.sent == []
    db.expire(appointment)
    assert appointment.reminder_queued_at is None
    assert service.queue_reminders(db, now=NOW) == 1  # still due: nothing was lost either


def test_reschedule_asks_for_a_new_reminder(db: Session, world: World) -> None:
    appointment = _book(db, world)
    assert service.queue_reminders(db, now=NOW) == 1
    service.reschedule_appointment(
        db, reference=appointment.reference, slot_id=world.other_slot.id, now=NOW,
        actor=world.teller,
    )  # fmt: skip
    assert appointment.reminder_queued_at is None
    assert service.queue_reminders(db, now=NOW) == 1


def test_sweep_marks_past_days_no_show_and_served_ones_completed(db: Session, world: World) -> None:
    missed = _book(db, world)
    served = _book(db, world)
    later = _book(db, world, slot=world.other_slot)
    checked = service.check_in_appointment(
        db, reference=served.reference, now=ELEVEN, actor=world.teller
    )
    assert service.sweep_no_shows(db, now=ELEVEN + timedelta(hours=1)) == service.SweepResult(
        no_show=0, completed=0
    )  # same day: a late customer may still come
    checked.ticket.state = "completed"
    db.flush()
    next_day = NOW + timedelta(days=1)
    assert service.sweep_no_shows(db, now=next_day) == service.SweepResult(no_show=2, completed=1)
    assert (missed.state, served.state, later.state) == ("no_show", "completed", "no_show")
    assert _booked(db, world.slot) == 2  # a missed place stays used
    types = db.execute(
        select(Event.type).where(Event.aggregate_id == missed.id).order_by(Event.seq)
    ).scalars()
    assert list(types)[-1] == "appointment.no_show"
    assert service.sweep_no_shows(db, now=next_day) == service.SweepResult(0, 0)


def test_generate_slots_follows_opening_hours_and_skips_holidays(db: Session, world: World) -> None:
    branch = make_branch(db)  # Monday to Friday 09:00-17:00 Taipei
    from tests.factories import offer

    offer(db, branch, world.service)
    db.add(Holiday(branch_id=branch.id, on=date(2026, 3, 4), name="Closed"))
    db.flush()
    created = service.generate_slots(
        db, branch=branch, start_on=date(2026, 3, 2), days=7, minutes=30, capacity=3, now=NOW
    )
    assert created == 4 * 16  # Mon, Tue, Thu, Fri; 16 half hours from 09:00 to 17:00
    slots = service.list_slots(db, branch=branch, on=date(2026, 3, 2))
    assert [(s.local_start, s.local_end) for s in slots[:2]] == [
        ("09:00", "09:30"), ("09:30", "10:00"),
    ]  # fmt: skip
    assert slots[0].starts_at.isoformat() == "2026-03-02T01:00:00+00:00"
    assert (slots[-1].local_end, slots[-1].capacity, slots[-1].available) == ("17:00", 3, 3)
    assert service.list_slots(db, branch=branch, on=date(2026, 3, 4)) == []
    assert (
        service.generate_slots(
            db, branch=branch, start_on=date(2026, 3, 2), days=7, minutes=30, capacity=3, now=NOW
        )
        == 0
    )


def test_early_check_in_just_before_midnight_is_allowed(db: Session, world: World) -> None:
    from branchdesk.queue.models import QueueSettings

    db.add(QueueSettings(branch_id=world.branch.id, enforce_opening_hours=False, updated_at=NOW))
    midnight = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # 00:00 Wednesday in Taipei
    slot = make_slot(db, world.branch, world.service, starts_at=midnight + timedelta(minutes=10))
    appointment = _book(db, world, slot=slot)
    result = service.check_in_appointment(
        db, reference=appointment.reference, now=midnight - timedelta(minutes=10),
        actor=world.teller,
    )  # fmt: skip
    assert (result.is_late, result.ticket.priority) == (False, "appointment")
