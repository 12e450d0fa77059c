"""The loans' scheduled job for ``branchdesk worker``: the daily servicing run, every hour.

Each run uses today's UTC date as the business date: re-pricing of floating-rate loans to a
reference rate effective today, days past due, buckets and one day's penalty, interest accrual
postings and the day's DPD snapshot (idempotent: a day accrues once per loan, the snapshot is
rewritten), then the watch list (an open alert is refreshed, never doubled).
``branchdesk loans daily --as-of DATE`` is the same work for cron.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from branchdesk.core.jobs import Job, register_job


def daily_job(db: Session, now: datetime) -> dict[str, int]:
    from branchdesk.loans.service import run_daily
    from branchdesk.loans.service.watchlist import update_watch_list

    result = run_daily(db, as_of=now.date(), now=now)
    opened = update_watch_list(db, as_of=now.date(), now=now)
    return {
        "overdue": result.overdue,
        "days_accrued": result.days_accrued,
        "interest_accrued_minor": result.interest_accrued_minor,
        "repriced": result.repriced,
        "snapshots": result.snapshots,
        "alerts": opened,
    }


register_job(Job(name="loans.daily", every=timedelta(hours=1), run=daily_job))
