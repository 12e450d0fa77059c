"""Web plumbing shared by every domain: the session dependency, templates, errors, middleware."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from branchdesk.core import i18n
from branchdesk.core.config import SUPPORTED_LOCALES
from branchdesk.core.db import Database
from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.money import format_money

log = logging.getLogger("branchdesk.web")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
LANG_COOKIE = "bd_lang"


# --- database session per request -------------------------------------------------------------


async def _db_session(request: Request) -> AsyncIterator[Session]:
    """A session per request, committed at its end. Opening a session does no I/O, so it
    opens here on the event loop; the commit (or rollback) and close run in the thread pool in
    one step: a sync route costs one thread hop for its session instead of two.

    The request first passes the database's gate (``Database.request_gate``), so no more
    requests hold sessions than the connection pool can serve: the rest wait on the event loop,
    not in threads."""
    database: Database = request.app.state.database
    threads = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
    gate = database.request_gate(threads)
    if gate is not None:
        await gate.acquire()
    try:
        session = database.sessionmaker()
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):  # the connection goes back even when cancelled
                await run_in_threadpool(_finish, session, commit=False)
            raise
        await run_in_threadpool(_finish, session, commit=True)
    finally:
        if gate is not None:
            gate.release()


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": commit before the response is sent, so a failed commit is never a 2xx.
DbSession = Annotated[Session, Depends(_db_session, scope="function")]


# --- locale -----------------------------------------------------------------------------------


def request_locale(request: Request) -> str:
    """The cookie's choice, else Accept-Language (zh-TW/HK: zh-Hant, zh-CN: zh-Hans, else en)."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in SUPPORTED_LOCALES:
        return chosen
    default = getattr(request.app.state, "default_locale", "en")
    return i18n.negotiate(request.headers.get("accept-language"), default)


# --- templates --------------------------------------------------------------------------------


def _money_filter(minor: int, currency: str) -> str:
    return format_money(minor, currency)


def build_templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["money"] = _money_filter
    env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    env.globals["localized"] = i18n.localized
    env.globals["work_areas"] = _work_areas
    env.globals["branch_areas"] = _branch_areas
    return env


def _work_areas(principal: Any) -> list[Any]:
    """The header's links for this user (the list lives with the permission table)."""
    from branchdesk.identity.navigation import work_areas

    return list(work_areas(principal))


def _branch_areas(principal: Any) -> list[Any]:
    """Links to pages of one branch (incidents, training) this user may open."""
    from branchdesk.identity.navigation import branch_areas

    return list(branch_areas(principal))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page in the request's language. Templates get plain values, never ORM objects."""
    locale = getattr(request.state, "locale", None) or request_locale(request)
    i18n.set_locale(locale)
    folder, _sep, _name = template.rpartition("/")
    i18n.set_domain(folder.split("/", 1)[0] if folder else None)
    env: Environment = request.app.state.templates
    values: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "request_path": request.url.path,
        "request_id": request_id_var.get(),
    }
    if context:
        values.update(context)
    html = env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


def redirect(url: str, status_code: int = 303) -> RedirectResponse:
    return RedirectResponse(url, status_code=status_code)


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    return url


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={quote(target)}")


# --- errors -----------------------------------------------------------------------------------


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/readyz")


LOCATIONS = frozenset({"body", "query", "path", "header", "cookie", "form"})


class LoginRequired(Exception):
    """Raised by HTML dependencies when nobody is logged in: answered with a redirect to /login."""


