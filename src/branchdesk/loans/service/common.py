"""Shared look-ups of the loans package: readable references, the bank's loan ledger accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, NotFound
from branchdesk.core.ids import mod97_check_digits, new_id
from branchdesk.core.references import next_value
from branchdesk.ledger.models import Account, AccountStatus

# The bank's own loan accounts, one per branch and currency (see docs/loans.md). They are ledger
# accounts like the tills: loan assets carry a negative balance (money lent out), the income
# accounts a positive one. Account.type holds these names; they are never customer accounts.
LOAN_ACCOUNT_NAMES = {
    "loan_assets": "Loan assets",
    "loan_interest_income": "Loan interest income",
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
    key = f"{kind}:{branch_id}:branch:{currency}"
    for _attempt in range(3):
        found = db.execute(select(Account).where(Account.system_key == key)).scalar_one_or_none()
        if found is not None:
            return found
        body = f"9{next_value(db, 'ledger_internal_account'):09d}"
        account = Account(
            id=new_id(),
            number=body + mod97_check_digits(body),
            type=kind,
            currency=currency,
            status=AccountStatus.active,
            branch_id=branch_id,
            system_key=key,
            name=LOAN_ACCOUNT_NAMES[kind],
            balance_minor=0,
            last_entry_seq=0,
            overdraft_limit_minor=0,
            is_limited=False,
            opened_at=now,
            updated_at=now,
        )
        try:
            with db.begin_nested():
                db.add(account)
                db.flush()
        except IntegrityError:
            continue  # created by a concurrent transaction: read it on the next turn
        return account
    raise RuntimeError(f"could not create loan account {key}")
