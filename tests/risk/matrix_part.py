"""AML alert, case and report routes in the role matrix (tests/web/test_role_matrix.py).

Compliance officers and admins work cases; risk officers read alerts and cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.risk.cases.models import AmlCase
from branchdesk.risk.cases.sweep import sweep_held_postings
from tests.factories import NOW, make_customer, make_user, principal
from tests.matrix import Case, WorldContext
from tests.risk.cases_helpers import HOLD

AML_VIEWERS = frozenset({Role.compliance_officer, Role.risk_officer, Role.admin})
AML_MANAGERS = frozenset({Role.compliance_officer, Role.admin})
CASE = "/api/v1/risk/cases/{aml_case}"
PAGE = "/risk/cases/{aml_case}"

CASES = [
    Case("GET", "/api/v1/risk/alerts", AML_VIEWERS),
    Case("GET", "/api/v1/risk/cases", AML_VIEWERS),
    Case("POST", "/api/v1/risk/sweeps", AML_MANAGERS),
    Case("POST", "/risk/sweeps", AML_MANAGERS, html=True, form={}),
    Case("GET", CASE, AML_VIEWERS),
    Case("POST", CASE + "/transitions", AML_MANAGERS, json={"to": "under_review"}),
    Case("POST", CASE + "/assignee", AML_MANAGERS, json={"username": "aml.officer"}),
    Case("POST", CASE + "/notes", AML_MANAGERS, json={"text": "called the customer"}),
    Case("POST", CASE + "/postings/{aml_posting}/decision", AML_MANAGERS, json={"approve": False}),
    Case("GET", CASE + "/str.csv", AML_MANAGERS),
    Case("GET", "/api/v1/risk/reports/large-value.csv", AML_MANAGERS,
         params={"from": "2026-03-01", "to": "2026-03-31"}),
    Case("GET", "/risk/alerts", AML_VIEWERS, html=True),
    Case("GET", "/risk/cases", AML_VIEWERS, html=True),
    Case("GET", PAGE, AML_VIEWERS, html=True),
    Case("GET", PAGE + "/str", AML_MANAGERS, html=True),
    Case("POST", PAGE + "/transitions", AML_MANAGERS, html=True, form={"to": "under_review"}),
    Case("POST", PAGE + "/notes", AML_MANAGERS, html=True, form={"text": "n"}),
    Case("POST", PAGE + "/assignee", AML_MANAGERS, html=True, form={"username": "aml.officer"}),
    Case("POST", PAGE + "/postings/{aml_posting}/decision", AML_MANAGERS, html=True,
         form={"decision": "reject"}),
    Case("GET", "/risk/customers/{aml_customer}/kyc", AML_VIEWERS, html=True),
    Case("POST", "/risk/customers/{aml_customer}/kyc", AML_MANAGERS, html=True,
         form={"occupation": "lawyer", "nationality": "HK", "channels": "online"}),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    make_user(db, Role.compliance_officer, (ctx.home,), username="aml.officer")
    customer = make_customer(db, signer, home_branch_id=ctx.home.id)
    maker = principal(db, ctx.colleague)
    account = ledger.open_account(
        db,
        data=AccountOpen(customer_number=customer.customer_number, currency="CNY",
                         branch_code=ctx.home.code),
        actor=maker, now=NOW,
    )  # fmt: skip
    held = ledger.post_deposit(
        db, account=account.number, amount_minor=4_900_000, currency="CNY",
        idempotency_key="matrix-aml-held", actor=maker, now=NOW, compliance=HOLD,
        branch_code=ctx.home.code,
    ).posting  # fmt: skip
    sweep_held_postings(db, now=NOW)
    case = db.execute(select(AmlCase).where(AmlCase.customer_id == customer.id)).scalar_one()
    return {
        "aml_case": str(case.id),
        "aml_posting": str(held.id),
        "aml_customer": customer.customer_number,
    }