def _error_page(request: Request, status: int, code: str, detail: str) -> Response:
    try:
        return render(
            request,
            "error.html",
            {"status": status, "code": code, "detail": detail},
            status_code=status,
        )
    except Exception:  # the error page itself must never turn into a 500 loop
        log.exception("error page failed")
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if wants_json(request):
            body: dict[str, Any] = {"error": exc.code, "detail": exc.detail}
            if exc.field:
                body["field"] = exc.field
            return JSONResponse(body, status_code=exc.status_code, headers=headers)
        if exc.status_code == 401:
            return login_redirect(request)
        return _error_page(request, exc.status_code, exc.code, exc.detail)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = []
        for error in exc.errors():
            parts = [str(part) for part in error.get("loc", ())]
            where = parts.pop(0) if parts and parts[0] in LOCATIONS else "body"
            fields.append(
                {"field": ".".join(parts), "in": where, "message": str(error.get("msg", ""))}
            )
        if wants_json(request):
            return JSONResponse(
                {
                    "error": "validation_error",
                    "detail": "; ".join(f"{f['field']}: {f['message']}" for f in fields),
                    "field": fields[0]["field"] if fields else None,
                    "fields": fields,
                },
                status_code=422,
            )
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return _error_page(request, 422, "validation_error", detail)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        if wants_json(request):
            return JSONResponse(
                {"error": code, "detail": str(exc.detail)},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return _error_page(request, exc.status_code, code, str(exc.detail))

    async def login_required(request: Request, exc: Exception) -> Response:
        return login_redirect(request)

    async def database_busy(request: Request, exc: Exception) -> Response:
        # The pool had no connection free within its timeout: the request changed nothing
        # (its session never got a connection), so the client may simply try again.
        log.warning("database busy", extra={"request_id": request_id_var.get()})
        detail = "the database is busy; nothing was changed, try again shortly"
        if wants_json(request):
            return JSONResponse(
                {"error": "database_busy", "detail": detail},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        return _error_page(request, 503, "database_busy", detail)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"request_id": request_id_var.get()})
        if wants_json(request):
            return JSONResponse(
                {"error": "internal_error", "detail": f"request {request_id_var.get()} failed"},
                status_code=500,
            )
        return _error_page(request, 500, "internal_error", f"request {request_id_var.get()}")

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PoolTimeout, database_busy)
    app.add_exception_handler(Exception, unexpected)


# --- request ids, access log and metrics (pure ASGI, so streaming responses stay streaming) -----


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "branchdesk_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "branchdesk_http_request_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    """Request id (X-Request-ID in and out), one JSON access-log line, Prometheus metrics.

    Logs the route template, never the raw path or query: they may carry personal data.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        )
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line; only whitelisted fields, so personal data cannot leak in."""

    FIELDS = ("request_id", "method", "route", "status", "duration_ms", "consumer", "command")

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                body[name] = getattr(record, name)
        if "request_id" not in body and request_id_var.get() != "-":
            body["request_id"] = request_id_var.get()
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).handlers = []
        logging.getLogger(noisy).propagate = False
        logging.getLogger(noisy).disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


def validate_form(schema: type[Any], data: Mapping[str, Any]) -> tuple[Any, dict[str, str]]:
    """Build a schema from posted fields; on failure return the per-field messages instead."""
    try:
        return schema.model_validate(dict(data)), {}
    except ValidationError as exc:
        return None, form_errors(exc)


def form_errors(exc: ValidationError) -> dict[str, str]:
    """A schema's validation errors as a page shows them: the first message per top-level field
    (``"form"`` for the whole form)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ())) or "form"
        errors.setdefault(location.split(".")[0], str(error.get("msg", "invalid")))
    return errors


def refusal_errors(db: Session, exc: DomainError) -> dict[str, str]:
    """The form errors a page shows again for a refused post (``{field or "form": detail}``),
    after rolling back what the request wrote. Not logged in, forbidden and not found are not
    form errors: they are raised again for the error page."""
    if exc.status_code in (401, 403, 404):
        raise exc
    db.rollback()
    return {exc.field or "form": exc.detail}


Parsed = TypeVar("Parsed", bound=BaseModel)


def parse_form(schema: type[Parsed], data: Mapping[str, Any]) -> Parsed:
    """Build a schema from posted fields; the first bad field raises RuleViolation naming it
    (a 422, or the page's own message for it), where validate_form returns every message."""
    try:
        return schema.model_validate(dict(data))
    except ValidationError as exc:
        location = exc.errors()[0]["loc"]
        field = str(location[0]) if location else "form"
        raise RuleViolation(f"check {field}", field=field) from None
