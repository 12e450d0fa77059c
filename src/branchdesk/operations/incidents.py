"""Emergency plans, incidents with their step checklist, and loss events / near misses.

Any staff member of a branch may open an incident there and tick its steps (in a robbery the
teller at hand must be able to); branch managers, compliance and risk officers and admins record
loss events; compliance officers and admins edit the plans. Every change is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.operations.access import require_branch
from branchdesk.operations.models import (
    EmergencyPlan,
    Incident,
    IncidentStatus,
    IncidentStep,
    LossEvent,
    LossKind,
    Scenario,
)
from branchdesk.operations.plans import DEFAULT_PLANS
from branchdesk.operations.schemas import (
    IncidentOpen,
    IncidentRead,
    IncidentStepRead,
    LossEventCreate,
    LossEventRead,
    PlanPut,
    PlanRead,
)


class StepAlreadyTicked(Conflict):
    code = "step_already_ticked"


class IncidentClosed(Conflict):
    code = "incident_closed"


# --- plans --------------------------------------------------------------------------------------


def _plan_read(plan: EmergencyPlan) -> PlanRead:
    return PlanRead(
        scenario=Scenario(plan.scenario), title_zh_hant=plan.title_zh_hant,
        title_zh_hans=plan.title_zh_hans, title_en=plan.title_en, version=plan.version,
        steps=list(plan.steps),
    )  # fmt: skip


def load_default_plans(db: Session, *, now: datetime, replace: bool = False) -> int:
    """Write the built-in plans (kept when present unless ``replace``). Returns how many."""
    written = 0
    for scenario, ((zh_hant, zh_hans, en), steps) in DEFAULT_PLANS.items():
        plan = db.execute(
            select(EmergencyPlan).where(EmergencyPlan.scenario == scenario)
        ).scalar_one_or_none()
        if plan is not None and not replace:
            continue
        if plan is None:
            plan = EmergencyPlan(scenario=str(scenario), version=0)
            db.add(plan)
        plan.title_zh_hant, plan.title_zh_hans, plan.title_en = zh_hant, zh_hans, en
        plan.steps = [dict(step) for step in steps]
        plan.version = (plan.version or 0) + 1
        plan.updated_at = now
        written += 1
    db.flush()
    if written:
        append_audit(
            db, action="emergency_plan.load_defaults", object_type="emergency_plan", now=now,
            actor_label="branchdesk operations load-plans", detail={"written": written},
        )  # fmt: skip
    return written


def list_plans(db: Session, *, actor: Principal) -> list[PlanRead]:
    actor.require(Permission.incident_handle)
    rows = db.execute(select(EmergencyPlan).order_by(EmergencyPlan.scenario)).scalars()
    return [_plan_read(plan) for plan in rows]


def put_plan(
    db: Session, *, scenario: Scenario, body: PlanPut, actor: Principal, now: datetime
) -> PlanRead:
    """Create or replace a scenario's plan (a new version; open incidents keep their copy)."""
    actor.require(Permission.emergency_plan_manage)
    plan = db.execute(
        select(EmergencyPlan).where(EmergencyPlan.scenario == scenario).with_for_update()
    ).scalar_one_or_none()
    if plan is None:
        plan = EmergencyPlan(scenario=str(scenario), version=0)
        db.add(plan)
    plan.title_zh_hant, plan.title_zh_hans, plan.title_en = (
        body.title_zh_hant, body.title_zh_hans, body.title_en,
    )  # fmt: skip
    plan.steps = [step.model_dump(by_alias=True) for step in body.steps]
    plan.version = (plan.version or 0) + 1
    plan.updated_at = now
    db.flush()
    append_audit(
        db, actor=actor, action="emergency_plan.put", object_type="emergency_plan",
        object_id=plan.id, now=now,
        detail={"scenario": str(scenario), "version": plan.version, "steps": len(body.steps)},
    )  # fmt: skip
    return _plan_read(plan)


