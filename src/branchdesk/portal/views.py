"""The customer portal's pages under /my (its own session cookie, CSRF on every form)."""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from branchdesk.core.clock import local_minute, utcnow
from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.money import parse_major
from branchdesk.core.security import new_nonce
from branchdesk.core.web import DbSession, redirect, render, safe_next
from branchdesk.ledger.api import Compliance  # the check the ledger's own API posts through
from branchdesk.portal import service
from branchdesk.portal.api import csv_response, pdf_response, refused
from branchdesk.portal.delivery import deliver_codes
from branchdesk.portal.deps import (
    PageCustomer,
    PortalForm,
    PortalRoute,
    Settings,
    public_page,
    read_portal_session,
    signer,
    write_portal_session,
)
from branchdesk.portal.schemas import NotificationSettings, StatementQuery
from branchdesk.portal.service import CustomerPrincipal, visits
from branchdesk.portal.service.common import home_zone
from branchdesk.queue.deps import waits

router = APIRouter(prefix="/my", route_class=PortalRoute, include_in_schema=False)


def _page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    customer: CustomerPrincipal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    values: dict[str, Any] = {"customer": customer}
    values.update(context or {})
    return render(request, f"portal/{template}", values, status_code=status_code)


def _problem(exc: DomainError) -> dict[str, str]:
    return {"code": exc.code, "detail": exc.detail, "field": exc.field or ""}


def _parse_amount(text: str, currency: str, field: str = "amount") -> int:
    """An amount typed in major units (``1,234.50``) in the account's currency."""
    try:
        return parse_major(text, currency)
    except ValueError as exc:
        raise RuleViolation(str(exc), field=field) from exc


# --- logging in --------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/my") -> Response:
    public_page(request)
    return _page(request, "login.html", {"next": safe_next(next, "/my"), "values": {}})


@router.post("/login")
def login(
    request: Request, db: DbSession, settings: Settings, tasks: BackgroundTasks, form: PortalForm
) -> Response:
    public_page(request)
    target = safe_next(form.get("next"), "/my")
    step = service.start_login(
        db, identifier=form.get("identifier", ""), password=form.get("password", ""),
        signer=signer(request), settings=settings, now=utcnow(),
    )  # fmt: skip
    if step.error is not None or step.sent is None:
        error = step.error or service.InvalidLogin("log in again")
        values = {"identifier": form.get("identifier", "")}
        context = {"problem": _problem(error), "next": target, "values": values}
        return _page(request, "login.html", context, status_code=error.status_code)
    session = read_portal_session(request)
    write_portal_session(
        request,
        {"n": session.get("n"), "ch": str(step.sent.challenge_id), "to": step.sent.sent_to,
         "next": target},
    )  # fmt: skip
    deliver_codes(request, settings, tasks, step.sent)
    return redirect("/my/login/verify")


def _pending_challenge(request: Request) -> uuid.UUID | None:
    raw = read_portal_session(request).get("ch")
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


@router.get("/login/verify", response_class=HTMLResponse)
def verify_page(request: Request) -> Response:
    public_page(request)
    if _pending_challenge(request) is None:
        return redirect("/my/login")
    return _page(request, "verify.html", {"sent_to": read_portal_session(request).get("to", "")})


@router.post("/login/verify")
def verify(request: Request, db: DbSession, settings: Settings, form: PortalForm) -> Response:
    public_page(request)
    challenge_id = _pending_challenge(request)
    if challenge_id is None:
        return redirect("/my/login")
    step = service.verify_login(
        db, challenge_id=challenge_id, code=form.get("code", ""), signer=signer(request),
        settings=settings, now=utcnow(),
    )  # fmt: skip
    session = read_portal_session(request)
    if step.error is not None or step.customer is None:
        error = step.error or service.CodeRejected("log in again")
        context = {"problem": _problem(error), "sent_to": session.get("to", "")}
        return _page(request, "verify.html", context, status_code=error.status_code)
    target = safe_next(str(session.get("next") or ""), "/my")
    write_portal_session(
        request,
        {"n": new_nonce(), "cid": str(step.customer.customer_id), "ep": step.customer.auth_epoch,
         "seen": int(time.time())},
    )  # fmt: skip
    return redirect(target)


