"""Shared pieces of the case flow: errors, timeline, events, audited refusals, due dates."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Holiday
from branchdesk.complaints import rules
from branchdesk.complaints.models import (
    BranchJurisdiction,
    Case,
    Pause,
    TimelineEntry,
    TimelineKind,
)
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import Conflict, DomainError, Forbidden, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission

AGGREGATE = "complaint"


class TransitionRefused(Conflict):
    code = "transition_refused"


class CaseClosed(Conflict):
    code = "case_closed"


register_template(
    "complaints.received",
    {
        "zh-Hant": "我們已收到您的投訴，編號 {reference}。我們會盡快回覆。",
        "zh-Hans": "我们已收到您的投诉，编号 {reference}。我们会尽快回复。",
        "en": "We have received your complaint, reference {reference}. We will reply soon.",
    },
)
register_template(
    "complaints.reply",
    {
        "zh-Hant": "[{reference}] {text}",
        "zh-Hans": "[{reference}] {text}",
        "en": "[{reference}] {text}",
    },
)
register_template(
    "complaints.extension_notice",
    {
        "zh-Hant": "您的投訴 {reference} 情況較複雜，處理期限延長至 {due_on}。原因：{reason}",
        "zh-Hans": "您的投诉 {reference} 情况较复杂，处理期限延长至 {due_on}。原因：{reason}",
        "en": "Your complaint {reference} needs more time: we will answer by {due_on}. "
        "Reason: {reason}",
    },
)


# --- small helpers -------------------------------------------------------------------------


@contextmanager
def audited_refusal(
    db: Session,
    *,
    actor: Principal | None,
    action: str,
    object_id: str,
    actor_label: str = "system",
) -> Iterator[None]:
    """A refused change rolls back whole, then leaves one audit row in its own transaction."""
    try:
        yield
    except DomainError as exc:
        # Permission refusals change nothing and leave no trace (like the rest of the app);
        # a supervisor approving their own request is a control breach worth recording.
        if isinstance(exc, NotFound) or (
            isinstance(exc, Forbidden) and exc.code != "maker_checker"
        ):
            raise
        db.rollback()
        append_audit(
            db,
            action=action,
            object_type=AGGREGATE,
            object_id=object_id,
            now=utcnow(),
            actor=actor,
            actor_label=actor_label,
            outcome="refused",
            detail={"error": exc.code, "reason": exc.detail[:200]},
        )
        db.commit()
        raise


def _label(actor: Principal | None, fallback: str) -> str:
    return actor.label if actor is not None else fallback


def add_timeline(
    db: Session,
    case: Case,
    *,
    kind: TimelineKind,
    now: datetime,
    actor: Principal | None = None,
    actor_label: str = "system",
    body: str = "",
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append one entry to the case's timeline (never updated or deleted)."""
    entry = TimelineEntry(
        id=new_id(),
        case_id=case.id,
        occurred_at=now,
        kind=kind,
        actor_id=actor.user_id if actor else None,
        actor_label=_label(actor, actor_label),
        body=body,
        data=data or {},
    )
    db.add(entry)
    return entry


def emit_event(
    db: Session, case: Case, type_: str, now: datetime, actor: Principal | None, **payload: Any
) -> None:
    record_event(
        db,
        type=f"complaint.{type_}",
        aggregate_type=AGGREGATE,
        aggregate_id=case.id,
        branch_id=case.branch_id,
        actor_id=actor.user_id if actor else None,
        now=now,
        payload={"reference": case.reference, "state": case.state, **payload},
    )


def jurisdiction_for_branch(db: Session, branch: Branch) -> str:
    row = db.get(BranchJurisdiction, branch.id)
    if row is not None:
        return row.jurisdiction
    return rules.policy_book().jurisdiction_for_timezone(branch.timezone)


def set_branch_jurisdiction(
    db: Session, *, branch_id: uuid.UUID, jurisdiction: str, actor: Principal | None, now: datetime
) -> None:
    """Choose a branch's SLA jurisdiction. Raises NotFound, RuleViolation."""
    if actor is not None:
        actor.require(Permission.branch_update, branch_id)
    if db.get(Branch, branch_id) is None:
        raise NotFound("no such branch")
    if jurisdiction not in rules.policy_book().policies:
        raise RuleViolation("no SLA policy for this jurisdiction", field="jurisdiction")
    row = db.get(BranchJurisdiction, branch_id)
    if row is None:
        db.add(BranchJurisdiction(branch_id=branch_id, jurisdiction=jurisdiction, updated_at=now))
    else:
        row.jurisdiction = jurisdiction
        row.updated_at = now
    append_audit(
        db,
        actor=actor,
        action="complaint.jurisdiction_set",
        object_type="branch",
        object_id=branch_id,
        branch_id=branch_id,
        now=now,
        detail={"jurisdiction": jurisdiction},
    )
    db.flush()


def branch_of(db: Session, branch_id: uuid.UUID) -> Branch:
    branch = db.get(Branch, branch_id)
    if branch is None:
        raise RuleViolation("no such branch", field="branch_id")
    return branch


def rule_of(case: Case) -> rules.Rule:
    policy = rules.policy_book().policy(case.jurisdiction)
    return policy.rule_for(channel=case.channel, severity=case.severity)


def recompute_due_dates(db: Session, case: Case, *, now: datetime) -> None:
    """Refresh the three deadlines from the policy, holidays, pauses and extensions."""
    branch = branch_of(db, case.branch_id)
    holidays = db.execute(select(Holiday.on).where(Holiday.branch_id == case.branch_id)).scalars()
    pauses = db.execute(
        select(Pause.started_at, Pause.ended_at).where(Pause.case_id == case.id)
    ).all()
    dues = rules.case_due_dates(
        rule_of(case),
        received_at=case.received_at,
        timezone=branch.timezone,
        holidays=list(holidays),
        pauses=[(p.started_at, p.ended_at) for p in pauses],
        is_complex=case.is_complex,
        extended_days=case.extended_final_days,
        as_of=now,
    )
    case.acknowledge_due_at = dues.acknowledge
    case.interim_due_at = dues.interim
    case.final_due_at = dues.final


# Text analysis is optional: branchdesk.textanalysis when installed, else no prediction. Tests
# swap in a fake through ``set_classifier``.


def notify_customer(
    db: Session, case: Case, *, template: str, values: dict[str, str], now: datetime
) -> str:
    """Queue a message to the customer's e-mail or phone; returns the channel used ("" none)."""
    if not case.contact_email and not case.contact_phone:
        return "timeline"  # social and walk-in cases: the reply is delivered by the channel
    queue_notification(
        db,
        message=Message(
            template=template,
            locale=case.locale,
            to_email=case.contact_email,
            to_phone=case.contact_phone,
            values={"reference": case.reference, **values},
        ),
        now=now,
        aggregate_type=AGGREGATE,
        aggregate_id=case.id,
        branch_id=case.branch_id,
    )
    return "email" if case.contact_email else "sms"


def textanalysis_module() -> Any | None:
    try:
        return importlib.import_module("branchdesk.textanalysis")
    except ImportError:
        return None


def category_choices() -> tuple[str, ...]:
    module = textanalysis_module()
    categories = getattr(module, "CATEGORIES", ()) if module is not None else ()
    return tuple(str(c) for c in categories)
