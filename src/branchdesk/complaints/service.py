"""Complaint cases: intake from any channel, the state machine, messages, SLA clocks, extensions."""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Holiday
from branchdesk.complaints import rules
from branchdesk.complaints.models import (
    OPEN_STATES,
    BranchJurisdiction,
    Case,
    CaseChannel,
    CaseState,
    Extension,
    ExtensionStatus,
    Pause,
    Severity,
    TimelineEntry,
    TimelineKind,
)
from branchdesk.complaints.schemas import CaseCreate
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import Conflict, DomainError, Forbidden, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.core.references import next_value
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission

AGGREGATE = "complaint"
log = logging.getLogger(__name__)


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


def _event(
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


def _branch(db: Session, branch_id: uuid.UUID) -> Branch:
    branch = db.get(Branch, branch_id)
    if branch is None:
        raise RuleViolation("no such branch", field="branch_id")
    return branch


def _rule(case: Case) -> rules.Rule:
    policy = rules.policy_book().policy(case.jurisdiction)
    return policy.rule_for(channel=case.channel, severity=case.severity)


def recompute_due_dates(db: Session, case: Case, *, now: datetime) -> None:
    """Refresh the three deadlines from the policy, holidays, pauses and extensions."""
    branch = _branch(db, case.branch_id)
    holidays = db.execute(select(Holiday.on).where(Holiday.branch_id == case.branch_id)).scalars()
    pauses = db.execute(
        select(Pause.started_at, Pause.ended_at).where(Pause.case_id == case.id)
    ).all()
    dues = rules.case_due_dates(
        _rule(case),
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
Classifier = Callable[[str], Any]
_classifier_override: list[Classifier | None] = [None]


def set_classifier(classifier: Classifier | None) -> None:
    _classifier_override[0] = classifier


def _textanalysis() -> Any | None:
    try:
        return importlib.import_module("branchdesk.textanalysis")
    except ImportError:
        return None


def _classify(text: str) -> Any | None:
    """The predicted category and sentiment, or None when no classifier is available."""
    classify = _classifier_override[0]
    if classify is None:
        module = _textanalysis()
        classify = getattr(module, "classify", None) if module is not None else None
    if classify is None:
        return None
    try:
        # Without a session: the cached model, so intake never waits for a retrain.
        return classify(text)
    except Exception:
        log.exception("complaint text classification failed")
        return None


def category_choices() -> tuple[str, ...]:
    module = _textanalysis()
    categories = getattr(module, "CATEGORIES", ()) if module is not None else ()
    return tuple(str(c) for c in categories)


# --- intake --------------------------------------------------------------------------------


def open_case(
    db: Session,
    *,
    channel: str,
    subject: str,
    body: str,
    branch_id: uuid.UUID,
    now: datetime,
    customer_id: uuid.UUID | None = None,
    related_ticket_id: uuid.UUID | None = None,
    severity: str = "normal",
    category: str | None = None,
    actor: Principal | None = None,
    source_ref: str | None = None,
    related_posting_id: uuid.UUID | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    contact_handle: str = "",
    thread_key: str | None = None,
    locale: str = "zh-Hant",
) -> Case:
    """Open a case (or return the one already opened for ``(channel, source_ref)``).

    Raises RuleViolation (unknown channel, severity or branch, empty text), Forbidden.
    """
    if channel not in set(CaseChannel):
        raise RuleViolation(f"unknown channel {channel!r}", field="channel")
    if severity not in set(Severity):
        raise RuleViolation(f"unknown severity {severity!r}", field="severity")
    subject = subject.strip()[:200]
    body = body.strip()
    if not body and not subject:
        raise RuleViolation("describe the complaint", field="body")
    if actor is not None:
        actor.require(Permission.complaint_handle, branch_id)
    if source_ref is not None:
        existing = db.execute(
            select(Case).where(Case.channel == channel, Case.source_ref == source_ref)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    branch = _branch(db, branch_id)
    jurisdiction = jurisdiction_for_branch(db, branch)
    policy = rules.policy_book().policy(jurisdiction)
    year = now.year
    number = next_value(db, f"complaint:{year}")
    case = Case(
        id=new_id(),
        reference=f"CMP-{year}-{number:06d}",
        channel=channel,
        source_ref=source_ref,
        thread_key=thread_key,
        subject=subject or body[:80],
        body=body,
        category=category,
        severity=severity,
        is_complex=False,
        state=CaseState.new,
        branch_id=branch_id,
        customer_id=customer_id,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        contact_handle=contact_handle,
        locale=locale if locale in ("zh-Hant", "zh-Hans", "en") else "zh-Hant",
        related_ticket_id=related_ticket_id,
        related_posting_id=related_posting_id,
        jurisdiction=jurisdiction,
        policy_code=policy.code,
        policy_version=policy.version,
        received_at=now,
        extended_final_days=None,
        root_cause="",
        resolution="",
        created_at=now,
        updated_at=now,
    )
    prediction = _classify(f"{subject}\n{body}")
    if prediction is not None:
        case.predicted_category = getattr(prediction, "category", None)
        case.predicted_category_confidence = getattr(prediction, "category_confidence", None)
        case.predicted_sentiment = getattr(prediction, "sentiment", None)
        case.predicted_sentiment_confidence = getattr(prediction, "sentiment_confidence", None)
        case.detected_language = getattr(prediction, "language", None)
        if case.category is None:
            case.category = case.predicted_category
    db.add(case)
    db.flush()
    recompute_due_dates(db, case, now=now)
    add_timeline(
        db,
        case,
        kind=TimelineKind.created,
        now=now,
        actor=actor,
        actor_label="customer" if actor is None else "",
        body=body,
        data={"channel": channel, "policy": policy.code, "jurisdiction": jurisdiction},
    )
    _event(db, case, "opened", now, actor, channel=channel)
    if actor is not None:
        append_audit(
            db,
            actor=actor,
            action="complaint.open",
            object_type=AGGREGATE,
            object_id=case.reference,
            branch_id=branch_id,
            now=now,
            detail={"channel": channel},
        )
    if case.contact_email or case.contact_phone:
        queue_notification(
            db,
            message=Message(
                template="complaints.received",
                locale=case.locale,
                to_email=case.contact_email,
                to_phone=case.contact_phone,
                values={"reference": case.reference},
            ),
            now=now,
            aggregate_type=AGGREGATE,
            aggregate_id=case.id,
            branch_id=branch_id,
        )
    db.flush()
    return case


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
    _event(db, case, "message_in", now, None)
    db.flush()
    return entry


# --- reading -------------------------------------------------------------------------------


def get_case(db: Session, *, reference: str, actor: Principal | None) -> Case:
    """Raises NotFound, Forbidden."""
    case = db.execute(select(Case).where(Case.reference == reference)).scalar_one_or_none()
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
        query = query.where(Case.state == filters.state)
    if filters.channel:
        query = query.where(Case.channel == filters.channel)
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
    if action == "acknowledge":
        case.acknowledged_at = now
    elif action == "wait":
        db.add(Pause(id=new_id(), case_id=case.id, started_at=now, ended_at=None))
    elif action == "resume":
        pause = db.execute(
            select(Pause).where(Pause.case_id == case.id, Pause.ended_at.is_(None))
        ).scalar_one_or_none()
        if pause is not None:
            pause.ended_at = now
        db.flush()
        recompute_due_dates(db, case, now=now)
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
    _event(db, case, f"state.{target}", now, actor, action=action, previous=before)


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
    _event(db, case, "assigned", now, actor, assignee_id=str(user.id))
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
    sent_to = _notify_customer(
        db, case, template="complaints.reply", values={"text": text}, now=now
    )
    add_timeline(
        db,
        case,
        kind=TimelineKind.message_out,
        now=now,
        actor=actor,
        body=text,
        data={"sent_to": sent_to},
    )
    _event(db, case, "message_out", now, actor)
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


def _notify_customer(
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
    module = _textanalysis()
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
    rule = _rule(case)
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
        due_local = case.final_due_at
        due_on = due_local.date().isoformat() if due_local else ""
        sent_to = _notify_customer(
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
    _event(db, case, "extension_decided", now, actor, approved=approve)
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


def open_case_for_staff(db: Session, *, data: CaseCreate, actor: Principal, now: datetime) -> Case:
    """A complaint taken at the counter, on the phone (or typed in from a letter or chat).

    Raises Forbidden, RuleViolation (unknown branch or customer)."""
    branch = db.execute(
        select(Branch).where(Branch.code == data.branch_code.strip().upper())
    ).scalar_one_or_none()
    if branch is None:
        raise RuleViolation("no such branch", field="branch_code")
    actor.require(Permission.complaint_handle, branch.id)
    customer_id = None
    contact_email, contact_phone = data.contact_email.strip(), data.contact_phone.strip()
    if data.customer_number:
        from branchdesk.customers.models import Customer

        customer = db.execute(
            select(Customer).where(Customer.customer_number == data.customer_number.strip())
        ).scalar_one_or_none()
        if customer is None:
            raise RuleViolation("no such customer", field="customer_number")
        customer_id = customer.id
        contact_email = contact_email or customer.email
        contact_phone = contact_phone or customer.phone
    if contact_email and "@" not in contact_email:
        raise RuleViolation("not an e-mail address", field="contact_email")
    return open_case(
        db,
        channel=data.channel,
        subject=data.subject,
        body=data.body,
        branch_id=branch.id,
        now=now,
        customer_id=customer_id,
        related_ticket_id=data.related_ticket_id,
        related_posting_id=data.related_posting_id,
        severity=data.severity,
        category=data.category,
        actor=actor,
        contact_name=data.contact_name.strip(),
        contact_email=contact_email,
        contact_phone=contact_phone,
        locale=data.locale,
    )


def open_case_from_public_form(
    db: Session,
    *,
    branch_code: str,
    subject: str,
    body: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    locale: str,
    now: datetime,
) -> Case:
    """The public web form (no login). Raises RuleViolation with the field."""
    branch = db.execute(
        select(Branch).where(Branch.code == branch_code.strip().upper())
    ).scalar_one_or_none()
    if branch is None or not branch.is_active:
        raise RuleViolation("choose a branch", field="branch_code")
    if not body.strip():
        raise RuleViolation("describe what happened", field="body")
    if len(body) > 10_000 or len(subject) > 200 or len(contact_name) > 120:
        raise RuleViolation("the text is too long", field="body")
    contact_email, contact_phone = contact_email.strip()[:254], contact_phone.strip()[:32]
    if not contact_email and not contact_phone:
        raise RuleViolation("give an e-mail address or a phone number", field="contact_email")
    if contact_email and "@" not in contact_email:
        raise RuleViolation("not an e-mail address", field="contact_email")
    return open_case(
        db,
        channel=CaseChannel.web,
        subject=subject,
        body=body,
        branch_id=branch.id,
        now=now,
        contact_name=contact_name.strip(),
        contact_email=contact_email,
        contact_phone=contact_phone,
        thread_key=contact_email.lower() or None,
        locale=locale,
    )
