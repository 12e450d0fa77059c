"""Offline ticket blocks, emergency plans, incidents with step checklists, loss events."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class OfflineBlock(IdMixin, Base):
    """Numbers ``prefix-first_seq`` .. ``prefix-last_seq`` of one service on one business day."""

    __tablename__ = "offline_ticket_blocks"
    __table_args__ = (
        UniqueConstraint("branch_id", "business_on", "prefix", "first_seq"),
        CheckConstraint("last_seq >= first_seq", name="range_order"),
    )

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    service_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_types.id"))
    business_on: Mapped[date]
    prefix: Mapped[str] = mapped_column(String(4))
    first_seq: Mapped[int]
    last_seq: Mapped[int]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class OfflineBlockNumber(IdMixin, Base):
    """One paper ticket of a block that the queue absorbed (each number at most once)."""

    __tablename__ = "offline_ticket_numbers"
    __table_args__ = (UniqueConstraint("block_id", "seq"),)

    block_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offline_ticket_blocks.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id"))
    issued_at: Mapped[datetime]
    absorbed_at: Mapped[datetime]


class Scenario(StrEnum):
    system_outage = "system_outage"
    cash_shortage = "cash_shortage"
    robbery = "robbery"
    fire = "fire"
    network_loss = "network_loss"


class IncidentStatus(StrEnum):
    open = "open"
    closed = "closed"


class LossKind(StrEnum):
    loss = "loss"
    near_miss = "near_miss"


class EmergencyPlan(IdMixin, Base):
    """The step list staff follow in a scenario; steps are ``{"zh-Hant", "zh-Hans", "en"}``."""

    __tablename__ = "emergency_plans"

    scenario: Mapped[str] = mapped_column(String(32), unique=True)
    title_zh_hant: Mapped[str] = mapped_column(String(200))
    title_zh_hans: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]


class Incident(IdMixin, Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_branch", "branch_id", "opened_at"),)

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    scenario: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    plan_version: Mapped[int | None]
    opened_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    closing_note: Mapped[str] = mapped_column(Text, default="")


class IncidentStep(IdMixin, Base):
    """A plan step copied into an incident, ticked with who and when."""

    __tablename__ = "incident_steps"
    __table_args__ = (UniqueConstraint("incident_id", "position"),)

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    position: Mapped[int]
    text_zh_hant: Mapped[str] = mapped_column(String(500))
    text_zh_hans: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500))
    ticked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    ticked_at: Mapped[datetime | None]


class LossEvent(IdMixin, Base):
    """An operational loss or a near miss (amount in minor units)."""

    __tablename__ = "loss_events"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_not_negative"),)

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    root_cause: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[date]
    incident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incidents.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class CsaQuestionnaire(IdMixin, Base):
    """A control self-assessment questionnaire; questions are ``{"zh-Hant", "zh-Hans", "en"}``."""

    __tablename__ = "csa_questionnaires"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    title_zh_hant: Mapped[str] = mapped_column(String(200))
    title_zh_hans: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    questions: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class CsaResponse(IdMixin, Base):
    """A branch's answers for one period (``yes``/``partial``/``no``) and the score 0-100."""

    __tablename__ = "csa_responses"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "branch_id", "period"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
    )

    questionnaire_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("csa_questionnaires.id"))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    period: Mapped[str] = mapped_column(String(8))
    answers: Mapped[list[str]]
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime]
    # a compliance officer's review of the answers (migration 0022)
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str] = mapped_column(Text, default="")
