"""Concurrent redemptions with real commits (PostgreSQL: the account row decides)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select

from branchdesk.core.db import Database
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.loyalty import service
from branchdesk.loyalty.models import PointsEntry, Reward
from tests.analytics.bank import at
from tests.concurrency import race
from tests.loyalty.test_service import _lot, _world

TODAY = date(2026, 3, 1)


@pytest.mark.postgres
def test_the_last_points_are_redeemed_once_and_the_balance_stays_at_zero(
    database: Database, signer: Signer
) -> None:
    code = f"R{uuid.uuid4().hex[:8].upper()}"
    with database.unit_of_work() as db:
        world = _world(db, signer)
        _lot(db, world, 30, date(2026, 2, 1))
        db.add(Reward(id=new_id(), code=code, name_zh_hant="券", name_zh_hans="券", name_en="V",
                      points_cost=20, stock=10, valid_from=date(2026, 1, 1), valid_to=None,
                      is_active=True, created_at=at(TODAY)))  # fmt: skip
        customer_id = world.customer.id

    def redeem(n: int) -> Callable[[], object]:
        def call() -> object:
            with database.unit_of_work() as db:
                return service.redeem(db, customer_id=customer_id, reward_code=code,
                                      idempotency_key=f"{code}-{n}", channel="portal",
                                      today=TODAY, now=at(TODAY))  # fmt: skip

        return call

    assert race([redeem(n) for n in range(4)]) == ["insufficient_points"] * 3 + ["ok"]
    with database.unit_of_work() as db:
        assert service.balance(db, customer_id) == 10
        total = db.scalar(
            select(func.sum(PointsEntry.points)).where(PointsEntry.customer_id == customer_id)
        )
        assert total == 10
        assert db.scalar(select(Reward.stock).where(Reward.code == code)) == 9
