"""Loans routes in the role matrix (tests/web/test_role_matrix.py): products, applications,
referral decisions, disbursement, loans, repayments, the portfolio and the pages."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.loans import service
from branchdesk.loans.models import Loan, LoanAlert, LoanProduct, LoanRestructuring
from branchdesk.loans.service.products import apply_product
from tests.factories import NOW, principal
from tests.loans.helpers import ALLOW, GOOD, make_application, personal_product
from tests.matrix import ADMIN, SUPERVISORS, Case, WorldContext

LOAN_VIEWERS = SUPERVISORS | {Role.teller, Role.relationship_manager, Role.risk_officer}
LOAN_MAKERS = SUPERVISORS | {Role.teller, Role.relationship_manager}
PORTFOLIO = SUPERVISORS | {Role.risk_officer}
SERVICERS = LOAN_MAKERS | {Role.risk_officer}  # monitoring inputs: collateral, declared debts

PRODUCT = personal_product("MTX").model_dump(mode="json")
APPLICATION = {
    "customer_number": "{customer}", "product_code": "MTX", "amount_minor": 300_000,
    "term_months": 12, "monthly_income_minor": 2_000_000, "monthly_obligations_minor": 0,
    "documents": ["id_document", "income_proof"], "has_consent": True,
    "idempotency_key": "matrix-app", **{k: (str(v) if v is not None and k == "employment_years"
                                          else v) for k, v in GOOD.items()},
}  # fmt: skip
APPLICATION_FORM = {
    "customer_number": "{customer}", "product_code": "MTX", "amount": "3000.00",
    "term_months": "12", "monthly_income": "20000", "monthly_obligations": "0",
    "checking_account_status": "no checking account", "savings_account": "1000 or more",
    "housing": "own", "purpose": "car (used)", "employment_years": "10",
    "residence_years": "4", "documents": "id_document", "has_consent": "yes",
    "idempotency_key": "matrix-page-app",
}  # fmt: skip

CASES = [
    Case("GET", "/api/v1/loan-products", LOAN_VIEWERS),
    Case("POST", "/api/v1/loan-products", ADMIN, json={**PRODUCT, "code": "MTX2"}),
    Case("PUT", "/api/v1/loan-products/MTX", ADMIN, json={**PRODUCT, "fee_bps": 50}),
    Case("POST", "/api/v1/loan-applications", LOAN_MAKERS, json=APPLICATION),
    Case("GET", "/api/v1/loan-applications", LOAN_VIEWERS),
    Case("GET", "/api/v1/loan-applications/{loan_referred}", LOAN_VIEWERS),
    Case("POST", "/api/v1/loan-applications/{loan_referred}/decision", SUPERVISORS,
         json={"approve": True, "note": "ok"}),
    Case("POST", "/api/v1/loan-applications/{loan_approved}/disbursement", LOAN_MAKERS,
         json={"account": "{loan_account}", "idempotency_key": "matrix-dis"}),
    Case("GET", "/api/v1/loans", LOAN_VIEWERS),
    Case("GET", "/api/v1/loan-portfolio", PORTFOLIO),
    Case("GET", "/api/v1/loans/{loan_number}", LOAN_VIEWERS),
    Case("POST", "/api/v1/loans/{loan_number}/repayments", LOAN_MAKERS,
         json={"amount_minor": 1_000, "currency": "CNY", "idempotency_key": "matrix-pay"}),
    Case("GET", "/loans", LOAN_VIEWERS, html=True),
    Case("POST", "/loans/applications", LOAN_MAKERS, form=APPLICATION_FORM, html=True),
    Case("GET", "/loans/applications/{loan_referred}", LOAN_VIEWERS, html=True),
    Case("POST", "/loans/applications/{loan_referred}/decision", SUPERVISORS,
         form={"decision": "approve", "note": "ok"}, html=True),
    Case("POST", "/loans/applications/{loan_approved}/disbursement", LOAN_MAKERS,
         form={"account": "{loan_account}", "idempotency_key": "matrix-page-dis"}, html=True),
    Case("GET", "/loans/portfolio", PORTFOLIO, html=True),
    Case("GET", "/loans/{loan_number}", LOAN_VIEWERS, html=True),
    Case("POST", "/loans/{loan_number}/repayments", LOAN_MAKERS,
         form={"amount": "10.00", "idempotency_key": "matrix-page-pay"}, html=True),
    Case("POST", "/api/v1/loans/{loan_number}/restructurings", LOAN_MAKERS,
         json={"new_term_months": 24, "reason": "income fell"}),
    Case("POST", "/api/v1/loan-restructurings/{loan_restructuring}/decision", SUPERVISORS,
         json={"approve": True, "note": "ok"}),
    Case("POST", "/loans/{loan_number}/restructurings", LOAN_MAKERS,
         form={"new_term_months": "24", "reason": "income fell"}, html=True),
    Case("POST", "/loans/restructurings/{loan_restructuring}/decision", SUPERVISORS,
         form={"decision": "approve", "note": "ok"}, html=True),
    Case("GET", "/api/v1/loan-alerts", PORTFOLIO),
    Case("POST", "/api/v1/loan-alerts/{loan_alert}/actions", PORTFOLIO,
         json={"action": "call", "outcome": "promised to pay", "close": False}),
    Case("GET", "/loans/watch-list", PORTFOLIO, html=True),
    Case("POST", "/loans/alerts/{loan_alert}/actions", PORTFOLIO,
         form={"action": "visit", "outcome": "met", "close": "yes"}, html=True),
    Case("GET", "/loan-products", LOAN_VIEWERS, html=True),
    Case("POST", "/loan-products", ADMIN, html=True, form={
        "code": "MTX3", "kind": "car", "currency": "CNY", "name_zh_hant": "車",
        "name_zh_hans": "车", "name_en": "Car", "min_amount": "1000", "max_amount": "90000",
        "min_term_months": "12", "max_term_months": "60", "rate_type": "fixed",
        "fixed_rate": "0.065", "repayment_method": "equal_principal", "penalty_rate": "0.18",
        "documents": "id_document",
    }),
    Case("GET", "/api/v1/loan-portfolio/history", PORTFOLIO),
    Case("GET", "/api/v1/reference-rates", LOAN_VIEWERS),
    Case("POST", "/api/v1/reference-rates", ADMIN,
         json={"name": "LPR MTX", "rate": "0.0300", "effective_on": "2026-03-01"}),
    Case("POST", "/loan-products/reference-rates", ADMIN, html=True,
         form={"name": "LPR MTX", "rate": "0.0310", "effective_on": "2026-03-02"}),
    Case("GET", "/api/v1/loans/{loan_number}/collateral-valuations", LOAN_VIEWERS),
    Case("POST", "/api/v1/loans/{loan_number}/collateral-valuations", SERVICERS,
         json={"value_minor": 500_000, "valued_on": "2026-03-02", "note": "matrix"}),
    Case("POST", "/loans/{loan_number}/collateral-valuations", SERVICERS, html=True,
         form={"value": "4000.00", "valued_on": "2026-03-02", "note": "matrix"}),
    Case("POST", "/api/v1/loans/{loan_number}/declared-debts", SERVICERS,
         json={"lender": "Other bank", "monthly_payment_minor": 50_000,
               "declared_on": "2026-03-02"}),
    Case("POST", "/loans/{loan_number}/declared-debts", SERVICERS, html=True,
         form={"lender": "Other bank", "monthly_payment": "500", "declared_on": "2026-03-02"}),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    """Product MTX; a referred and an approved application; a paid-out loan; a second loan with
    a pending restructuring and an open alert (maker of everything: the colleague)."""
    maker = principal(db, ctx.colleague)
    product = LoanProduct(id=new_id(), code="MTX", created_at=NOW)
    apply_product(product, personal_product("MTX"), NOW)  # written directly: no admin here
    db.add(product)
    floating = LoanProduct(id=new_id(), code="MTXF", created_at=NOW)
    apply_product(
        floating,
        personal_product(
            "MTXF", rate_type="floating", reference_rate_name="LPR MTX",
            reference_rate=Decimal("0.03"), margin=Decimal("0.02"),
        ),
        NOW,
    )  # fmt: skip
    db.add(floating)
    db.flush()
    account = ledger.open_account(
        db,
        data=AccountOpen(customer_number=ctx.customer.customer_number, currency="CNY",
                         branch_code=ctx.home.code),
        actor=maker, now=NOW,
    )  # fmt: skip
    made = {
        name: make_application(
            db, branch=ctx.home, customer=ctx.customer, product=product, maker=maker,
            status="referred" if name == "referred" else "approved",
        )
        for name in ("referred", "approved", "active")
    }  # fmt: skip
    loan, _ = service.disburse(
        db, application_id=made["active"].id, account=account.number, idempotency_key="mx-dis",
        actor=maker, now=NOW, compliance=ALLOW,
    )  # fmt: skip
    # a second loan (rows only) with a pending restructuring and an open watch-list alert
    second_application = make_application(
        db, branch=ctx.home, customer=ctx.customer, product=product, maker=maker,
        status="disbursed",
    )  # fmt: skip
    second = Loan(
        id=new_id(), number="LN-2026-900001", application_id=second_application.id,
        branch_id=ctx.home.id, customer_id=ctx.customer.id, product_id=product.id,
        account_id=account.id, currency="CNY", principal_minor=300_000, fee_minor=0,
        annual_rate="0.12", penalty_rate="0.18", repayment_method="equal_instalment",
        term_months=12, grace_months=0, disbursed_on=NOW.date(), status="active",
        outstanding_principal_minor=300_000, penalty_due_minor=0, days_past_due=40,
        max_days_past_due=40, bucket="31-60", last_accrued_on=NOW.date(),
        disbursement_posting_id=loan.disbursement_posting_id, disbursed_by_id=maker.user_id,
        created_at=NOW, updated_at=NOW, closed_at=None,
    )  # fmt: skip
    db.add(second)
    db.flush()
    pending = LoanRestructuring(
        id=new_id(), loan_id=second.id, new_term_months=36, reason="matrix", status="pending",
        requested_by_id=maker.user_id, decided_by_id=None, decision_note="", created_at=NOW,
        decided_at=None,
    )  # fmt: skip
    alert = LoanAlert(
        id=new_id(), loan_id=second.id, branch_id=ctx.home.id, status="open", score=60,
        reasons=["bucket:31-60", "missed_payment"], actions=[], opened_on=NOW.date(),
        created_at=NOW, updated_at=NOW, closed_at=None,
    )  # fmt: skip
    db.add_all([pending, alert])
    db.flush()
    return {
        "loan_alert": str(alert.id),
        "loan_restructuring": str(pending.id),
        "loan_referred": str(made["referred"].id),
        "loan_approved": str(made["approved"].id),
        "loan_account": account.number,
        "loan_number": loan.number,
    }
