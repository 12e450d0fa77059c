"""A small world for survey tests: a branch, a service, a counter, a teller, completed tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter, ServiceType
from branchdesk.feedback.tokens import SurveyTokens
from branchdesk.identity.models import User
from branchdesk.identity.roles import Role
from tests.conftest import TEST_SECRET
from tests.factories import (
    NOW,
    make_branch,
    make_counter,
    make_service_type,
    make_user,
    offer,
)
from tests.factories import make_ticket as _make_ticket

TOKENS = SurveyTokens(TEST_SECRET)
DAY = date(2026, 3, 2)


@dataclass
class World:
    branch: Branch
    service: ServiceType
    counter: Counter
    teller: User


def make_world(db: Session, **branch_overrides: Any) -> World:
    branch = make_branch(db, **branch_overrides)
    service = make_service_type(db)
    offer(db, branch, service)
    counter = make_counter(db, branch, service, status="open")
    teller = make_user(db, Role.teller, (branch,))
    return World(branch=branch, service=service, counter=counter, teller=teller)


def completed_ticket(
    db: Session,
    world: World,
    *,
    finished_at: datetime = NOW,
    business_on: date = DAY,
    counter: Counter | None = None,
    teller: User | None = None,
    service: ServiceType | None = None,
    **overrides: Any,
) -> Any:
    return _make_ticket(
        db,
        world.branch,
        service or world.service,
        business_on=business_on,
        state="completed",
        counter_id=(counter or world.counter).id,
        served_by_id=(teller or world.teller).id,
        called_at=finished_at - timedelta(minutes=10),
        started_at=finished_at - timedelta(minutes=8),
        finished_at=finished_at,
        outcome_code="done",
        **overrides,
    )
