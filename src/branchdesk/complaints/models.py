"""Complaint cases, their append-only timeline, SLA pauses, alerts and extensions, webhook
deliveries, per-branch jurisdiction and improvement actions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from branchdesk.core.db import Base, IdMixin


def plain(text: str) -> str:
    """Without NUL characters (PostgreSQL text refuses them, even in a WHERE clause)."""
    return text.replace("\x00", "")


class CaseChannel(StrEnum):
    counter = "counter"
    phone = "phone"
    email = "email"
    web = "web"
    chat = "chat"
    social_wechat = "social_wechat"
    social_line = "social_line"
    social_facebook = "social_facebook"
    social_generic = "social_generic"
    survey = "survey"


SOCIAL_CHANNELS = frozenset(
    {
        CaseChannel.social_wechat,
        CaseChannel.social_line,
        CaseChannel.social_facebook,
        CaseChannel.social_generic,
    }
)


class CaseState(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    waiting_on_customer = "waiting_on_customer"
    resolved = "resolved"
    closed = "closed"
    reopened = "reopened"


OPEN_STATES = frozenset(set(CaseState) - {CaseState.closed})


class Severity(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    critical = "critical"


class TimelineKind(StrEnum):
    created = "created"
    state_changed = "state_changed"
    assigned = "assigned"
    message_in = "message_in"
    message_out = "message_out"
    note = "note"
    category_changed = "category_changed"
    complexity_changed = "complexity_changed"
    extension_requested = "extension_requested"
    extension_decided = "extension_decided"
    sla_warning = "sla_warning"
    sla_breach = "sla_breach"


class ExtensionStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class ActionStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class Case(IdMixin, Base):
    __tablename__ = "complaint_cases"
    __table_args__ = (
        UniqueConstraint("channel", "source_ref"),
        Index("ix_complaint_cases_branch_state", "branch_id", "state"),
        Index("ix_complaint_cases_thread", "channel", "thread_key"),
    )

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(24))
    source_ref: Mapped[str | None] = mapped_column(String(200))
    thread_key: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    is_complex: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(24))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_handle: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="zh-Hant")
    related_ticket_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets.id"))
    related_posting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("postings.id"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The SLA policy chosen from the branch's jurisdiction when the case was opened.
    jurisdiction: Mapped[str] = mapped_column(String(8))
    policy_code: Mapped[str] = mapped_column(String(40))
    policy_version: Mapped[int]
    received_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    acknowledge_due_at: Mapped[datetime | None]
    interim_due_at: Mapped[datetime | None]
    final_due_at: Mapped[datetime | None]
    # Days for the final answer granted by an approved extension (None: the policy's own).
    extended_final_days: Mapped[int | None]
    root_cause: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    # Text analysis (branchdesk.textanalysis) when it was available at intake.
    predicted_category: Mapped[str | None] = mapped_column(String(40))
    predicted_category_confidence: Mapped[float | None] = mapped_column(Float)
    predicted_sentiment: Mapped[str | None] = mapped_column(String(16))
    predicted_sentiment_confidence: Mapped[float | None] = mapped_column(Float)
    detected_language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TimelineEntry(IdMixin, Base):
    """Append-only: every change, message, note and SLA event of a case."""

    __tablename__ = "complaint_timeline"
    __table_args__ = (Index("ix_complaint_timeline_case", "case_id", "occurred_at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaint_cases.id"))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]]


class Pause(IdMixin, Base):
    """The SLA clock stops while a case waits on the customer."""

    __tablename__ = "complaint_pauses"
    __table_args__ = (Index("ix_complaint_pauses_case", "case_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaint_cases.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class SlaAlert(IdMixin, Base):
    """One warning and one breach escalation per case and target, never more."""

    __tablename__ = "complaint_sla_alerts"
    __table_args__ = (UniqueConstraint("case_id", "target", "kind"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaint_cases.id"))
    target: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    raised_at: Mapped[datetime]


class Extension(IdMixin, Base):
    """A request to extend the final-answer deadline; a second person approves it."""

    __tablename__ = "complaint_extensions"
    __table_args__ = (Index("ix_complaint_extensions_case", "case_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaint_cases.id"))
    total_days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    customer_notified_at: Mapped[datetime | None]


class HookDelivery(IdMixin, Base):
    """Delivery ids already processed per webhook channel: a replay is ignored."""

    __tablename__ = "complaint_hook_deliveries"
    __table_args__ = (UniqueConstraint("channel", "delivery_id"),)

    channel: Mapped[str] = mapped_column(String(24))
    delivery_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("complaint_cases.id"))
    received_at: Mapped[datetime]


class BranchJurisdiction(Base):
    """Which SLA jurisdiction a branch follows (no row: inferred from its time zone)."""

    __tablename__ = "complaint_branch_jurisdictions"

    branch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    )
    jurisdiction: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime]


class ImprovementAction(IdMixin, Base):
    """溯源整改: an action from a case or a topic, with the KPI it should move."""

    __tablename__ = "complaint_improvement_actions"

    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("complaint_cases.id"))
    topic: Mapped[str] = mapped_column(String(120), default="")
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"))
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date]
    kpi: Mapped[str] = mapped_column(String(120))
    baseline_value: Mapped[float | None] = mapped_column(Float)
    measured_value: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TimelineIsAppendOnly(RuntimeError):
    """Code tried to change or delete a timeline entry (a bug: the timeline is the record)."""


@event.listens_for(TimelineEntry, "before_update")
@event.listens_for(TimelineEntry, "before_delete")
def _refuse_timeline_change(_mapper: Any, _connection: Any, target: TimelineEntry) -> None:
    raise TimelineIsAppendOnly(f"timeline entry {target.id} cannot be changed or deleted")


COMPLAINT_MODELS = (Case, TimelineEntry, Extension, ImprovementAction, HookDelivery)


@event.listens_for(Session, "before_flush")
def _strip_nul(session: Session, _context: Any, _instances: Any) -> None:
    """Text from customers and webhooks may carry NUL, which PostgreSQL text refuses: drop it."""
    for instance in (*session.new, *session.dirty):
        if not isinstance(instance, COMPLAINT_MODELS):
            continue
        for key, value in vars(instance).items():
            if isinstance(value, str) and "\x00" in value:
                setattr(instance, key, value.replace("\x00", ""))