# --- incidents ----------------------------------------------------------------------------------


def _username(db: Session, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return user.username if user else None


def get_incident(db: Session, *, incident_id: uuid.UUID, actor: Principal) -> IncidentRead:
    incident = db.get(Incident, incident_id)
    if incident is None:
        raise NotFound("no such incident")
    require_branch(actor, Permission.incident_handle, incident.branch_id)
    return _incident_read(db, incident)


def _incident_read(db: Session, incident: Incident) -> IncidentRead:
    branch = db.get(Branch, incident.branch_id)
    assert branch is not None
    steps = db.execute(
        select(IncidentStep)
        .where(IncidentStep.incident_id == incident.id)
        .order_by(IncidentStep.position)
    ).scalars()
    return IncidentRead(
        id=incident.id, branch_code=branch.code, scenario=Scenario(incident.scenario),
        title=incident.title, description=incident.description,
        status=IncidentStatus(incident.status), plan_version=incident.plan_version,
        opened_by=_username(db, incident.opened_by_id), opened_at=incident.opened_at,
        closed_at=incident.closed_at, closing_note=incident.closing_note,
        steps=[
            IncidentStepRead(
                position=s.position, text_zh_hant=s.text_zh_hant, text_zh_hans=s.text_zh_hans,
                text_en=s.text_en, ticked_by=_username(db, s.ticked_by_id), ticked_at=s.ticked_at,
            )
            for s in steps
        ],
    )  # fmt: skip


def open_incident(
    db: Session, *, branch: Branch, body: IncidentOpen, actor: Principal, now: datetime
) -> IncidentRead:
    """Register an incident; its scenario's plan is copied in as the step checklist."""
    require_branch(actor, Permission.incident_handle, branch.id)
    plan = db.execute(
        select(EmergencyPlan).where(EmergencyPlan.scenario == body.scenario)
    ).scalar_one_or_none()
    incident = Incident(
        branch_id=branch.id, scenario=str(body.scenario), title=body.title,
        description=body.description, status=IncidentStatus.open,
        plan_version=plan.version if plan else None, opened_by_id=actor.user_id, opened_at=now,
        closed_by_id=None, closed_at=None, closing_note="",
    )  # fmt: skip
    db.add(incident)
    db.flush()
    for position, step in enumerate(plan.steps if plan else [], start=1):
        db.add(
            IncidentStep(
                incident_id=incident.id, position=position, text_zh_hant=step["zh-Hant"],
                text_zh_hans=step["zh-Hans"], text_en=step["en"], ticked_by_id=None,
                ticked_at=None,
            )
        )  # fmt: skip
    db.flush()
    append_audit(
        db, actor=actor, action="incident.open", object_type="incident", object_id=incident.id,
        branch_id=branch.id, now=now,
        detail={"scenario": str(body.scenario), "plan_version": incident.plan_version},
    )  # fmt: skip
    return _incident_read(db, incident)


def _locked_incident(db: Session, incident_id: uuid.UUID, actor: Principal) -> Incident:
    incident = db.execute(
        select(Incident).where(Incident.id == incident_id).with_for_update()
    ).scalar_one_or_none()
    if incident is None:
        raise NotFound("no such incident")
    require_branch(actor, Permission.incident_handle, incident.branch_id)
    if incident.status != IncidentStatus.open:
        raise IncidentClosed("the incident is closed")
    return incident


def tick_step(
    db: Session, *, incident_id: uuid.UUID, position: int, actor: Principal, now: datetime
) -> IncidentRead:
    """Tick one step of the checklist with who and when (once)."""
    incident = _locked_incident(db, incident_id, actor)
    step = db.execute(
        select(IncidentStep).where(
            IncidentStep.incident_id == incident.id, IncidentStep.position == position
        )
    ).scalar_one_or_none()
    if step is None:
        raise NotFound(f"no step {position}")
    if step.ticked_at is not None:
        raise StepAlreadyTicked(f"step {position} was ticked already")
    step.ticked_by_id = actor.user_id
    step.ticked_at = now
    db.flush()
    append_audit(
        db, actor=actor, action="incident.step_tick", object_type="incident",
        object_id=incident.id, branch_id=incident.branch_id, now=now,
        detail={"position": position},
    )  # fmt: skip
    return _incident_read(db, incident)


def close_incident(
    db: Session, *, incident_id: uuid.UUID, note: str, actor: Principal, now: datetime
) -> IncidentRead:
    """Close an incident once every step is ticked."""
    incident = _locked_incident(db, incident_id, actor)
    open_steps = list(
        db.execute(
            select(IncidentStep.position).where(
                IncidentStep.incident_id == incident.id, IncidentStep.ticked_at.is_(None)
            )
        ).scalars()
    )
    if open_steps:
        raise RuleViolation(f"steps not ticked yet: {sorted(open_steps)}", field="steps")
    incident.status = IncidentStatus.closed
    incident.closed_by_id = actor.user_id
    incident.closed_at = now
    incident.closing_note = note
    db.flush()
    append_audit(
        db, actor=actor, action="incident.close", object_type="incident", object_id=incident.id,
        branch_id=incident.branch_id, now=now, detail={},
    )  # fmt: skip
    return _incident_read(db, incident)


def list_incidents(
    db: Session, *, branch: Branch, actor: Principal, status: IncidentStatus | None = None
) -> list[IncidentRead]:
    require_branch(actor, Permission.incident_handle, branch.id)
    query = select(Incident).where(Incident.branch_id == branch.id)
    if status is not None:
        query = query.where(Incident.status == status)
    rows = db.execute(query.order_by(Incident.opened_at.desc())).scalars()
    return [_incident_read(db, incident) for incident in rows]


# --- loss events --------------------------------------------------------------------------------


def _loss_read(branch: Branch, event: LossEvent) -> LossEventRead:
    return LossEventRead(
        id=event.id, branch_code=branch.code, kind=LossKind(event.kind),
        category=event.category, amount_minor=event.amount_minor, currency=event.currency,
        root_cause=event.root_cause, occurred_on=event.occurred_on,
        incident_id=event.incident_id,
    )  # fmt: skip


def record_loss_event(
    db: Session, *, branch: Branch, body: LossEventCreate, actor: Principal, now: datetime
) -> LossEventRead:
    require_branch(actor, Permission.loss_event_manage, branch.id)
    if body.occurred_on > now.date():
        raise RuleViolation("the event lies in the future", field="occurred_on")
    if body.incident_id is not None:
        incident = db.get(Incident, body.incident_id)
        if incident is None or incident.branch_id != branch.id:
            raise RuleViolation("no such incident at this branch", field="incident_id")
    event = LossEvent(
        branch_id=branch.id, kind=str(body.kind), category=body.category,
        amount_minor=body.amount_minor, currency=body.currency, root_cause=body.root_cause,
        occurred_on=body.occurred_on, incident_id=body.incident_id,
        recorded_by_id=actor.user_id, created_at=now,
    )  # fmt: skip
    db.add(event)
    db.flush()
    append_audit(
        db, actor=actor, action="loss_event.record", object_type="loss_event",
        object_id=event.id, branch_id=branch.id, now=now,
        detail={"kind": str(body.kind), "category": body.category,
                "amount_minor": body.amount_minor, "currency": body.currency},
    )  # fmt: skip
    return _loss_read(branch, event)


def list_loss_events(db: Session, *, branch: Branch, actor: Principal) -> list[LossEventRead]:
    require_branch(actor, Permission.loss_event_manage, branch.id)
    rows = db.execute(
        select(LossEvent)
        .where(LossEvent.branch_id == branch.id)
        .order_by(LossEvent.occurred_on.desc(), LossEvent.created_at.desc())
    ).scalars()
    return [_loss_read(branch, event) for event in rows]
