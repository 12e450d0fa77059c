"""HTML of counter transactions: the console's forms, the teller workspace page, receipts.

The forms are part of the teller console (``queue/console.html`` includes
``teller/_panel.html``). A transaction that goes through redirects back to the console, where the
ticket's postings show their status (posted, waiting for approval, held for review); a refused
one renders the workspace page with the reason (422) after the ledger has audited the refusal.
"""

from __future__ import annotations

import uuid
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, Counter
from branchdesk.core import i18n
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, Forbidden, NotFound, Unauthorized
from branchdesk.core.web import DbSession, redirect, render, request_locale
from branchdesk.identity.deps import PageUser, PostedForm, signer
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.api import audited_refusal, compliance_check
from branchdesk.teller import service
from branchdesk.teller.schemas import CounterForm

router = APIRouter(include_in_schema=False)


def _form(form: dict[str, str | list[str]]) -> CounterForm:
    values = {k: (v if isinstance(v, str) else (v[0] if v else "")) for k, v in form.items()}
    fields = CounterForm.model_fields
    return CounterForm(
        **{k: v[: (_max_length(k) or 200)] for k, v in values.items() if k in fields}
    )


def _max_length(name: str) -> int | None:
    for item in CounterForm.model_fields[name].metadata:
        length = getattr(item, "max_length", None)
        if length is not None:
            return int(length)
    return None


def _place(
    db: DbSession, principal: Principal, branch_code: str, counter_code: str
) -> tuple[Branch, Counter]:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.queue_serve, branch.id)
    counter = catalog.get_counter(db, branch=branch, counter_code=counter_code)
    return branch, counter


def _workspace(
    request: Request,
    db: DbSession,
    principal: Principal,
    branch: Branch,
    counter: Counter,
    *,
    ticket_id: uuid.UUID | None,
    problem: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    panel = service.console_panel(
        db, actor=principal, branch=branch, counter=counter, ticket_id=ticket_id
    )
    return render(
        request,
        "teller/workspace.html",
        {
            "branch": {
                "code": branch.code,
                "name": i18n.localized(branch.name_zh_hant, branch.name_zh_hans, branch.name_en),
            },
            "counter": {"code": counter.code, "name": counter.name},
            "teller": panel,
            "teller_problem": problem,
        },
        status_code=status_code,
    )


def _ticket_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@router.get("/teller/{branch_code}/{counter_code}", response_class=HTMLResponse)
def workspace_page(
    request: Request, db: DbSession, principal: PageUser, branch_code: str, counter_code: str
) -> Response:
    i18n.set_locale(getattr(request.state, "locale", None) or request_locale(request))
    branch, counter = _place(db, principal, branch_code, counter_code)
    principal.require(Permission.account_view, branch.id)
    ticket_id = service.serving_ticket_id(db, counter=counter)
    return _workspace(request, db, principal, branch, counter, ticket_id=ticket_id)


@router.post("/teller/{branch_code}/{counter_code}/{action}")
def counter_action(
    request: Request,
    db: DbSession,
    principal: PageUser,
    branch_code: str,
    counter_code: str,
    action: str,
    form: PostedForm,
) -> Response:
    if action != "identify" and action not in service.ACTIONS:
        raise NotFound(f"no counter action {action!r}")
    branch, counter = _place(db, principal, branch_code, counter_code)
    data = _form(form)
    now = utcnow()
    console = f"/console/{branch.code}/{counter.code}"
    try:
        if action == "identify":
            service.identify_customer(
                db, actor=principal, branch=branch, counter=counter, ticket_id=data.ticket_id,
                query=data.query, pii=signer(request), now=now,
            )  # fmt: skip
            return redirect(f"{console}#teller")
        detail: dict[str, Any] = {
            "counter": counter.code, "ticket": data.ticket_id, "account": data.account,
            "amount": data.amount, "currency": data.currency,
            "idempotency_key": data.idempotency_key,
        }  # fmt: skip
        with audited_refusal(db, actor=principal, action=f"counter.{action}", detail=detail):
            service.counter_transaction(
                db, actor=principal, branch=branch, counter=counter, action=action, data=data,
                compliance=compliance_check(request), now=now,
            )  # fmt: skip
    except (Forbidden, Unauthorized):
        raise
    except DomainError as exc:
        db.rollback()
        problem = {"code": exc.code, "field": exc.field or "", "detail": exc.detail}
        return _workspace(
            request, db, principal, branch, counter,
            ticket_id=_ticket_or_none(data.ticket_id), problem=problem, status_code=422,
        )  # fmt: skip
    return redirect(f"{console}#teller")


@router.get("/receipts/{posting_id}", response_class=HTMLResponse)
def receipt_page(
    request: Request, db: DbSession, principal: PageUser, posting_id: uuid.UUID
) -> Response:
    staff_locale = getattr(request.state, "locale", None) or request_locale(request)
    found = service.receipt(
        db, actor=principal, posting_id=posting_id, fallback_locale=staff_locale
    )
    request.state.locale = found.locale  # the customer's language, not the teller's
    names = dict(zip(("zh-Hant", "zh-Hans", "en"), found.branch_names, strict=True))
    qr = segno.make(found.reference, error="m").svg_inline(scale=4, border=2)
    return render(
        request,
        "teller/receipt.html",
        {"receipt": found, "branch_name": names[found.locale], "qr_svg": qr},
    )
