"""JSON API for loan products, applications (scored and decided at once; referrals decided by an
approver), disbursement, repayments and loans. Money actions answer 201 when new and 200 when
replayed by idempotency key; refused money actions leave an audit row."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.ledger.api import Compliance, audited_refusal
from branchdesk.loans import service
from branchdesk.loans.models import Loan
from branchdesk.loans.schemas import (
    AlertActionBody,
    ApplicationDecision,
    CollateralValuationBody,
    CollateralValuationRead,
    DeclaredDebtBody,
    DeclaredDebtRead,
    DisbursementBody,
    LoanAlertRead,
    LoanApplicationCreate,
    LoanApplicationRead,
    LoanProductBody,
    LoanProductRead,
    LoanRead,
    PortalApplicationRead,
    PortalLoanApplication,
    PortfolioHistoryRead,
    PortfolioRead,
    ReferenceRateBody,
    ReferenceRateRead,
    RepaymentBody,
    RepaymentRead,
    RestructuringBody,
    RestructuringRead,
)
from branchdesk.loans.service import monitoring
from branchdesk.loans.service.accrual import list_reference_rates, set_reference_rate
from branchdesk.loans.service.applications import (
    create_portal_application,
    list_own_applications,
)
from branchdesk.loans.service.history import portfolio_history
from branchdesk.loans.service.portfolio import portfolio_read, portfolio_summary
from branchdesk.loans.service.restructuring import list_restructurings
from branchdesk.loans.service.watchlist import AlertAction, act_on_alert, list_alerts
from branchdesk.portal.deps import ApiCustomer

router = APIRouter(prefix="/api/v1", tags=["loans"])

# --- products ----------------------------------------------------------------------------------


@router.get("/loan-products", response_model=list[LoanProductRead])
def list_products(db: DbSession, principal: ApiUser) -> list[LoanProductRead]:
    return [service.product_read(p) for p in service.list_products(db, actor=principal)]


@router.post("/loan-products", response_model=LoanProductRead, status_code=201)
def create_product(db: DbSession, principal: ApiUser, body: LoanProductBody) -> LoanProductRead:
    return service.product_read(
        service.create_product(db, data=body, actor=principal, now=utcnow())
    )


@router.put("/loan-products/{code}", response_model=LoanProductRead)
def update_product(
    db: DbSession, principal: ApiUser, code: str, body: LoanProductBody
) -> LoanProductRead:
    return service.product_read(
        service.update_product(db, code=code, data=body, actor=principal, now=utcnow())
    )


# --- applications ------------------------------------------------------------------------------


@router.post("/loan-applications", response_model=LoanApplicationRead, status_code=201)
def create_application(
    db: DbSession, principal: ApiUser, body: LoanApplicationCreate, response: Response
) -> LoanApplicationRead:
    """Take an application; it is scored and decided (approve, refer, decline) at once."""
    application, is_replay = service.create_application(
        db, data=body, actor=principal, now=utcnow()
    )
    response.status_code = 200 if is_replay else 201
    return service.application_read(db, application)


@router.get("/loan-applications", response_model=list[LoanApplicationRead])
def list_applications(
    db: DbSession, principal: ApiUser, status: str | None = None
) -> list[LoanApplicationRead]:
    found = service.list_applications(db, actor=principal, status=status)
    return [service.application_read(db, a) for a in found]


@router.get("/loan-applications/{application_id}", response_model=LoanApplicationRead)
def get_application(
    db: DbSession, principal: ApiUser, application_id: uuid.UUID
) -> LoanApplicationRead:
    application = service.get_application(db, application_id=application_id, actor=principal)
    return service.application_read(db, application)


@router.post("/loan-applications/{application_id}/decision", response_model=LoanApplicationRead)
def decide_application(
    db: DbSession, principal: ApiUser, application_id: uuid.UUID, body: ApplicationDecision
) -> LoanApplicationRead:
    """An approver (supervisor, not the maker) approves or declines a referred application."""
    detail = {"application": str(application_id), "approve": body.approve}
    with audited_refusal(
        db, actor=principal, action="loan_application.decide", object_type="loan_application",
        detail=detail,
    ):  # fmt: skip
        application = service.decide_application(
            db, application_id=application_id, approve=body.approve, note=body.note,
            actor=principal, now=utcnow(),
        )  # fmt: skip
    return service.application_read(db, application)


@router.post(
    "/loan-applications/{application_id}/disbursement", response_model=LoanRead, status_code=201
)
def disburse(
    db: DbSession,
    principal: ApiUser,
    compliance: Compliance,
    application_id: uuid.UUID,
    body: DisbursementBody,
    response: Response,
) -> LoanRead:
    """Pay an approved application out to the customer's account (one ledger posting)."""
    detail = {"application": str(application_id), "idempotency_key": body.idempotency_key}
    with audited_refusal(
        db, actor=principal, action="loan.disburse", object_type="loan", detail=detail
    ):
        loan, is_replay = service.disburse(
            db, application_id=application_id, account=body.account,
            idempotency_key=body.idempotency_key, actor=principal, now=utcnow(),
            compliance=compliance,
        )  # fmt: skip
    response.status_code = 200 if is_replay else 201
    return service.loan_read(db, loan)


