"""The pre-posting hook's alerts through the HTTP API with the app's default check (KYC + AML):
a large cash deposit is reported at once, a remittance abroad over the line is a cross-border
report, a refused request writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger.models import Posting
from branchdesk.risk.cases.models import AmlAlert, AmlAlertPosting, AmlCase
from tests.factories import bearer, make_branch, make_counter, make_customer, make_user


@pytest.fixture
def world(app: FastAPI, db: Session, signer: Signer) -> dict[str, Any]:
    app.state.ledger_compliance = None  # the default: KYC expiry and the AML rules
    branch = make_branch(db, code="HOOK")
    make_counter(db, branch, code="T1", status="open")
    teller = make_user(db, Role.teller, (branch,))
    customer = make_customer(db, signer, home_branch_id=branch.id)
    return {"teller": bearer(signer, teller), "customer": customer.customer_number}


def _account(client: TestClient, world: dict[str, Any], currency: str) -> str:
    response = client.post(
        "/api/v1/accounts",
        json={"customer_number": world["customer"], "currency": currency, "branch_code": "HOOK"},
        headers=world["teller"],
    )
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _alerts(db: Session) -> list[tuple[str, str, bool, list[str]]]:
    rows = db.execute(select(AmlAlert).order_by(AmlAlert.typology)).scalars()
    return [(a.typology, a.source, a.is_report, a.posting_ids) for a in rows]


def test_large_cash_and_cross_border_are_reported_with_the_posting(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    usd = _account(client, world, "USD")
    response = client.post(
        "/api/v1/deposits",
        json={"account": usd, "amount_minor": 1_500_000, "currency": "USD",
              "idempotency_key": "hook-cash"},
        headers=world["teller"],
    )  # fmt: skip
    assert response.status_code == 201, response.text
    cash_id = response.json()["id"]
    assert _alerts(db) == [("large_cash", "hook", True, [cash_id])]

    response = client.post(
        "/api/v1/remittances",
        json={"from_account": usd, "beneficiary": "Chan Tai Man HSBC 123", "country": "HK",
              "amount_minor": 1_200_000, "currency": "USD", "idempotency_key": "hook-rem"},
        headers=world["teller"],
    )  # fmt: skip
    assert response.status_code == 201, response.text
    remittance_id = response.json()["id"]
    # most of a large inflow leaving the same day is also held (pass-through): one posting,
    # a cross-border report and a suspicious alert on a new case, all written with it
    assert response.json()["status"] == "pending_review"
    posting = db.get(Posting, uuid.UUID(remittance_id))
    assert posting is not None
    assert posting.counterparty_country == "HK"
    assert _alerts(db) == [
        ("cross_border", "hook", True, [remittance_id]),
        ("large_cash", "hook", True, [cash_id]),
        ("pass_through", "hook", False, [remittance_id]),
    ]
    case = db.execute(select(AmlCase)).scalar_one()
    assert case.status == "new"

    # the same amount to a domestic bank is no cross-border report
    response = client.post(
        "/api/v1/remittances",
        json={"from_account": usd, "beneficiary": "Wang ICBC 622", "country": "CN",
              "amount_minor": 100_000, "currency": "USD", "idempotency_key": "hook-dom"},
        headers=world["teller"],
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "posted"
    assert len(_alerts(db)) == 3


def test_a_malformed_country_is_refused_and_nothing_is_written(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    usd = _account(client, world, "USD")
    before = db.scalar(select(func.count()).select_from(Posting))
    response = client.post(
        "/api/v1/remittances",
        json={"from_account": usd, "beneficiary": "X", "country": "hkg",
              "amount_minor": 1_200_000, "currency": "USD", "idempotency_key": "hook-bad"},
        headers=world["teller"],
    )  # fmt: skip
    assert response.status_code == 422
    assert "country" in response.text
    assert db.scalar(select(func.count()).select_from(Posting)) == before
    assert db.scalar(select(func.count()).select_from(AmlAlertPosting)) == 0


def test_the_counters_remittance_form_needs_the_banks_country(
    app: FastAPI, client: TestClient, db: Session, signer: Signer
) -> None:
    from tests.teller.helpers import counts, login, make_desk, submit

    app.state.ledger_compliance = None
    desk = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    fields = {"account": desk.savings.number, "beneficiary": "Chan HSBC 123", "amount": "50",
              "currency": "CNY"}  # fmt: skip
    before = counts(db)
    for country in ("", "HKG", "H1"):
        refused = submit(client, desk, csrf, "remittance", **fields, country=country)
        assert refused.status_code == 422, country
        assert counts(db) == before
    sent = submit(client, desk, csrf, "remittance", **fields, country="hk")
    assert sent.status_code == 303
    posting = (
        db.execute(
            select(Posting).where(Posting.kind == "remittance").order_by(Posting.created_at.desc())
        )
        .scalars()
        .first()
    )
    assert posting is not None
    assert (posting.counterparty_country, posting.amount_minor) == ("HK", 5_000)
