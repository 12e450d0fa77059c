"""HTML pages: log in and out, home, language switch, password change, staff users, audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from branchdesk.catalog.service import list_branches
from branchdesk.core.clock import utcnow
from branchdesk.core.config import SUPPORTED_LOCALES
from branchdesk.core.errors import DomainError
from branchdesk.core.web import (
    LANG_COOKIE,
    DbSession,
    redirect,
    render,
    safe_next,
    validate_form,
)
from branchdesk.identity import service
from branchdesk.identity.api import login_policy
from branchdesk.identity.audit import list_entries, verify_chain
from branchdesk.identity.deps import (
    SESSION_COOKIE,
    PageUser,
    PostedForm,
    attach_pending_cookie,
    ensure_session_nonce,
    settings,
    write_session_cookie,
)
from branchdesk.identity.models import User
from branchdesk.identity.roles import Permission, Role
from branchdesk.identity.schemas import UserCreate, UserUpdate

router = APIRouter(include_in_schema=False)


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    ensure_session_nonce(request)
    response = render(request, "login.html", {"next": safe_next(next), "error": None})
    return attach_pending_cookie(request, response)


@router.post("/login")
def login(request: Request, db: DbSession, form: PostedForm) -> Response:
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "/")))
    result = service.authenticate(
        db, username=username, password=password, now=utcnow(), policy=login_policy(request)
    )
    if result.error is not None or result.principal is None:
        db.commit()  # keep the failed-attempt counter, lock and audit row
        ensure_session_nonce(request)
        error = result.error.code if result.error else "invalid_credentials"
        status = result.error.status_code if result.error else 401
        return render(
            request,
            "login.html",
            {"next": next_url, "error": error, "username": username},
            status_code=status,
        )
    user = db.get(User, result.principal.user_id)
    assert user is not None
    response = redirect(next_url)
    from branchdesk.core.security import new_nonce

    write_session_cookie(
        request, response, {"uid": str(user.id), "ep": user.auth_epoch, "n": new_nonce()}
    )
    if user.preferred_locale and not request.cookies.get(LANG_COOKIE):
        response.set_cookie(LANG_COOKIE, user.preferred_locale, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, principal: PageUser, form: PostedForm) -> Response:
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{locale}")
def switch_language(request: Request, locale: str, next: str = "/") -> Response:
    target = safe_next(next)
    response: Response = RedirectResponse(target, status_code=303)
    if locale in SUPPORTED_LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DbSession, principal: PageUser) -> Response:
    branches = list_branches(db, actor=principal)
    return render(
        request,
        "home.html",
        {
            "branches": [
                {"code": b.code, "names": (b.name_zh_hant, b.name_zh_hans, b.name_en)}
                for b in branches
            ],
            "role": principal.role,
        },
    )


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, principal: PageUser, saved: int = 0) -> Response:
    return render(request, "account/password.html", {"errors": {}, "saved": bool(saved)})


@router.post("/account/password")
def password_change(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    new_password = str(form.get("new_password", ""))
    errors: dict[str, str] = {}
    if new_password != str(form.get("confirm_password", "")):
        errors["confirm_password"] = "the two new passwords differ"
    else:
        try:
            user = service.change_password(
                db,
                actor=principal,
                current_password=str(form.get("current_password", "")),
                new_password=new_password,
                now=utcnow(),
                password_min_length=settings(request).password_min_length,
            )
        except DomainError as exc:
            db.rollback()
            errors[exc.field or "form"] = exc.detail
        else:
            response = redirect("/account/password?saved=1")
            session = dict(getattr(request.state, "session", {}) or {})
            session["ep"] = user.auth_epoch  # this browser stays logged in; others are signed out
            write_session_cookie(request, response, session)
            return response
    return render(
        request, "account/password.html", {"errors": errors, "saved": False}, status_code=422
    )


# --- staff users ---------------------------------------------------------------------------


def _user_form_context(db: DbSession, principal: PageUser) -> dict[str, object]:
    return {
        "roles": [r.value for r in Role],
        "branches": [b.code for b in list_branches(db, actor=principal)],
    }


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    now = utcnow()
    users = [service.to_read(db, u, now=now) for u in service.list_users(db, actor=principal)]
    return render(
        request,
        "users/list.html",
        {"users": users, "can_manage": principal.can(Permission.user_manage)},
    )


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    principal.require(Permission.user_manage)
    return render(
        request,
        "users/new.html",
        {"errors": {}, "values": {}, **_user_form_context(db, principal)},
    )


@router.post("/admin/users/new")
def create_user(request: Request, db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    principal.require(Permission.user_manage)
    values: dict[str, object] = dict(form)
    values["branch_codes"] = _as_list(form.get("branch_codes"))
    values["preferred_locale"] = form.get("preferred_locale") or None
    data, errors = validate_form(UserCreate, values)
    if data is not None:
        try:
            user = service.create_user(
                db,
                data=data,
                actor=principal,
                now=utcnow(),
                password_min_length=settings(request).password_min_length,
            )
        except DomainError as exc:
            db.rollback()
            errors = {exc.field or "form": exc.detail}
        else:
            return redirect(f"/admin/users/{user.username}?saved=1")
    values.pop("password", None)
    return render(
        request,
        "users/new.html",
        {"errors": errors, "values": values, **_user_form_context(db, principal)},
        status_code=422 if errors else 200,
    )


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(
    request: Request, db: DbSession, principal: PageUser, username: str, saved: int = 0
) -> Response:
    user = service.to_read(
        db, service.get_user(db, username=username, actor=principal), now=utcnow()
    )
    return render(
        request,
        "users/edit.html",
        {
            "user": user,
            "errors": {},
            "saved": bool(saved),
            "can_manage": principal.can(Permission.user_manage),
            **_user_form_context(db, principal),
        },
    )


@router.post("/admin/users/{username}")
def update_user(
    request: Request, db: DbSession, principal: PageUser, username: str, form: PostedForm
) -> Response:
    principal.require(Permission.user_manage)
    values = {
        "display_name": form.get("display_name") or None,
        "role": form.get("role") or None,
        "branch_codes": _as_list(form.get("branch_codes")),
        "is_active": form.get("is_active") == "on",
        "preferred_locale": form.get("preferred_locale") or None,
        "unlock": form.get("unlock") == "on",
    }
    data, errors = validate_form(UserUpdate, values)
    if data is not None:
        try:
            service.update_user(db, username=username, data=data, actor=principal, now=utcnow())
        except DomainError as exc:
            db.rollback()
            errors = {exc.field or "form": exc.detail}
        else:
            return redirect(f"/admin/users/{username}?saved=1")
    user = service.to_read(
        db, service.get_user(db, username=username, actor=principal), now=utcnow()
    )
    return render(
        request,
        "users/edit.html",
        {
            "user": user,
            "errors": errors,
            "saved": False,
            "can_manage": True,
            **_user_form_context(db, principal),
        },
        status_code=422,
    )


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    db: DbSession,
    principal: PageUser,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    verify: int = 0,
) -> Response:
    principal.require(Permission.audit_view)
    entries = list_entries(db, before_seq=before_seq, action=action or None, limit=100)
    report = verify_chain(db) if verify else None
    return render(
        request,
        "audit/list.html",
        {
            "entries": [
                {
                    "seq": e.seq,
                    "occurred_at": e.occurred_at,
                    "actor": e.actor_label,
                    "action": e.action,
                    "object": f"{e.object_type}:{e.object_id or ''}",
                    "outcome": e.outcome,
                    "detail": e.detail,
                }
                for e in entries
            ],
            "action": action or "",
            "report": report,
            "next_before": entries[-1].seq if len(entries) == 100 else None,
        },
    )
