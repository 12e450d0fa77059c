"""Reading and changing cases: the state machine, messages, assignment, categories."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from branchdesk.complaints import rules
from branchdesk.complaints.models import (
    OPEN_STATES,
    Case,
    CaseState,
    Extension,
    Pause,
    TimelineEntry,
    TimelineKind,
    plain,
)
from branchdesk.complaints.service.common import (
    AGGREGATE,
    CaseClosed,
    TransitionRefused,
    add_timeline,
    category_choices,
    emit_event,
    notify_customer,
    recompute_due_dates,
    textanalysis_module,
)
from branchdesk.core.errors import NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission


def find_open_case_by_thread(db: Session, *, channel: str, thread_key: str) -> Case | None:
    return db.execute(
        select(Case)
        .where(
            Case.channel == channel,
            Case.thread_key == thread_key,
            Case.state.in_([str(s) for s in OPEN_STATES]),
        )
        .order_by(Case.received_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def append_customer_message(
    db: Session,
    case: Case,
    *,
    body: str,
    now: datetime,
    source: str,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """A message from the customer: appended; a case waiting on the customer resumes.

    Raises CaseClosed (the case is closed: open a new one instead).
    """
    if case.state == CaseState.closed:
        raise CaseClosed("this case is closed")
    entry = add_timeline(
        db, case, kind=TimelineKind.message_in, now=now, actor_label=source, body=body, data=data
    )
    if case.state == CaseState.waiting_on_customer:
        _change_state(db, case, "resume", now=now, actor=None, note="customer replied")
    case.updated_at = now
    emit_event(db, case, "message_in", now, None)
    db.flush()
    return entry


# --- reading -------------------------------------------------------------------------------


def get_case(db: Session, *, reference: str, actor: Principal | None) -> Case:
    """Raises NotFound, Forbidden."""
    case = db.execute(select(Case).where(Case.reference == plain(reference))).scalar_one_or_none()
    if case is None:
        raise NotFound("no such complaint")
    if actor is not None:
        actor.require(Permission.complaint_view, case.branch_id)
    return case


def timeline(db: Session, case: Case) -> list[TimelineEntry]:
    return list(
        db.execute(
            select(TimelineEntry)
            .where(TimelineEntry.case_id == case.id)
            .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
        ).scalars()
    )


def extensions(db: Session, case: Case) -> list[Extension]:
    return list(
        db.execute(
            select(Extension).where(Extension.case_id == case.id).order_by(Extension.requested_at)
        ).scalars()
    )


@dataclass(frozen=True, slots=True)
class CaseFilter:
    state: str | None = None
    channel: str | None = None
    branch_id: uuid.UUID | None = None
    overdue: bool = False


def list_cases(
    db: Session, *, actor: Principal, filters: CaseFilter, now: datetime, limit: int = 200
) -> list[Case]:
    """Cases in the actor's branches, newest first. Raises Forbidden."""
    actor.require(Permission.complaint_view, filters.branch_id)
    query = select(Case).order_by(Case.received_at.desc()).limit(limit)
    if not actor.is_bank_wide:
        query = query.where(Case.branch_id.in_(list(actor.branch_ids)))
    if filters.branch_id is not None:
        query = query.where(Case.branch_id == filters.branch_id)
    if filters.state:
        query = query.where(Case.state == plain(filters.state))
    if filters.channel:
        query = query.where(Case.channel == plain(filters.channel))
    if filters.overdue:
        query = query.where(
            Case.state.in_(
                [CaseState.new, CaseState.acknowledged, CaseState.in_progress, CaseState.reopened]
            ),
            or_(
                Case.final_due_at < now,
                (Case.acknowledged_at.is_(None) & (Case.acknowledge_due_at < now)),
            ),
        )
    return list(db.execute(query).scalars())


def is_overdue(case: Case, *, now: datetime) -> bool:
    if case.state in (CaseState.resolved, CaseState.closed, CaseState.waiting_on_customer):
        return False
    if case.acknowledged_at is None and case.acknowledge_due_at and case.acknowledge_due_at < now:
        return True
    return case.final_due_at is not None and case.final_due_at < now


# --- changes by staff ----------------------------------------------------------------------


