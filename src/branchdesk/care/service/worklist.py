"""The relationship manager's (and the branch's) worklist of care tasks; done with an outcome."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from branchdesk.analytics.models import CareTask
from branchdesk.care.schemas import WorklistTask
from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, NotFound
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission

Scope = Literal["mine", "branch"]


def worklist(
    db: Session,
    *,
    actor: Principal,
    today: date,
    scope: Scope = "mine",
    status: str = "open",
    limit: int = 200,
    task_id: uuid.UUID | None = None,
) -> list[WorklistTask]:
    """``mine``: tasks assigned to the actor, or unassigned ones of customers the actor manages;
    ``branch``: every task of the actor's branches (all for bank-wide roles). Raises Forbidden."""
    actor.require(Permission.customer_view)
    assignee = aliased(User)
    manager = aliased(User)
    stmt = (
        select(CareTask, Customer, Branch.code, assignee.username, manager.username)
        .join(Customer, Customer.id == CareTask.customer_id)
        .outerjoin(Branch, Branch.id == CareTask.branch_id)
        .outerjoin(assignee, assignee.id == CareTask.assignee_id)
        .outerjoin(manager, manager.id == Customer.relationship_manager_id)
        .where(CareTask.status == status)
        .order_by(CareTask.due_on, CareTask.rule_code, Customer.customer_number)
        .limit(limit)
    )
    if task_id is not None:
        stmt = stmt.where(CareTask.id == task_id)
    if scope == "mine":
        stmt = stmt.where(
            or_(
                CareTask.assignee_id == actor.user_id,
                and_(
                    CareTask.assignee_id.is_(None),
                    Customer.relationship_manager_id == actor.user_id,
                ),
            )
        )
    if not actor.is_bank_wide:
        stmt = stmt.where(CareTask.branch_id.in_(list(actor.branch_ids)))
    return [
        WorklistTask(
            id=t.id, customer_number=c.customer_number, customer_name=c.full_name,
            rule_code=t.rule_code, due_on=t.due_on, status=t.status, detail=t.detail,
            branch_code=code, assignee=assigned or managed,
            is_overdue=t.status == "open" and t.due_on < today, outcome=t.outcome,
            outcome_note=t.outcome_note,
        )
        for t, c, code, assigned, managed in db.execute(stmt).all()
    ]  # fmt: skip


def complete_task(
    db: Session,
    *,
    task_id: uuid.UUID,
    outcome: str,
    note: str,
    actor: Principal,
    now: datetime,
) -> CareTask:
    """Mark a task done with how the contact went (audited). Raises Forbidden, NotFound
    (unknown or another branch's), Conflict (already done)."""
    actor.require(Permission.customer_manage)
    task = db.get(CareTask, task_id)
    if task is None or not (actor.is_bank_wide or task.branch_id in actor.branch_ids):
        raise NotFound("no such care task")
    actor.require(Permission.customer_manage, task.branch_id)
    if task.status != "open":
        raise Conflict("the care task is already done", field="status")
    task.status = "done"
    task.outcome = outcome
    task.outcome_note = note
    task.completed_at = now
    task.completed_by_id = actor.user_id
    customer = db.get(Customer, task.customer_id)
    assert customer is not None  # a foreign key
    append_audit(
        db, action="care_task.complete", object_type="care_task", object_id=task.id,
        branch_id=task.branch_id, now=now, actor=actor,
        detail={"rule": task.rule_code, "customer_number": customer.customer_number,
                "outcome": outcome},
    )  # fmt: skip
    db.flush()
    return task
