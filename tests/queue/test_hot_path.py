"""The shortcuts of the hot path give exactly what the whole-hall computation gives.

- call-next reads only the first few of each group of alike tickets: its choices still follow
  ``policy.rank_for_counter`` over every waiting ticket;
- issue works out position and estimate from the rival tickets only, and its response reuses
  them: they equal a fresh read of the ticket and the whole-hall ``hall_view`` figures.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, CounterStatus
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.queue import service
from branchdesk.queue.models import Channel, Priority, QueueSettings
from branchdesk.queue.policy import rank_for_counter
from branchdesk.queue.service import counters as counters_module
from branchdesk.queue.service.common import _counter_view, _waiting
from branchdesk.queue.service.screens import _position_in, _standard_estimate, hall_view
from tests.factories import (
    NOW,
    make_branch,
    make_counter,
    make_service_type,
    make_ticket,
    make_user,
    offer,
)
from tests.factories import principal as principal_of


@pytest.fixture
def mixed_hall(db: Session) -> tuple[Branch, Principal]:
    branch = make_branch(db, code="QHOT")
    cash = make_service_type(db, code="HCASH", ticket_prefix="H", target_max_wait_minutes=10)
    loan = make_service_type(db, code="HLOAN", ticket_prefix="L")
    offer(db, branch, cash, loan)
    db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=False, updated_at=NOW))
    make_counter(db, branch, cash, loan, code="H1", status=CounterStatus.open)
    make_counter(db, branch, cash, code="H2", status=CounterStatus.closed)
    lobby = principal_of(db, make_user(db, Role.branch_manager, (branch,)))
    kinds = [
        (Priority.normal, None),
        (Priority.elderly, None),
        (Priority.normal, None),
        (Priority.vip, None),
        (Priority.appointment, 40),
        (Priority.normal, None),
        (Priority.appointment, 5),
    ]
    for n in range(28):  # several alike tickets per group, arriving a minute apart
        priority, booked = kinds[n % len(kinds)]
        service.issue_ticket(
            db, branch=branch, service_code="HLOAN" if n % 3 == 0 else "HCASH",
            channel=Channel.lobby, now=NOW + timedelta(minutes=n), priority=priority,
            booked_at=NOW + timedelta(minutes=booked) if booked else None, actor=lobby,
        )  # fmt: skip
    return branch, lobby


def test_call_next_follows_the_policy_over_the_whole_hall(
    db: Session, mixed_hall: tuple[Branch, Principal], monkeypatch: pytest.MonkeyPatch
) -> None:
    branch, lobby = mixed_hall
    monkeypatch.setattr(counters_module, "CALL_DEPTH", 2)  # groups longer than what is read
    counter = next(c for c in hall_view(db, branch=branch, now=NOW).counter_rows)
    view = _counter_view(db, counter)
    config = hall_view(db, branch=branch, now=NOW).config
    called = []
    for step in range(28):
        now = NOW + timedelta(minutes=30 + step * 3)
        expected = rank_for_counter(
            [w for _t, w in _waiting(db, branch, now)],
            view, now, config,
        )  # fmt: skip
        ticket = service.call_next(db, branch=branch, counter_code="H1", actor=lobby, now=now)
        assert ticket is not None
        assert ticket.id == expected[0].id, step
        called.append(ticket.number)
        service.start_service(db, ticket_id=ticket.id, actor=lobby, now=now)
        service.complete(db, ticket_id=ticket.id, outcome_code="done", actor=lobby, now=now)
    assert len(set(called)) == 28
    assert service.call_next(
        db, branch=branch, counter_code="H1", actor=lobby, now=NOW + timedelta(hours=3)
    ) is None  # fmt: skip


def test_position_and_estimate_equal_the_whole_hall_figures(
    db: Session, mixed_hall: tuple[Branch, Principal]
) -> None:
    branch, lobby = mixed_hall
    now = NOW + timedelta(minutes=45)
    fresh = service.issue_ticket(
        db, branch=branch, service_code="HCASH", channel=Channel.lobby, now=now,
        priority=Priority.elderly, actor=lobby,
    )  # fmt: skip
    issued = service.ticket_read(db, ticket=fresh, now=now)
    hall = hall_view(db, branch=branch, now=now)
    assert issued.position == _position_in(hall, fresh.id, now)
    assert issued.estimated_wait_seconds == _standard_estimate(hall, fresh.id, now)
    assert fresh.estimated_wait_seconds == issued.estimated_wait_seconds
    assert issued.position is not None
    assert issued.position > 1
    for ticket in hall.tickets.values():
        later = now + timedelta(minutes=7)
        whole = hall_view(db, branch=branch, now=later)
        read = service.ticket_read(db, ticket=ticket, now=later)
        assert (read.position, read.estimated_wait_seconds) == (
            _position_in(whole, ticket.id, later),
            _standard_estimate(whole, ticket.id, later),
        ), ticket.number


def test_a_remembered_position_is_dropped_once_anything_changes(
    db: Session, mixed_hall: tuple[Branch, Principal]
) -> None:
    branch, lobby = mixed_hall
    now = NOW + timedelta(minutes=50)
    first = service.issue_ticket(
        db, branch=branch, service_code="HLOAN", channel=Channel.lobby, now=now,
        actor=lobby,
    )  # fmt: skip
    before = service.ticket_read(db, ticket=first, now=now).position
    service.issue_ticket(
        db, branch=branch, service_code="HLOAN", channel=Channel.lobby, now=now,
        priority=Priority.vip, actor=lobby,
    )  # fmt: skip
    assert service.ticket_read(db, ticket=first, now=now).position == (before or 0) + 1


def test_positions_counted_per_group_equal_ranking_every_rival(db: Session) -> None:
    """Ties at the same microsecond (broken by number, including A-999 against A-1000), arrivals
    a microsecond apart, every priority, appointments due and not yet due, tickets sent to a
    counter, remote tickets not yet checked in, the aging edge: the position counted per group
    of alike tickets equals the policy's ranking of every waiting ticket."""
    branch = make_branch(db, code="QPOS")
    cash = make_service_type(db, code="PCASH", ticket_prefix="P", target_max_wait_minutes=10)
    loan = make_service_type(db, code="PLOAN", ticket_prefix="Q", target_max_wait_minutes=25)
    offer(db, branch, cash, loan)
    db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=False, updated_at=NOW))
    both = make_counter(db, branch, cash, loan, code="P1", status=CounterStatus.open)
    only_cash = make_counter(db, branch, cash, code="P2", status=CounterStatus.open)
    day = catalog.business_day(branch, NOW)
    priorities = [Priority.normal, Priority.elderly, Priority.vip, Priority.appointment]
    for n in range(90):
        service_type = (cash, loan)[n % 2]
        priority = priorities[n % 7 % 4]
        queued_at = NOW + timedelta(minutes=(n * 7) % 23, microseconds=(0, 0, 1, 2, 500_000)[n % 5])
        seq = (n * 389) % 1500 + 1  # numbers of three and four digits, out of arrival order
        make_ticket(
            db, branch, service_type, business_on=day, seq=seq,
            number=f"{service_type.ticket_prefix}-{seq:03d}", priority=priority,
            queued_at=queued_at, issued_at=queued_at,
            checked_in_at=None if n % 17 == 5 else queued_at,
            booked_at=NOW + timedelta(minutes=(10, 35, 60)[n % 3])
            if priority is Priority.appointment else None,
            target_counter_id=(both.id if n % 2 else only_cash.id) if n % 11 == 3 else None,
        )  # fmt: skip
    checked = 0
    for minutes in (23, 30, 33, 45, 120):
        now = NOW + timedelta(minutes=minutes)
        hall = hall_view(db, branch=branch, now=now)
        for ticket in hall.tickets.values():
            read = service.ticket_read(db, ticket=ticket, now=now)
            assert (read.position, read.estimated_wait_seconds) == (
                _position_in(hall, ticket.id, now),
                _standard_estimate(hall, ticket.id, now),
            ), (ticket.number, minutes)
            checked += 1
    assert checked == 5 * 90
