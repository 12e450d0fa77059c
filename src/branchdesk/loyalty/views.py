"""Loyalty pages: the programme page for staff (rules, rewards, adjustments with maker-checker),
redemption at the counter (the customer being served) and the customer's own page /my/loyalty.
A refused redemption renders the page again with the reason (409) and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, Counter
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, Forbidden, NotFound, RuleViolation, Unauthorized
from branchdesk.core.web import DbSession, redirect, render
from branchdesk.identity.deps import PageUser, PostedForm, field_text
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loyalty import counter as counter_service
from branchdesk.loyalty import service
from branchdesk.loyalty.config import Programme
from branchdesk.loyalty.schemas import AdjustmentCreate
from branchdesk.portal.deps import PageCustomer, PortalForm, PortalRoute
from branchdesk.portal.service import CustomerPrincipal

router = APIRouter(include_in_schema=False)
portal_router = APIRouter(prefix="/my/loyalty", route_class=PortalRoute, include_in_schema=False)


def _problem(exc: DomainError) -> dict[str, str]:
    return {"code": exc.code, "field": exc.field or "", "detail": exc.detail}


def _tiers() -> list[dict[str, Any]]:
    return [
        {"code": t.code, "min_points": t.min_points, "benefits": list(t.benefits),
         "queue_priority": t.queue_priority}
        for t in Programme().tiers
    ]  # fmt: skip


# --- the programme page (staff) -----------------------------------------------------------------


def _programme_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    *,
    problem: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal.require(Permission.loyalty_adjust)
    context = {
        "rules": service.list_rules(db),
        "rewards": service.list_rewards(db),
        "pending": service.list_adjustments(db, actor=principal),
        "tiers": _tiers(),
        "can_approve": principal.can(Permission.loyalty_approve),
        "problem": problem,
    }
    return render(request, "loyalty/programme.html", context, status_code=status_code)


@router.get("/loyalty", response_class=HTMLResponse)
def programme_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    return _programme_page(request, db, principal)


@router.post("/loyalty/adjustments")
def request_adjustment(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    try:
        points = int(field_text(form, "points") or "0")
    except ValueError:
        points = 0
    try:
        data = AdjustmentCreate(points=points, reason=field_text(form, "reason"))
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "points"
        problem = _problem(RuleViolation(str(exc.errors()[0]["msg"]), field=field))
        db.rollback()
        return _programme_page(request, db, principal, problem=problem, status_code=422)
    service.request_adjustment(
        db, actor=principal, customer_number=field_text(form, "customer_number"), data=data,
        now=utcnow(),
    )  # fmt: skip
    return redirect("/loyalty#adjustments")


@router.post("/loyalty/adjustments/{adjustment_id}/{decision}")
def decide_adjustment(
    request: Request,
    db: DbSession,
    principal: PageUser,
    adjustment_id: uuid.UUID,
    decision: str,
    form: PostedForm,
) -> Response:
    if decision not in ("approve", "reject"):
        raise NotFound(f"no decision {decision!r}")
    now = utcnow()
    try:
        service.decide_adjustment(
            db, actor=principal, adjustment_id=adjustment_id, approve=decision == "approve",
            today=now.date(), now=now,
        )  # fmt: skip
    except (Forbidden, Unauthorized, NotFound):
        raise
    except DomainError as exc:
        db.rollback()
        return _programme_page(request, db, principal, problem=_problem(exc), status_code=409)
    return redirect("/loyalty#adjustments")


# --- at the counter -----------------------------------------------------------------------------


def _place(
    db: DbSession, principal: Principal, branch_code: str, counter_code: str
) -> tuple[Branch, Counter]:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.loyalty_redeem, branch.id)
    return branch, catalog.get_counter(db, branch=branch, counter_code=counter_code)


def _counter_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    branch: Branch,
    counter: Counter,
    *,
    problem: dict[str, str] | None = None,
    result: Any = None,
    status_code: int = 200,
) -> Response:
    data = counter_service.counter_loyalty(
        db, actor=principal, branch=branch, counter=counter, now=utcnow()
    )
    context = {
        "branch_code": branch.code,
        "counter_code": counter.code,
        "data": data,
        "problem": problem,
        "result": result,
        "key": uuid.uuid4().hex,  # a fresh retry key per form: a double submit replays
    }
    return render(request, "loyalty/counter.html", context, status_code=status_code)


@router.get("/loyalty/counter/{branch_code}/{counter_code}", response_class=HTMLResponse)
def counter_page(
    request: Request, db: DbSession, principal: PageUser, branch_code: str, counter_code: str
) -> Response:
    branch, counter = _place(db, principal, branch_code, counter_code)
    return _counter_page(request, db, principal, branch, counter)


@router.post("/loyalty/counter/{branch_code}/{counter_code}/redeem")
def counter_redeem(
    request: Request,
    db: DbSession,
    principal: PageUser,
    branch_code: str,
    counter_code: str,
    form: PostedForm,
) -> Response:
    branch, counter = _place(db, principal, branch_code, counter_code)
    try:
        result = counter_service.redeem_at_counter(
            db, actor=principal, branch=branch, counter=counter,
            ticket_id=field_text(form, "ticket_id"), reward_code=field_text(form, "reward_code"),
            idempotency_key=field_text(form, "key") or uuid.uuid4().hex, now=utcnow(),
        )  # fmt: skip
    except (Forbidden, Unauthorized):
        raise
    except DomainError as exc:
        db.rollback()
        return _counter_page(
            request, db, principal, branch, counter, problem=_problem(exc),
            status_code=exc.status_code,
        )  # fmt: skip
    return _counter_page(request, db, principal, branch, counter, result=result)


# --- the customer's own page --------------------------------------------------------------------


def _my_page(
    request: Request,
    db: DbSession,
    customer: CustomerPrincipal,
    *,
    problem: dict[str, str] | None = None,
    result: Any = None,
    status_code: int = 200,
) -> Response:
    today = utcnow().date()
    context = {
        "customer": customer,
        "summary": service.summary(db, customer_id=customer.customer_id, today=today),
        "rewards": service.list_rewards(db, today=today),
        "tiers": _tiers(),
        "problem": problem,
        "result": result,
        "key": uuid.uuid4().hex,
    }
    return render(request, "loyalty/my.html", context, status_code=status_code)


@portal_router.get("", response_class=HTMLResponse)
def my_page(request: Request, db: DbSession, customer: PageCustomer) -> Response:
    return _my_page(request, db, customer)


@portal_router.post("/redeem")
def my_redeem(
    request: Request, db: DbSession, customer: PageCustomer, form: PortalForm
) -> Response:
    now = utcnow()
    try:
        result = service.redeem(
            db, customer_id=customer.customer_id, reward_code=form.get("reward_code", ""),
            idempotency_key=form.get("key") or uuid.uuid4().hex, channel="portal",
            today=now.date(), now=now,
        )  # fmt: skip
    except DomainError as exc:
        db.rollback()
        return _my_page(request, db, customer, problem=_problem(exc), status_code=exc.status_code)
    return _my_page(request, db, customer, result=result)
