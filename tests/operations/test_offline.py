"""Offline ticketing fallback: blocks, absorb in arrival order with original times, refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import CounterStatus
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import Conflict, Forbidden, RuleViolation
from branchdesk.core.events import Event
from branchdesk.core.references import ReferenceCounter
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.operations import offline
from branchdesk.operations.models import OfflineBlock, OfflineBlockNumber
from branchdesk.operations.schemas import AbsorbBody, OfflineBlockCreate, PaperTicket
from branchdesk.queue import service as queue
from branchdesk.queue.models import Ticket
from tests.factories import (
    NOW,
    bearer,
    make_branch,
    make_counter,
    make_service_type,
    make_ticket,
    make_user,
    offer,
)
from tests.factories import principal as principal_of

DAY = date(2026, 3, 2)


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


class World:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.branch = make_branch(db)
        self.service = make_service_type(db)
        offer(db, self.branch, self.service)
        self.prefix = self.service.ticket_prefix
        self.counter = make_counter(db, self.branch, self.service, status=CounterStatus.open)
        self.lobby_user = make_user(db, Role.lobby_manager, (self.branch,))
        self.lobby = principal_of(db, self.lobby_user)
        self.teller = principal_of(db, make_user(db, Role.teller, (self.branch,)))

    def allocate(self, size: int = 50) -> offline.OfflineBlockRead:
        body = OfflineBlockCreate(service_code=self.service.code, size=size)
        return offline.allocate_block(
            self.db, branch=self.branch, body=body, actor=self.lobby, now=NOW
        )

    def absorb(self, block_id: object, *papers: tuple[int, int]) -> offline.AbsorbResult:
        body = AbsorbBody(
            tickets=[
                PaperTicket(number=f"{self.prefix}-{seq}", issued_at=NOW + timedelta(minutes=m))
                for seq, m in papers
            ]
        )
        return offline.absorb_block(
            self.db, branch=self.branch, block_id=block_id, body=body, actor=self.lobby,  # type: ignore[arg-type]
            now=NOW + timedelta(minutes=30),
        )  # fmt: skip

    def state(self) -> tuple[int, int, int, int]:
        return (
            _count(self.db, Ticket), _count(self.db, OfflineBlockNumber),
            _count(self.db, AuditEntry), _count(self.db, Event),
        )  # fmt: skip


@pytest.fixture
def world(db: Session) -> World:
    return World(db)


def test_blocks_follow_each_other(world: World) -> None:
    first = world.allocate()
    assert (first.first_number, first.last_number) == (f"{world.prefix}-900", f"{world.prefix}-949")
    assert first.business_on == DAY
    second = world.allocate(size=10)
    assert (second.first_number, second.last_number) == (
        f"{world.prefix}-950",
        f"{world.prefix}-959",
    )
    listed = offline.list_blocks(world.db, branch=world.branch, actor=world.teller, now=NOW)
    assert [b.id for b in listed] == [first.id, second.id]


def test_allocation_refused_when_online_numbers_reached_it(world: World) -> None:
    world.db.add(ReferenceCounter(key=f"ticket:{world.branch.id}:{DAY}:{world.prefix}", value=900))
    world.db.flush()
    with pytest.raises(Conflict):
        world.allocate()
    with pytest.raises(Forbidden):
        offline.allocate_block(
            world.db, branch=world.branch,
            body=OfflineBlockCreate(service_code=world.service.code), actor=world.teller, now=NOW,
        )  # fmt: skip
    assert _count(world.db, OfflineBlock) == 0


def test_absorb_keeps_arrival_order_and_original_times(world: World) -> None:
    block = world.allocate()
    online = make_ticket(
        world.db, world.branch, world.service, business_on=DAY,
        queued_at=NOW + timedelta(minutes=2), issued_at=NOW + timedelta(minutes=2),
    )  # fmt: skip
    result = world.absorb(block.id, (905, 5), (900, 1), (903, 3))
    p = world.prefix
    assert [(a.number, a.position) for a in result.absorbed] == [
        (f"{p}-900", 1), (f"{p}-903", 2), (f"{p}-905", 3)
    ]  # fmt: skip
    for absorbed, minutes in zip(result.absorbed, (1, 3, 5), strict=True):
        ticket = world.db.get(Ticket, absorbed.ticket_id)
        assert ticket is not None
        assert ticket.state == "waiting"
        assert ticket.issued_at == ticket.queued_at == NOW + timedelta(minutes=minutes)
        assert ticket.business_on == DAY
    events = world.db.execute(
        select(Event).where(Event.type == "ticket.issued").order_by(Event.occurred_at)
    ).scalars()
    assert [e.payload["number"] for e in events] == [f"{p}-900", f"{p}-903", f"{p}-905"]
    # The queue serves them in arrival order, the online ticket in its place.
    called = []
    for minute in range(31, 35):
        ticket = queue.call_next(
            world.db, branch=world.branch, counter_code=world.counter.code, actor=world.teller,
            now=NOW + timedelta(minutes=minute),
        )  # fmt: skip
        assert ticket is not None
        called.append(ticket.number)
        ticket.state = "completed"
        world.db.flush()
    assert called == [f"{p}-900", online.number, f"{p}-903", f"{p}-905"]
    assert (
        offline.list_blocks(world.db, branch=world.branch, actor=world.lobby, now=NOW)[
            0
        ].absorbed_count
        == 3
    )


def test_refused_uploads_change_nothing(world: World) -> None:
    block = world.allocate(size=10)
    world.absorb(block.id, (900, 1))
    before = world.state()
    with pytest.raises(RuleViolation) as outside:
        world.absorb(block.id, (901, 2), (910, 3))  # 910 is past the block's end (909)
    assert outside.value.field == "tickets.1"
    with pytest.raises(Conflict):
        world.absorb(block.id, (902, 2), (902, 3))  # twice in the upload
    with pytest.raises(Conflict):
        world.absorb(block.id, (903, 2), (900, 1))  # 900 was absorbed already
    with pytest.raises(RuleViolation) as future:
        world.absorb(block.id, (904, 31))  # after the upload time
    assert future.value.field == "tickets.0"
    assert world.state() == before


def test_absorb_over_http(client: TestClient, db: Session, signer: Signer) -> None:
    w = World(db)
    auth = bearer(signer, w.lobby_user)
    made = client.post(
        f"/api/v1/branches/{w.branch.code}/offline-blocks",
        json={"service_code": w.service.code, "size": 5}, headers=auth,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    url = f"/api/v1/branches/{w.branch.code}/offline-blocks/{made.json()['id']}/absorb"
    when = utcnow().isoformat()
    outside = client.post(
        url, json={"tickets": [{"number": f"{w.prefix}-905", "issued_at": when}]}, headers=auth
    )
    assert outside.status_code == 422
    assert outside.json()["field"] == "tickets.0"
    ok = client.post(
        url, json={"tickets": [{"number": f"{w.prefix}-904", "issued_at": when}]}, headers=auth
    )
    assert ok.status_code == 200, ok.text
    assert [a["number"] for a in ok.json()["absorbed"]] == [f"{w.prefix}-904"]
    again = client.post(
        url, json={"tickets": [{"number": f"{w.prefix}-904", "issued_at": when}]}, headers=auth
    )
    assert again.status_code == 409
    assert again.json()["error"] == "offline_number_used"
