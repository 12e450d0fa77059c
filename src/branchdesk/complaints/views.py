"""Staff pages (/complaints, /improvement-actions) and the public complaint form (/complain)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch
from branchdesk.complaints import actions, rules, service
from branchdesk.complaints.models import CaseChannel, CaseState, Severity
from branchdesk.complaints.present import case_detail, case_read, improvement_read
from branchdesk.complaints.schemas import CaseCreate
from branchdesk.core.clock import local_minute, utcnow
from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.web import (
    DbSession,
    redirect,
    refusal_errors,
    render,
    request_locale,
    validate_form,
)
from branchdesk.identity.deps import (
    PageUser,
    PostedForm,
    attach_pending_cookie,
    ensure_session_nonce,
)
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission

router = APIRouter(include_in_schema=False)

LOCALES = ("zh-Hant", "zh-Hans", "en")
STAFF_CHANNELS = ("counter", "phone", "email", "web", "chat")
STATE_ACTIONS = frozenset(rules.TRANSITIONS)


def _deadline(value: datetime | None, timezone: str) -> str:
    """A deadline is the local midnight ending its last day: show that day's 23:59."""
    return local_minute(value - timedelta(minutes=1), timezone) if value is not None else ""


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""


# --- list and create ----------------------------------------------------------------------


