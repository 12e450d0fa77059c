"""One-time codes should not wait for the worker's next poll, nor behind a backlog: after the
request's commit, a background task hands exactly that message's outbox row to the notifier
(the same consumer the worker uses; delivery stays at-least-once, notifiers drop repeats by
message id). A failure leaves the row for the worker's retries."""

from __future__ import annotations

import logging
import uuid

from fastapi import BackgroundTasks, Request
from sqlalchemy import select

from branchdesk.core.clock import utcnow
from branchdesk.core.db import Database
from branchdesk.core.events import (
    Event,
    OutboxMessage,
    OutboxStatus,
    backoff,
    consumers,
    view,
)
from branchdesk.core.notify import CONSUMER_NAME
from branchdesk.portal.config import PortalSettings
from branchdesk.portal.service.auth import CodeSent

log = logging.getLogger(__name__)


def deliver_message(database: Database, message_id: uuid.UUID) -> bool:
    """Deliver one notification now; True when it went out."""
    consumer = next((c for c in consumers() if c.name == CONSUMER_NAME), None)
    if consumer is None:
        return False
    try:
        with database.unit_of_work() as db:
            query = (
                select(OutboxMessage, Event)
                .join(Event, Event.seq == OutboxMessage.event_seq)
                .where(
                    Event.id == message_id,
                    OutboxMessage.consumer == CONSUMER_NAME,
                    OutboxMessage.status == OutboxStatus.pending,
                )
            )
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=OutboxMessage)
            row = db.execute(query).first()
            if row is None:
                return False  # the worker was quicker
            message, event = row
            now = utcnow()
            message.attempts += 1
            try:
                consumer.handler(view(event))
            except Exception as exc:  # the worker retries it
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                message.next_attempt_at = now + backoff(message.attempts)
                log.warning("immediate delivery of a one-time code failed; the worker retries")
                return False
            message.status = OutboxStatus.delivered
            message.delivered_at = now
            return True
    except Exception:  # a failed shortcut must never fail the request
        log.warning("immediate delivery of a one-time code failed; the worker retries")
        return False


def deliver_codes(
    request: Request, settings: PortalSettings, tasks: BackgroundTasks, sent: CodeSent | None
) -> None:
    """Schedule the immediate delivery of a code just queued (none when a code was reused)."""
    if settings.deliver_codes_now and sent is not None and sent.message_id is not None:
        tasks.add_task(deliver_message, request.app.state.database, sent.message_id)
