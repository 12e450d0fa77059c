"""Worker jobs of the loyalty programme (each idempotent, see core/jobs.py): earn points for new
postings and surveys, expire due lots, and re-decide tiers (and so the vip service tier) daily."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from branchdesk.core.jobs import Job, register_job
from branchdesk.loyalty import service

# the frequent job looks back this far (postings are booked when they happen); the nightly
# analytics run applies the rules to everything, so a worker that was down longer loses nothing
EARN_LOOKBACK = timedelta(days=3)


def earn(db: Session, now: datetime) -> int:
    return service.earn_from_sources(
        db, until=now.date(), now=now, since=(now - EARN_LOOKBACK).date()
    )


def expire(db: Session, now: datetime) -> int:
    return service.expire_due(db, today=now.date(), now=now)


def tiers(db: Session, now: datetime) -> int:
    ids = service.customer_ids_with_accounts(db)
    return len(service.evaluate_tiers(db, today=now.date(), now=now, customer_ids=ids))


register_job(Job("loyalty.earn", timedelta(minutes=15), earn))
register_job(Job("loyalty.expire", timedelta(hours=1), expire))
register_job(Job("loyalty.tiers", timedelta(days=1), tiers))
