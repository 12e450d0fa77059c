"""Append-only domain events and the transactional outbox.

``record_event`` appends an event row (and one outbox row per interested consumer) in the
caller's transaction, so an event exists exactly when the change it describes was committed.
``deliver_outbox`` hands pending outbox rows to their consumers after commit, with retries and
back-off; delivery is at-least-once, so consumers are idempotent on the event id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from branchdesk.core.db import Base
from branchdesk.core.ids import new_id

log = logging.getLogger(__name__)

SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    occurred_at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(80), index=True)
    aggregate_type: Mapped[str] = mapped_column(String(40))
    aggregate_id: Mapped[uuid.UUID | None]
    branch_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]]


class OutboxStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    dead = "dead"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_seq: Mapped[int] = mapped_column(SeqType, ForeignKey("events.seq"))
    consumer: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class EventView:
    """What a consumer receives: plain values, no ORM object."""

    seq: int
    id: uuid.UUID
    occurred_at: datetime
    type: str
    aggregate_type: str
    aggregate_id: uuid.UUID | None
    branch_id: uuid.UUID | None
    payload: dict[str, Any]


Handler = Callable[[EventView], None]


@dataclass(frozen=True, slots=True)
class Consumer:
    name: str
    prefixes: tuple[str, ...]
    handler: Handler
    max_attempts: int = 8

    def wants(self, event_type: str) -> bool:
        return any(event_type.startswith(p) for p in self.prefixes)


_CONSUMERS: dict[str, Consumer] = {}


def register_consumer(consumer: Consumer) -> None:
    """Declare an outbox consumer (done at import time by the domain that owns it)."""
    _CONSUMERS[consumer.name] = consumer


def unregister_consumer(name: str) -> None:
    _CONSUMERS.pop(name, None)


def consumers() -> Iterable[Consumer]:
    return tuple(_CONSUMERS.values())


def record_event(
    db: Session,
    *,
    type: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID | None,
    payload: dict[str, Any],
    now: datetime,
    branch_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> Event:
    """Append one event (and its outbox rows) to the caller's transaction."""
    event = Event(
        id=new_id(),
        occurred_at=now,
        type=type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        branch_id=branch_id,
        actor_id=actor_id,
        payload=payload,
    )
    db.add(event)
    db.flush()
    if db.get_bind().dialect.name == "postgresql":
        # Delivered at commit, to every instance listening: live screens update at once.
        db.execute(
            text("SELECT pg_notify('branchdesk_events', :branch)"), {"branch": str(branch_id or "")}
        )
    for consumer in consumers():
        if consumer.wants(type):
            db.add(
                OutboxMessage(
                    event_seq=event.seq, consumer=consumer.name, next_attempt_at=now, attempts=0
                )
            )
    return event


def view(event: Event) -> EventView:
    return EventView(
        seq=event.seq,
        id=event.id,
        occurred_at=event.occurred_at,
        type=event.type,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        branch_id=event.branch_id,
        payload=dict(event.payload),
    )


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 2 ** min(attempts, 12)))


def deliver_outbox(db: Session, *, now: datetime, limit: int = 100) -> int:
    """Deliver due outbox rows once; returns how many were delivered. Call after commit."""
    query = (
        select(OutboxMessage, Event)
        .join(Event, Event.seq == OutboxMessage.event_seq)
        .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.event_seq)
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    delivered = 0
    for message, event in db.execute(query).all():
        consumer = _CONSUMERS.get(message.consumer)
        message.attempts += 1
        if consumer is None:
            message.last_error = f"no consumer named {message.consumer!r} in this process"
            message.next_attempt_at = now + backoff(message.attempts)
            continue
        try:
            consumer.handler(view(event))
        except Exception as exc:  # a consumer's failure must not stop the others
            log.warning("outbox delivery failed", extra={"consumer": consumer.name})
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= consumer.max_attempts:
                message.status = OutboxStatus.dead
            else:
                message.next_attempt_at = now + backoff(message.attempts)
            continue
        message.status = OutboxStatus.delivered
        message.delivered_at = now
        delivered += 1
    db.flush()
    return delivered
