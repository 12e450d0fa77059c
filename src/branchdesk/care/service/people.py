"""Who looks after a customer (relationship manager) and the stored risk-tolerance assessment."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.care.models import RiskAssessment
from branchdesk.care.rules import expires_on
from branchdesk.care.schemas import (
    AssessmentCreate,
    AssessmentRead,
    ManagerAssign,
    RelationshipManagerRead,
)
from branchdesk.core.errors import RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.customers import service as customers
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission, Role

# roles that may look after customers
MANAGER_ROLES = (Role.relationship_manager, Role.branch_manager)


def relationship_manager(db: Session, customer: Customer) -> RelationshipManagerRead | None:
    if customer.relationship_manager_id is None:
        return None
    user = db.get(User, customer.relationship_manager_id)
    if user is None:
        return None
    return RelationshipManagerRead(username=user.username, display_name=user.display_name)


def assign_relationship_manager(
    db: Session, *, customer_number: str, data: ManagerAssign, actor: Principal, now: datetime
) -> RelationshipManagerRead | None:
    """Assign, reassign or remove (audited). Raises Forbidden, NotFound, RuleViolation (not an
    active relationship or branch manager of the customer's home branch)."""
    customer = customers.get_customer(db, customer_number=customer_number, actor=actor)
    actor.require(Permission.customer_assign_manager, customer.home_branch_id)
    before = relationship_manager(db, customer)
    user: User | None = None
    if data.username is not None:
        user = db.execute(select(User).where(User.username == data.username)).scalar_one_or_none()
        if user is None or not user.is_active or user.role not in MANAGER_ROLES:
            raise RuleViolation("not an active relationship manager", field="username")
        if customer.home_branch_id is not None:
            in_branch = db.execute(
                select(user_branches.c.user_id).where(
                    user_branches.c.user_id == user.id,
                    user_branches.c.branch_id == customer.home_branch_id,
                )
            ).first()
            if in_branch is None:
                raise RuleViolation(
                    "the manager does not work at the customer's branch", field="username"
                )
    customer.relationship_manager_id = user.id if user else None
    customer.updated_at = now
    append_audit(
        db, action="customer.relationship_manager", object_type="customer",
        object_id=customer.id, branch_id=customer.home_branch_id, now=now, actor=actor,
        detail={"customer_number": customer.customer_number,
                "from": before.username if before else None,
                "to": user.username if user else None},
    )  # fmt: skip
    db.flush()
    return relationship_manager(db, customer)


def _read(row: RiskAssessment, by: str | None, today: date) -> AssessmentRead:
    return AssessmentRead(
        risk_tolerance=row.risk_tolerance, assessed_at=row.assessed_at,
        expires_on=row.expires_on, is_expired=row.expires_on < today, assessed_by=by,
    )  # fmt: skip


def record_assessment(
    db: Session, *, customer_number: str, data: AssessmentCreate, actor: Principal, now: datetime
) -> AssessmentRead:
    """Store a new assessment (the latest one is in force). Raises Forbidden, NotFound."""
    customer = customers.get_customer(db, customer_number=customer_number, actor=actor)
    actor.require(Permission.risk_assessment_record, customer.home_branch_id)
    row = RiskAssessment(
        id=new_id(), customer_id=customer.id, risk_tolerance=data.risk_tolerance,
        assessed_at=now, expires_on=expires_on(now.date()), assessed_by_id=actor.user_id,
        note=data.note,
    )  # fmt: skip
    db.add(row)
    append_audit(
        db, action="customer.risk_assessment", object_type="customer", object_id=customer.id,
        branch_id=customer.home_branch_id, now=now, actor=actor,
        detail={"customer_number": customer.customer_number, "tolerance": data.risk_tolerance,
                "expires_on": row.expires_on.isoformat()},
    )  # fmt: skip
    db.flush()
    return _read(row, actor.username, now.date())


def latest_assessment(db: Session, *, customer_id: uuid.UUID, today: date) -> AssessmentRead | None:
    """The most recent assessment (expired or not) for display."""
    row = db.execute(
        select(RiskAssessment, User.username)
        .outerjoin(User, User.id == RiskAssessment.assessed_by_id)
        .where(RiskAssessment.customer_id == customer_id)
        .order_by(RiskAssessment.assessed_at.desc())
        .limit(1)
    ).first()
    return None if row is None else _read(row[0], row[1], today)


def tolerances_on(
    db: Session, *, on: date, customer_ids: Collection[uuid.UUID] | None = None
) -> dict[uuid.UUID, str]:
    """customer id -> tolerance in force on ``on``: the latest assessment made on or before
    that day and not expired then. Customers without one are absent (the pipeline then applies
    its conservative default, ``PipelineConfig.default_risk_tolerance``)."""
    stmt = (
        select(RiskAssessment.customer_id, RiskAssessment.risk_tolerance)
        .where(RiskAssessment.expires_on >= on)
        .order_by(RiskAssessment.customer_id, RiskAssessment.assessed_at)
    )
    if customer_ids is not None:
        stmt = stmt.where(RiskAssessment.customer_id.in_(list(customer_ids)))
    found: dict[uuid.UUID, str] = {}
    for customer_id, tolerance, assessed_at in db.execute(
        stmt.add_columns(RiskAssessment.assessed_at)
    ):
        if assessed_at.date() <= on:
            found[customer_id] = tolerance  # ordered by time: the latest wins
    return found


def manager_candidates(
    db: Session, *, branch_id: uuid.UUID | None
) -> list[RelationshipManagerRead]:
    """Active relationship and branch managers of the branch (who may look after its customers)."""
    stmt = (
        select(User)
        .where(User.is_active, User.role.in_([str(r) for r in MANAGER_ROLES]))
        .order_by(User.role.desc(), User.username)
    )
    if branch_id is not None:
        stmt = stmt.join(user_branches, user_branches.c.user_id == User.id).where(
            user_branches.c.branch_id == branch_id
        )
    return [
        RelationshipManagerRead(username=u.username, display_name=u.display_name)
        for u in db.execute(stmt).scalars()
    ]
