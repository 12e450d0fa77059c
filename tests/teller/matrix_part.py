"""The teller console's routes in the role matrix: counter forms, the workspace, receipts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import AccountType
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import AllowAll
from tests.factories import NOW, make_counter, make_ticket, principal
from tests.matrix import CUSTOMER_VIEWERS, SERVERS, Case, WorldContext


def _form(key: str, **fields: str) -> dict[str, str]:
    return {"ticket_id": "{teller_ticket}", "idempotency_key": key, **fields}


_CASH = {"account": "{teller_account}", "amount": "5", "currency": "CNY"}
CASES = [
    Case("GET", "/teller/HOME/K3", SERVERS, html=True),
    Case("POST", "/teller/HOME/K3/identify", SERVERS, html=True, form={"ticket_id": "{teller_walk_in}", "query": "{customer}"}),
    Case("POST", "/teller/HOME/K3/deposit", SERVERS, html=True, form=_form("counter-m1", **_CASH)),
    Case("POST", "/teller/HOME/K3/withdrawal", SERVERS, html=True, form=_form("counter-m2", **_CASH)),
    Case("POST", "/teller/HOME/K3/transfer", SERVERS, html=True, form=_form("counter-m3", **_CASH, to_account="{teller_savings}")),
    Case("POST", "/teller/HOME/K3/remittance", SERVERS, html=True, form=_form("counter-m4", **_CASH, beneficiary="BOC 1", country="CN")),
    Case("POST", "/teller/HOME/K3/fee", SERVERS, html=True, form=_form("counter-m5", **_CASH)),
    Case("POST", "/teller/HOME/K3/time-deposit", SERVERS, html=True, form=_form("counter-m6", account="{teller_account}", amount="5", term_months="3")),
    Case("POST", "/teller/HOME/K3/time-deposit-withdrawal", SERVERS, html=True, form=_form("counter-m7", account="{teller_time_deposit}", to_account="{teller_account}")),
    Case("GET", "/receipts/{teller_posting}", CUSTOMER_VIEWERS, html=True),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    """A ticket of the world's customer being served at its own counter K3 (K1 and K2 belong to
    the queue's cases), with funded accounts."""
    counter = make_counter(db, ctx.home, ctx.service, code="K3", status="open")
    ticket = make_ticket(
        db, ctx.home, ctx.service, business_on=business_day(ctx.home, utcnow()),
        state="serving", counter_id=counter.id, customer_id=ctx.customer.id, called_at=NOW,
        started_at=NOW,
    )  # fmt: skip
    walk_in = make_ticket(
        db, ctx.home, ctx.service, business_on=business_day(ctx.home, utcnow()),
        state="serving", counter_id=counter.id, called_at=NOW, started_at=NOW,
    )  # fmt: skip
    maker = principal(db, ctx.colleague)
    number = ctx.customer.customer_number

    def account(kind: AccountType, **terms: int) -> str:
        data = AccountOpen(
            customer_number=number, currency="CNY", branch_code="HOME", type=kind, **terms
        )
        return ledger.open_account(db, data=data, actor=maker, now=NOW).number

    current = account(AccountType.current)
    savings = account(AccountType.savings)
    deposit = account(AccountType.time_deposit, term_months=3, rate_bps=120)
    common = {"actor": maker, "now": NOW, "compliance": AllowAll(), "currency": "CNY"}
    funded = ledger.post_deposit(
        db, account=current, amount_minor=100_000, idempotency_key="tw-1", **common
    )  # type: ignore[arg-type]
    ledger.post_transfer(
        db, from_account=current, to_account=deposit, amount_minor=5_000,
        idempotency_key="tw-2", **common,
    )  # type: ignore[arg-type]  # fmt: skip
    return {
        "teller_ticket": str(ticket.id),
        "teller_walk_in": str(walk_in.id),
        "teller_account": current,
        "teller_savings": savings,
        "teller_time_deposit": deposit,
        "teller_posting": str(funded.posting.id),
    }
