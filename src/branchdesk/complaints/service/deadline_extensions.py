"""Extensions of the final-answer deadline: requested by a handler, decided by another."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.complaints import rules
from branchdesk.complaints.models import (
    CaseState,
    Extension,
    ExtensionStatus,
    TimelineKind,
)
from branchdesk.complaints.service.cases import get_case
from branchdesk.complaints.service.common import (
    AGGREGATE,
    CaseClosed,
    add_timeline,
    branch_of,
    emit_event,
    notify_customer,
    recompute_due_dates,
    rule_of,
)
from branchdesk.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission

# --- extensions (maker-checker) ------------------------------------------------------------


def request_extension(
    db: Session, *, reference: str, total_days: int, reason: str, actor: Principal, now: datetime
) -> Extension:
    """Ask for a longer final-answer deadline (total days from receipt).

    Raises NotFound, Forbidden, RuleViolation (days out of range, no reason), Conflict (one is
    pending already), CaseClosed."""
    case = get_case(db, reference=reference, actor=actor)
    actor.require(Permission.complaint_handle, case.branch_id)
    if case.state in (CaseState.resolved, CaseState.closed):
        raise CaseClosed("the case is already answered")
    rule = rule_of(case)
    current = rules.final_days(
        rule, is_complex=case.is_complex, extended_days=case.extended_final_days
    )
    if total_days <= current or total_days > rule.max_final_days:
        raise RuleViolation(
            f"the extended deadline must be more than {current} and at most "
            f"{rule.max_final_days} days",
            field="total_days",
        )
    if not reason.strip():
        raise RuleViolation("give the reason the customer will see", field="reason")
    pending = db.execute(
        select(Extension).where(
            Extension.case_id == case.id, Extension.status == ExtensionStatus.pending
        )
    ).scalar_one_or_none()
    if pending is not None:
        raise Conflict("an extension request is already waiting for approval")
    extension = Extension(
        id=new_id(),
        case_id=case.id,
        total_days=total_days,
        reason=reason.strip(),
        status=ExtensionStatus.pending,
        requested_by_id=actor.user_id,
        requested_at=now,
    )
    db.add(extension)
    add_timeline(
        db,
        case,
        kind=TimelineKind.extension_requested,
        now=now,
        actor=actor,
        body=extension.reason,
        data={"total_days": total_days, "extension_id": str(extension.id)},
    )
    append_audit(
        db,
        actor=actor,
        action="complaint.extension_request",
        object_type=AGGREGATE,
        object_id=case.reference,
        branch_id=case.branch_id,
        now=now,
        detail={"total_days": total_days},
    )
    db.flush()
    return extension


def decide_extension(
    db: Session,
    *,
    reference: str,
    extension_id: uuid.UUID,
    approve: bool,
    actor: Principal,
    now: datetime,
) -> Extension:
    """A supervisor other than the requester approves (deadline moves, customer notified) or
    rejects. Raises NotFound, Forbidden (not a supervisor, or the requester), Conflict (decided)."""
    case = get_case(db, reference=reference, actor=actor)
    extension = db.get(Extension, extension_id)
    if extension is None or extension.case_id != case.id:
        raise NotFound("no such extension request")
    actor.require(Permission.complaint_approve_extension, case.branch_id)
    if extension.requested_by_id == actor.user_id:
        raise Forbidden("the requester cannot approve their own extension", code="maker_checker")
    if extension.status != ExtensionStatus.pending:
        raise Conflict("this extension request was already decided")
    extension.status = ExtensionStatus.approved if approve else ExtensionStatus.rejected
    extension.decided_by_id = actor.user_id
    extension.decided_at = now
    if approve:
        case.extended_final_days = extension.total_days
        recompute_due_dates(db, case, now=now)
        due_on = ""
        if case.final_due_at is not None:
            # the last day of the deadline, in the branch's calendar
            tz = ZoneInfo(branch_of(db, case.branch_id).timezone)
            due_on = (case.final_due_at - timedelta(minutes=1)).astimezone(tz).date().isoformat()
        sent_to = notify_customer(
            db,
            case,
            template="complaints.extension_notice",
            values={"due_on": due_on, "reason": extension.reason},
            now=now,
        )
        extension.customer_notified_at = now
        add_timeline(
            db,
            case,
            kind=TimelineKind.message_out,
            now=now,
            actor=actor,
            body=extension.reason,
            data={"notice": "extension", "due_on": due_on, "sent_to": sent_to},
        )
    case.updated_at = now
    add_timeline(
        db,
        case,
        kind=TimelineKind.extension_decided,
        now=now,
        actor=actor,
        data={"approved": approve, "total_days": extension.total_days},
    )
    emit_event(db, case, "extension_decided", now, actor, approved=approve)
    append_audit(
        db,
        actor=actor,
        action="complaint.extension_decide",
        object_type=AGGREGATE,
        object_id=case.reference,
        branch_id=case.branch_id,
        now=now,
        detail={"approved": approve, "total_days": extension.total_days},
    )
    db.flush()
    return extension
