"""Ledger API wiring: status codes, replays, refusals (4xx, nothing written, one audit row)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry, User
from branchdesk.identity.roles import Role
from branchdesk.ledger.models import Account, ApprovalLimit
from branchdesk.ledger.service.compliance import (
    AllowAll,
    ComplianceDecision,
    FixedDecision,
    Verdict,
)
from tests.factories import bearer, make_branch, make_counter, make_customer, make_user
from tests.ledger.helpers import counts


@pytest.fixture
def allow_all(app: FastAPI) -> Iterator[None]:
    app.state.ledger_compliance = AllowAll()
    yield
    app.state.ledger_compliance = None


@pytest.fixture
def world(db: Session, signer: Signer, allow_all: None) -> dict[str, Any]:
    branch = make_branch(db, code="LEDG")
    make_counter(db, branch, code="T1", status="open")
    teller = make_user(db, Role.teller, (branch,))
    manager = make_user(db, Role.branch_manager, (branch,))
    customers = [make_customer(db, signer, home_branch_id=branch.id) for _ in range(2)]
    return {
        "teller": bearer(signer, teller),
        "manager": bearer(signer, manager),
        "teller_user": teller,
        "customers": [c.customer_number for c in customers],
    }


def _open(client: TestClient, world: dict[str, Any], index: int, **extra: Any) -> dict[str, Any]:
    body = {"customer_number": world["customers"][index], "currency": "CNY",
            "branch_code": "LEDG", **extra}  # fmt: skip
    response = client.post("/api/v1/accounts", json=body, headers=world["teller"])
    assert response.status_code == 201, response.text
    return dict(response.json())


def _refusals(db: Session) -> list[tuple[str, str]]:
    rows = db.execute(
        select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.outcome == "refused")
    ).all()
    return [(action, detail["error"]) for action, detail in rows]


def test_open_deposit_transfer_replay_and_read(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    a = _open(client, world, 0)
    b = _open(client, world, 1)
    assert a["balance_minor"] == 0
    assert a["status"] == "active"
    deposit = {"account": a["number"], "amount_minor": 50_000, "currency": "CNY",
               "idempotency_key": "dep-1", "counter_code": "T1"}  # fmt: skip
    assert client.post("/api/v1/deposits", json=deposit, headers=world["teller"]).status_code == 201
    transfer = {"from_account": a["number"], "to_account": b["number"], "amount_minor": 12_345,
                "currency": "CNY", "idempotency_key": "tr-1"}  # fmt: skip
    first = client.post("/api/v1/transfers", json=transfer, headers=world["teller"])
    assert first.status_code == 201
    replay = client.post("/api/v1/transfers", json=transfer, headers=world["teller"])
    assert replay.status_code == 200
    assert replay.json() == first.json()
    conflict = client.post(
        "/api/v1/transfers", json={**transfer, "amount_minor": 1}, headers=world["teller"]
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "idempotency_key_reused"
    read = client.get(f"/api/v1/accounts/{a['id']}", headers=world["teller"]).json()
    assert (read["balance_minor"], read["currency"], read["status"]) == (37_655, "CNY", "active")
    entries = client.get(f"/api/v1/accounts/{b['number']}/entries", headers=world["teller"])
    assert [(e["amount_minor"], e["balance_after_minor"], e["kind"]) for e in entries.json()] == [
        (12_345, 12_345, "transfer")
    ]
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/transfers/batch" in spec["paths"]


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"amount_minor": 0}, 422, "invalid_amount"),
        ({"amount_minor": -1}, 422, "invalid_amount"),
        ({"amount_minor": 10.5}, 422, "validation_error"),
        ({"currency": "USD"}, 422, "currency_mismatch"),
        ({"to_account": "999999999999"}, 404, "account_not_found"),
        ({"amount_minor": 10**9}, 409, "insufficient_funds"),
        ({"idempotency_key": None}, 422, "idempotency_key_required"),
    ],
)
def test_bad_transfers_are_refused_and_audited(
    client: TestClient,
    db: Session,
    world: dict[str, Any],
    change: dict[str, Any],
    status: int,
    error: str,
) -> None:
    a = _open(client, world, 0)
    b = _open(client, world, 1)
    client.post(
        "/api/v1/deposits",
        json={"account": a["number"], "amount_minor": 1_000, "currency": "CNY",
              "idempotency_key": "d"},
        headers=world["teller"],
    )  # fmt: skip
    before = counts(db)
    body = {"from_account": a["number"], "to_account": b["number"], "amount_minor": 100,
            "currency": "CNY", "idempotency_key": "bad-1", **change}  # fmt: skip
    response = client.post("/api/v1/transfers", json=body, headers=world["teller"])
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert counts(db) == before
    if error != "validation_error":  # rejected by the schema before the route runs
        assert _refusals(db) == [("posting.transfer", error)]


@pytest.mark.parametrize("route", ["deposits", "withdrawals"])
def test_cash_in_another_currency_is_a_currency_mismatch(
    client: TestClient, db: Session, world: dict[str, Any], route: str
) -> None:
    a = _open(client, world, 0)
    client.post(
        "/api/v1/deposits",
        json={"account": a["number"], "amount_minor": 1_000, "currency": "CNY",
              "idempotency_key": "d"},
        headers=world["teller"],
    )  # fmt: skip
    before = counts(db)
    response = client.post(
        f"/api/v1/{route}",
        json={"account": a["number"], "amount_minor": 100, "currency": "USD",
              "idempotency_key": "usd-1"},
        headers=world["teller"],
    )  # fmt: skip
    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["field"]) == ("currency_mismatch", "currency")
    assert counts(db) == before


def test_frozen_and_closed_accounts(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    a = _open(client, world, 0)
    b = _open(client, world, 1)
    frozen = client.post(
        f"/api/v1/accounts/{a['number']}/status",
        json={"status": "frozen"},
        headers=world["manager"],
    )
    assert frozen.json()["status"] == "frozen"
    closed = client.post(
        f"/api/v1/accounts/{b['number']}/status",
        json={"status": "closed"},
        headers=world["manager"],
    )
    assert closed.json()["status"] == "closed"
    for number, status, error in ((a["number"], 409, "account_frozen"),
                                  (b["number"], 422, "account_closed")):  # fmt: skip
        response = client.post(
            "/api/v1/deposits",
            json={"account": number, "amount_minor": 5, "currency": "CNY",
                  "idempotency_key": f"f-{number}"},
            headers=world["teller"],
        )  # fmt: skip
        assert (response.status_code, response.json()["error"]) == (status, error)
    assert _refusals(db) == [("posting.deposit", "account_frozen"),
                             ("posting.deposit", "account_closed")]  # fmt: skip


def test_batch_applies_each_item_on_its_own(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    a = _open(client, world, 0)
    b = _open(client, world, 1)
    client.post(
        "/api/v1/deposits",
        json={"account": a["number"], "amount_minor": 1_000, "currency": "CNY",
              "idempotency_key": "seed"},
        headers=world["teller"],
    )  # fmt: skip
    item = {"from_account": a["number"], "to_account": b["number"], "currency": "CNY"}
    batch = {"transfers": [
        {**item, "amount_minor": 600, "idempotency_key": "b1"},
        {**item, "amount_minor": 600, "idempotency_key": "b2"},  # insufficient after b1
        {**item, "amount_minor": 600, "idempotency_key": "b1"},  # replay of b1
        {**item, "amount_minor": 400, "idempotency_key": "b3"},
        {**item, "amount_minor": 1, "idempotency_key": None},
    ]}  # fmt: skip
    response = client.post("/api/v1/transfers/batch", json=batch, headers=world["teller"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["outcome"] for r in body["results"]] == [
        "applied", "refused", "replayed", "applied", "refused",
    ]  # fmt: skip
    assert body["results"][1]["error"] == "insufficient_funds"
    assert (body["applied"], body["replayed"], body["refused"]) == (2, 1, 2)
    balances = [
        db.execute(select(Account.balance_minor).where(Account.number == n)).scalar_one()
        for n in (a["number"], b["number"])
    ]
    assert balances == [0, 1_000]


def test_large_withdrawal_waits_for_the_manager(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    a = _open(client, world, 0)
    client.post(
        "/api/v1/deposits",
        json={"account": a["number"], "amount_minor": 900_000, "currency": "CNY",
              "idempotency_key": "big"},
        headers=world["teller"],
    )  # fmt: skip
    limit = {
        "branch_code": "LEDG",
        "kind": "withdrawal",
        "currency": "CNY",
        "amount_minor": 500_000,
    }
    assert client.put("/api/v1/approval-limits", json=limit, headers=world["manager"]).is_success
    held = client.post(
        "/api/v1/withdrawals",
        json={"account": a["number"], "amount_minor": 600_000, "currency": "CNY",
              "idempotency_key": "w-big"},
        headers=world["teller"],
    )  # fmt: skip
    assert held.status_code == 201
    assert held.json()["status"] == "pending_approval"
    pending = client.get("/api/v1/approvals", headers=world["manager"]).json()
    assert [p["id"] for p in pending] == [held.json()["id"]]
    approved = client.post(
        f"/api/v1/approvals/{held.json()['id']}/approve", json={}, headers=world["manager"]
    )
    assert approved.json()["status"] == "posted"
    assert approved.json()["checker"] is not None
    account = client.get(f"/api/v1/accounts/{a['number']}", headers=world["teller"]).json()
    assert account["balance_minor"] == 300_000


@pytest.mark.parametrize(
    ("verdict", "status", "outcome"),
    [(Verdict.block, 422, "posting_blocked"), (Verdict.hold, 201, "pending_review")],
)
def test_compliance_block_and_hold(
    app: FastAPI,
    client: TestClient,
    db: Session,
    world: dict[str, Any],
    verdict: Verdict,
    status: int,
    outcome: str,
) -> None:
    a = _open(client, world, 0)
    app.state.ledger_compliance = FixedDecision(ComplianceDecision(verdict, "structuring: test"))
    before = counts(db)
    response = client.post(
        "/api/v1/deposits",
        json={"account": a["number"], "amount_minor": 100, "currency": "CNY",
              "idempotency_key": "c-1"},
        headers=world["teller"],
    )  # fmt: skip
    assert response.status_code == status
    if verdict is Verdict.block:
        assert response.json()["error"] == outcome
        assert "structuring: test" in response.json()["detail"]
        assert counts(db) == before
        assert _refusals(db) == [("posting.deposit", "posting_blocked")]
    else:
        assert response.json()["status"] == outcome
        assert response.json()["hold_reason"] == "structuring: test"
    balance = db.execute(select(Account.balance_minor).where(Account.number == a["number"]))
    assert balance.scalar_one() == 0


def test_aml_check_holds_a_second_deposit_just_under_the_line(
    app: FastAPI, client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    app.state.ledger_compliance = None  # the default: the AML rules
    a = _open(client, world, 0)
    statuses = []
    for n, amount in enumerate((4_600_000, 4_700_000)):
        response = client.post(
            "/api/v1/deposits",
            json={"account": a["number"], "amount_minor": amount, "currency": "CNY",
                  "idempotency_key": f"aml-{n}"},
            headers=world["teller"],
        )  # fmt: skip
        assert response.status_code == 201, response.text
        statuses.append(response.json()["status"])
    assert statuses == ["posted", "pending_review"]
    _ = User


def test_no_approval_limit_on_accruals(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    limit = {"branch_code": "LEDG", "kind": "accrual", "currency": "CNY", "amount_minor": 1}
    response = client.put("/api/v1/approval-limits", json=limit, headers=world["manager"])
    assert (response.status_code, response.json()["field"]) == (422, "kind")
    assert db.execute(select(ApprovalLimit)).first() is None