@router.post("/login/resend")
def resend(
    request: Request, db: DbSession, settings: Settings, tasks: BackgroundTasks, form: PortalForm
) -> Response:
    public_page(request)
    challenge_id = _pending_challenge(request)
    if challenge_id is None:
        return redirect("/my/login")
    session = read_portal_session(request)
    try:
        sent = service.resend_code(
            db, challenge_id=challenge_id, signer=signer(request), settings=settings, now=utcnow()
        )
    except DomainError as exc:
        context = {"problem": _problem(exc), "sent_to": session.get("to", "")}
        return _page(request, "verify.html", context, status_code=exc.status_code)
    write_portal_session(request, {**session, "ch": str(sent.challenge_id)})
    deliver_codes(request, settings, tasks, sent)
    context = {"sent_to": sent.sent_to, "resent": True}
    return _page(request, "verify.html", context)


@router.get("/activate", response_class=HTMLResponse)
def activate_page(request: Request) -> Response:
    public_page(request)
    return _page(request, "activate.html", {"values": {}})


@router.post("/activate")
def activate(request: Request, db: DbSession, settings: Settings, form: PortalForm) -> Response:
    public_page(request)
    number = form.get("customer_number", "")
    try:
        step = service.activate(
            db, customer_number=number, code=form.get("code", ""),
            password=form.get("password", ""), signer=signer(request), settings=settings,
            now=utcnow(),
        )  # fmt: skip
    except DomainError as exc:  # a weak password: nothing was checked or written
        context = {"problem": _problem(exc), "values": {"customer_number": number}}
        return _page(request, "activate.html", context, status_code=exc.status_code)
    if step.error is not None or step.customer is None:
        error = step.error or service.CodeRejected("wrong code")
        context = {"problem": _problem(error), "values": {"customer_number": number}}
        return _page(request, "activate.html", context, status_code=error.status_code)
    return redirect("/my/login?activated=1")


@router.post("/logout")
def logout(request: Request, db: DbSession, customer: PageCustomer, form: PortalForm) -> Response:
    service.logout(db, customer=customer, now=utcnow())
    write_portal_session(request, {"n": new_nonce()})
    return redirect("/my/login")


# --- accounts and statements -------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(request: Request, db: DbSession, customer: PageCustomer, settings: Settings) -> Response:
    accounts = service.list_accounts(db, customer=customer)
    day = service.home_day(db, customer, utcnow())
    limits = [
        {
            "currency": c,
            "limit": service.daily_limit(db, customer=customer, currency=c, settings=settings),
            "used": service.used_today(db, customer=customer, currency=c, day=day),
        }
        for c in sorted({a.currency for a in accounts})
    ]
    context = {
        "accounts": accounts,
        "transfers": service.recent_transfers(db, customer=customer, limit=10),
        "limits": limits,
    }
    return _page(request, "home.html", context, customer=customer)


def _statement_query(
    request: Request, db: DbSession, customer: CustomerPrincipal, number: str
) -> tuple[StatementQuery | None, dict[str, str], str]:
    """The statement search of the page: amounts typed in major units of the account's currency."""
    params = request.query_params
    values = {k: params.get(k, "").strip() for k in ("from_on", "to_on", "text", "min", "max")}
    currency = service.owned_account(db, customer=customer, number=number).currency
    wanted: dict[str, object] = {k: values[k] for k in ("from_on", "to_on", "text") if values[k]}
    for key in ("min", "max"):
        if values[key]:
            try:
                wanted[f"{key}_amount_minor"] = parse_major(values[key], currency)
            except ValueError as exc:
                return None, values, f"{key}: {exc}"
    try:
        query = StatementQuery.model_validate(wanted)
    except ValidationError as exc:
        return None, values, "; ".join(str(e.get("msg", "")) for e in exc.errors())
    return query, values, ""


@router.get("/accounts/{number}", response_class=HTMLResponse)
def statement_page(
    request: Request, db: DbSession, customer: PageCustomer, number: str
) -> Response:
    query, values, problem = _statement_query(request, db, customer, number)
    data = service.statement(db, customer=customer, number=number, query=query or StatementQuery())
    context = {
        "statement": data,
        "values": values,
        "problem": {"code": "validation_error", "detail": problem} if problem else None,
        "export_query": str(request.url.query),
    }
    return _page(request, "statement.html", context, customer=customer,
                 status_code=422 if problem else 200)  # fmt: skip


@router.get("/accounts/{number}/statement.csv")
def statement_csv(request: Request, db: DbSession, customer: PageCustomer, number: str) -> Response:
    query, _values, problem = _statement_query(request, db, customer, number)
    if query is None:
        raise RuleViolation(problem, field="query")
    return csv_response(service.statement(db, customer=customer, number=number, query=query))


