"""The loyalty ledger: earning rules, FIFO consumption, expiry, redemption refusals, maker-checker
adjustments and tiers, on the real database."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, Forbidden
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.loyalty import service
from branchdesk.loyalty.config import Programme, Tier
from branchdesk.loyalty.defaults import install_standard_rules
from branchdesk.loyalty.models import (
    EarningRule,
    PointsAccount,
    PointsAllocation,
    PointsEntry,
    Redemption,
    Reward,
)
from branchdesk.loyalty.schemas import AdjustmentCreate
from branchdesk.queue.models import Channel, Priority, QueueSettings
from branchdesk.queue.service.tickets import issue_ticket
from tests.analytics.bank import at, book, open_account
from tests.factories import (
    make_branch,
    make_customer,
    make_service_type,
    make_user,
    offer,
    principal,
)

TODAY = date(2026, 3, 1)
NOW = at(TODAY)


@dataclass
class World:
    branch: Branch
    customer: Customer


def _world(db: Session, signer: Signer) -> World:
    install_standard_rules(db, now=NOW)
    branch = make_branch(db)
    customer = make_customer(db, signer, home_branch_id=branch.id)
    return World(branch, customer)


def _reward(db: Session, code: str = "MUG", cost: int = 30, stock: int = 5, **over: object) -> None:
    values: dict[str, object] = {
        "id": new_id(), "code": code, "name_zh_hant": "杯", "name_zh_hans": "杯", "name_en": "Mug",
        "points_cost": cost, "stock": stock, "valid_from": date(2026, 1, 1), "valid_to": None,
        "is_active": True, "created_at": NOW,
    }  # fmt: skip
    values.update(over)
    db.add(Reward(**values))
    db.flush()


def _lot(db: Session, world: World, points: int, on: date) -> None:
    """A deposit worth ``points`` standard points (1 per 1,000.00 CNY), earned on ``on``."""
    account = open_account(db, world.branch, world.customer, type="savings", currency="CNY", on=on)
    book(db, account, points * 100_000, on)
    service.earn_from_sources(db, until=on, now=at(on), customer_ids=[world.customer.id])


def _state(db: Session, world: World) -> tuple[int, int, int, int, int]:
    def count(model: object) -> int:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]

    stock = db.scalar(select(func.coalesce(func.sum(Reward.stock), 0)))
    return (service.balance(db, world.customer.id), count(PointsEntry), count(PointsAllocation),
            count(Redemption), int(stock or 0))  # fmt: skip


def test_rules_by_kind_product_campaign_validity_and_multiplier(
    db: Session, signer: Signer
) -> None:
    world = _world(db, signer)
    db.add_all(
        EarningRule(
            id=new_id(), code=code, source="posting", posting_kind=kind, product=product,
            campaign=campaign, unit_minor=100_000, points=1, multiplier_bp=multiplier,
            valid_from=start, valid_to=end, is_active=True, created_at=NOW,
        )
        for code, kind, product, campaign, multiplier, start, end in (
            # double points on time deposits in February
            ("td-feb", "deposit", "time_deposit", "spring", 20_000, date(2026, 2, 1),
             date(2026, 2, 28)),
            # half a point per 1,000.00 on any posting in March (rounded down)
            ("march", None, None, "march", 5_000, date(2026, 3, 1), None),
        )
    )  # fmt: skip
    db.flush()
    td = open_account(db, world.branch, world.customer, type="time_deposit", currency="USD",
                      on=date(2026, 1, 1))  # fmt: skip
    book(db, td, 100_000, date(2026, 2, 10))  # USD 1,000.00 = CNY 7,200.00: 7 points
    book(db, td, 50_000, date(2026, 3, 1))  # after the campaign: 3 + march 1
    book(db, td, 70_000, date(2026, 3, 2))  # after ``until``: not yet
    # the worker's look-back: only the events from ``since`` on (the two of 2026-03-01)
    assert service.earn_from_sources(db, until=TODAY, now=NOW, since=TODAY) == 2
    added = service.earn_from_sources(db, until=TODAY, now=NOW)
    entries = sorted(
        (e.rule_code, e.points, e.earned_on)
        for e in db.execute(
            select(PointsEntry).where(PointsEntry.customer_id == world.customer.id)
        ).scalars()
    )
    assert entries == [
        ("deposit", 3, date(2026, 3, 1)),
        ("deposit", 7, date(2026, 2, 10)),
        ("march", 1, date(2026, 3, 1)),
        ("td-feb", 14, date(2026, 2, 10)),
    ]
    assert added == 2
    assert service.balance(db, world.customer.id) == 25
    # once per event and rule: running again (or the job) adds nothing
    assert (
        service.earn_from_sources(db, until=TODAY, now=NOW, customer_ids=[world.customer.id]) == 0
    )
    assert service.balance(db, world.customer.id) == 25


def test_redemption_takes_the_oldest_lots_and_expiry_takes_what_is_left(
    db: Session, signer: Signer
) -> None:
    world = _world(db, signer)
    _lot(db, world, 20, date(2024, 2, 1))  # expires 2026-02-01
    _lot(db, world, 50, date(2025, 6, 1))  # expires 2027-06-01
    _reward(db, cost=30)
    result = service.redeem(db, customer_id=world.customer.id, reward_code="MUG",
                            idempotency_key="k-0000001", channel="portal", today=TODAY,
                            now=NOW)  # fmt: skip
    assert (result.points, result.balance_after) == (30, 40)
    taken = sorted(
        (lot.points, a.points)
        for a, lot in db.execute(
            select(PointsAllocation, PointsEntry).join(
                PointsEntry, PointsEntry.id == PointsAllocation.lot_id
            )
        ).all()
    )
    assert taken == [(20, 20), (50, 10)]  # the 2024 lot first, then 10 of the 2025 one
    # nothing of the 2024 lot is left to expire; the 2025 lot expires in 2027 with 40 left
    assert service.expire_due(db, today=TODAY, now=NOW) == 0
    assert service.expire_due(db, today=date(2027, 6, 1), now=at(date(2027, 6, 1))) == 1
    assert service.expire_due(db, today=date(2027, 6, 2), now=at(date(2027, 6, 2))) == 0
    assert service.balance(db, world.customer.id) == 0
    kinds = [
        (e.kind, e.points)
        for e in db.execute(
            select(PointsEntry)
            .where(PointsEntry.customer_id == world.customer.id)
            .order_by(PointsEntry.created_at, PointsEntry.points)
        ).scalars()
    ]
    assert kinds == [("earn", 20), ("earn", 50), ("redeem", -30), ("expire", -40)]


def test_expiry_is_fifo_and_the_summary_shows_what_expires_soon(
    db: Session, signer: Signer
) -> None:
    world = _world(db, signer)
    _lot(db, world, 20, date(2024, 3, 15))  # expires 2026-03-15: within 60 days of TODAY
    _lot(db, world, 150, date(2025, 6, 1))
    summary = service.summary(db, customer_id=world.customer.id, today=TODAY)
    assert (summary.balance, summary.expiring_soon, summary.next_expiry_on) == (
        170, 20, date(2026, 3, 15),
    )  # fmt: skip
    assert summary.window_points == 150  # only the 2025 lot is in the last 12 months
    assert (summary.next_tier, summary.points_to_next_tier) == ("gold", 350)
    assert summary.progress_percent == 12  # 50 of the 400 between silver and gold
    assert service.expire_due(db, today=date(2026, 3, 15), now=at(date(2026, 3, 15))) == 1
    assert service.balance(db, world.customer.id) == 150


def test_refused_redemptions_change_nothing(db: Session, signer: Signer) -> None:
    world = _world(db, signer)
    _lot(db, world, 40, date(2026, 2, 1))
    _reward(db, "MUG", cost=30, stock=1)
    _reward(db, "TV", cost=500, stock=3)
    _reward(db, "OLD", cost=1, stock=3, valid_to=date(2026, 2, 1))
    before = _state(db, world)
    for code, error in (("TV", "insufficient_points"), ("OLD", "reward_unavailable")):
        with pytest.raises(Conflict) as refused:
            service.redeem(db, customer_id=world.customer.id, reward_code=code,
                           idempotency_key=f"key-{code}", channel="portal", today=TODAY,
                           now=NOW)  # fmt: skip
        assert (refused.value.code, refused.value.status_code) == (error, 409)
        assert _state(db, world) == before
    first = service.redeem(db, customer_id=world.customer.id, reward_code="MUG",
                           idempotency_key="key-mug-1", channel="counter", today=TODAY,
                           now=NOW)  # fmt: skip
    after_first = _state(db, world)
    # the same key again replays the first redemption
    again = service.redeem(db, customer_id=world.customer.id, reward_code="MUG",
                           idempotency_key="key-mug-1", channel="counter", today=TODAY,
                           now=NOW)  # fmt: skip
    assert again.id == first.id
    assert _state(db, world) == after_first == (10, 2, 1, 1, 6)
    with pytest.raises(service.OutOfStock):
        service.redeem(db, customer_id=world.customer.id, reward_code="MUG",
                       idempotency_key="key-mug-2", channel="counter", today=TODAY, now=NOW)  # fmt: skip
    with pytest.raises(service.IdempotencyKeyReused):
        service.redeem(db, customer_id=world.customer.id, reward_code="TV",
                       idempotency_key="key-mug-1", channel="counter", today=TODAY, now=NOW)  # fmt: skip
    assert _state(db, world) == after_first


def test_adjustments_need_a_second_person_and_are_audited(db: Session, signer: Signer) -> None:
    world = _world(db, signer)
    _lot(db, world, 10, date(2026, 2, 1))
    maker = principal(db, make_user(db, Role.branch_manager, (world.branch,)))
    checker = principal(db, make_user(db, Role.branch_manager, (world.branch,)))
    teller = principal(db, make_user(db, Role.teller, (world.branch,)))
    number = world.customer.customer_number
    with pytest.raises(Forbidden):
        service.request_adjustment(db, actor=teller, customer_number=number,
                                   data=AdjustmentCreate(points=5, reason="goodwill"), now=NOW)  # fmt: skip
    plus = service.request_adjustment(db, actor=maker, customer_number=number,
                                      data=AdjustmentCreate(points=25, reason="goodwill"),
                                      now=NOW)  # fmt: skip
    minus = service.request_adjustment(db, actor=maker, customer_number=number,
                                       data=AdjustmentCreate(points=-100, reason="fraud"),
                                       now=NOW)  # fmt: skip
    assert service.balance(db, world.customer.id) == 10  # pending changes nothing
    before = _state(db, world)
    with pytest.raises(service.OwnAdjustment):
        service.decide_adjustment(db, actor=maker, adjustment_id=plus.id, approve=True,
                                  today=TODAY, now=NOW)  # fmt: skip
    with pytest.raises(Forbidden):
        service.decide_adjustment(db, actor=teller, adjustment_id=plus.id, approve=True,
                                  today=TODAY, now=NOW)  # fmt: skip
    with pytest.raises(service.InsufficientPoints):  # a deduction beyond the balance
        service.decide_adjustment(db, actor=checker, adjustment_id=minus.id, approve=True,
                                  today=TODAY, now=NOW)  # fmt: skip
    assert _state(db, world) == before
    assert service.list_adjustments(db, actor=checker)[1].state == "pending"
    done = service.decide_adjustment(db, actor=checker, adjustment_id=plus.id, approve=True,
                                     today=TODAY, now=NOW)  # fmt: skip
    assert (done.state, done.decided_by) == ("approved", checker.username)
    assert service.balance(db, world.customer.id) == 35
    with pytest.raises(service.AlreadyDecided):
        service.decide_adjustment(db, actor=checker, adjustment_id=plus.id, approve=False,
                                  today=TODAY, now=NOW)  # fmt: skip
    rejected = service.decide_adjustment(db, actor=checker, adjustment_id=minus.id,
                                         approve=False, today=TODAY, now=NOW)  # fmt: skip
    assert rejected.state == "rejected"
    assert service.balance(db, world.customer.id) == 35
    actions = sorted(
        db.execute(
            select(AuditEntry.action).where(AuditEntry.object_id.in_([str(plus.id), str(minus.id)]))
        ).scalars()
    )
    assert actions == [
        "loyalty.adjustment_approved", "loyalty.adjustment_rejected",
        "loyalty.adjustment_request", "loyalty.adjustment_request",
    ]  # fmt: skip


def test_a_priority_tier_makes_tickets_vip_and_leaving_it_resets(
    db: Session, signer: Signer
) -> None:
    world = _world(db, signer)
    _lot(db, world, 700, date(2026, 1, 10))
    programme = Programme(
        tiers=(Tier("platinum", 600, ("priority_queue",), True), Tier("basic", 0))
    )
    tiers = service.evaluate_tiers(db, today=TODAY, now=NOW, customer_ids=[world.customer.id],
                                   programme=programme)  # fmt: skip
    assert tiers == {world.customer.id: "platinum"}
    db.refresh(world.customer)
    assert world.customer.service_tier == "vip"
    kind = make_service_type(db)
    offer(db, world.branch, kind)
    db.add(QueueSettings(branch_id=world.branch.id, enforce_opening_hours=False, updated_at=NOW))
    ticket = issue_ticket(db, branch=world.branch, service_code=kind.code, channel=Channel.kiosk,
                          now=NOW, customer_id=world.customer.id)  # fmt: skip
    assert ticket.priority == Priority.vip
    account = db.execute(
        select(PointsAccount).where(PointsAccount.customer_id == world.customer.id)
    ).scalar_one()
    assert (account.tier, account.tier_since, account.window_points) == ("platinum", TODAY, 700)
    # a year later the points have left the window: basic, and standard in the queue again
    later = date(2027, 1, 11)
    service.evaluate_tiers(db, today=later, now=at(later), customer_ids=[world.customer.id],
                           programme=programme)  # fmt: skip
    db.refresh(world.customer)
    assert world.customer.service_tier == "standard"


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["earn", "redeem", "expire"]), st.integers(1, 60)),
        min_size=1, max_size=8,
    )
)  # fmt: skip
def test_balance_is_the_sum_of_entries_and_never_negative(
    fresh_db: Callable[[], AbstractContextManager[Session]],
    signer: Signer,
    steps: list[tuple[str, int]],
) -> None:
    with fresh_db() as db:
        world = _world(db, signer)
        _reward(db, "ONE", cost=1, stock=10_000, valid_from=date(2020, 1, 1))
        day = date(2024, 1, 1)
        for n, (kind, amount) in enumerate(steps):
            day = date.fromordinal(day.toordinal() + 40 * (n + 1))
            if kind == "earn":
                _lot(db, world, amount, day)
            elif kind == "expire":
                service.expire_due(db, today=day, now=at(day))
            else:
                for i in range(min(amount, 5)):
                    try:
                        service.redeem(db, customer_id=world.customer.id, reward_code="ONE",
                                       idempotency_key=f"h-{n}-{i}", channel="portal", today=day,
                                       now=at(day))  # fmt: skip
                    except service.InsufficientPoints:
                        break
            total = db.scalar(
                select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                    PointsEntry.customer_id == world.customer.id
                )
            )
            balance = service.balance(db, world.customer.id)
            assert balance == total >= 0
            summary = service.summary(db, customer_id=world.customer.id, today=day)
            assert summary.balance == balance
