"""Redemption at the counter: only for the customer of the ticket being served there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter
from branchdesk.core.errors import Conflict
from branchdesk.customers import service as customers
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loyalty import service
from branchdesk.loyalty.schemas import LoyaltySummary, RedemptionRead, RewardRead
from branchdesk.teller import service as teller


class NoCustomerServed(Conflict):
    code = "no_customer_served"


@dataclass(frozen=True)
class CounterLoyalty:
    ticket_id: uuid.UUID | None
    ticket_number: str | None
    customer_number: str | None
    customer_name: str | None
    summary: LoyaltySummary | None
    rewards: list[RewardRead]


def _served(
    db: Session, *, actor: Principal, branch: Branch, counter: Counter
) -> tuple[uuid.UUID | None, str | None, str | None, str | None]:
    ticket_id = teller.serving_ticket_id(db, counter=counter)
    panel = teller.console_panel(
        db, actor=actor, branch=branch, counter=counter, ticket_id=ticket_id
    )
    if panel is None or not panel.is_serving or panel.customer_number is None:
        return ticket_id, panel.ticket_number if panel else None, None, None
    return panel.ticket_id, panel.ticket_number, panel.customer_number, panel.customer_name


def counter_loyalty(
    db: Session, *, actor: Principal, branch: Branch, counter: Counter, now: datetime
) -> CounterLoyalty:
    """Raises Forbidden (no loyalty.redeem in the branch)."""
    actor.require(Permission.loyalty_redeem, branch.id)
    ticket_id, number, customer_number, name = _served(
        db, actor=actor, branch=branch, counter=counter
    )
    summary = None
    if customer_number is not None:
        summary = service.customer_summary(
            db, actor=actor, customer_number=customer_number, today=now.date()
        )
    return CounterLoyalty(ticket_id, number, customer_number, name, summary,
                          service.list_rewards(db, today=now.date()))  # fmt: skip


def redeem_at_counter(
    db: Session,
    *,
    actor: Principal,
    branch: Branch,
    counter: Counter,
    ticket_id: str,
    reward_code: str,
    idempotency_key: str,
    now: datetime,
) -> RedemptionRead:
    """Raises Forbidden, NoCustomerServed (no identified customer being served at this counter,
    or another ticket than the form's) and the refusals of ``service.redeem``."""
    actor.require(Permission.loyalty_redeem, branch.id)
    served, _number, customer_number, _name = _served(
        db, actor=actor, branch=branch, counter=counter
    )
    if customer_number is None or str(served) != ticket_id:
        raise NoCustomerServed("serve an identified customer's ticket at this counter first")
    customer = customers.get_customer(db, customer_number=customer_number, actor=actor)
    return service.redeem(
        db, customer_id=customer.id, reward_code=reward_code, idempotency_key=idempotency_key,
        channel="counter", today=now.date(), now=now, branch_id=branch.id, user_id=actor.user_id,
    )  # fmt: skip