@router.get("/accounts/{number}/statement.pdf")
def statement_pdf(request: Request, db: DbSession, customer: PageCustomer, number: str) -> Response:
    query, _values, problem = _statement_query(request, db, customer, number)
    if query is None:
        raise RuleViolation(problem, field="query")
    data = service.statement(db, customer=customer, number=number, query=query)
    locale = getattr(request.state, "locale", customer.preferred_locale)
    return pdf_response(data, locale=locale, holder=customer.display_name)


# --- transfers ---------------------------------------------------------------------------------


def _transfer_page(
    request: Request,
    db: DbSession,
    customer: CustomerPrincipal,
    *,
    values: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    result: Any = None,
    status_code: int = 200,
) -> Response:
    context = {
        "accounts": service.list_accounts(db, customer=customer),
        "values": values or {},
        "problem": problem,
        "result": result,
        "key": uuid.uuid4().hex,  # a fresh retry key per form: a double submit replays
    }
    return _page(request, "transfer.html", context, customer=customer, status_code=status_code)


@router.get("/transfer", response_class=HTMLResponse)
def transfer_page(request: Request, db: DbSession, customer: PageCustomer) -> Response:
    return _transfer_page(request, db, customer, values=dict(request.query_params))


@router.post("/transfer")
def transfer(
    request: Request, db: DbSession, customer: PageCustomer, settings: Settings,
    compliance: Compliance, form: PortalForm,
) -> Response:  # fmt: skip
    values = {k: form.get(k, "") for k in ("from_account", "to_account", "amount", "memo")}
    try:
        source = service.owned_account(db, customer=customer, number=values["from_account"])
        amount = _parse_amount(values["amount"], source.currency)
        result = service.make_transfer(
            db, customer=customer, from_account=source.number, to_account=values["to_account"],
            amount_minor=amount, currency=source.currency,
            idempotency_key=service.transfer_key(customer, form.get("key") or uuid.uuid4().hex),
            memo=values["memo"][:140], now=utcnow(), compliance=compliance, settings=settings,
        )  # fmt: skip
    except DomainError as exc:
        refused(db, customer, "portal.transfer", exc, {"amount": values["amount"]})
        return _transfer_page(
            request, db, customer, values=values, problem=_problem(exc),
            status_code=exc.status_code,
        )  # fmt: skip
    return _transfer_page(request, db, customer, result=result)


# --- QR payment requests -----------------------------------------------------------------------


def _qr_page(
    request: Request, db: DbSession, customer: CustomerPrincipal, status_code: int = 200,
    **context: Any,
) -> Response:  # fmt: skip
    context.setdefault("values", {})
    context["accounts"] = service.list_accounts(db, customer=customer)
    return _page(request, "qr.html", context, customer=customer, status_code=status_code)


@router.get("/qr", response_class=HTMLResponse)
def qr_page(request: Request, db: DbSession, customer: PageCustomer) -> Response:
    return _qr_page(request, db, customer)


@router.post("/qr")
def qr_create(
    request: Request, db: DbSession, customer: PageCustomer, settings: Settings, form: PortalForm
) -> Response:
    values = {k: form.get(k, "") for k in ("account", "amount")}
    try:
        receiving = service.owned_account(db, customer=customer, number=values["account"])
        created = service.create_payment_request(
            db, customer=customer, account=values["account"],
            amount_minor=_parse_amount(values["amount"], receiving.currency),
            signer=signer(request),
            settings=settings, now=utcnow(),
        )  # fmt: skip
    except DomainError as exc:
        return _qr_page(request, db, customer, exc.status_code, values=values,
                        problem=_problem(exc))  # fmt: skip
    expires = local_minute(created.expires_at, home_zone(db, customer).key)
    return _qr_page(request, db, customer, created=created, expires_local=expires)


@router.post("/qr/pay")
def qr_pay(
    request: Request, db: DbSession, customer: PageCustomer, settings: Settings,
    compliance: Compliance, form: PortalForm,
) -> Response:  # fmt: skip
    values = {k: form.get(k, "") for k in ("payload", "from_account")}
    try:
        result = service.pay_payment_request(
            db, customer=customer, payload=values["payload"], from_account=values["from_account"],
            signer=signer(request), settings=settings, compliance=compliance, now=utcnow(),
        )  # fmt: skip
    except DomainError as exc:
        refused(db, customer, "portal.qr_payment", exc, {"from_account": values["from_account"]})
        return _qr_page(request, db, customer, exc.status_code, pay_values=values,
                        pay_problem=_problem(exc))  # fmt: skip
    return _qr_page(request, db, customer, paid=result)


