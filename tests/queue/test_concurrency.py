"""Two (or eight) tellers pressing call-next at the same instant never get the same ticket.

Real commits on the test database (SQLite: the single writer; PostgreSQL: row locks and
SKIP LOCKED), then the rows this test made are removed again.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Result, Uuid, bindparam, select, text
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.clock import utcnow
from branchdesk.core.db import Database
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.queue import service
from branchdesk.queue.models import Channel, QueueSettings, Ticket
from tests.factories import NOW, make_branch, make_counter, make_service_type, make_user, offer
from tests.factories import principal as principal_of

COUNTERS = 8
TICKETS = 60


def _run(db: Session, statement: str, **values: object) -> Result[Any]:
    """Raw SQL with UUIDs bound the way the column type stores them on either database."""
    used = {name: value for name, value in values.items() if f":{name}" in statement}
    clause = text(statement).bindparams(
        *(bindparam(name, type_=Uuid()) for name, v in used.items() if isinstance(v, uuid.UUID))
    )
    return db.execute(clause, used)


@pytest.fixture
def hall(database: Database) -> Iterator[tuple[uuid.UUID, Principal]]:
    with database.unit_of_work() as db:
        branch = make_branch(db, code=f"CC{uuid.uuid4().hex[:6].upper()}")
        cash = make_service_type(db, code=f"CC{uuid.uuid4().hex[:8].upper()}", ticket_prefix="Q")
        offer(db, branch, cash)
        db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=False, updated_at=NOW))
        for i in range(COUNTERS):
            make_counter(db, branch, cash, code=f"K{i}", status="open")
        teller = principal_of(db, make_user(db, Role.teller, (branch,)))
        now = utcnow()
        for _ in range(TICKETS):
            service.issue_ticket(
                db, branch=branch, service_code=cash.code, channel=Channel.kiosk, now=now
            )
        branch_id, service_id = branch.id, cash.id
    yield branch_id, teller
    with database.unit_of_work() as db:
        for statement in (
            "DELETE FROM outbox WHERE event_seq IN (SELECT seq FROM events WHERE branch_id = :b)",
            "DELETE FROM events WHERE branch_id = :b",
            "DELETE FROM tickets WHERE branch_id = :b",
            "DELETE FROM counter_services WHERE counter_id IN (SELECT id FROM counters WHERE branch_id = :b)",
            "DELETE FROM counters WHERE branch_id = :b",
            "DELETE FROM branch_services WHERE branch_id = :b",
            "DELETE FROM queue_settings WHERE branch_id = :b",
            "DELETE FROM branch_opening_hours WHERE branch_id = :b",
            "DELETE FROM user_branches WHERE branch_id = :b",
            "DELETE FROM users WHERE id = :u",
            "DELETE FROM branches WHERE id = :b",
            "DELETE FROM service_types WHERE id = :s",
            "DELETE FROM reference_counters WHERE key LIKE :k",
        ):
            _run(
                db, statement, b=branch_id, u=teller.user_id, s=service_id, k=f"ticket:{branch_id}%"
            )


def test_simultaneous_call_next_never_hands_out_a_ticket_twice(
    database: Database, hall: tuple[uuid.UUID, Principal]
) -> None:
    branch_id, teller = hall
    calls: dict[str, list[uuid.UUID]] = {f"K{i}": [] for i in range(COUNTERS)}
    errors: list[BaseException] = []
    barrier = threading.Barrier(COUNTERS)

    def teller_at(counter: str) -> None:
        try:
            barrier.wait(timeout=30)
            while True:
                with database.unit_of_work() as db:
                    branch = db.get(Branch, branch_id)
                    assert branch is not None
                    now = utcnow()
                    ticket = service.call_next(
                        db, branch=branch, counter_code=counter, actor=teller, now=now
                    )
                    if ticket is None:
                        return
                    calls[counter].append(ticket.id)
                    # finish it so the counter can call again
                    service.start_service(db, ticket_id=ticket.id, actor=teller, now=now)
                    service.complete(
                        db, ticket_id=ticket.id, outcome_code="done", actor=teller,
                        now=now + timedelta(milliseconds=1),
                    )  # fmt: skip
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=teller_at, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    handed_out = [ticket for tickets in calls.values() for ticket in tickets]
    assert len(handed_out) == TICKETS
    assert len(set(handed_out)) == TICKETS
    with database.unit_of_work() as db:
        states = db.execute(select(Ticket.state).where(Ticket.branch_id == branch_id)).scalars()
        assert sorted(set(states)) == ["completed"]
        called_events = _run(
            db, "SELECT COUNT(*) FROM events WHERE branch_id = :b AND type = 'ticket.called'",
            b=branch_id,
        ).scalar_one()  # fmt: skip
        assert called_events == TICKETS


@pytest.mark.postgres
def test_call_next_reaches_past_the_first_few_when_other_tellers_hold_them(
    database: Database, hall: tuple[uuid.UUID, Principal], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Call-next reads the best few of a group; when all of them are locked it ranks the rest."""
    from branchdesk.queue.service import counters as counters_module

    branch_id, teller = hall
    monkeypatch.setattr(counters_module, "CALL_DEPTH", 3)
    with database.unit_of_work() as holder:  # another teller's open transaction
        held = (
            holder.execute(
                select(Ticket.number)
                .where(Ticket.branch_id == branch_id)
                .order_by(Ticket.queued_at, Ticket.number)
                .limit(3)
                .with_for_update()
            )
            .scalars()
            .all()
        )
        assert held == ["Q-001", "Q-002", "Q-003"]
        with database.unit_of_work() as db:
            branch = db.get(Branch, branch_id)
            assert branch is not None
            ticket = service.call_next(
                db, branch=branch, counter_code="K0", actor=teller, now=utcnow()
            )
            assert ticket is not None
            assert ticket.number == "Q-004"
        holder.rollback()
    with database.unit_of_work() as db:
        rows = db.execute(
            select(Ticket.number, Ticket.state).where(Ticket.branch_id == branch_id)
        ).all()
        states = {row[0]: row[1] for row in rows}
        assert [states[n] for n in ("Q-001", "Q-002", "Q-003", "Q-004", "Q-005")] == [
            "waiting", "waiting", "waiting", "called", "waiting",
        ]  # fmt: skip