def _change_state(
    db: Session, case: Case, action: str, *, now: datetime, actor: Principal | None, note: str = ""
) -> None:
    target = rules.next_state(case.state, action)
    if target is None:
        raise TransitionRefused(f"a {case.state} case cannot {action}")
    before = case.state
    case.state = target
    case.updated_at = now
    if before == CaseState.waiting_on_customer:
        # Leaving the wait by any action (resume, or resolve while waiting) restarts the clock.
        pause = db.execute(
            select(Pause).where(Pause.case_id == case.id, Pause.ended_at.is_(None))
        ).scalar_one_or_none()
        if pause is not None:
            pause.ended_at = now
        db.flush()
        recompute_due_dates(db, case, now=now)
    if action == "acknowledge":
        case.acknowledged_at = now
    elif action == "wait":
        db.add(Pause(id=new_id(), case_id=case.id, started_at=now, ended_at=None))
    elif action == "resolve":
        case.resolved_at = now
    elif action == "close":
        case.closed_at = now
    elif action == "reopen":
        case.resolved_at = None
        case.closed_at = None
    add_timeline(
        db,
        case,
        kind=TimelineKind.state_changed,
        now=now,
        actor=actor,
        body=note,
        data={"action": action, "from": before, "to": target},
    )
    emit_event(db, case, f"state.{target}", now, actor, action=action, previous=before)


def transition(
    db: Session,
    *,
    reference: str,
    action: str,
    actor: Principal,
    now: datetime,
    note: str = "",
    root_cause: str = "",
    resolution: str = "",
) -> Case:
    """Move a case through the state machine. Raises NotFound, Forbidden, TransitionRefused,
    RuleViolation (resolve without a root cause)."""
    case = get_case(db, reference=reference, actor=actor)
    actor.require(Permission.complaint_handle, case.branch_id)
    if action not in rules.TRANSITIONS:
        raise RuleViolation(f"unknown action {action!r}", field="action")
    target = rules.next_state(case.state, action)
    if target is None:
        raise TransitionRefused(f"a {case.state} case cannot {action}")
    if action == "resolve":
        if not root_cause.strip():
            raise RuleViolation("record the root cause", field="root_cause")
        case.root_cause = root_cause.strip()
        case.resolution = resolution.strip()
    _change_state(db, case, action, now=now, actor=actor, note=note.strip())
    append_audit(
        db,
        actor=actor,
        action=f"complaint.{action}",
        object_type=AGGREGATE,
        object_id=case.reference,
        branch_id=case.branch_id,
        now=now,
        detail={"state": case.state},
    )
    db.flush()
    return case


def assign(
    db: Session, *, reference: str, assignee_id: uuid.UUID, actor: Principal, now: datetime
) -> Case:
    """Raises NotFound, Forbidden, RuleViolation (not a staff member of the branch), CaseClosed."""
    case = get_case(db, reference=reference, actor=actor)
    actor.require(Permission.complaint_handle, case.branch_id)
    if case.state == CaseState.closed:
        raise CaseClosed("this case is closed")
    user = db.get(User, assignee_id)
    if user is None or not user.is_active:
        raise RuleViolation("no such active staff member", field="assignee_id")
    from branchdesk.identity.service import principal_for

    assignee = principal_for(db, user)
    if not assignee.can(Permission.complaint_handle, case.branch_id):
        raise RuleViolation("this person cannot handle complaints here", field="assignee_id")
    previous = case.assignee_id
    case.assignee_id = user.id
    case.updated_at = now
    add_timeline(
        db,
        case,
        kind=TimelineKind.assigned,
        now=now,
        actor=actor,
        body=user.display_name,
        data={"assignee_id": str(user.id), "previous": str(previous) if previous else None},
    )
    emit_event(db, case, "assigned", now, actor, assignee_id=str(user.id))
    append_audit(
        db,
        actor=actor,
        action="complaint.assign",
        object_type=AGGREGATE,
        object_id=case.reference,
        branch_id=case.branch_id,
        now=now,
        detail={"assignee": user.username},
    )
    db.flush()
    return case


def reply(db: Session, *, reference: str, text: str, actor: Principal, now: datetime) -> Case:
    """Send a message to the customer (the first one is the interim reply).

    Raises NotFound, Forbidden, RuleViolation (empty), CaseClosed, TransitionRefused (not yet
    acknowledged)."""
    case = get_case(db, reference=reference, actor=actor)
    actor.require(Permission.complaint_handle, case.branch_id)
    text = text.strip()
    if not text:
        raise RuleViolation("write the reply", field="text")
    if case.state == CaseState.closed:
        raise CaseClosed("this case is closed")
    if case.state == CaseState.new:
        raise TransitionRefused("acknowledge the case before replying")
    if case.first_reply_at is None:
        case.first_reply_at = now
    case.updated_at = now
    sent_to = notify_customer(db, case, template="complaints.reply", values={"text": text}, now=now)
    add_timeline(
        db,
        case,
        kind=TimelineKind.message_out,
        now=now,
        actor=actor,
        body=text,
        data={"sent_to": sent_to},
    )
    emit_event(db, case, "message_out", now, actor)
    append_audit(
        db,
        actor=actor,
        action="complaint.reply",
        object_type=AGGREGATE,
        object_id=case.reference,
        branch_id=case.branch_id,
        now=now,
    )
    db.flush()
    return case