def _list_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    params = request.query_params
    branches = catalog.active_branches(db, actor=principal)
    by_id = {b.id: b for b in branches}
    branch_code = params.get("branch", "")
    branch_id = next((b.id for b in branches if b.code == branch_code), None)
    now = utcnow()
    filters = service.CaseFilter(
        state=params.get("state") or None,
        channel=params.get("channel") or None,
        branch_id=branch_id,
        overdue=params.get("overdue") == "1",
    )
    cases = service.list_cases(db, actor=principal, filters=filters, now=now)
    rows = []
    for case in cases:
        tz = by_id[case.branch_id].timezone if case.branch_id in by_id else "UTC"
        rows.append(
            {
                "case": case_read(case, now=now),
                "branch": by_id[case.branch_id].code if case.branch_id in by_id else "",
                "received": local_minute(case.received_at, tz),
                "final_due": _deadline(case.final_due_at, tz),
            }
        )
    return render(
        request,
        "complaints/list.html",
        {
            "rows": rows,
            "branches": [b.code for b in branches],
            "states": [s.value for s in CaseState],
            "channels": [c.value for c in CaseChannel],
            "staff_channels": STAFF_CHANNELS,
            "severities": [s.value for s in Severity],
            "locales": LOCALES,
            "filters": {
                "state": params.get("state", ""),
                "channel": params.get("channel", ""),
                "branch": branch_code,
                "overdue": params.get("overdue") == "1",
            },
            "can_handle": principal.can(Permission.complaint_handle),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/complaints", response_class=HTMLResponse)
def list_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    return _list_page(request, db, principal)


@router.post("/complaints")
def create(request: Request, db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    principal.require(Permission.complaint_handle)
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
    data, errors = validate_form(CaseCreate, values)
    if data is None:
        return _list_page(request, db, principal, errors=errors, values=values, status_code=422)
    try:
        case = service.open_case_for_staff(db, data=data, actor=principal, now=utcnow())
    except DomainError as exc:
        return _list_page(
            request, db, principal, errors=refusal_errors(db, exc), values=values,
            status_code=exc.status_code,
        )  # fmt: skip
    return redirect(f"/complaints/{case.reference}?saved=1")


# --- one case -----------------------------------------------------------------------------


def _detail_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    reference: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    case = service.get_case(db, reference=reference, actor=principal)
    branch = db.get(Branch, case.branch_id)
    tz = branch.timezone if branch else "UTC"
    now = utcnow()
    detail = case_detail(db, case, now=now)
    handlers = service.handlers_for_branch(db, branch_id=case.branch_id)
    return render(
        request,
        "complaints/detail.html",
        {
            "case": detail.case,
            "branch_code": branch.code if branch else "",
            "timeline": [
                {"entry": e, "at": local_minute(e.occurred_at, tz)} for e in detail.timeline
            ],
            "extensions": detail.extensions,
            "due": {
                "acknowledge": _deadline(case.acknowledge_due_at, tz),
                "interim": _deadline(case.interim_due_at, tz),
                "final": _deadline(case.final_due_at, tz),
            },
            "received": local_minute(case.received_at, tz),
            "timezone": tz,
            "handlers": [{"id": str(u.id), "name": u.display_name} for u in handlers],
            "categories": service.category_choices(),
            "can_handle": principal.can(Permission.complaint_handle, case.branch_id),
            "can_approve": principal.can(Permission.complaint_approve_extension, case.branch_id),
            "can_improve": principal.can(Permission.complaint_improve, case.branch_id),
            "user_id": str(principal.user_id),
            "saved": request.query_params.get("saved") == "1",
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/complaints/{reference}", response_class=HTMLResponse)
def detail_page(request: Request, db: DbSession, principal: PageUser, reference: str) -> Response:
    return _detail_page(request, db, principal, reference)


def _apply(
    db: DbSession, principal: Principal, reference: str, action: str, form: dict[str, Any]
) -> None:
    now = utcnow()
    if action in STATE_ACTIONS:
        with service.audited_refusal(
            db, actor=principal, action=f"complaint.{action}", object_id=reference
        ):
            service.transition(
                db, reference=reference, action=action, actor=principal, now=now,
                note=_text(form, "note"), root_cause=_text(form, "root_cause"),
                resolution=_text(form, "resolution"),
            )  # fmt: skip
    elif action == "assign":
        try:
            assignee_id = uuid.UUID(_text(form, "assignee_id"))
        except ValueError as exc:
            raise RuleViolation("choose a person", field="assignee_id") from exc
        service.assign(db, reference=reference, assignee_id=assignee_id, actor=principal, now=now)
    elif action == "reply":
        with service.audited_refusal(
            db, actor=principal, action="complaint.reply", object_id=reference
        ):
            service.reply(
                db, reference=reference, text=_text(form, "text"), actor=principal, now=now
            )
    elif action == "note":
        service.add_note(
            db, reference=reference, text=_text(form, "text"), actor=principal, now=now
        )
    elif action == "category":
        service.correct_category(
            db, reference=reference, category=_text(form, "category"), actor=principal, now=now
        )
    elif action == "complexity":
        service.set_complex(
            db, reference=reference, is_complex=_text(form, "is_complex") == "1",
            reason=_text(form, "reason"), actor=principal, now=now,
        )  # fmt: skip
    elif action == "extension":
        try:
            total_days = int(_text(form, "total_days"))
        except ValueError as exc:
            raise RuleViolation("give the total number of days", field="total_days") from exc
        service.request_extension(
            db, reference=reference, total_days=total_days, reason=_text(form, "reason"),
            actor=principal, now=now,
        )  # fmt: skip
    elif action in ("approve-extension", "reject-extension"):
        try:
            extension_id = uuid.UUID(_text(form, "extension_id"))
        except ValueError as exc:
            raise RuleViolation("no such extension request", field="extension_id") from exc
        with service.audited_refusal(
            db, actor=principal, action="complaint.extension_decide", object_id=reference
        ):
            service.decide_extension(
                db, reference=reference, extension_id=extension_id,
                approve=action == "approve-extension", actor=principal, now=now,
            )  # fmt: skip
    else:
        raise RuleViolation(f"unknown action {action!r}", field="action")


@router.post("/complaints/{reference}/{action}")
def act(
    request: Request,
    db: DbSession,
    principal: PageUser,
    reference: str,
    action: str,
    form: PostedForm,
) -> Response:
    principal.require(Permission.complaint_handle)
    try:
        _apply(db, principal, reference, action, form)
    except DomainError as exc:
        if exc.status_code in (401, 404) or (
            exc.status_code == 403 and exc.code != "maker_checker"
        ):
            raise
        db.rollback()
        return _detail_page(
            request, db, principal, reference, error=exc.detail, status_code=exc.status_code
        )
    return redirect(f"/complaints/{reference}?saved=1")


# --- improvement actions ------------------------------------------------------------------


def _actions_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    rows = [improvement_read(*row) for row in actions.list_actions(db, actor=principal)]
    return render(
        request,
        "complaints/actions.html",
        {
            "rows": rows,
            "can_improve": principal.can(Permission.complaint_improve),
            "statuses": ["open", "in_progress", "done", "cancelled"],
            "errors": errors or {},
            "values": values or {"case_reference": request.query_params.get("case", "")},
            "saved": request.query_params.get("saved") == "1",
        },
        status_code=status_code,
    )


@router.get("/improvement-actions", response_class=HTMLResponse)
def actions_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    return _actions_page(request, db, principal)


def _float(form: dict[str, Any], key: str) -> float | None:
    raw = _text(form, key).strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise RuleViolation("enter a number", field=key) from exc


@router.post("/improvement-actions")
def create_action(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    principal.require(Permission.complaint_improve)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        try:
            due_on = date.fromisoformat(_text(form, "due_on"))
        except ValueError as exc:
            raise RuleViolation("choose a due date", field="due_on") from exc
        actions.create_action(
            db, title=_text(form, "title"), owner_username=_text(form, "owner"), due_on=due_on,
            kpi=_text(form, "kpi"), actor=principal, now=utcnow(),
            case_reference=_text(form, "case_reference") or None, topic=_text(form, "topic"),
            baseline_value=_float(form, "baseline_value"),
        )  # fmt: skip
    except DomainError as exc:
        return _actions_page(
            request, db, principal, errors=refusal_errors(db, exc), values=values,
            status_code=exc.status_code,
        )  # fmt: skip
    return redirect("/improvement-actions?saved=1")


@router.post("/improvement-actions/{action_id}")
def update_action(
    request: Request, db: DbSession, principal: PageUser, action_id: uuid.UUID, form: PostedForm
) -> Response:
    principal.require(Permission.complaint_improve)
    try:
        actions.update_action(
            db, action_id=action_id, actor=principal, now=utcnow(),
            status=_text(form, "status") or None, measured_value=_float(form, "measured_value"),
        )  # fmt: skip
    except DomainError as exc:
        return _actions_page(
            request, db, principal, errors=refusal_errors(db, exc),
            status_code=exc.status_code,
        )  # fmt: skip
    return redirect("/improvement-actions?saved=1")


# --- the public form ----------------------------------------------------------------------


def _public_page(
    request: Request,
    db: DbSession,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ensure_session_nonce(request)
    branches = catalog.active_branches(db)
    response = render(
        request,
        "complaints/public_form.html",
        {
            "branches": [
                {"code": b.code, "names": (b.name_zh_hant, b.name_zh_hans, b.name_en)}
                for b in branches
            ],
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )
    return attach_pending_cookie(request, response)


@router.get("/complain", response_class=HTMLResponse)
def public_form(request: Request, db: DbSession) -> Response:
    return _public_page(request, db)


@router.post("/complain", response_class=HTMLResponse)
def public_submit(request: Request, db: DbSession, form: PostedForm) -> Response:
    """The CSRF token comes from the anonymous session the form page set."""
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        case = service.open_case_from_public_form(
            db, branch_code=values.get("branch_code", ""), subject=values.get("subject", ""),
            body=values.get("body", ""), contact_name=values.get("contact_name", ""),
            contact_email=values.get("contact_email", ""),
            contact_phone=values.get("contact_phone", ""), locale=request_locale(request),
            now=utcnow(),
        )  # fmt: skip
    except RuleViolation as exc:
        db.rollback()
        return _public_page(
            request, db, errors={exc.field or "form": exc.detail}, values=values, status_code=422
        )
    branch = db.get(Branch, case.branch_id)
    final_by = _deadline(case.final_due_at, branch.timezone if branch else "UTC")[:10]
    return render(
        request, "complaints/public_done.html", {"reference": case.reference, "final_by": final_by}
    )
