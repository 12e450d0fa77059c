from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.appointments.models import Appointment
from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.queue.models import QueueSettings, Ticket
from tests.factories import (
    NOW,
    bearer,
    make_appointment,
    make_branch,
    make_service_type,
    make_slot,
    make_user,
    offer,
)


def _setup(db: Session, signer: Signer) -> tuple[dict[str, str], object, object, object]:
    branch = make_branch(db, code="APIB")
    service = make_service_type(db, code="APISVC")
    offer(db, branch, service)
    db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=False, updated_at=NOW))
    soon = utcnow().replace(microsecond=0) + timedelta(minutes=10)
    slot = make_slot(db, branch, service, starts_at=soon, capacity=1)
    later = make_slot(db, branch, service, starts_at=soon + timedelta(hours=2), capacity=1)
    user = make_user(db, Role.teller, (branch,))
    return bearer(signer, user), branch, slot, later


def test_book_get_reschedule_cancel_over_http(
    client: TestClient, db: Session, signer: Signer
) -> None:
    auth, branch, slot, later = _setup(db, signer)
    day = business_day(branch, slot.starts_at).isoformat()  # type: ignore[arg-type, attr-defined]
    listed = client.get(f"/api/v1/branches/APIB/appointment-slots?on={day}&service_code=APISVC")
    assert listed.status_code == 200
    assert [s["available"] for s in listed.json()][:1] == [1]
    body = {"slot_id": str(slot.id), "contact_name": "Lin", "contact_phone": "0911"}  # type: ignore[attr-defined]
    booked = client.post("/api/v1/appointments", json=body, headers=auth)
    assert booked.status_code == 201, booked.text
    reference = booked.json()["reference"]
    assert booked.json()["state"] == "booked"
    assert booked.json()["channel"] == "api"
    count = db.execute(select(func.count()).select_from(Appointment)).scalar_one()
    full = client.post("/api/v1/appointments", json=body, headers=auth)
    assert full.status_code == 409
    assert full.json()["error"] == "slot_full"
    assert db.execute(select(func.count()).select_from(Appointment)).scalar_one() == count
    assert client.get(f"/api/v1/appointments/{reference}", headers=auth).json()["reference"] == (
        reference
    )
    moved = client.post(
        f"/api/v1/appointments/{reference}/reschedule",
        json={"slot_id": str(later.id)},  # type: ignore[attr-defined]
        headers=auth,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["slot_id"] == str(later.id)  # type: ignore[attr-defined]
    cancelled = client.post(
        f"/api/v1/appointments/{reference}/cancel", json={"reason": "x"}, headers=auth
    )
    assert cancelled.json()["state"] == "cancelled"
    again = client.post(f"/api/v1/appointments/{reference}/cancel", headers=auth)
    assert (again.status_code, again.json()["error"]) == (409, "invalid_state")


def test_check_in_over_http_issues_a_ticket_and_too_early_is_422(
    client: TestClient, db: Session, signer: Signer
) -> None:
    auth, _branch, slot, later = _setup(db, signer)
    soon = make_appointment(db, slot)
    early = make_appointment(db, later)
    refused = client.post(f"/api/v1/appointments/{early.reference}/check-in", headers=auth)
    assert (refused.status_code, refused.json()["error"]) == (422, "too_early")
    assert db.execute(select(func.count()).select_from(Ticket)).scalar_one() == 0
    arrived = client.post(f"/api/v1/appointments/{soon.reference}/check-in", headers=auth)
    assert arrived.status_code == 200, arrived.text
    assert (arrived.json()["priority"], arrived.json()["is_late"]) == ("appointment", False)
    assert arrived.json()["appointment"]["state"] == "checked_in"
    assert arrived.json()["appointment"]["ticket_number"] == arrived.json()["ticket_number"]


def test_bookings_need_a_token_and_openapi_documents_the_routes(client: TestClient) -> None:
    response = client.post("/api/v1/appointments", json={})
    assert response.status_code == 401
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/appointments/{reference}/check-in" in paths
    assert "/api/v1/branches/{branch_code}/appointment-slots" in paths
