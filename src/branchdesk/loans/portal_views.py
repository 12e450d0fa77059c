"""The customer's own loan applications on the portal: ``/my/loans`` lists them and takes a new
one, which ``applications.create_portal_application`` scores and decides exactly like a branch
application before it lands in the home branch's queue. The portal's session, CSRF check and
login redirect apply (``PortalRoute``); the routes are included by ``loans.views``."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.web import DbSession, form_errors, redirect, render
from branchdesk.loans.schemas import PortalLoanApplication
from branchdesk.loans.service.applications import create_portal_application, list_own_applications
from branchdesk.loans.service.products import ProductNotFound, find_product, product_read
from branchdesk.loans.views import MONEY_FIELDS, _choices, _minor
from branchdesk.portal.deps import PageCustomer, PortalForm, PortalRoute
from branchdesk.portal.service import CustomerPrincipal

router = APIRouter(prefix="/my", route_class=PortalRoute, include_in_schema=False)

PORTAL_FIELDS = (
    "product_code", "amount", "term_months", "monthly_income", "monthly_obligations",
    "checking_account_status", "savings_account", "housing", "purpose", "employment_years",
    "residence_years",
)  # fmt: skip


def _page(
    request: Request,
    db: DbSession,
    customer: CustomerPrincipal,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: str | None = None,
    status_code: int = 200,
) -> Response:
    from sqlalchemy import select

    from branchdesk.loans.models import LoanProduct

    products = [
        product_read(p)
        for p in db.execute(
            select(LoanProduct).where(LoanProduct.is_active.is_(True)).order_by(LoanProduct.code)
        ).scalars()
    ]
    return render(
        request,
        "loans/portal.html",
        {
            "customer": customer,
            "products": products,
            "applications": list_own_applications(db, customer_id=customer.customer_id),
            "values": values or {},
            "errors": errors or {},
            "created": created,
            "new_key": uuid.uuid4().hex,
            **_choices(),
        },
        status_code=status_code,
    )


@router.get("/loans", response_class=HTMLResponse)
def loans_page(
    request: Request, db: DbSession, customer: PageCustomer, created: str = ""
) -> Response:
    return _page(request, db, customer, created=created or None)


@router.post("/loans/applications")
def apply(request: Request, db: DbSession, customer: PageCustomer, form: PortalForm) -> Response:
    values = {k: form.get(k, "").strip() for k in PORTAL_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v != "" and k not in MONEY_FIELDS}
    body["has_consent"] = form.get("has_consent") == "yes"
    body["idempotency_key"] = form.get("idempotency_key") or uuid.uuid4().hex
    try:
        try:
            product = find_product(db, values["product_code"], field="product_code")
        except ProductNotFound as exc:
            raise RuleViolation("unknown loan product", field="product_code") from exc
        for text_field, minor_field in MONEY_FIELDS.items():
            if values.get(text_field):
                body[minor_field] = _minor(values[text_field], product.currency, text_field)
        data = PortalLoanApplication.model_validate(body)
        application, _ = create_portal_application(
            db, data=data, customer_id=customer.customer_id, now=utcnow()
        )
    except ValidationError as exc:
        return _page(request, db, customer, values=values, errors=form_errors(exc), status_code=422)
    except DomainError as exc:
        return _page(
            request, db, customer, values=values, errors={exc.field or "form": exc.detail},
            status_code=exc.status_code,
        )  # fmt: skip
    return redirect(f"/my/loans?created={application.reference}")
