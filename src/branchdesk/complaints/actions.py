"""Improvement actions (溯源整改): from a case or a topic, with an owner, a due date, the KPI
it should move and its measured before/after values."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.complaints.models import ActionStatus, Case, ImprovementAction, plain
from branchdesk.core.errors import NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission


def create_action(
    db: Session,
    *,
    title: str,
    owner_username: str,
    due_on: date,
    kpi: str,
    actor: Principal,
    now: datetime,
    case_reference: str | None = None,
    topic: str = "",
    baseline_value: float | None = None,
) -> ImprovementAction:
    """Raises Forbidden, RuleViolation (no case nor topic, unknown owner, empty title or KPI)."""
    case = None
    if case_reference:
        case = db.execute(
            select(Case).where(Case.reference == plain(case_reference.strip()))
        ).scalar_one_or_none()
        if case is None:
            raise RuleViolation("no such complaint", field="case_reference")
    actor.require(Permission.complaint_improve, case.branch_id if case else None)
    if case is None and not topic.strip():
        raise RuleViolation("name the case or the topic the action answers", field="topic")
    if not title.strip():
        raise RuleViolation("give the action a title", field="title")
    if not kpi.strip():
        raise RuleViolation("name the KPI the action should move", field="kpi")
    owner = db.execute(
        select(User).where(User.username == plain(owner_username.strip().lower()))
    ).scalar_one_or_none()
    if owner is None or not owner.is_active:
        raise RuleViolation("no such active staff member", field="owner")
    action = ImprovementAction(
        id=new_id(),
        case_id=case.id if case else None,
        topic=topic.strip()[:120],
        branch_id=case.branch_id if case else None,
        title=title.strip()[:200],
        owner_id=owner.id,
        due_on=due_on,
        kpi=kpi.strip()[:120],
        baseline_value=baseline_value,
        measured_value=None,
        status=ActionStatus.open,
        created_at=now,
        updated_at=now,
    )
    db.add(action)
    append_audit(
        db, actor=actor, action="complaint.improvement_create", object_type="improvement_action",
        object_id=action.id, branch_id=action.branch_id, now=now,
        detail={"case": case.reference if case else None, "kpi": action.kpi},
    )  # fmt: skip
    db.flush()
    return action


def update_action(
    db: Session,
    *,
    action_id: uuid.UUID,
    actor: Principal,
    now: datetime,
    status: str | None = None,
    measured_value: float | None = None,
) -> ImprovementAction:
    """Record progress or the measured effect. Raises NotFound, Forbidden, RuleViolation."""
    action = db.get(ImprovementAction, action_id)
    if action is None:
        raise NotFound("no such improvement action")
    actor.require(Permission.complaint_improve, action.branch_id)
    if status is not None:
        if status not in set(ActionStatus):
            raise RuleViolation(f"unknown status {status!r}", field="status")
        if status == ActionStatus.done and measured_value is None and action.measured_value is None:
            raise RuleViolation("record the measured value before closing", field="measured_value")
        action.status = status
    if measured_value is not None:
        action.measured_value = measured_value
    action.updated_at = now
    append_audit(
        db, actor=actor, action="complaint.improvement_update", object_type="improvement_action",
        object_id=action.id, branch_id=action.branch_id, now=now,
        detail={"status": action.status, "measured_value": action.measured_value},
    )  # fmt: skip
    db.flush()
    return action


def list_actions(
    db: Session, *, actor: Principal, action_id: uuid.UUID | None = None
) -> list[tuple[ImprovementAction, str, str]]:
    """(action, owner name, case reference) rows the actor may see (one, given its id).

    Raises Forbidden."""
    actor.require(Permission.complaint_view)
    query = (
        select(ImprovementAction, User.display_name, Case.reference)
        .join(User, User.id == ImprovementAction.owner_id)
        .outerjoin(Case, Case.id == ImprovementAction.case_id)
        .order_by(ImprovementAction.due_on, ImprovementAction.id)
    )
    if action_id is not None:
        query = query.where(ImprovementAction.id == action_id)
    if not actor.is_bank_wide:
        query = query.where(
            ImprovementAction.branch_id.is_(None)
            | ImprovementAction.branch_id.in_(list(actor.branch_ids))
        )
    return [(row[0], row[1], row[2] or "") for row in db.execute(query).all()]
