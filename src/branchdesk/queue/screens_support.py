"""What the live queue screens need beyond the queue services: public views and small look-ups.

The kiosk, lobby display and customer phone page are public, so everything they show passes
through here first: the public snapshot drops staff names, the public event keeps only
type/number/counter/service/ts. The check-in code is a short daily number shown in the branch
hall, so a remote (virtual queue) ticket is checked in by someone who is actually there.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, Counter, ServiceType
from branchdesk.core.security import Signer
from branchdesk.queue.models import Ticket, TicketState
from branchdesk.queue.schemas import QueueSnapshot, RecentCall, ServiceQueue

PUBLIC_EVENT_FIELDS = ("type", "number", "counter", "service", "ts")


class PublicCounter(BaseModel):
    code: str
    name: str
    status: str
    current_ticket: str | None


class PublicSnapshot(BaseModel):
    """The queue as the branch hall may see it: no staff names, no customer data."""

    branch_code: str
    business_on: str
    services: list[ServiceQueue]
    counters: list[PublicCounter]
    recent_calls: list[RecentCall]
    waiting_total: int


class TicketLine(BaseModel):
    """One row of the lobby desk's list of today's open tickets."""

    id: uuid.UUID
    number: str
    service_code: str
    priority: str
    channel: str
    state: str
    is_checked_in: bool
    queued_at: str  # branch-local HH:MM
    counter_code: str | None


def public_snapshot(snapshot: QueueSnapshot) -> PublicSnapshot:
    return PublicSnapshot(
        branch_code=snapshot.branch_code,
        business_on=snapshot.business_on,
        services=snapshot.services,
        counters=[
            PublicCounter(
                code=c.code, name=c.name, status=c.status, current_ticket=c.current_ticket
            )
            for c in snapshot.counters
        ],
        recent_calls=snapshot.recent_calls,
        waiting_total=snapshot.waiting_total,
    )


def public_event(event_type: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The fields of a queue event a public screen may see; None for other events."""
    if not (event_type.startswith("ticket.") or event_type.startswith("counter.")):
        return None
    return {name: payload.get(name) for name in PUBLIC_EVENT_FIELDS}


def checkin_code(signer: Signer, branch_id: uuid.UUID, day: date) -> str:
    """Four digits, the same for a branch all day, shown on the kiosk and the lobby display."""
    digest = signer.lookup_hash(f"queue-check-in:{branch_id}:{day.isoformat()}")
    return f"{int(digest[:12], 16) % 10_000:04d}"


def check_checkin_code(signer: Signer, branch_id: uuid.UUID, day: date, code: str) -> bool:
    return hmac.compare_digest(checkin_code(signer, branch_id, day), code.strip())


def counter_tickets(db: Session, *, counter: Counter) -> list[Ticket]:
    """Tickets called to or being served at this counter, earliest call first."""
    return list(
        db.execute(
            select(Ticket)
            .where(
                Ticket.counter_id == counter.id,
                Ticket.state.in_([TicketState.called, TicketState.serving]),
            )
            .order_by(Ticket.called_at, Ticket.number)
        ).scalars()
    )


def parked_ticket_ids(
    db: Session, *, branch: Branch, counter: Counter, now: datetime
) -> list[tuple[uuid.UUID, str]]:
    """Today's tickets parked by this counter (they come back to it): (id, number)."""
    day = catalog.business_day(branch, now)
    rows = db.execute(
        select(Ticket.id, Ticket.number)
        .where(
            Ticket.branch_id == branch.id,
            Ticket.business_on == day,
            Ticket.state == TicketState.parked,
            Ticket.target_counter_id == counter.id,
        )
        .order_by(Ticket.queued_at)
    ).all()
    return [(ticket_id, number) for ticket_id, number in rows]


def list_open_tickets(db: Session, *, branch: Branch, now: datetime) -> list[TicketLine]:
    """Today's tickets a lobby manager may act on: waiting, called, serving, parked, no-show."""
    day = catalog.business_day(branch, now)
    states = [
        TicketState.waiting,
        TicketState.called,
        TicketState.serving,
        TicketState.parked,
        TicketState.no_show,
    ]
    counters = {
        c.id: c.code
        for c in db.execute(select(Counter).where(Counter.branch_id == branch.id)).scalars()
    }
    rows = db.execute(
        select(Ticket, ServiceType.code)
        .join(ServiceType, ServiceType.id == Ticket.service_type_id)
        .where(Ticket.branch_id == branch.id, Ticket.business_on == day, Ticket.state.in_(states))
        .order_by(Ticket.queued_at, Ticket.number)
    ).all()
    lines = []
    for ticket, service_code in rows:
        counter_id = ticket.counter_id or ticket.target_counter_id
        lines.append(
            TicketLine(
                id=ticket.id,
                number=ticket.number,
                service_code=service_code,
                priority=ticket.priority,
                channel=ticket.channel,
                state=ticket.state,
                is_checked_in=ticket.checked_in_at is not None,
                queued_at=catalog.local_now(branch, ticket.queued_at).strftime("%H:%M"),
                counter_code=counters.get(counter_id) if counter_id else None,
            )
        )
    return lines


def ticket_branch(db: Session, ticket: Ticket) -> Branch:
    branch = db.get(Branch, ticket.branch_id)
    assert branch is not None
    return branch


def qr_svg(url: str) -> str | None:
    """An inline SVG QR code of the phone link (segno); None when segno is not installed."""
    try:
        import segno
    except ImportError:  # optional: the page then shows the short link only
        return None
    svg: str = segno.make(url, error="m").svg_inline(scale=4, border=2)
    return svg
