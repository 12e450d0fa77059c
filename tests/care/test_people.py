"""The relationship manager (assign, reassign, remove; shown in the customer 360) and the stored
risk-tolerance assessment that the analytics pipeline uses instead of the C1 default."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.analytics.config import PipelineConfig
from branchdesk.analytics.models import CustomerFeature, CustomerRecommendation
from branchdesk.analytics.pipeline import run_pipeline
from branchdesk.care.models import RiskAssessment
from branchdesk.care.service.people import tolerances_on
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from tests.analytics.bank import AS_OF, build_bank
from tests.factories import NOW, bearer, make_branch, make_customer, make_user


def test_assign_reassign_and_remove_the_relationship_manager(
    db: Session, signer: Signer, client: TestClient
) -> None:
    branch = make_branch(db)
    customer = make_customer(db, signer, home_branch_id=branch.id)
    first = make_user(db, Role.relationship_manager, (branch,), display_name="RM One")
    second = make_user(db, Role.relationship_manager, (branch,))
    stranger = make_user(db, Role.relationship_manager, (make_branch(db),))
    manager = bearer(signer, make_user(db, Role.branch_manager, (branch,)))
    path = f"/api/v1/customers/{customer.customer_number}/relationship-manager"

    assert client.put(path, json={"username": first.username},
                      headers=bearer(signer, first)).status_code == 403  # fmt: skip
    for name in (stranger.username, "nobody"):
        refused = client.put(path, json={"username": name}, headers=manager)
        assert (refused.status_code, refused.json()["field"]) == (422, "username")
    assert db.get(Customer, customer.id).relationship_manager_id is None  # type: ignore[union-attr]

    made = client.put(path, json={"username": first.username}, headers=manager)
    assert made.json() == {"username": first.username, "display_name": "RM One"}
    moved = client.put(path, json={"username": second.username}, headers=manager)
    assert moved.json()["username"] == second.username
    shown = client.get(f"/api/v1/customers/{customer.customer_number}/360", headers=manager)
    assert shown.json()["relationship_manager"]["username"] == second.username
    assert client.put(path, json={"username": None}, headers=manager).json() is None
    assert db.get(Customer, customer.id).relationship_manager_id is None  # type: ignore[union-attr]
    audits = db.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "customer.relationship_manager")
        .order_by(AuditEntry.seq)
    ).all()  # fmt: skip
    assert [(d["from"], d["to"]) for d in audits] == [
        (None, first.username),
        (first.username, second.username),
        (second.username, None),
    ]


def test_the_pipeline_uses_the_assessment_in_force(
    db: Session, signer: Signer, client: TestClient
) -> None:
    bank = build_bank(db, signer)
    rm = make_user(db, Role.relationship_manager, (bank.branch,))
    path = f"/api/v1/customers/{bank.rich.customer_number}/risk-assessments"
    bad = client.post(path, json={"risk_tolerance": "C9"}, headers=bearer(signer, rm))
    assert (bad.status_code, bad.json()["field"]) == (422, "risk_tolerance")
    teller = make_user(db, Role.teller, (bank.branch,))
    assert client.post(path, json={"risk_tolerance": "C4"},
                       headers=bearer(signer, teller)).status_code == 403  # fmt: skip
    assert db.scalar(select(func.count()).select_from(RiskAssessment)) == 0
    # rich: C4 assessed a month before as-of (in force); hk: C5, but expired by as-of
    for customer, tolerance, when in (
        (bank.rich, "C4", datetime(2026, 2, 1, 3, tzinfo=UTC)),
        (bank.hk, "C5", datetime(2025, 2, 1, 3, tzinfo=UTC)),
    ):
        db.add(RiskAssessment(
            id=new_id(), customer_id=customer.id, risk_tolerance=tolerance, assessed_at=when,
            expires_on=date(when.year + 1, when.month, when.day), assessed_by_id=rm.id, note="",
        ))  # fmt: skip
    db.flush()
    assert tolerances_on(db, on=AS_OF) == {bank.rich.id: "C4"}
    assert tolerances_on(db, on=date(2026, 1, 31)) == {bank.hk.id: "C5"}

    run_pipeline(
        db, engine_name="duckdb", as_of=AS_OF, now=NOW, branch_ids=[bank.branch.id],
        config=PipelineConfig(recommendations=8),
    )  # fmt: skip
    features = {
        f.customer_id: (f.risk_tolerance, f.is_risk_tolerance_default)
        for f in db.execute(select(CustomerFeature)).scalars()
    }
    assert features == {
        bank.rich.id: ("C4", False),
        bank.hk.id: ("C1", True),
        bank.new.id: ("C1", True),
    }
    recommended = {
        (customer_id, code)
        for customer_id, code in db.execute(
            select(CustomerRecommendation.customer_id, CustomerRecommendation.product_code)
        )
    }
    # every product the rich customer may have now includes R2-R4 funds (C4, assets 660,000.00)
    funds = {"BOND_FUND", "BALANCED_FUND", "EQUITY_FUND"}
    assert {code for c, code in recommended if c == bank.rich.id} >= funds
    assert not {code for c, code in recommended if c != bank.rich.id} & funds

    recorded = client.post(path, json={"risk_tolerance": "C2", "note": "reviewed"},
                           headers=bearer(signer, rm))  # fmt: skip
    assert recorded.status_code == 201
    assessed_on = datetime.fromisoformat(recorded.json()["assessed_at"]).date()
    assert recorded.json()["expires_on"] == (assessed_on + timedelta(days=365)).isoformat()
    current = client.get(f"/api/v1/customers/{bank.rich.customer_number}/risk-assessment",
                         headers=bearer(signer, teller))  # fmt: skip
    assert (current.json()["risk_tolerance"], current.json()["is_expired"]) == ("C2", False)
