"""Checklist templates and items, runs with per-item results, and the violations register."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class Schedule(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"


class RunStatus(StrEnum):
    open = "open"
    submitted = "submitted"


class ItemResult(StrEnum):
    passed = "pass"
    failed = "fail"
    not_applicable = "na"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class ViolationStatus(StrEnum):
    open = "open"
    remediating = "remediating"
    closed = "closed"


class DisciplinaryOutcome(StrEnum):
    """違規處理."""

    none = "none"
    warning = "warning"
    training = "training"
    penalty = "penalty"
    dismissal = "dismissal"


class ChecklistTemplate(IdMixin, Base):
    __tablename__ = "compliance_checklists"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    title_zh_hant: Mapped[str] = mapped_column(String(200))
    title_zh_hans: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    schedule: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class ChecklistItem(IdMixin, Base):
    """What to check and whether evidence is required."""

    __tablename__ = "compliance_checklist_items"
    __table_args__ = (UniqueConstraint("checklist_id", "position"),)

    checklist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("compliance_checklists.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    is_evidence_required: Mapped[bool] = mapped_column(default=False)


class ChecklistRun(IdMixin, Base):
    """One branch's check for one period (``2026-03`` or ``2026-Q1``)."""

    __tablename__ = "compliance_runs"
    __table_args__ = (UniqueConstraint("checklist_id", "branch_id", "period"),)

    checklist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("compliance_checklists.id"))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    period: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    started_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]


class ChecklistResult(IdMixin, Base):
    __tablename__ = "compliance_results"
    __table_args__ = (UniqueConstraint("run_id", "item_id"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("compliance_runs.id", ondelete="CASCADE"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("compliance_checklist_items.id"))
    result: Mapped[str] = mapped_column(String(8))
    evidence_note: Mapped[str] = mapped_column(Text, default="")
    attachment_name: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


class Violation(IdMixin, Base):
    """A finding in the violations register (from a failed checklist item or recorded directly)."""

    __tablename__ = "compliance_violations"
    __table_args__ = (Index("ix_compliance_violations_branch", "branch_id", "found_on"),)

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("compliance_runs.id"))
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("compliance_checklist_items.id"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    remediation_due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16))
    disciplinary_outcome: Mapped[str] = mapped_column(String(16))
    found_on: Mapped[date]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
