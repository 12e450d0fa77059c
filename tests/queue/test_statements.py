"""SQL statements per lifecycle request: exact bounds, so a regression on the hot path fails.

The four requests the queue bench drives (issue, call-next, start, complete) are counted over
HTTP through the app. The counts do not grow with the number of waiting tickets. PostgreSQL
adds one ``pg_notify`` per transition (the live screens' wake-up).
"""

from __future__ import annotations

from datetime import time

from fastapi.testclient import TestClient
from sqlalchemy import Connection, delete
from sqlalchemy.orm import Session

from branchdesk.catalog.models import CounterStatus, OpeningHours
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.queue.models import QueueSettings
from tests.factories import (
    NOW,
    bearer,
    make_branch,
    make_counter,
    make_service_type,
    make_user,
    offer,
)
from tests.queue.sqlcount import count_statements

# Each count includes the one look-up of the bearer token's user with its branches
# (identity.service.load_principal).
ISSUE = 10  # principal, branch, settings, hours, service, number, event, rivals,
#             counters serving the service, ticket
CALL_NEXT = 8  # principal, branch, counter lock (with the settings), held?, skills,
#                candidates, take the ticket (one UPDATE ... RETURNING), event
START = 4  # principal, ticket lock (with branch, service, counter), event, ticket update
COMPLETE = 4


def _world(db: Session, signer: Signer) -> dict[str, str]:
    branch = make_branch(db, code="QSQL")
    cash = make_service_type(db, code="SQCASH", ticket_prefix="S")
    loans = make_service_type(db, code="SQLOAN", ticket_prefix="L")
    offer(db, branch, cash, loans)
    # Open around the clock: the requests run at the real time, and the hours check is counted.
    db.execute(delete(OpeningHours).where(OpeningHours.branch_id == branch.id))
    db.add_all(
        OpeningHours(branch_id=branch.id, weekday=day, opens_at=time.min, closes_at=time.max)
        for day in range(7)
    )
    db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=True, updated_at=NOW))
    make_counter(db, branch, cash, loans, code="Q1", status=CounterStatus.open)
    make_counter(db, branch, cash, code="Q2", status=CounterStatus.open)
    return bearer(signer, make_user(db, Role.teller, (branch,)))


def _lifecycle(client: TestClient, connection: Connection, auth: dict[str, str]) -> list[int]:
    counts = []
    with count_statements(connection) as seen:
        issued = client.post(
            "/api/v1/branches/QSQL/tickets", headers=auth, json={"service_code": "SQCASH"}
        )
    assert issued.status_code == 201
    counts.append(len(seen))
    with count_statements(connection) as seen:
        called = client.post("/api/v1/branches/QSQL/counters/Q1/call-next", headers=auth)
    assert called.status_code == 200
    counts.append(len(seen))
    ticket = called.json()["id"]
    with count_statements(connection) as seen:
        started = client.post(f"/api/v1/tickets/{ticket}/start", headers=auth)
    assert started.json()["state"] == "serving"
    counts.append(len(seen))
    with count_statements(connection) as seen:
        done = client.post(f"/api/v1/tickets/{ticket}/complete", headers=auth)
    assert done.json()["state"] == "completed"
    counts.append(len(seen))
    return counts


def test_each_lifecycle_request_sends_a_fixed_number_of_statements(
    client: TestClient, db: Session, db_connection: tuple[Connection, Session], signer: Signer
) -> None:
    auth = _world(db, signer)
    connection = db_connection[0]
    notify = 1 if connection.dialect.name == "postgresql" else 0
    expected = [ISSUE + notify, CALL_NEXT + notify, START + notify, COMPLETE + notify]
    with count_statements(connection) as seen:
        pass
    assert seen == []
    # Today's first number per prefix creates its counter row (one more INSERT): take those.
    for code in ("SQCASH", "SQLOAN"):
        client.post("/api/v1/branches/QSQL/tickets", headers=auth, json={"service_code": code})
    # A quiet hall, then a busy one: the same number of statements per request.
    assert _lifecycle(client, connection, auth) == expected
    for n in range(12):
        code = "SQCASH" if n % 2 else "SQLOAN"
        response = client.post(
            "/api/v1/branches/QSQL/tickets", headers=auth, json={"service_code": code}
        )
        assert response.status_code == 201
    assert _lifecycle(client, connection, auth) == expected
