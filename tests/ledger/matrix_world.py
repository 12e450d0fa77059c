"""The ledger's part of the role-matrix world: accounts, a posted transfer, a pending reversal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User
from branchdesk.ledger import service
from branchdesk.ledger.models import AccountType
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import AllowAll
from tests.factories import NOW, make_customer, principal


def ledger_world(
    db: Session, signer: Signer, home: Branch, maker: User, customer: Customer
) -> dict[str, str]:
    actor = principal(db, maker)
    allow = AllowAll()
    other = make_customer(db, signer, home_branch_id=home.id)
    accounts = [
        service.open_account(
            db,
            data=AccountOpen(customer_number=c.customer_number, currency="CNY", branch_code="HOME"),
            actor=actor,
            now=NOW,
        )
        for c in (customer, other)
    ]
    first, second = accounts
    common = {"actor": actor, "now": NOW, "compliance": allow, "currency": "CNY"}
    service.post_deposit(
        db, account=first.number, amount_minor=100_000, idempotency_key="w1", **common
    )  # type: ignore[arg-type]
    funded = service.post_deposit(
        db, account=second.number, amount_minor=10_000, idempotency_key="w2", **common
    )  # type: ignore[arg-type]
    posted = service.post_transfer(
        db,
        from_account=first.number,
        to_account=second.number,
        amount_minor=1_000,
        idempotency_key="w3",
        **common,
    )  # type: ignore[arg-type]
    sent = service.post_remittance(
        db,
        from_account=first.number,
        beneficiary="ICBC 1",
        amount_minor=2_000,
        idempotency_key="w4",
        **common,
    )  # type: ignore[arg-type]
    term = service.open_account(
        db,
        data=AccountOpen(customer_number=customer.customer_number, currency="CNY",
                         branch_code="HOME", type=AccountType.time_deposit, term_months=6,
                         rate_bps=150),
        actor=actor, now=NOW,
    )  # fmt: skip
    service.post_transfer(
        db, from_account=first.number, to_account=term.number, amount_minor=5_000,
        idempotency_key="w6", **common,
    )  # type: ignore[arg-type]  # fmt: skip
    pending = service.reverse_posting(db, posting_id=funded.posting.id, idempotency_key="w5", actor=actor, now=NOW, compliance=allow)  # fmt: skip
    return {
        "account": first.number,
        "account_two": second.number,
        "posted": str(posted.posting.id),
        "remittance": str(sent.posting.id),
        "pending": str(pending.posting.id),
        "time_deposit": term.number,
    }
