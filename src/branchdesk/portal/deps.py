"""Who is calling the portal: the customer's own session cookie (pages, with CSRF and idle
expiry) or a customer bearer token (mobile API). Staff sessions and tokens never count here,
and customer ones never count on staff routes (other cookie name; tokens without ``uid``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute

from branchdesk.core.errors import Forbidden, Unauthorized
from branchdesk.core.security import Signer, new_nonce
from branchdesk.core.web import DbSession, redirect, request_locale
from branchdesk.portal.config import PortalSettings, get_portal_settings
from branchdesk.portal.service import CustomerPrincipal, load_customer_principal

PORTAL_COOKIE = "bd_portal"
TOKEN_TYPE = "customer"
LOCALES = ("zh-Hant", "zh-Hans", "en")


class PortalLoginRequired(Exception):
    """No (or an idle-expired) customer session: answered with a redirect to /my/login."""


def signer(request: Request) -> Signer:
    value: Signer = request.app.state.signer
    return value


def portal_settings(request: Request) -> PortalSettings:
    configured: PortalSettings | None = getattr(request.app.state, "portal_settings", None)
    return configured if configured is not None else get_portal_settings()


Settings = Annotated[PortalSettings, Depends(portal_settings)]

# --- the session cookie ------------------------------------------------------------------------


def read_portal_session(request: Request) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(request.state, "portal_session", None)
    if cached is not None:
        return cached
    settings = portal_settings(request)
    raw = request.cookies.get(PORTAL_COOKIE)
    data: dict[str, Any] = {}
    if raw:
        loaded = signer(request).load_session(raw, max_age_seconds=settings.session_hours * 3600)
        if loaded and loaded.get("k") == "portal":
            data = loaded
    seen = data.get("seen")
    if isinstance(seen, int) and time.time() - seen > settings.idle_minutes * 60:
        data = {"k": "portal", "n": data.get("n") or new_nonce()}  # idle too long: logged out
        request.state.portal_cookie = signer(request).dump_session(data)
    request.state.portal_session = data
    return data


def write_portal_session(request: Request, data: dict[str, Any]) -> None:
    """Replace the session (sent with the response by ``PortalRoute``)."""
    data = {"k": "portal", **data}
    request.state.portal_session = data
    request.state.portal_cookie = signer(request).dump_session(data)


def ensure_nonce(request: Request) -> str:
    session = read_portal_session(request)
    nonce = session.get("n")
    if not isinstance(nonce, str) or not nonce:
        nonce = new_nonce()
        write_portal_session(request, {**session, "n": nonce})
    request.state.csrf_token = signer(request).csrf_token(nonce)
    return nonce


def attach_portal_cookie(request: Request, response: Response) -> None:
    pending = getattr(request.state, "portal_cookie", None)
    if not pending:
        return
    settings = portal_settings(request)
    response.set_cookie(
        PORTAL_COOKIE,
        pending,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/my",
    )


class PortalRoute(APIRoute):
    """Pages of /my: a missing session redirects to the portal's login, and the refreshed
    session cookie (idle timer, nonce) goes out with every answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except PortalLoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = redirect(f"/my/login?next={quote(target)}")
            attach_portal_cookie(request, response)
            return response

        return handler


def page_locale(request: Request, customer: CustomerPrincipal | None = None) -> str:
    chosen = request.cookies.get("bd_lang")
    if chosen in LOCALES:
        return chosen
    if customer is not None and customer.preferred_locale in LOCALES:
        return customer.preferred_locale
    return request_locale(request)


def page_customer(request: Request, db: DbSession) -> CustomerPrincipal:
    session = read_portal_session(request)
    ensure_nonce(request)
    cid, epoch = session.get("cid"), session.get("ep")
    customer = None
    if isinstance(cid, str) and isinstance(epoch, int):
        try:
            customer = load_customer_principal(db, customer_id=uuid.UUID(cid), auth_epoch=epoch)
        except ValueError:
            customer = None
    request.state.locale = page_locale(request, customer)
    if customer is None:
        raise PortalLoginRequired()
    write_portal_session(request, {**session, "seen": int(time.time())})
    request.state.customer = customer
    return customer


def public_page(request: Request) -> None:
    """Login and activation pages: a nonce for their forms, the visitor's language."""
    ensure_nonce(request)
    request.state.locale = page_locale(request)


async def portal_form(request: Request) -> dict[str, str]:
    """The posted form after the CSRF check against the portal session's nonce."""
    form = await request.form()
    nonce = read_portal_session(request).get("n")
    token = form.get("csrf_token")
    if not isinstance(nonce, str) or not isinstance(token, str):
        raise Forbidden("this form expired; reload the page and try again", code="csrf_failed")
    if not signer(request).check_csrf(nonce, token):
        raise Forbidden("this form expired; reload the page and try again", code="csrf_failed")
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


PageCustomer = Annotated[CustomerPrincipal, Depends(page_customer)]
PortalForm = Annotated[dict[str, str], Depends(portal_form)]


# --- bearer tokens -----------------------------------------------------------------------------


def issue_token(request: Request, customer: CustomerPrincipal) -> str:
    return signer(request).dump_token(
        {"typ": TOKEN_TYPE, "cid": str(customer.customer_id), "ep": customer.auth_epoch}
    )


def api_customer(request: Request, db: DbSession) -> CustomerPrincipal:
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw:
        raise Unauthorized("send a customer bearer token (POST /api/v1/portal/login)")
    max_age = portal_settings(request).token_minutes * 60
    data = signer(request).load_token(raw.strip(), max_age_seconds=max_age)
    if not data:
        raise Unauthorized("the access token is invalid or expired", code="invalid_token")
    if data.get("typ") != TOKEN_TYPE:
        raise Forbidden("staff tokens are not accepted by the customer API", code="wrong_token")
    try:
        customer_id = uuid.UUID(str(data.get("cid")))
        epoch = int(data.get("ep", -1))
    except (TypeError, ValueError) as exc:
        raise Unauthorized("the access token is invalid", code="invalid_token") from exc
    customer = load_customer_principal(db, customer_id=customer_id, auth_epoch=epoch)
    if customer is None:
        raise Unauthorized("the access token was revoked", code="invalid_token")
    request.state.customer = customer
    return customer


ApiCustomer = Annotated[CustomerPrincipal, Depends(api_customer)]
