"""The appointments part of the role-matrix world (tests/web/test_role_matrix.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from tests.factories import make_appointment, make_slot

SLOT_ID = "00000000-0000-4000-8000-00000000b001"
LATER_SLOT_ID = "00000000-0000-4000-8000-00000000b002"


def appointment_world(db: Session, branch: Any, service: Any) -> dict[str, str]:
    """A slot starting in five minutes (its appointment may check in), one two hours later."""
    soon = utcnow().replace(microsecond=0) + timedelta(minutes=5)
    slot = make_slot(db, branch, service, id=uuid.UUID(SLOT_ID), starts_at=soon)
    make_slot(db, branch, service, id=uuid.UUID(LATER_SLOT_ID), starts_at=soon + timedelta(hours=2))
    appointment = make_appointment(db, slot)
    return {"appointment": appointment.reference}
