"""One-time codes should not wait for the worker's next poll: after the request's commit, a
background task delivers what the outbox has due (the worker would deliver it just the same;
delivery is at-least-once and notifiers drop repeats by message id)."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks, Request

from branchdesk.core.clock import utcnow
from branchdesk.core.db import Database
from branchdesk.core.events import deliver_outbox
from branchdesk.portal.config import PortalSettings

log = logging.getLogger(__name__)


def _deliver(database: Database) -> None:
    try:
        with database.unit_of_work() as db:
            deliver_outbox(db, now=utcnow(), limit=20)
    except Exception:  # the worker retries; a failed shortcut must not fail the request
        log.warning("immediate delivery of a one-time code failed; the worker will retry")


def deliver_codes(request: Request, settings: PortalSettings, tasks: BackgroundTasks) -> None:
    if settings.deliver_codes_now:
        tasks.add_task(_deliver, request.app.state.database)
