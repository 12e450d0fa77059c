"""The worker's scheduled compliance work: the AML sweep and the KYC expiry check.

The same functions are the `branchdesk aml sweep` and `branchdesk kyc expiry-check` commands;
both are idempotent, so the worker, cron and a manual run never double an alert or a reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from branchdesk.core.jobs import Job, register_job
from branchdesk.risk.aml.config import load_config
from branchdesk.risk.cases.kyc import expiry_check
from branchdesk.risk.cases.sweep import sweep_held_postings, sweep_ledger

SWEEP_LOOKBACK = timedelta(days=2)  # findings with movements in the last two days


def aml_sweep_job(db: Session, now: datetime) -> None:
    """Alerts for newly held postings, then the typologies over recent ledger movements (the
    sweep itself reads the rules' longer history windows before ``since``)."""
    sweep_held_postings(db, now=now)
    sweep_ledger(db, config=load_config(None), since=now - SWEEP_LOOKBACK, now=now)


def kyc_expiry_job(db: Session, now: datetime) -> None:
    expiry_check(db, now=now)


register_job(Job(name="aml.sweep", every=timedelta(minutes=10), run=aml_sweep_job))
register_job(Job(name="kyc.expiry_check", every=timedelta(hours=6), run=kyc_expiry_job))
