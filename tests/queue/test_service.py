from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter, ServiceType
from branchdesk.core.errors import Forbidden, RuleViolation
from branchdesk.core.events import Event
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.queue import service
from branchdesk.queue.models import Channel, Priority, QueueSettings, Ticket, TicketState
from tests.factories import (
    NOW,
    make_branch,
    make_counter,
    make_customer,
    make_service_type,
    make_user,
    offer,
)
from tests.factories import principal as principal_of


class World:
    def __init__(self, db: Session) -> None:
        self.branch: Branch = make_branch(db, code="QTEST")
        self.cash: ServiceType = make_service_type(db, code="QCASH", ticket_prefix="A")
        self.loan: ServiceType = make_service_type(db, code="QLOAN", ticket_prefix="D")
        offer(db, self.branch, self.cash, self.loan)
        self.c1: Counter = make_counter(db, self.branch, self.cash, code="C1")
        self.c2: Counter = make_counter(db, self.branch, self.cash, self.loan, code="C2")
        self.teller: Principal = principal_of(db, make_user(db, Role.teller, (self.branch,)))
        self.lobby: Principal = principal_of(db, make_user(db, Role.lobby_manager, (self.branch,)))
        self.db = db

    def issue(self, code: str = "QCASH", minutes: float = 0, **kwargs: object) -> Ticket:
        return service.issue_ticket(
            self.db, branch=self.branch, service_code=code,
            channel=kwargs.pop("channel", Channel.kiosk),  # type: ignore[arg-type]
            now=NOW + timedelta(minutes=minutes), **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip

    def open(self, counter: str, minutes: float = 0) -> None:
        service.set_counter_status(
            self.db, branch=self.branch, counter_code=counter, status="open",  # type: ignore[arg-type]
            actor=self.teller, now=NOW + timedelta(minutes=minutes),
        )  # fmt: skip

    def call(self, counter: str, minutes: float = 1) -> Ticket | None:
        return service.call_next(
            self.db, branch=self.branch, counter_code=counter, actor=self.teller,
            now=NOW + timedelta(minutes=minutes),
        )  # fmt: skip


@pytest.fixture
def world(db: Session) -> World:
    return World(db)


def _events(db: Session) -> list[tuple[str, dict[str, object]]]:
    rows = db.execute(select(Event.type, Event.payload).order_by(Event.seq)).all()
    return [(t, p) for t, p in rows if t.startswith("ticket.") or t.startswith("counter.")]


def test_numbers_are_per_prefix_and_day(world: World) -> None:
    numbers = [world.issue().number, world.issue().number, world.issue("QLOAN").number]
    assert numbers == ["A-001", "A-002", "D-001"]
    tomorrow = world.issue(minutes=24 * 60)
    assert tomorrow.number == "A-001"
    assert tomorrow.business_on.isoformat() == "2026-03-03"


def test_the_branch_closed_refuses_tickets_and_writes_nothing(world: World, db: Session) -> None:
    before = db.execute(select(func.count()).select_from(Ticket)).scalar_one()
    with pytest.raises(service.BranchClosed):
        world.issue(minutes=10 * 60)  # 20:00 in Taipei
    assert db.execute(select(func.count()).select_from(Ticket)).scalar_one() == before


def test_service_not_offered_and_kiosk_vip_are_refused(world: World) -> None:
    with pytest.raises(RuleViolation) as not_offered:
        world.issue("NOPE")
    assert not_offered.value.field == "service_code"
    with pytest.raises(RuleViolation) as vip:
        world.issue(priority=Priority.vip)
    assert vip.value.field == "priority"


def test_a_vip_customer_identifying_gets_vip_priority(
    world: World, db: Session, signer: object
) -> None:
    customer = make_customer(db, signer, service_tier="vip")  # type: ignore[arg-type]
    ticket = world.issue(customer_id=customer.id)
    assert ticket.priority == Priority.vip


def test_full_lifecycle_writes_one_event_per_transition(world: World, db: Session) -> None:
    first = world.issue()
    world.issue()
    world.open("C1")
    called = world.call("C1")
    assert called is not None
    assert (called.id, called.state, called.counter_id) == (first.id, "called", world.c1.id)
    with pytest.raises(service.CounterBusy):
        world.call("C1")
    with pytest.raises(service.InvalidTransition):
        service.complete(db, ticket_id=first.id, outcome_code="done", actor=world.teller, now=NOW)
    service.start_service(
        db, ticket_id=first.id, actor=world.teller, now=NOW + timedelta(minutes=2)
    )
    done = service.complete(
        db, ticket_id=first.id, outcome_code="deposit", actor=world.teller,
        now=NOW + timedelta(minutes=6),
    )  # fmt: skip
    assert (done.state, done.outcome_code) == ("completed", "deposit")
    kinds = [payload["type"] for _t, payload in _events(db)]
    assert kinds == ["issued", "issued", "counter_open", "called", "started", "completed"]
    called_payload = _events(db)[3][1]
    assert called_payload["ticket"] == str(first.id)
    assert called_payload["counter"] == "C1"
    assert called_payload["service"] == "QCASH"
    assert called_payload["ts"] == "2026-03-02T10:01:00+08:00"


def test_call_next_on_a_closed_or_paused_counter_is_409(world: World) -> None:
    world.issue()
    with pytest.raises(service.CounterNotOpen):
        world.call("C1")
    world.open("C1")
    service.set_counter_status(
        world.db, branch=world.branch, counter_code="C1", status="paused",  # type: ignore[arg-type]
        actor=world.teller, now=NOW,
    )  # fmt: skip
    with pytest.raises(service.CounterNotOpen):
        world.call("C1")


def test_counters_serve_only_their_services_and_return_none_when_idle(world: World) -> None:
    world.issue("QLOAN")
    world.open("C1")
    assert world.call("C1") is None
    world.open("C2")
    loan = world.call("C2")
    assert loan is not None
    assert loan.number == "D-001"


def test_a_lobby_manager_cannot_call_and_a_teller_cannot_cancel(world: World) -> None:
    ticket = world.issue()
    world.open("C1")
    with pytest.raises(Forbidden):
        service.call_next(
            world.db, branch=world.branch, counter_code="C1", actor=world.lobby, now=NOW
        )
    with pytest.raises(Forbidden):
        service.cancel(world.db, ticket=ticket, now=NOW, actor=world.teller)
    assert ticket.state == "waiting"


def test_no_show_needs_the_configured_recalls_and_the_customer_may_rejoin(
    world: World, db: Session
) -> None:
    db.add(QueueSettings(branch_id=world.branch.id, recalls_before_no_show=2, updated_at=NOW))
    ticket = world.issue()
    world.issue(minutes=1)
    world.open("C1")
    world.call("C1", minutes=2)
    service.recall(db, ticket_id=ticket.id, actor=world.teller, now=NOW + timedelta(minutes=3))
    with pytest.raises(service.InvalidTransition, match="1 more time"):
        service.no_show(db, ticket_id=ticket.id, actor=world.teller, now=NOW)
    service.recall(db, ticket_id=ticket.id, actor=world.teller, now=NOW + timedelta(minutes=4))
    service.no_show(db, ticket_id=ticket.id, actor=world.teller, now=NOW + timedelta(minutes=5))
    assert ticket.state == TicketState.no_show
    back = service.rejoin(
        db, ticket_id=ticket.id, actor=world.lobby, now=NOW + timedelta(minutes=20)
    )
    assert (back.state, back.number, back.recall_count) == ("waiting", "A-001", 0)
    assert service.position(db, ticket=back, now=NOW + timedelta(minutes=20)) == 2


def test_transfer_keeps_the_original_arrival(world: World, db: Session) -> None:
    early = world.issue()
    world.issue("QLOAN", minutes=5)
    world.open("C1")
    world.open("C2")
    called = world.call("C1", minutes=6)
    assert called is not None
    assert called.id == early.id
    service.start_service(
        db, ticket_id=early.id, actor=world.teller, now=NOW + timedelta(minutes=7)
    )
    moved = service.transfer(
        db, ticket_id=early.id, service_code="QLOAN", counter_code=None, actor=world.teller,
        now=NOW + timedelta(minutes=8),
    )  # fmt: skip
    assert (moved.state, moved.queued_at, moved.transfer_count) == ("waiting", NOW, 1)
    nxt = world.call("C2", minutes=9)
    assert nxt is not None
    assert nxt.id == early.id  # arrived before D-001
    with pytest.raises(RuleViolation):
        service.transfer(
            db, ticket_id=early.id, service_code=None, counter_code=None, actor=world.teller,
            now=NOW,
        )  # fmt: skip


def test_park_and_return_to_the_same_counter(world: World, db: Session) -> None:
    ticket = world.issue()
    world.open("C1")
    world.open("C2")
    world.call("C1")
    service.park(db, ticket_id=ticket.id, actor=world.teller, now=NOW + timedelta(minutes=2))
    assert ticket.state == "parked"
    world.issue(minutes=3)
    service.unpark(db, ticket_id=ticket.id, actor=world.teller, now=NOW + timedelta(minutes=4))
    other = world.call("C2", minutes=5)
    assert other is not None
    assert other.number == "A-002"
    again = world.call("C1", minutes=5)
    assert again is not None
    assert again.id == ticket.id


def test_remote_ticket_is_not_called_before_check_in(world: World, db: Session) -> None:
    remote = world.issue(channel=Channel.remote, contact_phone="+886912345678")
    world.open("C1")
    assert world.call("C1") is None
    assert service.position(db, ticket=remote, now=NOW) == 1
    service.check_in(db, ticket=remote, now=NOW + timedelta(minutes=2))
    called = world.call("C1", minutes=3)
    assert called is not None
    assert called.id == remote.id
    with pytest.raises(service.InvalidTransition):
        service.check_in(db, ticket=remote, now=NOW)


def test_cancel_by_the_customer_and_snapshot_counts(world: World, db: Session) -> None:
    a = world.issue()
    world.issue()
    world.issue("QLOAN")
    service.cancel(db, ticket=a, now=NOW + timedelta(minutes=1))
    world.open("C2")
    snap = service.snapshot(db, branch=world.branch, now=NOW + timedelta(minutes=2))
    waiting = {s.service_code: s.waiting for s in snap.services}
    assert waiting == {"QCASH": 1, "QLOAN": 1}
    assert snap.waiting_total == 2
    assert [(c.code, c.status) for c in snap.counters] == [("C1", "closed"), ("C2", "open")]
    with pytest.raises(service.InvalidTransition):
        service.cancel(db, ticket=a, now=NOW)


def test_closing_a_counter_with_a_ticket_in_hand_is_refused(world: World) -> None:
    world.issue()
    world.open("C1")
    world.call("C1")
    with pytest.raises(service.CounterBusy):
        service.set_counter_status(
            world.db, branch=world.branch, counter_code="C1", status="closed",  # type: ignore[arg-type]
            actor=world.teller, now=NOW,
        )  # fmt: skip
    assert world.c1.status == "open"


def test_standard_estimate_until_the_model_has_history(world: World, db: Session) -> None:
    from branchdesk.queue.live import LiveWaits

    waits = LiveWaits()
    first = world.issue(estimator=waits)
    second = world.issue(estimator=waits)
    third = world.issue(estimator=waits)
    # 5 standard minutes each, two counters serve QCASH (none open yet)
    assert [first.estimated_wait_seconds, second.estimated_wait_seconds] == [0, 150]
    assert third.estimated_wait_seconds == 300
    world.open("C1")
    # now one open counter serves it: two ahead x 300 s
    assert service.estimate_wait(db, ticket=third, now=NOW, estimator=waits) == 600
    assert waits.estimate(world.branch.id, third.id) is None  # no history yet


def test_remote_holders_get_one_come_back_notice_when_their_turn_is_near(
    world: World, db: Session
) -> None:
    from branchdesk.core.events import Event as EventRow
    from branchdesk.queue.service.notices import send_come_back_notices

    db.add(QueueSettings(branch_id=world.branch.id, come_back_minutes=8, updated_at=NOW))
    for _ in range(3):
        world.issue()
    near = world.issue(channel=Channel.remote, contact_phone="+886911000111")
    world.open("C1")
    world.open("C2")
    # 3 ahead x 5 min / 2 counters = 450 s, within 8 minutes
    assert send_come_back_notices(db, branch=world.branch, now=NOW, estimator=None) == 1
    assert near.come_back_sent_at == NOW
    assert send_come_back_notices(db, branch=world.branch, now=NOW, estimator=None) == 0
    notices = (
        db.execute(select(EventRow.payload).where(EventRow.type == "notify.requested"))
        .scalars()
        .all()
    )
    assert [(n["to_phone"], n["template"], n["values"]["minutes"]) for n in notices] == [
        ("+886911000111", "queue.come_back", "8")
    ]
