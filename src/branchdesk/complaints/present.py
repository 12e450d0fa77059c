"""ORM rows to API schemas (used by the JSON API and the pages alike)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from branchdesk.complaints import rules, service
from branchdesk.complaints.models import Case, Extension, ImprovementAction, TimelineEntry
from branchdesk.complaints.schemas import (
    CaseDetail,
    CaseRead,
    ExtensionRead,
    ImprovementRead,
    TimelineRead,
)


def case_read(case: Case, *, now: datetime) -> CaseRead:
    return CaseRead(
        reference=case.reference,
        channel=case.channel,
        subject=case.subject,
        body=case.body,
        category=case.category,
        severity=case.severity,
        is_complex=case.is_complex,
        state=case.state,
        branch_id=case.branch_id,
        customer_id=case.customer_id,
        related_ticket_id=case.related_ticket_id,
        related_posting_id=case.related_posting_id,
        assignee_id=case.assignee_id,
        contact_name=case.contact_name,
        jurisdiction=case.jurisdiction,
        policy_code=case.policy_code,
        policy_version=case.policy_version,
        received_at=case.received_at,
        acknowledged_at=case.acknowledged_at,
        first_reply_at=case.first_reply_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
        acknowledge_due_at=case.acknowledge_due_at,
        interim_due_at=case.interim_due_at,
        final_due_at=case.final_due_at,
        extended_final_days=case.extended_final_days,
        root_cause=case.root_cause,
        resolution=case.resolution,
        predicted_category=case.predicted_category,
        predicted_category_confidence=case.predicted_category_confidence,
        predicted_sentiment=case.predicted_sentiment,
        predicted_sentiment_confidence=case.predicted_sentiment_confidence,
        detected_language=case.detected_language,
        is_overdue=service.is_overdue(case, now=now),
        allowed_actions=rules.allowed_actions(case.state),
    )


def timeline_read(entry: TimelineEntry) -> TimelineRead:
    return TimelineRead(
        occurred_at=entry.occurred_at,
        kind=entry.kind,
        actor_label=entry.actor_label,
        body=entry.body,
        data=dict(entry.data),
    )


def extension_read(extension: Extension) -> ExtensionRead:
    return ExtensionRead(
        id=extension.id,
        total_days=extension.total_days,
        reason=extension.reason,
        status=extension.status,
        requested_at=extension.requested_at,
        decided_at=extension.decided_at,
        customer_notified_at=extension.customer_notified_at,
    )


def case_detail(db: Session, case: Case, *, now: datetime) -> CaseDetail:
    return CaseDetail(
        case=case_read(case, now=now),
        timeline=[timeline_read(e) for e in service.timeline(db, case)],
        extensions=[extension_read(x) for x in service.extensions(db, case)],
    )


def improvement_read(action: ImprovementAction, owner: str, case_reference: str) -> ImprovementRead:
    effect = None
    if action.baseline_value is not None and action.measured_value is not None:
        effect = action.measured_value - action.baseline_value
    return ImprovementRead(
        id=action.id,
        case_reference=case_reference,
        topic=action.topic,
        title=action.title,
        owner=owner,
        due_on=action.due_on,
        kpi=action.kpi,
        baseline_value=action.baseline_value,
        measured_value=action.measured_value,
        effect=effect,
        status=action.status,
    )
