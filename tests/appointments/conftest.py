from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from branchdesk.core.notify import RecordingNotifier, use_notifier
from branchdesk.core.security import Signer
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from tests.factories import (
    make_branch,
    make_customer,
    make_service_type,
    make_slot,
    make_user,
    offer,
    principal,
)


@dataclass
class World:
    branch: Any
    service: Any
    slot: Any
    other_slot: Any
    teller: Principal
    customer: Any


@pytest.fixture
def world(db: Session, signer: Signer) -> World:
    branch = make_branch(db)
    service = make_service_type(db)
    offer(db, branch, service)
    slot = make_slot(db, branch, service)  # 11:00-11:30 Taipei on Monday 2026-03-02
    from datetime import timedelta

    from tests.factories import NOW

    other = make_slot(db, branch, service, starts_at=NOW + timedelta(hours=3), capacity=1)
    teller = principal(db, make_user(db, Role.teller, (branch,)))
    customer = make_customer(db, signer, phone="0912-345-678", preferred_locale="en")
    return World(branch, service, slot, other, teller, customer)


@pytest.fixture
def notifier() -> Iterator[RecordingNotifier]:
    with use_notifier(RecordingNotifier()) as recording:
        assert isinstance(recording, RecordingNotifier)
        yield recording
