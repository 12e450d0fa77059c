"""Scheduled jobs: domain work that must run every so often (SLA checks, reminders, sweeps).

A domain registers its job at import time (the module is listed in ``branchdesk.registry``);
``branchdesk worker`` runs every job when it is due, each in its own transaction, beside the
outbox delivery. Jobs are idempotent (each one acts "once per case/booking/period"), so two
workers, a restart or a manual run of the same command never double the effect; a failing job is
logged and retried at its next turn without stopping the others. The same functions stay
available as CLI commands for cron.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from branchdesk.core.db import Database

log = logging.getLogger(__name__)

JobFunction = Callable[[Session, datetime], object]


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: JobFunction


_JOBS: dict[str, Job] = {}


def register_job(job: Job) -> None:
    """Declare a scheduled job (done at import time by the domain that owns it)."""
    if job.every <= timedelta(0):
        raise ValueError(f"job {job.name!r} needs a positive interval")
    _JOBS[job.name] = job


def jobs() -> tuple[Job, ...]:
    return tuple(sorted(_JOBS.values(), key=lambda j: j.name))


class Scheduler:
    """Which jobs are due; remembers the last start of each (per worker process)."""

    def __init__(self, registered: tuple[Job, ...] | None = None) -> None:
        self._jobs = registered if registered is not None else jobs()
        self._last: dict[str, datetime] = {}

    def due(self, now: datetime) -> list[Job]:
        return [
            job
            for job in self._jobs
            if job.name not in self._last or now - self._last[job.name] >= job.every
        ]

    def run_due(self, database: Database, now: datetime) -> dict[str, str]:
        """Run each due job in its own transaction; returns name -> "ok" or the error's type."""
        outcome: dict[str, str] = {}
        for job in self.due(now):
            self._last[job.name] = now
            try:
                with database.unit_of_work() as db:
                    job.run(db, now)
                outcome[job.name] = "ok"
            except Exception as exc:  # one failing job must not stop the others
                log.exception("scheduled job failed", extra={"job": job.name})
                outcome[job.name] = type(exc).__name__
        return outcome
