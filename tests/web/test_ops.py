from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.core.web import JsonLogFormatter
from branchdesk.identity.roles import Role
from tests.factories import bearer, make_branch, make_customer, make_user


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ok"
    assert ready["database"] in ("sqlite", "postgresql")
    client.get("/healthz")
    metrics = client.get("/metrics").text
    assert 'branchdesk_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics
    assert "branchdesk_http_request_seconds_bucket" in metrics


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32


def test_logs_are_json_with_route_templates_and_no_personal_data(
    client: TestClient, db: Session, signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    branch = make_branch(db)
    customer = make_customer(
        db, signer, full_name="張秘密", customer_number="5555555555", home_branch_id=branch.id
    )
    teller = make_user(db, Role.teller, (branch,))
    caplog.set_level(logging.INFO, logger="branchdesk.web")
    r = client.get(f"/api/v1/customers/{customer.customer_number}", headers=bearer(signer, teller))
    assert r.status_code == 200
    assert r.json()["id_number_masked"].startswith("A1****")
    formatter = JsonLogFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    request_lines = [json.loads(line) for line in lines if '"msg": "request"' in line]
    assert request_lines[-1]["route"] == "/api/v1/customers/{customer_number}"
    assert request_lines[-1]["status"] == 200
    joined = "\n".join(lines)
    assert "5555555555" not in joined
    assert "張秘密" not in joined
