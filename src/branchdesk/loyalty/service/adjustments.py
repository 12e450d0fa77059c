"""Manual adjustments with maker-checker."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import NotFound
from branchdesk.core.ids import new_id
from branchdesk.customers import service as customers
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loyalty.config import Programme
from branchdesk.loyalty.models import (
    Adjustment,
)
from branchdesk.loyalty.schemas import (
    AdjustmentCreate,
    AdjustmentRead,
)
from branchdesk.loyalty.service.ledger import (
    AlreadyDecided,
    OwnAdjustment,
    _add_lot,
    _consume,
)

# --- adjustments (maker-checker) ----------------------------------------------------------------


def _adjustment_read(db: Session, adjustment: Adjustment) -> AdjustmentRead:
    number = db.scalar(
        select(Customer.customer_number).where(Customer.id == adjustment.customer_id)
    )
    names = dict(
        db.execute(
            select(User.id, User.username).where(
                User.id.in_([u for u in (adjustment.requested_by, adjustment.decided_by) if u])
            )
        ).all()
    )
    return AdjustmentRead(
        id=adjustment.id,
        customer_number=number or "",
        points=adjustment.points,
        reason=adjustment.reason,
        state=adjustment.state,
        requested_by=names.get(adjustment.requested_by, ""),
        requested_at=adjustment.requested_at,
        decided_by=names.get(adjustment.decided_by) if adjustment.decided_by else None,
        decided_at=adjustment.decided_at,
    )


def request_adjustment(
    db: Session, *, actor: Principal, customer_number: str, data: AdjustmentCreate, now: datetime
) -> AdjustmentRead:
    """Raises Forbidden (no loyalty.adjust in the customer's branch) or NotFound."""
    customer = customers.get_customer(db, customer_number=customer_number, actor=actor)
    actor.require(Permission.loyalty_adjust, customer.home_branch_id)
    adjustment = Adjustment(
        id=new_id(),
        customer_id=customer.id,
        points=data.points,
        reason=data.reason,
        state="pending",
        requested_by=actor.user_id,
        requested_at=now,
    )
    db.add(adjustment)
    db.flush()
    append_audit(
        db,
        action="loyalty.adjustment_request",
        object_type="loyalty_adjustment",
        object_id=adjustment.id,
        actor=actor,
        branch_id=customer.home_branch_id,
        now=now,
        detail={"points": data.points},
    )
    return _adjustment_read(db, adjustment)


def list_adjustments(
    db: Session, *, actor: Principal, state: str = "pending"
) -> list[AdjustmentRead]:
    """Adjustments of customers in the actor's branches. Raises Forbidden (no loyalty.adjust)."""
    actor.require(Permission.loyalty_adjust)
    stmt = (
        select(Adjustment)
        .join(Customer, Customer.id == Adjustment.customer_id)
        .where(Adjustment.state == state)
        .order_by(Adjustment.requested_at)
    )
    if not actor.is_bank_wide:
        stmt = stmt.where(Customer.home_branch_id.in_(list(actor.branch_ids)))
    return [_adjustment_read(db, a) for a in db.execute(stmt).scalars()]


def decide_adjustment(
    db: Session,
    *,
    actor: Principal,
    adjustment_id: uuid.UUID,
    approve: bool,
    today: date,
    now: datetime,
    programme: Programme | None = None,
) -> AdjustmentRead:
    """Approve (apply) or reject a pending adjustment. Raises NotFound, Forbidden (no
    loyalty.approve, or the actor's own request: OwnAdjustment), AlreadyDecided, or
    InsufficientPoints (a deduction larger than the balance; nothing changes)."""
    adjustment = db.get(Adjustment, adjustment_id)
    customer = db.get(Customer, adjustment.customer_id) if adjustment else None
    if (
        adjustment is None
        or customer is None
        or (
            customer.home_branch_id is not None
            and not actor.sees_branch(customer.home_branch_id)
            and not actor.is_bank_wide
        )
    ):
        raise NotFound("no such adjustment")
    actor.require(Permission.loyalty_approve, customer.home_branch_id)
    if adjustment.requested_by == actor.user_id:
        raise OwnAdjustment("a second person must approve this adjustment")
    if adjustment.state != "pending":
        raise AlreadyDecided(f"this adjustment is already {adjustment.state}")
    programme = programme or Programme()
    with db.begin_nested():
        if approve:
            if adjustment.points > 0:
                entry = _add_lot(
                    db,
                    customer_id=customer.id,
                    kind="adjust",
                    points=adjustment.points,
                    source_kind="adjustment",
                    source_id=adjustment.id,
                    rule_code="",
                    earned_on=today,
                    programme=programme,
                    now=now,
                )
            else:
                entry = _consume(
                    db,
                    customer_id=customer.id,
                    kind="adjust",
                    points=-adjustment.points,
                    source_kind="adjustment",
                    source_id=adjustment.id,
                    today=today,
                    now=now,
                )
            db.flush()
            adjustment.entry_id = entry.id
        adjustment.state = "approved" if approve else "rejected"
        adjustment.decided_by, adjustment.decided_at = actor.user_id, now
        db.flush()
    append_audit(
        db,
        action=f"loyalty.adjustment_{adjustment.state}",
        object_type="loyalty_adjustment",
        object_id=adjustment.id,
        actor=actor,
        branch_id=customer.home_branch_id,
        now=now,
        detail={"points": adjustment.points},
    )
    return _adjustment_read(db, adjustment)
