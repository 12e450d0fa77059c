"""Loans over HTTP: products, an application referred and approved by another supervisor,
paid out, repaid; refusals answer 4xx with the field, change nothing and are audited."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry, User
from branchdesk.identity.principal import Principal
from branchdesk.loans.models import LoanApplication, LoanProduct
from tests.factories import bearer
from tests.loans.helpers import GOOD, MIDDLE, World, balance, make_world, personal_product


def _auth(db: Session, signer: Signer, who: Principal) -> dict[str, str]:
    user = db.get(User, who.user_id)
    assert user is not None
    return bearer(signer, user)


def _body(world: World, profile: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_number": world.customer.customer_number, "product_code": "PERSONAL",
        "amount_minor": 300_000, "term_months": 12, "monthly_income_minor": 2_000_000,
        "monthly_obligations_minor": 0, "documents": ["id_document", "income_proof"],
        "has_consent": True, "idempotency_key": "api-app-1",
        **{k: (str(v) if k == "employment_years" and v is not None else v)
           for k, v in profile.items()},
    }  # fmt: skip
    body.update(overrides)
    return body


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


def test_product_api_validates_and_admin_creates(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    admin = _auth(db, signer, world.admin)
    products = _count(db, LoanProduct)
    bad = personal_product("CARX", grace_months=6).model_dump(mode="json")
    refused = client.post("/api/v1/loan-products", json=bad, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["field"] == "grace_months"
    created = client.post(
        "/api/v1/loan-products",
        json=personal_product("CARX", rate_type="floating", reference_rate_name="LPR 1Y",
                              reference_rate="0.0345", margin="0.0100").model_dump(mode="json"),
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201
    assert created.json()["annual_rate"] == "0.0445"
    taken = client.post("/api/v1/loan-products", json=bad | {"grace_months": 0}, headers=admin)
    assert (taken.status_code, taken.json()["error"]) == (409, "code_taken")
    listed = client.get("/api/v1/loan-products", headers=_auth(db, signer, world.teller))
    codes = [p["code"] for p in listed.json()]
    assert {"CARX", "PERSONAL"} <= set(codes)
    assert codes == sorted(codes)
    assert _count(db, LoanProduct) == products + 1


def test_referral_flow_over_http(client: TestClient, db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    teller, maker = _auth(db, signer, world.teller), _auth(db, signer, world.manager)
    checker = _auth(db, signer, world.other_manager)
    made = client.post("/api/v1/loan-applications", json=_body(world, MIDDLE), headers=maker)
    assert made.status_code == 201, made.text
    application = made.json()
    assert (application["status"], application["decision_reasons"]) == (
        "referred", ["score_in_refer_band"],
    )  # fmt: skip
    assert application["score_reasons"][0]["text"] == "Checking account status: 0 to 200"
    assert application["decision_reason_texts"] == ["The credit score is between the cut-offs"]
    replay = client.post("/api/v1/loan-applications", json=_body(world, MIDDLE), headers=maker)
    assert (replay.status_code, replay.json()["id"]) == (200, application["id"])
    reused = client.post(
        "/api/v1/loan-applications", json=_body(world, MIDDLE, amount_minor=400_000), headers=maker
    )
    assert (reused.status_code, reused.json()["error"]) == (409, "idempotency_key_reused")
    decision_url = f"/api/v1/loan-applications/{application['id']}/decision"
    audits = _count(db, AuditEntry)
    own = client.post(decision_url, json={"approve": True}, headers=maker)
    assert (own.status_code, own.json()["error"]) == (409, "own_approval")
    stored = db.get(LoanApplication, uuid.UUID(application["id"]), populate_existing=True)
    assert stored is not None
    assert (stored.status, stored.approver_id) == ("referred", None)
    refusal = db.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert _count(db, AuditEntry) == audits + 1
    assert (refusal.action, refusal.outcome) == ("loan_application.decide", "refused")
    assert client.post(decision_url, json={"approve": True}, headers=teller).status_code == 403
    approved = client.post(decision_url, json={"approve": True, "note": "ok"}, headers=checker)
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    again = client.post(decision_url, json={"approve": False}, headers=checker)
    assert (again.status_code, again.json()["error"]) == (409, "not_referred")

    before = balance(db, world.account.id)
    payout = {"account": world.account.number, "idempotency_key": "api-dis-1"}
    paid = client.post(
        f"/api/v1/loan-applications/{application['id']}/disbursement", json=payout, headers=teller
    )
    assert paid.status_code == 201, paid.text
    loan = paid.json()
    assert (loan["principal_minor"], loan["fee_minor"], loan["status"]) == (
        300_000,
        3_000,
        "active",
    )
    assert sum(r["principal_minor"] for r in loan["instalments"]) == 300_000
    assert balance(db, world.account.id) == before + 297_000
    replayed = client.post(
        f"/api/v1/loan-applications/{application['id']}/disbursement", json=payout, headers=teller
    )
    assert (replayed.status_code, replayed.json()["number"]) == (200, loan["number"])
    assert balance(db, world.account.id) == before + 297_000

    too_much = client.post(
        f"/api/v1/loans/{loan['number']}/repayments",
        json={"amount_minor": 300_001, "currency": "CNY", "idempotency_key": "api-pay-0"},
        headers=teller,
    )
    assert (too_much.status_code, too_much.json()["field"]) == (422, "amount_minor")
    assert balance(db, world.account.id) == before + 297_000
    paid_back = client.post(
        f"/api/v1/loans/{loan['number']}/repayments",
        json={"amount_minor": 50_000, "currency": "CNY", "idempotency_key": "api-pay-1"},
        headers=teller,
    )
    assert paid_back.status_code == 201
    assert paid_back.json()["prepayment_minor"] == 50_000  # nothing was due yet
    shown = client.get(f"/api/v1/loans/{loan['number']}", headers=teller).json()
    assert shown["outstanding_principal_minor"] == 250_000
    assert sum(r["principal_minor"] for r in shown["instalments"]) == 250_000


def test_bad_applications_name_the_field_and_write_nothing(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    teller = _auth(db, signer, world.teller)
    before = _count(db, LoanApplication)
    for overrides, field in (
        ({"has_consent": False}, "has_consent"),
        ({"term_months": 72}, "term_months"),
        ({"amount_minor": 50}, "amount_minor"),
        ({"monthly_income_minor": 0}, "monthly_income_minor"),
        ({"checking_account_status": "lots"}, "checking_account_status"),
    ):
        answer = client.post(
            "/api/v1/loan-applications", json=_body(world, GOOD, **overrides), headers=teller
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field
    missing = _body(world, GOOD)
    del missing["customer_number"]
    answer = client.post("/api/v1/loan-applications", json=missing, headers=teller)
    assert (answer.status_code, answer.json()["field"]) == (422, "customer_number")
    assert _count(db, LoanApplication) == before
