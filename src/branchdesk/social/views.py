"""Staff pages: posts (/social: list, draft, edit, submit, approve, reject, publish) and the
interaction log (/social/interactions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch
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
from branchdesk.identity.deps import PageUser, PostedForm
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.api import audited_refusal
from branchdesk.social import service
from branchdesk.social.channels import channels
from branchdesk.social.models import InteractionKind, PostState
from branchdesk.social.schemas import PostContent, PostCreate

router = APIRouter(include_in_schema=False)

ACTIONS = ("submit", "approve", "reject", "publish")
HOOKS = ("wechat", "line", "facebook", "generic")


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _content(form: dict[str, Any], timezone: str) -> dict[str, Any]:
    """Form fields as the API's values; the scheduled time is typed in the branch's local time."""
    values: dict[str, Any] = {
        key: _text(form, key) for key in ("channel", "title", "body", "link_url", "branch_code")
    }
    raw = _text(form, "scheduled_at")
    if raw:
        try:
            local = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise RuleViolation("enter a date and time", field="scheduled_at") from exc
        values["scheduled_at"] = local.replace(tzinfo=ZoneInfo(timezone))
    return values


def _channel_choices(locale: str) -> list[dict[str, str]]:
    return [{"code": c.code, "name": c.name(locale)} for c in channels().values()]


# --- list and draft -----------------------------------------------------------------------


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
    zones = {b.code: b.timezone for b in branches}
    branch_code = params.get("branch", "")
    branch_id = next((b.id for b in branches if b.code == branch_code), None)
    posts = service.list_posts(
        db, actor=principal, state=params.get("state") or None,
        channel=params.get("channel") or None, branch_id=branch_id,
    )  # fmt: skip
    rows = [
        {
            "post": p,
            "created": local_minute(p.created_at, zones.get(p.branch_code, "UTC")),
            "scheduled": local_minute(p.scheduled_at, zones.get(p.branch_code, "UTC")),
            "published": local_minute(p.published_at, zones.get(p.branch_code, "UTC")),
        }
        for p in service.post_reads(db, posts)
    ]
    locale = request_locale(request)
    return render(
        request,
        "social/posts.html",
        {
            "rows": rows,
            "branches": [b.code for b in branches],
            "states": [s.value for s in PostState],
            "channels": _channel_choices(locale),
            "channel_names": {c.code: c.name(locale) for c in channels().values()},
            "filters": {
                "state": params.get("state", ""),
                "channel": params.get("channel", ""),
                "branch": branch_code,
            },
            "can_draft": principal.can(Permission.social_draft),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/social", response_class=HTMLResponse)
def list_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    principal.require(Permission.social_view)
    return _list_page(request, db, principal)


@router.post("/social")
def create(request: Request, db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    principal.require(Permission.social_draft)
    code = _text(form, "branch_code").upper()
    branch = next((b for b in catalog.active_branches(db, actor=principal) if b.code == code), None)
    shown = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        values = _content(form, branch.timezone if branch else "UTC")
        data, errors = validate_form(PostCreate, {k: v for k, v in values.items() if v != ""})
        if data is None:
            return _list_page(request, db, principal, errors=errors, values=shown, status_code=422)
        with audited_refusal(
            db, actor=principal, action="social.post_create", detail={"channel": data.channel},
            object_type=service.AGGREGATE,
        ):  # fmt: skip
            post = service.create_post(db, data=data, actor=principal, now=utcnow())
    except DomainError as exc:
        return _list_page(
            request, db, principal, errors=refusal_errors(db, exc), values=shown,
            status_code=exc.status_code,
        )  # fmt: skip
    return redirect(f"/social/posts/{post.reference}?saved=1")


# --- one post -----------------------------------------------------------------------------


def _detail_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    reference: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    post = service.get_post(db, reference=reference, actor=principal)
    branch = db.get(Branch, post.branch_id)
    timezone = branch.timezone if branch else "UTC"
    read = service.post_reads(db, [post])[0]
    mine = post.drafted_by_id == principal.user_id
    locale = request_locale(request)
    interactions = service.list_interactions(
        db, actor=principal, filters=service.InteractionFilter(post_reference=post.reference)
    )
    can_draft = principal.can(Permission.social_draft, post.branch_id)
    can_approve = principal.can(Permission.social_approve, post.branch_id)
    return render(
        request,
        "social/post.html",
        {
            "post": read,
            "channel_name": channels()[read.channel].name(locale)
            if read.channel in channels()
            else read.channel,
            "channels": _channel_choices(locale),
            "timezone": timezone,
            "at": {
                "created": local_minute(read.created_at, timezone),
                "submitted": local_minute(read.submitted_at, timezone),
                "decided": local_minute(read.decided_at, timezone),
                "published": local_minute(read.published_at, timezone),
                "scheduled": local_minute(read.scheduled_at, timezone),
                "scheduled_input": read.scheduled_at.astimezone(ZoneInfo(timezone)).strftime(
                    "%Y-%m-%dT%H:%M"
                )
                if read.scheduled_at
                else "",
            },
            "interactions": [
                {"item": i, "at": local_minute(i.received_at, timezone)} for i in interactions
            ],
            "can_edit": can_draft and post.state in service.EDITABLE,
            "can_submit": can_draft and post.state == PostState.draft,
            "can_decide": can_approve and post.state == PostState.pending_approval and not mine,
            "is_maker": mine,
            "can_publish": can_draft and post.state == PostState.approved,
            "saved": request.query_params.get("saved") == "1",
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/social/posts/{reference}", response_class=HTMLResponse)
def detail_page(request: Request, db: DbSession, principal: PageUser, reference: str) -> Response:
    return _detail_page(request, db, principal, reference)


def _apply(
    db: DbSession, principal: Principal, reference: str, action: str, form: dict[str, Any]
) -> None:
    now = utcnow()
    if action == "edit":
        post = service.get_post(db, reference=reference, actor=principal)
        branch = db.get(Branch, post.branch_id)
        values = _content(form, branch.timezone if branch else "UTC")
        values.pop("branch_code", None)
        data, errors = validate_form(PostContent, {k: v for k, v in values.items() if v != ""})
        if data is None:
            field, message = next(iter(errors.items()))
            raise RuleViolation(message, field=field)
        service.update_post(db, reference=reference, data=data, actor=principal, now=now)
    elif action == "submit":
        service.submit_post(db, reference=reference, actor=principal, now=now)
    elif action == "approve":
        service.approve_post(
            db, reference=reference, actor=principal, now=now, note=_text(form, "note")
        )
    elif action == "reject":
        service.reject_post(
            db, reference=reference, actor=principal, now=now, note=_text(form, "note")
        )
    elif action == "publish":
        service.publish_post(db, reference=reference, actor=principal, now=now)
    else:
        raise RuleViolation(f"unknown action {action!r}", field="action")


@router.post("/social/posts/{reference}/{action}")
def act(
    request: Request,
    db: DbSession,
    principal: PageUser,
    reference: str,
    action: str,
    form: PostedForm,
) -> Response:
    deciding = action in ("approve", "reject")
    principal.require(Permission.social_approve if deciding else Permission.social_draft)
    name = "post_update" if action == "edit" else f"post_{action}"
    try:
        with audited_refusal(
            db, actor=principal, action=f"social.{name}", detail={"post": reference},
            object_type=service.AGGREGATE,
        ):  # fmt: skip
            _apply(db, principal, reference, action, form)
    except DomainError as exc:
        errors = refusal_errors(db, exc)
        shown = {k: v for k, v in form.items() if isinstance(v, str)}
        return _detail_page(
            request, db, principal, reference, errors=errors,
            values=shown if action == "edit" else None, status_code=exc.status_code,
        )  # fmt: skip
    return redirect(f"/social/posts/{reference}?saved=1")


# --- interaction log ----------------------------------------------------------------------


def _date(raw: str, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise RuleViolation("enter a date (YYYY-MM-DD)", field=field) from exc


@router.get("/social/interactions", response_class=HTMLResponse)
def interactions_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    principal.require(Permission.social_view)
    params = request.query_params
    branches = catalog.active_branches(db, actor=principal)
    zones = {b.code: b.timezone for b in branches}
    branch_code = params.get("branch", "")
    has_case = {"1": True, "0": False}.get(params.get("has_case", ""))
    errors: dict[str, str] = {}
    try:
        received_from = _date(params.get("from", ""), "from")
        received_to = _date(params.get("to", ""), "to")
    except RuleViolation as exc:
        errors[exc.field or "form"] = exc.detail
        received_from = received_to = None
    filters = service.InteractionFilter(
        hook=params.get("hook") or None,
        kind=params.get("kind") or None,
        post_reference=params.get("post") or None,
        branch_id=next((b.id for b in branches if b.code == branch_code), None),
        has_case=has_case,
        received_from=received_from,
        received_to=received_to,
    )
    items = service.list_interactions(db, actor=principal, filters=filters)
    return render(
        request,
        "social/interactions.html",
        {
            "rows": [
                {"item": i, "at": local_minute(i.received_at, zones.get(i.branch_code, "UTC"))}
                for i in items
            ],
            "hooks": HOOKS,
            "kinds": [k.value for k in InteractionKind],
            "branches": [b.code for b in branches],
            "filters": {
                "hook": params.get("hook", ""),
                "kind": params.get("kind", ""),
                "post": params.get("post", ""),
                "branch": branch_code,
                "has_case": params.get("has_case", ""),
                "from": params.get("from", ""),
                "to": params.get("to", ""),
            },
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )
