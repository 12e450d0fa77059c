"""HTML screens of the queue (kiosk, lobby display, teller console, phone page, lobby desk).

Public screens (kiosk, display, the customer's phone page, remote ticket) need no login and show
no staff names and no customer data. Staff screens (console, lobby desk) check the queue
permissions through the same service calls as the JSON API. Every screen follows the branch's
events over server-sent events (``/b/{code}/events``) and refreshes its live parts by fetching
its own page again, so what it shows is always rendered by the server in the viewer's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, CounterStatus
from branchdesk.core import i18n
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, NotFound, RuleViolation
from branchdesk.core.web import DbSession, redirect, render, request_locale, validate_form
from branchdesk.customers import service as customers
from branchdesk.feedback import service as feedback
from branchdesk.feedback.deps import survey_tokens
from branchdesk.identity.deps import (
    PageUser,
    PostedForm,
    attach_pending_cookie,
    ensure_session_nonce,
    signer,
)
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue import screens_support as screens
from branchdesk.queue import service
from branchdesk.queue.deps import feed, waits
from branchdesk.queue.live import EventFeed, FeedItem
from branchdesk.queue.models import Channel, Priority, Ticket, TicketState
from branchdesk.queue.schemas import CompleteIn, TicketCreate
from branchdesk.teller import service as teller

router = APIRouter(include_in_schema=False)

HEARTBEAT_SECONDS = 15.0
DISPLAY_CALLING = 3  # tickets the lobby display shows as "now calling" at most
OUTCOME_CODES = ("done", "follow_up", "referred", "documents_missing", "declined")
PRIORITIES = ("normal", "elderly", "vip", "appointment")
CONSOLE_ACTIONS = frozenset(
    {"open", "pause", "close", "call-next", "recall", "start", "complete", "no-show", "transfer",
     "park", "unpark"}
)  # fmt: skip
LOBBY_ACTIONS = frozenset({"cancel", "check-in", "rejoin", "unpark"})
_ERROR_CODES = {
    "branch_closed": "closed",
    "invalid_transition": "state",
    "counter_not_open": "counter_not_open",
    "counter_busy": "counter_busy",
}
_FIELD_CODES = {
    "service_code": "service",
    "priority": "priority",
    "counter_code": "counter",
    "target": "counter",
    "customer_id": "customer",
    "customer_number": "customer",
    "contact_phone": "phone",
    "outcome_code": "outcome",
    "ticket_id": "state",
}


# --- helpers ------------------------------------------------------------------------------------


def _public_locale(request: Request) -> None:
    """Public screens speak the visitor's language (cookie, else the browser's)."""
    request.state.locale = request_locale(request)
    i18n.set_locale(request.state.locale)  # service names are localized by the services


def _staff_locale(request: Request) -> None:
    i18n.set_locale(getattr(request.state, "locale", None) or request_locale(request))


def _problem(exc: DomainError) -> dict[str, str]:
    code = _ERROR_CODES.get(exc.code) or _FIELD_CODES.get(exc.field or "", "other")
    return {"code": code, "detail": exc.detail}


def _form_problem(errors: dict[str, str]) -> dict[str, str]:
    field, message = next(iter(errors.items()))
    return {"code": _FIELD_CODES.get(field, "other"), "detail": f"{field}: {message}"}


def _branch_values(branch: Branch) -> dict[str, str]:
    return {
        "code": branch.code,
        "name": i18n.localized(branch.name_zh_hant, branch.name_zh_hans, branch.name_en),
    }


def _text(form: dict[str, str | list[str]], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else (value[0] if value else "")


def _public_page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A public page with a form: give the anonymous visitor a CSRF nonce first."""
    ensure_session_nonce(request)
    response = render(request, template, context, status_code=status_code)
    return attach_pending_cookie(request, response)


def _checkin_code(request: Request, branch: Branch) -> str:
    return screens.checkin_code(signer(request), branch.id, catalog.business_day(branch, utcnow()))


# --- kiosk ----------------------------------------------------------------------------------


def _kiosk_context(request: Request, db: DbSession, branch: Branch) -> dict[str, Any]:
    snapshot = service.snapshot(db, branch=branch, now=utcnow(), estimator=waits(request))
    return {
        "branch": _branch_values(branch),
        "services": snapshot.services,
        "checkin_code": _checkin_code(request, branch),
        "live_src": f"/kiosk/{branch.code}",
        "events_url": f"/b/{branch.code}/events",
        "problem": None,
    }


@router.get("/kiosk/{branch_code}", response_class=HTMLResponse)
def kiosk_page(request: Request, db: DbSession, branch_code: str) -> Response:
    _public_locale(request)
    branch = catalog.get_branch_by_code(db, branch_code)
    return _public_page(request, "queue/kiosk.html", _kiosk_context(request, db, branch))


@router.post("/kiosk/{branch_code}/tickets")
def kiosk_issue(request: Request, db: DbSession, branch_code: str, form: PostedForm) -> Response:
    _public_locale(request)
    branch = catalog.get_branch_by_code(db, branch_code)
    values = {"service_code": _text(form, "service_code")}
    if _text(form, "priority") == "elderly":
        values["priority"] = Priority.elderly
    data, errors = validate_form(TicketCreate, values)
    problem, status = (_form_problem(errors), 422) if errors else (None, 200)
    if data is not None:
        try:
            ticket = service.issue_ticket(
                db, branch=branch, service_code=data.service_code, channel=Channel.kiosk,
                now=utcnow(), priority=data.priority, estimator=waits(request),
            )  # fmt: skip
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            db.rollback()
            problem, status = _problem(exc), exc.status_code
        else:
            return _printed_ticket(request, db, branch, ticket)
    context = _kiosk_context(request, db, branch)
    context["problem"] = problem
    return _public_page(request, "queue/kiosk.html", context, status_code=status)


def _printed_ticket(request: Request, db: DbSession, branch: Branch, ticket: Ticket) -> Response:
    read = service.ticket_read(db, ticket=ticket, now=utcnow(), estimator=waits(request))
    base = str(request.base_url).rstrip("/")
    link = base + read.public_url
    return render(
        request,
        "queue/kiosk_ticket.html",
        {
            "branch": _branch_values(branch),
            "ticket": read,
            "phone_link": link,
            "qr": screens.qr_svg(link),
            "survey_qr": screens.qr_svg(
                base + feedback.survey_link(survey_tokens(request), ticket.id)
            ),
        },
    )


# --- lobby display --------------------------------------------------------------------------


@router.get("/display/{branch_code}", response_class=HTMLResponse)
def display_page(request: Request, db: DbSession, branch_code: str) -> Response:
    _public_locale(request)
    branch = catalog.get_branch_by_code(db, branch_code)
    snapshot = screens.public_snapshot(
        service.snapshot(db, branch=branch, now=utcnow(), estimator=waits(request))
    )
    # "Now calling" is a ticket whose counter still waits for the customer (newest call first,
    # others that wait too beside it); once served or gone it moves to the recent calls.
    waiting = [c for c in snapshot.recent_calls if c.state == TicketState.called]
    shown = waiting[:DISPLAY_CALLING]
    return render(
        request,
        "queue/display.html",
        {
            "branch": _branch_values(branch),
            "snapshot": snapshot,
            "now_calling": shown[0] if shown else None,
            "also_calling": shown[1:],
            "recent_calls": [c for c in snapshot.recent_calls if c not in shown][:6],
            "checkin_code": _checkin_code(request, branch),
            "live_src": f"/display/{branch.code}",
            "events_url": f"/b/{branch.code}/events",
        },
    )


# --- the customer's phone page and the remote (virtual queue) ticket ------------------------


def _phone_page(
    request: Request,
    db: DbSession,
    token: str,
    problem: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ticket = service.get_ticket_by_token(db, token)
    branch = screens.ticket_branch(db, ticket)
    read = service.ticket_read(db, ticket=ticket, now=utcnow(), estimator=waits(request))
    return _public_page(
        request,
        "queue/phone.html",
        {
            "branch": _branch_values(branch),
            "ticket": read,
            "token": token,
            "needs_checkin": read.state == TicketState.waiting and ticket.checked_in_at is None,
            "can_cancel": read.state in (TicketState.waiting, TicketState.parked),
            "survey_url": feedback.survey_link(survey_tokens(request), ticket.id)
            if read.state == TicketState.completed
            else None,
            "problem": problem,
            "live_src": f"/t/{token}",
            "events_url": f"/b/{branch.code}/events",
        },
        status_code=status_code,
    )


@router.get("/t/{token}", response_class=HTMLResponse)
def phone_page(request: Request, db: DbSession, token: str) -> Response:
    _public_locale(request)
    return _phone_page(request, db, token)


@router.post("/t/{token}/cancel")
def phone_cancel(request: Request, db: DbSession, token: str, form: PostedForm) -> Response:
    _public_locale(request)
    ticket = service.get_ticket(db, service.get_ticket_by_token(db, token).id, lock=True)
    try:
        service.cancel(db, ticket=ticket, now=utcnow(), estimator=waits(request))
    except DomainError as exc:
        db.rollback()
        return _phone_page(request, db, token, _problem(exc), exc.status_code)
    return redirect(f"/t/{token}")


@router.post("/t/{token}/check-in")
def phone_check_in(request: Request, db: DbSession, token: str, form: PostedForm) -> Response:
    _public_locale(request)
    ticket = service.get_ticket(db, service.get_ticket_by_token(db, token).id, lock=True)
    branch = screens.ticket_branch(db, ticket)
    day = catalog.business_day(branch, utcnow())
    if not screens.check_checkin_code(signer(request), branch.id, day, _text(form, "code")):
        problem = {"code": "checkin_code", "detail": "wrong check-in code"}
        return _phone_page(request, db, token, problem, 422)
    try:
        service.check_in(db, ticket=ticket, now=utcnow(), estimator=waits(request))
    except DomainError as exc:
        db.rollback()
        return _phone_page(request, db, token, _problem(exc), exc.status_code)
    return redirect(f"/t/{token}")


def _take_page(
    request: Request,
    db: DbSession,
    branch: Branch,
    problem: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = _kiosk_context(request, db, branch)
    context.update(problem=problem, values=values or {}, live_src=f"/b/{branch.code}/take")
    return _public_page(request, "queue/take.html", context, status_code=status_code)


@router.get("/b/{branch_code}/take", response_class=HTMLResponse)
def take_page(request: Request, db: DbSession, branch_code: str) -> Response:
    _public_locale(request)
    return _take_page(request, db, catalog.get_branch_by_code(db, branch_code))


@router.post("/b/{branch_code}/take")
def take_remote(request: Request, db: DbSession, branch_code: str, form: PostedForm) -> Response:
    _public_locale(request)
    branch = catalog.get_branch_by_code(db, branch_code)
    values = {
        "service_code": _text(form, "service_code"),
        "contact_phone": _text(form, "contact_phone"),
    }
    data, errors = validate_form(TicketCreate, values)
    if data is None:
        return _take_page(request, db, branch, _form_problem(errors), values, 422)
    try:
        ticket = service.issue_ticket(
            db, branch=branch, service_code=data.service_code, channel=Channel.remote,
            now=utcnow(), contact_phone=data.contact_phone, estimator=waits(request),
        )  # fmt: skip
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.rollback()
        return _take_page(request, db, branch, _problem(exc), values, exc.status_code)
    return redirect(f"/t/{ticket.public_token}")


# --- public snapshot and the event stream ---------------------------------------------------


@router.get("/b/{branch_code}/queue.json")
def queue_json(request: Request, db: DbSession, branch_code: str) -> screens.PublicSnapshot:
    _public_locale(request)
    branch = catalog.get_branch_by_code(db, branch_code)
    return screens.public_snapshot(
        service.snapshot(db, branch=branch, now=utcnow(), estimator=waits(request))
    )


def _public_branch_id(db: DbSession, branch_code: str) -> uuid.UUID:
    """Looked up in a thread before the stream starts; the session is closed while streaming."""
    return catalog.get_branch_by_code(db, branch_code).id


def _event_chunk(item: FeedItem) -> str | None:
    data = screens.public_event(item.type, item.payload)
    if data is None:
        return None
    return f"id: {item.seq}\nevent: queue\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _event_stream(
    request: Request,
    source: EventFeed,
    branch_id: uuid.UUID,
    timeout: float,
    *,
    missed: Callable[[], list[FeedItem]] | None = None,
) -> AsyncIterator[str]:
    """``missed`` (for a client that sends Last-Event-ID) reads what it missed; it runs once the
    live subscription is in place, and live events already replayed are not sent twice."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    yield "retry: 3000\n\n"
    if timeout <= 0:
        return
    items: asyncio.Queue[FeedItem] = asyncio.Queue()
    subscribed = asyncio.Event()

    async def pump() -> None:
        async for item in source.subscribe(branch_id, ready=subscribed):
            items.put_nowait(item)

    # Cancelling the pump ends the subscription (its finally unsubscribes); a pending get on
    # our own queue can be cancelled without losing anything.
    pumping = asyncio.create_task(pump())
    getter: asyncio.Task[FeedItem] | None = None
    replayed: set[int] = set()
    try:
        if missed is not None:
            waiting = asyncio.create_task(subscribed.wait())
            await asyncio.wait({waiting, pumping}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            for item in await asyncio.to_thread(missed):
                replayed.add(item.seq)
                if (chunk := _event_chunk(item)) is not None:
                    yield chunk
        while (remaining := deadline - loop.time()) > 0:
            if await request.is_disconnected():
                break
            if getter is None:
                getter = asyncio.create_task(items.get())
            done, _pending = await asyncio.wait({getter}, timeout=min(HEARTBEAT_SECONDS, remaining))
            if not done:
                yield ": heartbeat\n\n"
                continue
            item, getter = getter.result(), None
            if item.seq in replayed:
                continue
            if (chunk := _event_chunk(item)) is not None:
                yield chunk
    finally:
        if getter is not None:
            getter.cancel()
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pumping


def _last_event_id(request: Request) -> int | None:
    """The Last-Event-ID a reconnecting EventSource sends; anything else is ignored (the page
    re-renders its live parts on reconnect anyway)."""
    raw = request.headers.get("last-event-id", "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


@router.get("/b/{branch_code}/events")
async def queue_events(
    request: Request,
    branch_id: Annotated[uuid.UUID, Depends(_public_branch_id)],
    timeout: Annotated[float, Query(ge=0, le=3600)] = 60,
) -> StreamingResponse:
    """Server-sent events of the branch queue (public fields only); browsers reconnect.

    Streams end after ``timeout`` seconds because uvicorn's graceful shutdown waits for open
    responses: a short stream keeps a restart short, and a screen that reconnects re-renders
    its live parts, so nothing is missed in between. A client that reconnects with a
    Last-Event-ID header first gets the branch's queue events after that id (the latest 1,000).
    """
    source = feed(request)
    last = _last_event_id(request)
    missed = None if last is None else functools.partial(source.missed, branch_id, last)
    return StreamingResponse(
        _event_stream(request, source, branch_id, timeout, missed=missed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# --- teller console -------------------------------------------------------------------------


@router.get("/console", response_class=HTMLResponse)
def console_index(request: Request, db: DbSession, principal: PageUser) -> Response:
    _staff_locale(request)
    principal.require(Permission.queue_serve)
    branches = [
        {
            **_branch_values(branch),
            "counters": catalog.list_counters(db, code=branch.code, actor=principal),
        }
        for branch in catalog.list_branches(db, actor=principal)
        if principal.can(Permission.queue_serve, branch.id)
    ]
    return render(request, "queue/console_index.html", {"branches": branches})


def _console_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    branch_code: str,
    counter_code: str,
    *,
    problem: dict[str, str] | None = None,
    empty: bool = False,
    status_code: int = 200,
) -> Response:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.queue_serve, branch.id)
    counter = catalog.get_counter(db, branch=branch, counter_code=counter_code)
    now = utcnow()
    estimator = waits(request)
    held = screens.counter_tickets(db, counter=counter)
    current = None
    standard = None
    if held:
        current = service.ticket_read(
            db, ticket=held[0], now=now, estimator=estimator, include_customer=True
        )
        standard = catalog.service_type_read(
            catalog.get_service_type(db, code=current.service_code)
        )
    snapshot = service.snapshot(db, branch=branch, now=now, estimator=estimator)
    counter_read = catalog.counter_read(db, branch=branch, counter=counter)
    mine = set(counter_read.service_codes)
    return render(
        request,
        "queue/console.html",
        {
            "branch": _branch_values(branch),
            "counter": counter_read,
            "current": current,
            "standard": standard,
            "snapshot": snapshot,
            "waiting_here": sum(s.waiting for s in snapshot.services if s.service_code in mine),
            "parked": screens.parked_ticket_ids(db, branch=branch, counter=counter, now=now),
            "outcomes": OUTCOME_CODES,
            "problem": problem,
            "empty": empty,
            "live_src": f"/console/{branch.code}/{counter.code}",
            "events_url": f"/b/{branch.code}/events",
            "teller": teller.console_panel(
                db,
                actor=principal,
                branch=branch,
                counter=counter,
                ticket_id=current.id if current else None,
            ),
        },
        status_code=status_code,
    )


@router.get("/console/{branch_code}/{counter_code}", response_class=HTMLResponse)
def console_page(
    request: Request,
    db: DbSession,
    principal: PageUser,
    branch_code: str,
    counter_code: str,
    empty: int = 0,
) -> Response:
    _staff_locale(request)
    return _console_page(request, db, principal, branch_code, counter_code, empty=bool(empty))


def _form_ticket(db: DbSession, branch: Branch, form: dict[str, str | list[str]]) -> uuid.UUID:
    try:
        ticket_id = uuid.UUID(_text(form, "ticket_id"))
    except ValueError as exc:
        raise RuleViolation("no ticket chosen", field="ticket_id") from exc
    if service.get_ticket(db, ticket_id).branch_id != branch.id:
        raise NotFound("no such ticket")
    return ticket_id


def _transfer_target(form: dict[str, str | list[str]]) -> tuple[str | None, str | None]:
    kind, _, code = _text(form, "target").partition(":")
    if kind == "service" and code:
        return code, None
    if kind == "counter" and code:
        return None, code
    raise RuleViolation("name either a service or a counter", field="target")


def _console_do(
    request: Request,
    db: DbSession,
    principal: Principal,
    branch: Branch,
    counter_code: str,
    action: str,
    form: dict[str, str | list[str]],
) -> bool:
    """Run one console action; False when call-next found nobody waiting."""
    now = utcnow()
    estimator = waits(request)
    statuses = {"open": CounterStatus.open, "pause": CounterStatus.paused}
    if action in ("open", "pause", "close"):
        service.set_counter_status(
            db, branch=branch, counter_code=counter_code,
            status=statuses.get(action, CounterStatus.closed), actor=principal, now=now,
            estimator=estimator,
        )  # fmt: skip
        return True
    if action == "call-next":
        called = service.call_next(
            db, branch=branch, counter_code=counter_code, actor=principal, now=now,
            estimator=estimator,
        )  # fmt: skip
        return called is not None
    ticket_id = _form_ticket(db, branch, form)
    if action == "recall":
        service.recall(db, ticket_id=ticket_id, actor=principal, now=now)
    elif action == "start":
        service.start_service(db, ticket_id=ticket_id, actor=principal, now=now)
    elif action == "complete":
        outcome, errors = validate_form(CompleteIn, {"outcome_code": _text(form, "outcome_code")})
        if outcome is None:
            raise RuleViolation(errors["outcome_code"], field="outcome_code")
        service.complete(
            db, ticket_id=ticket_id, outcome_code=outcome.outcome_code, actor=principal,
            now=now, estimator=estimator,
        )  # fmt: skip
    elif action == "no-show":
        service.no_show(db, ticket_id=ticket_id, actor=principal, now=now, estimator=estimator)
    elif action == "transfer":
        service_code, target_counter = _transfer_target(form)
        service.transfer(
            db, ticket_id=ticket_id, service_code=service_code, counter_code=target_counter,
            actor=principal, now=now, estimator=estimator,
        )  # fmt: skip
    elif action == "park":
        service.park(db, ticket_id=ticket_id, actor=principal, now=now)
    else:  # unpark
        service.unpark(db, ticket_id=ticket_id, actor=principal, now=now)
    return True


@router.post("/console/{branch_code}/{counter_code}/{action}")
def console_action(
    request: Request,
    db: DbSession,
    principal: PageUser,
    branch_code: str,
    counter_code: str,
    action: str,
    form: PostedForm,
) -> Response:
    _staff_locale(request)
    if action not in CONSOLE_ACTIONS:
        raise NotFound(f"no console action {action!r}")
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.queue_serve, branch.id)
    counter = catalog.get_counter(db, branch=branch, counter_code=counter_code)
    page = f"/console/{branch.code}/{counter.code}"
    try:
        found = _console_do(request, db, principal, branch, counter.code, action, form)
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        db.rollback()
        return _console_page(
            request, db, principal, branch_code, counter_code,
            problem=_problem(exc), status_code=exc.status_code,
        )  # fmt: skip
    return redirect(page if found else f"{page}?empty=1")


# --- lobby desk -----------------------------------------------------------------------------


def _lobby_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    branch_code: str,
    *,
    problem: dict[str, str] | None = None,
    issued: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.queue_issue, branch.id)
    now = utcnow()
    snapshot = service.snapshot(db, branch=branch, now=now, estimator=waits(request))
    return render(
        request,
        "queue/lobby.html",
        {
            "branch": _branch_values(branch),
            "snapshot": snapshot,
            "tickets": screens.list_open_tickets(db, branch=branch, now=now),
            "priorities": PRIORITIES,
            "can_manage": principal.can(Permission.queue_manage, branch.id),
            "can_serve": principal.can(Permission.queue_serve, branch.id),
            "problem": problem,
            "issued": issued,
            "values": values or {},
            "live_src": f"/lobby/{branch.code}",
            "events_url": f"/b/{branch.code}/events",
        },
        status_code=status_code,
    )


@router.get("/lobby/{branch_code}", response_class=HTMLResponse)
def lobby_page(
    request: Request, db: DbSession, principal: PageUser, branch_code: str, issued: str = ""
) -> Response:
    _staff_locale(request)
    return _lobby_page(request, db, principal, branch_code, issued=issued[:16])


@router.post("/lobby/{branch_code}/tickets")
def lobby_issue(
    request: Request, db: DbSession, principal: PageUser, branch_code: str, form: PostedForm
) -> Response:
    _staff_locale(request)
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.queue_issue, branch.id)
    values = {
        name: _text(form, name)
        for name in ("service_code", "priority", "contact_phone", "customer_number")
    }
    data, errors = validate_form(
        TicketCreate,
        {
            "service_code": values["service_code"],
            "priority": values["priority"] or None,
            "contact_phone": values["contact_phone"],
        },
    )
    if data is None:
        return _lobby_page(
            request, db, principal, branch_code,
            problem=_form_problem(errors), values=values, status_code=422,
        )  # fmt: skip
    try:
        customer_id = None
        if values["customer_number"].strip():
            try:
                customer_id = customers.get_customer(
                    db, customer_number=values["customer_number"].strip(), actor=principal
                ).id
            except NotFound as exc:
                raise RuleViolation(exc.detail, field="customer_number") from exc
        ticket = service.issue_ticket(
            db, branch=branch, service_code=data.service_code, channel=Channel.lobby,
            now=utcnow(), priority=data.priority, customer_id=customer_id,
            contact_phone=data.contact_phone, actor=principal, estimator=waits(request),
        )  # fmt: skip
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        db.rollback()
        return _lobby_page(
            request, db, principal, branch_code,
            problem=_problem(exc), values=values, status_code=exc.status_code,
        )  # fmt: skip
    return redirect(f"/lobby/{branch.code}?issued={ticket.number}")


@router.post("/lobby/{branch_code}/tickets/{ticket_id}/{action}")
def lobby_action(
    request: Request,
    db: DbSession,
    principal: PageUser,
    branch_code: str,
    ticket_id: uuid.UUID,
    action: str,
    form: PostedForm,
) -> Response:
    _staff_locale(request)
    if action not in LOBBY_ACTIONS:
        raise NotFound(f"no lobby action {action!r}")
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.queue_issue, branch.id)
    ticket = service.get_ticket(db, ticket_id, lock=True)
    if ticket.branch_id != branch.id:
        raise NotFound("no such ticket")
    now = utcnow()
    estimator = waits(request)
    try:
        if action == "cancel":
            service.cancel(db, ticket=ticket, now=now, actor=principal, estimator=estimator)
        elif action == "check-in":
            service.check_in(db, ticket=ticket, now=now, estimator=estimator)
        elif action == "rejoin":
            service.rejoin(db, ticket_id=ticket_id, actor=principal, now=now, estimator=estimator)
        else:
            service.unpark(db, ticket_id=ticket_id, actor=principal, now=now)
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        db.rollback()
        return _lobby_page(
            request, db, principal, branch_code,
            problem=_problem(exc), status_code=exc.status_code,
        )  # fmt: skip
    return redirect(f"/lobby/{branch.code}")