# --- branch visits -----------------------------------------------------------------------------


def _visits_page(
    request: Request, db: DbSession, customer: CustomerPrincipal, status_code: int = 200,
    **context: Any,
) -> Response:  # fmt: skip
    params = request.query_params
    locale = getattr(request.state, "locale", "en")
    choices = visits.branch_choices(db, locale=locale)
    slot_branch = params.get("branch_code", "")
    slot_service = params.get("service_code", "")
    slots = []
    slot_day = params.get("on", "")
    if slot_branch and slot_day:
        try:
            slots = visits.list_slots(
                db, branch_code=slot_branch, on=date.fromisoformat(slot_day),
                service_code=slot_service,
            )  # fmt: skip
        except (ValueError, DomainError):
            slots = []
    services = {code: name for choice in choices for code, name in choice.services.items()}
    context.update(
        branches=choices,
        services=dict(sorted(services.items())),
        appointments=visits.my_appointments(db, customer=customer),
        slots=[s for s in slots if s.available > 0],
        slot_query={"branch_code": slot_branch, "service_code": slot_service, "on": slot_day},
        today=service.home_day(db, customer, utcnow()).isoformat(),
        reschedule=params.get("reschedule", ""),
    )
    return _page(request, "visits.html", context, customer=customer, status_code=status_code)


@router.get("/visits", response_class=HTMLResponse)
def visits_page(request: Request, db: DbSession, customer: PageCustomer) -> Response:
    return _visits_page(request, db, customer)


@router.post("/visits/ticket")
def take_ticket(
    request: Request, db: DbSession, customer: PageCustomer, form: PortalForm
) -> Response:
    branch_code, _, service_code = form.get("choice", "").partition("|")
    try:
        taken = visits.take_ticket(
            db, customer=customer, branch_code=branch_code or form.get("branch_code", ""),
            service_code=service_code or form.get("service_code", ""), now=utcnow(),
            estimator=waits(request),
        )  # fmt: skip
    except DomainError as exc:
        db.rollback()
        return _visits_page(request, db, customer, exc.status_code, problem=_problem(exc))
    return redirect(taken.url)


def _slot_id(form: dict[str, str]) -> uuid.UUID:
    try:
        return uuid.UUID(form.get("slot_id", ""))
    except ValueError as exc:
        raise RuleViolation("choose a time", field="slot_id") from exc


@router.post("/visits/appointments")
def book(request: Request, db: DbSession, customer: PageCustomer, form: PortalForm) -> Response:
    try:
        booked = visits.book(db, customer=customer, slot_id=_slot_id(form), now=utcnow())
    except DomainError as exc:
        db.rollback()
        return _visits_page(request, db, customer, exc.status_code, problem=_problem(exc))
    return _visits_page(request, db, customer, done=booked)


@router.post("/visits/appointments/{reference}/reschedule")
def reschedule(
    request: Request, db: DbSession, customer: PageCustomer, reference: str, form: PortalForm
) -> Response:
    try:
        moved = visits.reschedule(
            db, customer=customer, reference=reference, slot_id=_slot_id(form), now=utcnow()
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return _visits_page(request, db, customer, exc.status_code, problem=_problem(exc))
    return _visits_page(request, db, customer, done=moved)


@router.post("/visits/appointments/{reference}/cancel")
def cancel(
    request: Request, db: DbSession, customer: PageCustomer, reference: str, form: PortalForm
) -> Response:
    try:
        cancelled = visits.cancel(db, customer=customer, reference=reference, now=utcnow())
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return _visits_page(request, db, customer, exc.status_code, problem=_problem(exc))
    return _visits_page(request, db, customer, done=cancelled)


# --- notification settings ---------------------------------------------------------------------


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, db: DbSession, customer: PageCustomer) -> Response:
    chosen = service.get_preferences(db, customer_id=customer.customer_id, now=utcnow())
    return _page(request, "settings.html", {"chosen": chosen}, customer=customer)


@router.post("/settings")
def save_settings(
    request: Request, db: DbSession, customer: PageCustomer, form: PortalForm
) -> Response:
    data = NotificationSettings.model_validate(
        {name: form.get(name) == "on" for name in NotificationSettings.model_fields}
    )
    chosen = service.update_preferences(
        db, customer_id=customer.customer_id, data=data, now=utcnow()
    )
    return _page(request, "settings.html", {"chosen": chosen, "saved": True}, customer=customer)
