"""JSON API of the branch queue: tickets, counters, call-next, the queue snapshot."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request, Response

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import CounterStatus
from branchdesk.catalog.schemas import CounterRead
from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue import service
from branchdesk.queue.deps import waits
from branchdesk.queue.models import Channel, Ticket
from branchdesk.queue.schemas import (
    CompleteIn,
    CounterAction,
    QueueSnapshot,
    TicketCreate,
    TicketRead,
    TransferIn,
)

router = APIRouter(prefix="/api/v1", tags=["queue"])


def _read(
    request: Request, db: DbSession, ticket: Ticket, now: datetime | None = None
) -> TicketRead:
    # The same ``now`` as the transition: the position and estimate it worked out are reused.
    result: TicketRead = service.ticket_read(
        db, ticket=ticket, now=now or utcnow(), estimator=waits(request), include_customer=True
    )
    return result


def _visible_ticket(db: DbSession, ticket_id: uuid.UUID, principal: Principal) -> Ticket:
    ticket = service.get_ticket(db, ticket_id)
    principal.require(Permission.queue_view, ticket.branch_id)
    return ticket


@router.post(
    "/branches/{branch_code}/tickets",
    response_model=TicketRead,
    status_code=201,
    summary="Take a ticket for a customer (number, position, estimated wait)",
)
def issue_ticket(
    request: Request, db: DbSession, principal: ApiUser, branch_code: str, body: TicketCreate
) -> TicketRead:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.queue_issue, branch.id)
    now = utcnow()
    ticket = service.issue_ticket(
        db, branch=branch, service_code=body.service_code, channel=Channel.api, now=now,
        priority=body.priority, customer_id=body.customer_id, contact_phone=body.contact_phone,
        actor=principal, estimator=waits(request),
    )  # fmt: skip
    return _read(request, db, ticket, now)


@router.get("/tickets/{ticket_id}", response_model=TicketRead)
def get_ticket(
    request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID
) -> TicketRead:
    return _read(request, db, _visible_ticket(db, ticket_id, principal))


@router.get("/branches/{branch_code}/queue", response_model=QueueSnapshot)
def queue_snapshot(
    request: Request, db: DbSession, principal: ApiUser, branch_code: str
) -> QueueSnapshot:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    principal.require(Permission.queue_view, branch.id)
    result: QueueSnapshot = service.snapshot(
        db, branch=branch, now=utcnow(), estimator=waits(request)
    )
    return result


@router.post(
    "/branches/{branch_code}/counters/{counter_code}/status",
    response_model=CounterRead,
    summary="Open, pause or close a counter",
)
def set_counter_status(
    request: Request,
    db: DbSession,
    principal: ApiUser,
    branch_code: str,
    counter_code: str,
    body: CounterAction,
) -> CounterRead:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    counter = service.set_counter_status(
        db, branch=branch, counter_code=counter_code, status=CounterStatus(body.status),
        actor=principal, now=utcnow(), estimator=waits(request),
    )  # fmt: skip
    return catalog.counter_read(db, branch=branch, counter=counter)


@router.post(
    "/branches/{branch_code}/counters/{counter_code}/call-next",
    response_model=TicketRead,
    responses={204: {"description": "Nobody is waiting for this counter"}},
)
def call_next(
    request: Request, db: DbSession, principal: ApiUser, branch_code: str, counter_code: str
) -> TicketRead | Response:
    branch = catalog.get_branch(db, code=branch_code, actor=principal)
    ticket = service.call_next(
        db, branch=branch, counter_code=counter_code, actor=principal, now=utcnow(),
        estimator=waits(request),
    )  # fmt: skip
    if ticket is None:
        return Response(status_code=204)
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/recall", response_model=TicketRead)
def recall(request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID) -> TicketRead:
    ticket = service.recall(db, ticket_id=ticket_id, actor=principal, now=utcnow())
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/start", response_model=TicketRead)
def start(request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID) -> TicketRead:
    ticket = service.start_service(db, ticket_id=ticket_id, actor=principal, now=utcnow())
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/complete", response_model=TicketRead)
def complete(
    request: Request,
    db: DbSession,
    principal: ApiUser,
    ticket_id: uuid.UUID,
    body: CompleteIn | None = None,
) -> TicketRead:
    ticket = service.complete(
        db, ticket_id=ticket_id, outcome_code=(body or CompleteIn()).outcome_code,
        actor=principal, now=utcnow(), estimator=waits(request),
    )  # fmt: skip
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/no-show", response_model=TicketRead)
def no_show(
    request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID
) -> TicketRead:
    ticket = service.no_show(
        db, ticket_id=ticket_id, actor=principal, now=utcnow(), estimator=waits(request)
    )
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketRead)
def transfer(
    request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID, body: TransferIn
) -> TicketRead:
    ticket = service.transfer(
        db, ticket_id=ticket_id, service_code=body.service_code, counter_code=body.counter_code,
        actor=principal, now=utcnow(), estimator=waits(request),
    )  # fmt: skip
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/park", response_model=TicketRead)
def park(request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID) -> TicketRead:
    return _read(request, db, service.park(db, ticket_id=ticket_id, actor=principal, now=utcnow()))


@router.post("/tickets/{ticket_id}/unpark", response_model=TicketRead)
def unpark(request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID) -> TicketRead:
    ticket = service.unpark(db, ticket_id=ticket_id, actor=principal, now=utcnow())
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketRead)
def cancel(request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID) -> TicketRead:
    ticket = service.get_ticket(db, ticket_id, lock=True)
    service.cancel(db, ticket=ticket, now=utcnow(), actor=principal, estimator=waits(request))
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/rejoin", response_model=TicketRead)
def rejoin(request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID) -> TicketRead:
    ticket = service.rejoin(
        db, ticket_id=ticket_id, actor=principal, now=utcnow(), estimator=waits(request)
    )
    return _read(request, db, ticket)


@router.post("/tickets/{ticket_id}/check-in", response_model=TicketRead)
def check_in(
    request: Request, db: DbSession, principal: ApiUser, ticket_id: uuid.UUID
) -> TicketRead:
    ticket = service.get_ticket(db, ticket_id, lock=True)
    principal.require(Permission.queue_issue, ticket.branch_id)
    service.check_in(db, ticket=ticket, now=utcnow(), estimator=waits(request))
    return _read(request, db, ticket)