def add_note(db: Session, *, reference: str, text: str, actor: Principal, now: datetime) -> Case:
    """An internal note. Raises NotFound, Forbidden, RuleViolation."""
    case = get_case(db, reference=reference, actor=actor)
    actor.require(Permission.complaint_handle, case.branch_id)
    if not text.strip():
        raise RuleViolation("write the note", field="text")
    add_timeline(db, case, kind=TimelineKind.note, now=now, actor=actor, body=text.strip())
    db.flush()
    return case


def correct_category(
    db: Session, *, reference: str, category: str, actor: Principal, now: datetime
) -> Case:
    """Staff set the category; the correction is kept (text analysis learns from it when
    ``branchdesk.textanalysis.record_correction`` exists, and always in the timeline).

    Raises NotFound, Forbidden, RuleViolation."""
    case = get_case(db, reference=reference, actor=actor)
    actor.require(Permission.complaint_handle, case.branch_id)
    category = category.strip()
    if not category or len(category) > 40:
        raise RuleViolation("choose a category (at most 40 characters)", field="category")
    previous = case.category
    case.category = category
    case.updated_at = now
    recorded = _record_correction(db, case, category=category, actor=actor, now=now)
    add_timeline(
        db,
        case,
        kind=TimelineKind.category_changed,
        now=now,
        actor=actor,
        data={
            "from": previous,
            "to": category,
            "predicted": case.predicted_category,
            "sent_to_textanalysis": recorded,
        },
    )
    append_audit(
        db,
        actor=actor,
        action="complaint.category",
        object_type=AGGREGATE,
        object_id=case.reference,
        branch_id=case.branch_id,
        now=now,
        detail={"from": previous, "to": category},
    )
    db.flush()
    return case


def _record_correction(
    db: Session, case: Case, *, category: str, actor: Principal, now: datetime
) -> bool:
    """Hand the correction to branchdesk.textanalysis (True) when it knows the label."""
    module = textanalysis_module()
    record = getattr(module, "record_correction", None) if module is not None else None
    if record is None or category not in category_choices():
        return False
    record(
        db,
        text=f"{case.subject}\n{case.body}",
        field="category",
        predicted=case.predicted_category or "",
        corrected=category,
        source_type="complaint",
        source_id=case.id,
        actor_id=actor.user_id,
        now=now,
    )
    return True


def set_complex(
    db: Session, *, reference: str, is_complex: bool, reason: str, actor: Principal, now: datetime
) -> Case:
    """Mark a case complex (final answer in 30 days under the CN policy) or not.

    Raises NotFound, Forbidden, RuleViolation (no reason), CaseClosed."""
    case = get_case(db, reference=reference, actor=actor)
    actor.require(Permission.complaint_handle, case.branch_id)
    if case.state in (CaseState.resolved, CaseState.closed):
        raise CaseClosed("the case is already answered")
    if not reason.strip():
        raise RuleViolation("say why", field="reason")
    case.is_complex = is_complex
    case.updated_at = now
    recompute_due_dates(db, case, now=now)
    add_timeline(
        db,
        case,
        kind=TimelineKind.complexity_changed,
        now=now,
        actor=actor,
        body=reason.strip(),
        data={
            "is_complex": is_complex,
            "final_due_at": case.final_due_at.isoformat() if case.final_due_at else None,
        },
    )
    append_audit(
        db,
        actor=actor,
        action="complaint.complex",
        object_type=AGGREGATE,
        object_id=case.reference,
        branch_id=case.branch_id,
        now=now,
        detail={"is_complex": is_complex},
    )
    db.flush()
    return case


def handlers_for_branch(db: Session, *, branch_id: uuid.UUID) -> Sequence[User]:
    """Active staff who may handle complaints in the branch (for the assign form)."""
    from branchdesk.identity.models import user_branches
    from branchdesk.identity.roles import PERMISSIONS

    roles_ok = [str(r) for r in PERMISSIONS[Permission.complaint_handle]]
    return list(
        db.execute(
            select(User)
            .join(user_branches, user_branches.c.user_id == User.id)
            .where(
                user_branches.c.branch_id == branch_id,
                User.is_active.is_(True),
                User.role.in_(roles_ok),
            )
            .order_by(User.display_name)
        ).scalars()
    )