# --- loans -------------------------------------------------------------------------------------


@router.get("/loan-portfolio", response_model=PortfolioRead)
def portfolio(db: DbSession, principal: ApiUser) -> PortfolioRead:
    """Outstanding principal by product and bucket; early-warning signals per loan."""
    return portfolio_read(portfolio_summary(db, actor=principal, now=utcnow()))


@router.get("/loan-portfolio/history", response_model=PortfolioHistoryRead)
def portfolio_history_api(db: DbSession, principal: ApiUser) -> PortfolioHistoryRead:
    """Roll rates month over month, vintage curves (30+/90+ DPD) and exposure by segment."""
    return portfolio_history(db, actor=principal, now=utcnow())


@router.get("/reference-rates", response_model=list[ReferenceRateRead])
def reference_rates(db: DbSession, principal: ApiUser) -> list[ReferenceRateRead]:
    return list_reference_rates(db, actor=principal)


@router.post("/reference-rates", response_model=ReferenceRateRead, status_code=201)
def add_reference_rate(
    db: DbSession, principal: ApiUser, body: ReferenceRateBody
) -> ReferenceRateRead:
    """A reference rate from its effective date; the daily job re-prices floating loans."""
    set_reference_rate(
        db, name=body.name, rate=body.rate, effective_on=body.effective_on, actor=principal,
        now=utcnow(),
    )  # fmt: skip
    return ReferenceRateRead(name=body.name.strip(), effective_on=body.effective_on, rate=body.rate)


@router.get("/loans", response_model=list[LoanRead])
def list_loans(db: DbSession, principal: ApiUser) -> list[LoanRead]:
    return [service.loan_read(db, loan) for loan in service.list_loans(db, actor=principal)]


@router.get("/loans/{number}", response_model=LoanRead)
def get_loan(db: DbSession, principal: ApiUser, number: str) -> LoanRead:
    """The loan with its schedule, repayments, days past due and bucket."""
    return service.loan_read(db, service.find_loan(db, number=number, actor=principal))


@router.post("/loans/{number}/repayments", response_model=RepaymentRead, status_code=201)
def repay(
    db: DbSession,
    principal: ApiUser,
    compliance: Compliance,
    number: str,
    body: RepaymentBody,
    response: Response,
) -> RepaymentRead:
    """Repay: penalty, then interest due, then principal due, then prepayment (re-schedules)."""
    detail = {"loan": number, "amount_minor": body.amount_minor,
              "idempotency_key": body.idempotency_key}  # fmt: skip
    with audited_refusal(
        db, actor=principal, action="loan.repay", object_type="loan", detail=detail
    ):
        repayment, is_replay = service.repay(
            db, number=number, amount_minor=body.amount_minor, currency=body.currency,
            account=body.account, idempotency_key=body.idempotency_key, actor=principal,
            now=utcnow(), compliance=compliance,
        )  # fmt: skip
    response.status_code = 200 if is_replay else 201
    return RepaymentRead(
        posting_id=repayment.posting_id, amount_minor=repayment.amount_minor,
        penalty_minor=repayment.penalty_minor, interest_minor=repayment.interest_minor,
        principal_minor=repayment.principal_minor, prepayment_minor=repayment.prepayment_minor,
        paid_on=repayment.paid_on,
    )  # fmt: skip


@router.post("/loans/{number}/restructurings", response_model=RestructuringRead, status_code=201)
def request_restructuring(
    db: DbSession, principal: ApiUser, number: str, body: RestructuringBody
) -> RestructuringRead:
    """Ask to spread the principal left over ``new_term_months``; a supervisor decides."""
    made = service.request_restructuring(
        db, number=number, new_term_months=body.new_term_months, reason=body.reason,
        actor=principal, now=utcnow(),
    )  # fmt: skip
    loan = service.find_loan(db, number=number, actor=principal)
    return next(r for r in list_restructurings(db, loan=loan) if r.id == made.id)


