"""A constructed ledger history for the AML case tests: cash at the counter over a few days."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import Account, Posting
from branchdesk.ledger.service.compliance import (
    ComplianceDecision,
    FixedDecision,
    PrePostingCheck,
    Verdict,
)
from tests.factories import NOW
from tests.ledger.helpers import ALLOW, Bank

_keys = itertools.count(1)
HOLD = FixedDecision(ComplianceDecision(Verdict.hold, "structuring: cash just under the line"))


def cash_in(
    db: Session,
    bank: Bank,
    account: Account,
    amount_minor: int,
    *,
    at: datetime,
    compliance: PrePostingCheck = ALLOW,
) -> Posting:
    return ledger.post_deposit(
        db,
        account=account.number,
        amount_minor=amount_minor,
        currency=account.currency,
        idempotency_key=f"aml-case-{next(_keys)}",
        actor=bank.teller,
        now=at,
        compliance=compliance,
        branch_code=bank.branch.code,
        counter_code="T1",
    ).posting


def day(n: int, hour: int = 2) -> datetime:
    return NOW + timedelta(days=n, hours=hour)
