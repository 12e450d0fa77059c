from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.queue.models import QueueSettings, Ticket
from tests.factories import (
    NOW,
    bearer,
    make_branch,
    make_counter,
    make_service_type,
    make_user,
    offer,
)


def _setup(db: Session, signer: Signer) -> dict[str, str]:
    branch = make_branch(db, code="QAPI")
    cash = make_service_type(db, code="ACASH", ticket_prefix="A")
    offer(db, branch, cash)
    db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=False, updated_at=NOW))
    make_counter(db, branch, cash, code="C1")
    teller = make_user(db, Role.teller, (branch,))
    return bearer(signer, teller)


def test_issue_call_serve_complete_over_http(
    client: TestClient, db: Session, signer: Signer
) -> None:
    auth = _setup(db, signer)
    issued = client.post(
        "/api/v1/branches/QAPI/tickets", headers=auth, json={"service_code": "acash"}
    )
    assert issued.status_code == 201
    body = issued.json()
    assert (body["number"], body["state"], body["position"], body["estimated_wait_seconds"]) == (
        "A-001", "waiting", 1, 0,
    )  # fmt: skip
    assert body["public_url"].startswith("/t/")
    second = client.post(
        "/api/v1/branches/QAPI/tickets", headers=auth, json={"service_code": "ACASH"}
    )
    assert (second.json()["position"], second.json()["estimated_wait_seconds"]) == (2, 300)

    closed = client.post("/api/v1/branches/QAPI/counters/C1/call-next", headers=auth)
    assert (closed.status_code, closed.json()["error"]) == (409, "counter_not_open")
    opened = client.post(
        "/api/v1/branches/QAPI/counters/C1/status", headers=auth, json={"status": "open"}
    )
    assert (opened.status_code, opened.json()["status"]) == (200, "open")
    called = client.post("/api/v1/branches/QAPI/counters/C1/call-next", headers=auth)
    assert (called.status_code, called.json()["number"], called.json()["counter_code"]) == (
        200, "A-001", "C1",
    )  # fmt: skip
    ticket_id = called.json()["id"]
    early = client.post(f"/api/v1/tickets/{ticket_id}/complete", headers=auth)
    assert (early.status_code, early.json()["error"]) == (409, "invalid_transition")
    assert (
        client.post(f"/api/v1/tickets/{ticket_id}/start", headers=auth).json()["state"] == "serving"
    )
    done = client.post(
        f"/api/v1/tickets/{ticket_id}/complete", headers=auth, json={"outcome_code": "cash_in"}
    )
    assert done.json()["state"] == "completed"
    snapshot = client.get("/api/v1/branches/QAPI/queue", headers=auth).json()
    assert snapshot["waiting_total"] == 1
    assert snapshot["recent_calls"][0]["number"] == "A-001"


def test_call_next_with_nobody_waiting_is_204(
    client: TestClient, db: Session, signer: Signer
) -> None:
    auth = _setup(db, signer)
    client.post("/api/v1/branches/QAPI/counters/C1/status", headers=auth, json={"status": "open"})
    response = client.post("/api/v1/branches/QAPI/counters/C1/call-next", headers=auth)
    assert response.status_code == 204
    assert response.content == b""


def test_bad_input_is_422_or_404_and_writes_nothing(
    client: TestClient, db: Session, signer: Signer
) -> None:
    auth = _setup(db, signer)
    before = db.execute(select(func.count()).select_from(Ticket)).scalar_one()
    unknown = client.post(
        "/api/v1/branches/QAPI/tickets", headers=auth, json={"service_code": "NOPE"}
    )
    assert (unknown.status_code, unknown.json()["field"]) == (422, "service_code")
    bad_priority = client.post(
        "/api/v1/branches/QAPI/tickets",
        headers=auth,
        json={"service_code": "ACASH", "priority": "king"},
    )
    assert (bad_priority.status_code, bad_priority.json()["field"]) == (422, "priority")
    missing = client.post(
        "/api/v1/branches/NOWHERE/tickets", headers=auth, json={"service_code": "ACASH"}
    )
    assert missing.status_code == 404
    no_ticket = client.get("/api/v1/tickets/00000000-0000-4000-8000-000000000000", headers=auth)
    assert no_ticket.status_code == 404
    not_uuid = client.get("/api/v1/tickets/42", headers=auth)
    assert (not_uuid.status_code, not_uuid.json()["field"]) == (422, "ticket_id")
    bad_status = client.post(
        "/api/v1/branches/QAPI/counters/C1/status", headers=auth, json={"status": "asleep"}
    )
    assert bad_status.status_code == 422
    assert db.execute(select(func.count()).select_from(Ticket)).scalar_one() == before


def test_other_branches_tickets_are_forbidden(
    client: TestClient, db: Session, signer: Signer
) -> None:
    auth = _setup(db, signer)
    issued = client.post(
        "/api/v1/branches/QAPI/tickets", headers=auth, json={"service_code": "ACASH"}
    )
    stranger = make_user(db, Role.teller, (make_branch(db),))
    response = client.get(
        f"/api/v1/tickets/{issued.json()['id']}", headers=bearer(signer, stranger)
    )
    assert response.status_code == 403