@router.post("/loan-restructurings/{restructuring_id}/decision", response_model=LoanRead)
def decide_restructuring(
    db: DbSession, principal: ApiUser, restructuring_id: uuid.UUID, body: ApplicationDecision
) -> LoanRead:
    """A supervisor other than the requester approves (schedule rebuilt) or rejects."""
    detail = {"restructuring": str(restructuring_id), "approve": body.approve}
    with audited_refusal(
        db, actor=principal, action="loan.restructuring_decide", object_type="loan",
        detail=detail,
    ):  # fmt: skip
        decided = service.decide_restructuring(
            db, restructuring_id=restructuring_id, approve=body.approve, note=body.note,
            actor=principal, now=utcnow(),
        )  # fmt: skip
    loan = db.get(Loan, decided.loan_id)
    assert loan is not None
    return service.loan_read(db, loan)


# --- watch list --------------------------------------------------------------------------------


@router.get("/loan-alerts", response_model=list[LoanAlertRead])
def alerts(db: DbSession, principal: ApiUser, status: str = "open") -> list[LoanAlertRead]:
    """The watch list: open alerts (or ``status=closed``), highest score first."""
    return list_alerts(db, actor=principal, status=status)


@router.post("/loan-alerts/{alert_id}/actions", response_model=LoanAlertRead)
def act(
    db: DbSession, principal: ApiUser, alert_id: uuid.UUID, body: AlertActionBody
) -> LoanAlertRead:
    """Record a call, visit or restructure with its outcome; ``close`` ends the alert."""
    return act_on_alert(
        db, alert_id=alert_id, action=AlertAction(body.action), outcome=body.outcome,
        close=body.close, actor=principal, now=utcnow(),
    )  # fmt: skip


# --- monitoring inputs -------------------------------------------------------------------------


@router.get("/loans/{number}/collateral-valuations", response_model=list[CollateralValuationRead])
def valuations(db: DbSession, principal: ApiUser, number: str) -> list[CollateralValuationRead]:
    loan = service.find_loan(db, number=number, actor=principal)
    return monitoring.valuations_of(db, loan)


@router.post(
    "/loans/{number}/collateral-valuations",
    response_model=list[CollateralValuationRead],
    status_code=201,
)
def revalue(
    db: DbSession, principal: ApiUser, number: str, body: CollateralValuationBody
) -> list[CollateralValuationRead]:
    """Record a collateral (re)valuation; under 80 % of the first one is a warning signal."""
    monitoring.record_valuation(db, number=number, data=body, actor=principal, now=utcnow())
    loan = service.find_loan(db, number=number, actor=principal)
    return monitoring.valuations_of(db, loan)


@router.post(
    "/loans/{number}/declared-debts", response_model=list[DeclaredDebtRead], status_code=201
)
def declare_debt(
    db: DbSession, principal: ApiUser, number: str, body: DeclaredDebtBody
) -> list[DeclaredDebtRead]:
    """A debt at another lender the borrower declared (declared after the pay-out: a signal)."""
    monitoring.declare_debt(db, number=number, data=body, actor=principal, now=utcnow())
    loan = service.find_loan(db, number=number, actor=principal)
    return monitoring.declared_debts_of(db, loan)


# --- the customer's own applications (mobile banking) -------------------------------------------


@router.post("/portal/loan-applications", response_model=PortalApplicationRead, status_code=201)
def portal_apply(
    db: DbSession, customer: ApiCustomer, body: PortalLoanApplication, response: Response
) -> PortalApplicationRead:
    """Apply for a loan: scored like a branch application, then in the home branch's queue."""
    application, is_replay = create_portal_application(
        db, data=body, customer_id=customer.customer_id, now=utcnow()
    )
    response.status_code = 200 if is_replay else 201
    return next(
        a for a in list_own_applications(db, customer_id=customer.customer_id)
        if a.reference == application.reference
    )  # fmt: skip


@router.get("/portal/loan-applications", response_model=list[PortalApplicationRead])
def portal_applications(db: DbSession, customer: ApiCustomer) -> list[PortalApplicationRead]:
    return list_own_applications(db, customer_id=customer.customer_id)
