"""Who is calling: bearer tokens for API clients, signed session cookies (with CSRF) for pages."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from branchdesk.core.config import Settings
from branchdesk.core.errors import Forbidden, Unauthorized
from branchdesk.core.security import Signer, new_nonce
from branchdesk.core.web import DbSession, LoginRequired, request_locale
from branchdesk.identity.principal import Principal
from branchdesk.identity.service import load_principal

SESSION_COOKIE = "bd_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def signer(request: Request) -> Signer:
    value: Signer = request.app.state.signer
    return value


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def read_session(request: Request) -> dict[str, Any]:
    """The signed session cookie's content ({} when absent, forged or expired)."""
    cached: dict[str, Any] | None = getattr(request.state, "session", None)
    if cached is not None:
        return cached
    raw = request.cookies.get(SESSION_COOKIE)
    data: dict[str, Any] = {}
    if raw:
        max_age = settings(request).session_hours * 3600
        data = signer(request).load_session(raw, max_age_seconds=max_age) or {}
    request.state.session = data
    return data


def ensure_session_nonce(request: Request, response: Response | None = None) -> str:
    """A per-browser random nonce that CSRF tokens are bound to (anonymous visitors too)."""
    session = read_session(request)
    nonce = session.get("n")
    if not isinstance(nonce, str) or not nonce:
        nonce = new_nonce()
        session = {"n": nonce}
        request.state.session = session
        request.state.new_session_cookie = signer(request).dump_session(session)
    request.state.csrf_token = signer(request).csrf_token(nonce)
    return nonce


def write_session_cookie(request: Request, response: Response, data: dict[str, Any]) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        signer(request).dump_session(data),
        max_age=settings(request).session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings(request).cookie_secure,
        path="/",
    )


def attach_pending_cookie(request: Request, response: Response) -> Response:
    pending = getattr(request.state, "new_session_cookie", None)
    if pending:
        response.set_cookie(
            SESSION_COOKIE,
            pending,
            max_age=settings(request).session_hours * 3600,
            httponly=True,
            samesite="lax",
            secure=settings(request).cookie_secure,
            path="/",
        )
    return response


def _from_session(request: Request, db: DbSession) -> Principal | None:
    session = read_session(request)
    uid, epoch = session.get("uid"), session.get("ep")
    if not isinstance(uid, str) or not isinstance(epoch, int):
        return None
    try:
        user_id = uuid.UUID(uid)
    except ValueError:
        return None
    return load_principal(db, user_id=user_id, auth_epoch=epoch)


def _from_bearer(request: Request, db: DbSession) -> Principal | None:
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw:
        return None
    max_age = settings(request).access_token_minutes * 60
    data = signer(request).load_token(raw.strip(), max_age_seconds=max_age)
    if not data:
        raise Unauthorized("the access token is invalid or expired", code="invalid_token")
    try:
        user_id = uuid.UUID(str(data.get("uid")))
    except ValueError as exc:
        raise Unauthorized("the access token is invalid", code="invalid_token") from exc
    principal = load_principal(db, user_id=user_id, auth_epoch=int(data.get("ep", -1)))
    if principal is None:
        raise Unauthorized("the access token was revoked", code="invalid_token")
    return principal


def api_principal(request: Request, db: DbSession) -> Principal:
    """Bearer token, or the browser session (unsafe methods then need the X-CSRF-Token header)."""
    principal = _from_bearer(request, db)
    if principal is None:
        principal = _from_session(request, db)
        if principal is not None and request.method not in SAFE_METHODS:
            nonce = read_session(request).get("n", "")
            if not signer(request).check_csrf(str(nonce), request.headers.get(CSRF_HEADER)):
                raise Forbidden("missing or wrong CSRF token", code="csrf_failed")
    if principal is None:
        raise Unauthorized("log in or send a bearer token")
    request.state.principal = principal
    return principal


def page_principal(request: Request, db: DbSession) -> Principal:
    """The logged-in staff user for an HTML page; otherwise a redirect to the login page."""
    principal = _from_session(request, db)
    if principal is None:
        raise LoginRequired()
    request.state.principal = principal
    ensure_session_nonce(request)
    request.state.locale = (
        request.cookies.get("bd_lang") or principal.preferred_locale or request_locale(request)
    )
    if request.state.locale not in ("zh-Hant", "zh-Hans", "en"):
        request.state.locale = request_locale(request)
    return principal


async def check_csrf_form(request: Request) -> None:
    """For HTML form posts: the hidden csrf_token must match the session's nonce."""
    form = await request.form()
    nonce = read_session(request).get("n")
    token = form.get("csrf_token")
    if not isinstance(nonce, str) or not isinstance(token, str):
        raise Forbidden("this form expired; reload the page and try again", code="csrf_failed")
    if not signer(request).check_csrf(nonce, token):
        raise Forbidden("this form expired; reload the page and try again", code="csrf_failed")


ApiUser = Annotated[Principal, Depends(api_principal)]
PageUser = Annotated[Principal, Depends(page_principal)]
CsrfChecked = Depends(check_csrf_form)


FormFields = dict[str, str | list[str]]


async def form_fields(request: Request) -> FormFields:
    """The posted form (repeated keys become lists) after the CSRF check."""
    await check_csrf_form(request)
    form = await request.form()
    fields: FormFields = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        if key == "csrf_token" or not values:
            continue
        fields[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
    return fields


def field_text(form: FormFields, name: str) -> str:
    """One posted field as text: the first value of a repeated key, stripped; "" when missing."""
    value = form.get(name, "")
    return (value if isinstance(value, str) else (value[0] if value else "")).strip()


PostedForm = Annotated[FormFields, Depends(form_fields)]
