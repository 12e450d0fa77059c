"""The offline ticketing fallback.

A kiosk asks for a block of paper ticket numbers per service ahead of time (``A-900..A-949``
for today). While the server is unreachable it prints them with the time; when the server is
back it uploads the numbers it issued and the queue absorbs them as waiting tickets in arrival
order, keeping each one's original issue time (the policy orders by ``queued_at``, so a paper
ticket keeps its place against tickets issued online meanwhile).

Numbers are checked as a whole before anything is written: one outside the block or in the
wrong format refuses the upload (422), one used twice (in the upload or absorbed before)
refuses it with 409, and nothing changes either way.

The tickets are written here rather than through ``queue.service.issue_ticket`` because that
function takes its number from the online sequence and its time from ``now``; the row and the
``ticket.issued`` event have the same shape as the ones it writes. Blocks start at 900 by
default, above any realistic day's online numbers (allocation refuses a block the online
sequence has already reached).
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.core.references import ReferenceCounter
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.operations.models import OfflineBlock, OfflineBlockNumber
from branchdesk.operations.schemas import (
    AbsorbBody,
    AbsorbedTicket,
    AbsorbResult,
    OfflineBlockCreate,
    OfflineBlockRead,
)
from branchdesk.queue.models import Channel, Priority, Ticket, TicketState
from branchdesk.queue.service import offered_service

FIRST_OFFLINE_SEQ = 900
_NUMBER = re.compile(r"^([A-Z]{1,4})-(\d{1,6})$")


class NumberUsedTwice(Conflict):
    code = "offline_number_used"


def _online_key(branch: Branch, day: date, prefix: str) -> str:
    # The key issue_ticket takes its numbers from (queue/service/tickets.py).
    return f"ticket:{branch.id}:{day.isoformat()}:{prefix}"


def _number(prefix: str, seq: int) -> str:
    return f"{prefix}-{seq:03d}"


def _read(db: Session, block: OfflineBlock, service_code: str) -> OfflineBlockRead:
    absorbed = db.execute(
        select(func.count()).where(OfflineBlockNumber.block_id == block.id)
    ).scalar_one()
    return OfflineBlockRead(
        id=block.id, service_code=service_code, business_on=block.business_on,
        first_number=_number(block.prefix, block.first_seq),
        last_number=_number(block.prefix, block.last_seq), absorbed_count=int(absorbed),
    )  # fmt: skip


def allocate_block(
    db: Session, *, branch: Branch, body: OfflineBlockCreate, actor: Principal, now: datetime
) -> OfflineBlockRead:
    """Reserve the next free numbers of a service for a business day (today by default)."""
    actor.require(Permission.queue_manage, branch.id)
    service, _target = offered_service(db, branch, body.service_code)
    today = catalog.business_day(branch, now)
    day = body.business_on or today
    if day < today:
        raise RuleViolation("a block is for today or a later day", field="business_on")
    taken = db.execute(
        select(func.max(OfflineBlock.last_seq)).where(
            OfflineBlock.branch_id == branch.id,
            OfflineBlock.business_on == day,
            OfflineBlock.prefix == service.ticket_prefix,
        )
    ).scalar_one()
    first = FIRST_OFFLINE_SEQ if taken is None else int(taken) + 1
    online = db.get(ReferenceCounter, _online_key(branch, day, service.ticket_prefix))
    if online is not None and online.value >= first:
        raise Conflict(f"online numbers of {service.ticket_prefix} reached {first} today")
    block = OfflineBlock(
        id=new_id(), branch_id=branch.id, service_type_id=service.id, business_on=day,
        prefix=service.ticket_prefix, first_seq=first, last_seq=first + body.size - 1,
        created_by_id=actor.user_id, created_at=now,
    )  # fmt: skip
    db.add(block)
    db.flush()
    append_audit(
        db, actor=actor, action="offline_block.allocate", object_type="offline_ticket_block",
        object_id=block.id, branch_id=branch.id, now=now,
        detail={"service": service.code, "first": block.first_seq, "last": block.last_seq,
                "business_on": day.isoformat()},
    )  # fmt: skip
    return _read(db, block, service.code)


def list_blocks(
    db: Session, *, branch: Branch, actor: Principal, now: datetime
) -> list[OfflineBlockRead]:
    """Blocks of today and later days at a branch."""
    actor.require(Permission.queue_view, branch.id)
    rows = db.execute(
        select(OfflineBlock, ServiceType.code)
        .join(ServiceType, ServiceType.id == OfflineBlock.service_type_id)
        .where(
            OfflineBlock.branch_id == branch.id,
            OfflineBlock.business_on >= catalog.business_day(branch, now),
        )
        .order_by(OfflineBlock.business_on, OfflineBlock.prefix, OfflineBlock.first_seq)
    ).all()
    return [_read(db, block, code) for block, code in rows]


def absorb_block(
    db: Session,
    *,
    branch: Branch,
    block_id: uuid.UUID,
    body: AbsorbBody,
    actor: Principal,
    now: datetime,
) -> AbsorbResult:
    """Turn the paper tickets a kiosk printed into waiting tickets, in arrival order."""
    actor.require(Permission.queue_manage, branch.id)
    block = db.execute(
        select(OfflineBlock)
        .where(OfflineBlock.id == block_id, OfflineBlock.branch_id == branch.id)
        .with_for_update()
    ).scalar_one_or_none()
    if block is None:
        raise NotFound("no such offline block at this branch")
    service = db.get(ServiceType, block.service_type_id)
    assert service is not None
    parsed: list[tuple[datetime, int]] = []
    for index, paper in enumerate(body.tickets):
        field = f"tickets.{index}"
        match = _NUMBER.match(paper.number.strip().upper())
        if match is None or match.group(1) != block.prefix:
            raise RuleViolation(f"{paper.number!r} is not a number of this block", field=field)
        seq = int(match.group(2))
        if not block.first_seq <= seq <= block.last_seq:
            raise RuleViolation(
                f"{paper.number} is outside {_number(block.prefix, block.first_seq)}.."
                f"{_number(block.prefix, block.last_seq)}",
                field=field,
            )
        if paper.issued_at.tzinfo is None:
            raise RuleViolation("give the issue time with its offset", field=field)
        if paper.issued_at > now:
            raise RuleViolation(f"{paper.number} was issued in the future", field=field)
        if catalog.business_day(branch, paper.issued_at) != block.business_on:
            raise RuleViolation(f"{paper.number} was not issued on the block's day", field=field)
        parsed.append((paper.issued_at, seq))
    seqs = [seq for _at, seq in parsed]
    if len(set(seqs)) != len(seqs):
        twice = sorted({s for s in seqs if seqs.count(s) > 1})
        raise NumberUsedTwice(
            "used twice in this upload: " + ", ".join(_number(block.prefix, s) for s in twice)
        )
    before = set(
        db.execute(
            select(OfflineBlockNumber.seq).where(
                OfflineBlockNumber.block_id == block.id, OfflineBlockNumber.seq.in_(seqs)
            )
        ).scalars()
    )
    if before:
        raise NumberUsedTwice(
            "already absorbed: " + ", ".join(_number(block.prefix, s) for s in sorted(before))
        )
    clash = sorted(
        db.execute(
            select(Ticket.seq).where(
                Ticket.branch_id == branch.id, Ticket.business_on == block.business_on,
                Ticket.prefix == block.prefix, Ticket.seq.in_(seqs),
            )
        ).scalars()
    )  # fmt: skip
    if clash:
        raise NumberUsedTwice(
            "already tickets today: " + ", ".join(_number(block.prefix, s) for s in clash)
        )
    absorbed: list[AbsorbedTicket] = []
    for place, (issued_at, seq) in enumerate(sorted(parsed), start=1):
        ticket = _waiting_ticket(db, branch, block, service, seq, issued_at, actor=actor)
        db.add(
            OfflineBlockNumber(
                block_id=block.id, seq=seq, ticket_id=ticket.id, issued_at=issued_at,
                absorbed_at=now,
            )
        )  # fmt: skip
        absorbed.append(
            AbsorbedTicket(number=ticket.number, ticket_id=ticket.id, issued_at=issued_at,
                           position=place)
        )  # fmt: skip
    db.flush()
    append_audit(
        db, actor=actor, action="offline_block.absorb", object_type="offline_ticket_block",
        object_id=block.id, branch_id=branch.id, now=now,
        detail={"count": len(absorbed), "numbers": [a.number for a in absorbed]},
    )  # fmt: skip
    return AbsorbResult(block_id=block.id, absorbed=absorbed)


def _waiting_ticket(
    db: Session,
    branch: Branch,
    block: OfflineBlock,
    service: ServiceType,
    seq: int,
    issued_at: datetime,
    *,
    actor: Principal,
) -> Ticket:
    number = _number(block.prefix, seq)
    ticket = Ticket(
        id=new_id(), branch_id=branch.id, service_type_id=service.id,
        business_on=block.business_on, prefix=block.prefix, seq=seq, number=number,
        priority=Priority.normal, channel=Channel.kiosk, customer_id=None, appointment_id=None,
        booked_at=None, contact_phone="", state=TicketState.waiting, issued_at=issued_at,
        queued_at=issued_at, checked_in_at=issued_at, recall_count=0, transfer_count=0,
        public_token=secrets.token_urlsafe(24),
    )  # fmt: skip
    db.add(ticket)
    db.flush()
    record_event(
        db, type="ticket.issued", aggregate_type="ticket", aggregate_id=ticket.id,
        branch_id=branch.id, actor_id=actor.user_id, now=issued_at,
        payload={
            "ts": catalog.local_now(branch, issued_at).isoformat(), "type": "issued",
            "ticket": str(ticket.id), "number": number, "service": service.code,
            "priority": ticket.priority, "branch": branch.code, "channel": Channel.kiosk,
            "offline_block": str(block.id),
        },
    )  # fmt: skip
    return ticket
