"""HTML pages of loans: applications (take, see the assessment, decide a referral, pay out),
a loan with its schedule and repayments, the portfolio, and the admin's product page."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from branchdesk.core import i18n
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.money import CURRENCY_EXPONENTS, to_minor
from branchdesk.core.web import DbSession, form_errors, redirect, refusal_errors, render
from branchdesk.identity.deps import PageUser, PostedForm, field_text
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.api import audited_refusal, compliance_check
from branchdesk.loans import charts, service
from branchdesk.loans.models import Loan
from branchdesk.loans.schedule import RepaymentMethod, add_months, build_schedule
from branchdesk.loans.schemas import (
    CHECKING_CHOICES,
    DOCUMENT_CHOICES,
    HOUSING_CHOICES,
    PURPOSE_CHOICES,
    SAVINGS_CHOICES,
    CollateralValuationBody,
    DeclaredDebtBody,
    LoanApplicationCreate,
    LoanProductBody,
    ReferenceRateBody,
)
from branchdesk.loans.service import monitoring
from branchdesk.loans.service.accrual import list_reference_rates, set_reference_rate
from branchdesk.loans.service.history import portfolio_history
from branchdesk.loans.service.portfolio import portfolio_summary
from branchdesk.loans.service.watchlist import AlertAction, act_on_alert, list_alerts

router = APIRouter(include_in_schema=False)

MONEY_FIELDS = {
    "amount": "amount_minor",
    "monthly_income": "monthly_income_minor",
    "monthly_obligations": "monthly_obligations_minor",
}


def _list(form: dict[str, str | list[str]], name: str) -> list[str]:
    value = form.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def _minor(text: str, currency: str, field: str) -> int:
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:
        raise RuleViolation("not an amount", field=field) from exc
    if not amount.is_finite() or amount < 0:
        raise RuleViolation("not an amount", field=field)
    minor = to_minor(amount, currency)
    if Decimal(minor).scaleb(-CURRENCY_EXPONENTS[currency]) != amount:
        raise RuleViolation("too many decimal places", field=field)
    return minor


def _choices() -> dict[str, Any]:
    return {
        "checking_choices": CHECKING_CHOICES,
        "savings_choices": SAVINGS_CHOICES,
        "housing_choices": HOUSING_CHOICES,
        "purpose_choices": PURPOSE_CHOICES,
        "document_choices": DOCUMENT_CHOICES,
    }


def _index(
    request: Request,
    db: DbSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    applications = [
        service.application_read(db, a) for a in service.list_applications(db, actor=principal)
    ]
    loans = [service.loan_read(db, loan) for loan in service.list_loans(db, actor=principal)]
    products = [
        service.product_read(p) for p in service.list_products(db, actor=principal) if p.is_active
    ]
    return render(
        request,
        "loans/index.html",
        {
            "applications": applications,
            "loans": loans,
            "products": products,
            "can_apply": principal.can(Permission.loan_create),
            "can_see_portfolio": principal.can(Permission.loan_portfolio_view),
            "errors": errors or {},
            "values": values or {},
            "new_key": f"page-{uuid.uuid4()}",
            **_choices(),
        },
        status_code=status_code,
    )


@router.get("/loans", response_class=HTMLResponse)
def loans_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    return _index(request, db, principal)


@router.post("/loans/applications")
def take_application(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    principal.require(Permission.loan_create)
    values: dict[str, Any] = {
        k: v for k, v in form.items() if isinstance(v, str) and v != "" and k != "documents"
    }
    body: dict[str, Any] = {k: v for k, v in values.items() if k not in MONEY_FIELDS}
    body["documents"] = _list(form, "documents")
    body["has_consent"] = field_text(form, "has_consent") == "yes"
    try:
        product = service.find_product(db, field_text(form, "product_code"), field="product_code")
        for text_field, minor_field in MONEY_FIELDS.items():
            if text_field in values:
                body[minor_field] = _minor(values[text_field], product.currency, text_field)
        data = LoanApplicationCreate.model_validate(body)
        application, _ = service.create_application(db, data=data, actor=principal, now=utcnow())
    except ValidationError as exc:
        errors = form_errors(exc)
        return _index(request, db, principal, errors=errors, values=values, status_code=422)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        return _index(
            request, db, principal, errors={exc.field or "form": exc.detail}, values=values,
            status_code=exc.status_code,
        )  # fmt: skip
    return redirect(f"/loans/applications/{application.id}")


def _application_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    application = service.get_application(db, application_id=application_id, actor=principal)
    read = service.application_read(db, application)
    product = service.find_product(db, read.product_code)
    preview = build_schedule(
        principal_minor=read.amount_minor, annual_rate=read.annual_rate,
        term_months=read.term_months, method=RepaymentMethod(product.repayment_method),
        first_due_on=add_months(utcnow().date(), 1),
        grace_months=min(product.grace_months, read.term_months - 1),
    )  # fmt: skip
    return render(
        request,
        "loans/application.html",
        {
            "a": read,
            "preview": preview,
            "total_interest_minor": sum(r.interest_minor for r in preview),
            "can_decide": principal.can(Permission.loan_approve, application.branch_id)
            and application.maker_id != principal.user_id,
            "can_disburse": principal.can(Permission.loan_create, application.branch_id),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/loans/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    request: Request, db: DbSession, principal: PageUser, application_id: uuid.UUID
) -> Response:
    return _application_page(request, db, principal, application_id)


@router.post("/loans/applications/{application_id}/decision")
def decide(
    db: DbSession, principal: PageUser, application_id: uuid.UUID, form: PostedForm
) -> Response:
    approve = field_text(form, "decision") == "approve"
    detail = {"application": str(application_id), "approve": approve}
    with audited_refusal(
        db, actor=principal, action="loan_application.decide", object_type="loan_application",
        detail=detail,
    ):  # fmt: skip
        service.decide_application(
            db, application_id=application_id, approve=approve, note=field_text(form, "note")[:300],
            actor=principal, now=utcnow(),
        )  # fmt: skip
    return redirect(f"/loans/applications/{application_id}")


@router.post("/loans/applications/{application_id}/disbursement")
def disburse(
    request: Request, db: DbSession, principal: PageUser, application_id: uuid.UUID,
    form: PostedForm,
) -> Response:  # fmt: skip
    detail = {"application": str(application_id)}
    with audited_refusal(
        db, actor=principal, action="loan.disburse", object_type="loan", detail=detail
    ):
        loan, _ = service.disburse(
            db, application_id=application_id, account=field_text(form, "account"),
            idempotency_key=field_text(form, "idempotency_key") or f"page-{uuid.uuid4()}",
            actor=principal, now=utcnow(), compliance=compliance_check(request),
        )  # fmt: skip
    return redirect(f"/loans/{loan.number}")


@router.get("/loans/portfolio", response_class=HTMLResponse)
def portfolio_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    from branchdesk.quality.charts import plotly_version

    i18n.set_locale(request.state.locale)
    now = utcnow()
    summary = portfolio_summary(db, actor=principal, now=now)
    history = portfolio_history(db, actor=principal, now=now)
    figures = charts.figures(history)
    return render(
        request,
        "loans/portfolio.html",
        {
            "p": summary,
            "h": history,
            "figures": {name: _script_json(fig) for name, fig in figures.items()},
            "plotly_version": plotly_version(),
        },
    )


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no closing tag can appear in it)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


@router.get("/loans/watch-list", response_class=HTMLResponse)
def watch_list_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    return render(
        request,
        "loans/watch_list.html",
        {
            "alerts": list_alerts(db, actor=principal),
            "can_act": principal.can(Permission.loan_alert_handle),
        },
    )


@router.post("/loans/alerts/{alert_id}/actions")
def act_on_alert_page(
    db: DbSession, principal: PageUser, alert_id: uuid.UUID, form: PostedForm
) -> Response:
    action = field_text(form, "action")
    if action not in {a.value for a in AlertAction}:
        principal.require(Permission.loan_alert_handle)
        raise RuleViolation("choose call, visit or restructure", field="action")
    act_on_alert(
        db, alert_id=alert_id, action=AlertAction(action),
        outcome=field_text(form, "outcome")[:300], close=field_text(form, "close") == "yes",
        actor=principal, now=utcnow(),
    )  # fmt: skip
    return redirect("/loans/watch-list")


@router.get("/loans/{number}", response_class=HTMLResponse)
def loan_page(request: Request, db: DbSession, principal: PageUser, number: str) -> Response:
    return _loan_page(request, db, principal, number)


def _loan_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    number: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    loan = service.find_loan(db, number=number, actor=principal)
    return render(
        request,
        "loans/loan.html",
        {
            "loan": service.loan_read(db, loan),
            "can_decide": principal.can(Permission.loan_approve, loan.branch_id),
            "me": principal.username,
            "can_repay": principal.can(Permission.loan_create, loan.branch_id),
            "can_monitor": principal.can(Permission.loan_create, loan.branch_id)
            or principal.can(Permission.loan_alert_handle, loan.branch_id),
            "valuations": monitoring.valuations_of(db, loan),
            "debts": monitoring.declared_debts_of(db, loan),
            "today": utcnow().date().isoformat(),
            "errors": errors or {},
            "new_key": f"page-{uuid.uuid4()}",
        },
        status_code=status_code,
    )


def _monitoring_input(
    request: Request,
    db: DbSession,
    principal: Principal,
    number: str,
    record: Callable[[], object],
) -> Response:
    """Run ``record``; bad input shows the loan page again with the error on its field (422)."""
    try:
        record()
    except ValidationError as exc:
        return _loan_page(request, db, principal, number, errors=form_errors(exc), status_code=422)
    except DomainError as exc:
        errors = refusal_errors(db, exc)
        return _loan_page(
            request, db, principal, number, errors=errors, status_code=exc.status_code
        )
    return redirect(f"/loans/{number.strip().upper()}#monitoring")


@router.post("/loans/{number}/collateral-valuations")
def revalue(
    request: Request, db: DbSession, principal: PageUser, number: str, form: PostedForm
) -> Response:
    loan = service.find_loan(db, number=number, actor=principal)

    def record() -> object:
        data = CollateralValuationBody.model_validate(
            {
                "value_minor": _minor(field_text(form, "value"), loan.currency, "value")
                if field_text(form, "value") else None,
                "valued_on": field_text(form, "valued_on") or None,
                "note": field_text(form, "note")[:300],
            }
        )  # fmt: skip
        return monitoring.record_valuation(
            db, number=loan.number, data=data, actor=principal, now=utcnow()
        )

    return _monitoring_input(request, db, principal, loan.number, record)


@router.post("/loans/{number}/declared-debts")
def declare_debt(
    request: Request, db: DbSession, principal: PageUser, number: str, form: PostedForm
) -> Response:
    loan = service.find_loan(db, number=number, actor=principal)

    def record() -> object:
        payment = field_text(form, "monthly_payment")
        balance = field_text(form, "balance")
        data = DeclaredDebtBody.model_validate(
            {
                "lender": field_text(form, "lender"),
                "monthly_payment_minor": _minor(payment, loan.currency, "monthly_payment")
                if payment else None,
                "balance_minor": _minor(balance, loan.currency, "balance") if balance else 0,
                "declared_on": field_text(form, "declared_on") or None,
            }
        )  # fmt: skip
        return monitoring.declare_debt(
            db, number=loan.number, data=data, actor=principal, now=utcnow()
        )

    return _monitoring_input(request, db, principal, loan.number, record)


@router.post("/loans/{number}/repayments")
def repay(
    request: Request, db: DbSession, principal: PageUser, number: str, form: PostedForm
) -> Response:
    loan = service.find_loan(db, number=number, actor=principal)
    detail = {"loan": loan.number}
    with audited_refusal(
        db, actor=principal, action="loan.repay", object_type="loan", detail=detail
    ):
        service.repay(
            db, number=loan.number,
            amount_minor=_minor(field_text(form, "amount"), loan.currency, "amount"),
            currency=loan.currency,
            idempotency_key=field_text(form, "idempotency_key") or f"page-{uuid.uuid4()}",
            actor=principal, now=utcnow(), compliance=compliance_check(request),
        )  # fmt: skip
    return redirect(f"/loans/{loan.number}")


@router.post("/loans/{number}/restructurings")
def request_restructuring(
    db: DbSession, principal: PageUser, number: str, form: PostedForm
) -> Response:
    months = field_text(form, "new_term_months")
    if not months.isdigit():
        raise RuleViolation("a whole number of months", field="new_term_months")
    service.request_restructuring(
        db, number=number, new_term_months=int(months), reason=field_text(form, "reason")[:300],
        actor=principal, now=utcnow(),
    )  # fmt: skip
    return redirect(f"/loans/{number.strip().upper()}")


@router.post("/loans/restructurings/{restructuring_id}/decision")
def decide_restructuring(
    db: DbSession, principal: PageUser, restructuring_id: uuid.UUID, form: PostedForm
) -> Response:
    approve = field_text(form, "decision") == "approve"
    detail = {"restructuring": str(restructuring_id), "approve": approve}
    with audited_refusal(
        db, actor=principal, action="loan.restructuring_decide", object_type="loan",
        detail=detail,
    ):  # fmt: skip
        decided = service.decide_restructuring(
            db, restructuring_id=restructuring_id, approve=approve,
            note=field_text(form, "note")[:300], actor=principal, now=utcnow(),
        )  # fmt: skip
    loan = db.get(Loan, decided.loan_id)
    return redirect(f"/loans/{loan.number}" if loan else "/loans")


@router.get("/loan-products", response_class=HTMLResponse)
def products_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    return _products(request, db, principal)


def _products(
    request: Request,
    db: DbSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    products = [service.product_read(p) for p in service.list_products(db, actor=principal)]
    return render(
        request,
        "loans/products.html",
        {
            "products": products,
            "can_manage": principal.can(Permission.loan_product_manage),
            "errors": errors or {},
            "document_choices": DOCUMENT_CHOICES,
            "reference_rates": list_reference_rates(db, actor=principal),
            "today": utcnow().date().isoformat(),
        },
        status_code=status_code,
    )


@router.post("/loan-products")
def create_product(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    principal.require(Permission.loan_product_manage)
    body: dict[str, Any] = {
        k: v for k, v in form.items() if isinstance(v, str) and v != "" and k != "documents"
    }
    body["required_documents"] = _list(form, "documents")
    try:
        currency = str(body.get("currency", ""))
        for text_field in ("min_amount", "max_amount", "fee_flat"):
            if text_field in body and currency in CURRENCY_EXPONENTS:
                body[f"{text_field}_minor"] = _minor(body.pop(text_field), currency, text_field)
        data = LoanProductBody.model_validate(body)
        service.create_product(db, data=data, actor=principal, now=utcnow())
    except ValidationError as exc:
        return _products(request, db, principal, errors=form_errors(exc), status_code=422)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        return _products(
            request, db, principal, errors={exc.field or "form": exc.detail},
            status_code=exc.status_code,
        )  # fmt: skip
    return redirect("/loan-products")


@router.post("/loan-products/reference-rates")
def add_reference_rate(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    principal.require(Permission.loan_product_manage)
    try:
        data = ReferenceRateBody.model_validate(
            {k: field_text(form, k) or None for k in ("name", "rate", "effective_on")}
        )
        set_reference_rate(
            db, name=data.name, rate=data.rate, effective_on=data.effective_on, actor=principal,
            now=utcnow(),
        )  # fmt: skip
    except ValidationError as exc:
        return _products(request, db, principal, errors=form_errors(exc), status_code=422)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        return _products(
            request, db, principal, errors={exc.field or "form": exc.detail},
            status_code=exc.status_code,
        )  # fmt: skip
    return redirect("/loan-products#reference-rates")


def _include_portal_pages() -> None:
    # the customer's pages under /my live with the loans package (PortalRoute is kept)
    from branchdesk.loans.portal_views import router as portal_router

    router.include_router(portal_router)


_include_portal_pages()
