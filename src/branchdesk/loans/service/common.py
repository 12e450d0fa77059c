"""Shared look-ups of the loans package: readable references, the bank's loan ledger accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, NotFound
from branchdesk.core.references import next_value
from branchdesk.ledger.models import Account
from branchdesk.ledger.service.common import internal_account

# The bank's own loan accounts, one per branch and currency (see docs/loans.md). They are ledger
# accounts like the tills: loan assets carry a negative balance (money lent out), the income
# accounts a positive one. Account.type holds these names; they are never customer accounts.
LOAN_ACCOUNT_NAMES = {
    "loan_assets": "Loan assets",
    "loan_interest_receivable": "Loan interest receivable",
    "loan_interest_income": "Loan interest income",
    "loan_penalty_receivable": "Loan penalty receivable",
    "loan_penalty_income": "Loan penalty income",
}


class ApplicationNotFound(NotFound):
    code = "loan_application_not_found"


class LoanNotFound(NotFound):
    code = "loan_not_found"


class OwnApproval(Conflict):
    """Maker-checker: whoever took the application cannot decide on its referral."""

    code = "own_approval"


def reference(db: Session, prefix: str, now: datetime) -> str:
    """``LA-2026-000001`` / ``LN-2026-000001``: gap-free per prefix and year."""
    return f"{prefix}-{now.year}-{next_value(db, f'loans:{prefix}:{now.year}'):06d}"


def loan_account(
    db: Session, *, kind: str, branch_id: uuid.UUID, currency: str, now: datetime
) -> Account:
    """The branch's loan ledger account of this kind and currency (created on first use)."""
    return internal_account(
        db, type=kind, branch_id=branch_id, currency=currency, now=now,
        name=LOAN_ACCOUNT_NAMES[kind],
    )  # fmt: skip
