"""Tickets and the per-branch queue settings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class TicketState(StrEnum):
    waiting = "waiting"
    called = "called"
    serving = "serving"
    parked = "parked"
    completed = "completed"
    no_show = "no_show"
    cancelled = "cancelled"


OPEN_STATES = frozenset(
    {TicketState.waiting, TicketState.called, TicketState.serving, TicketState.parked}
)


class Priority(StrEnum):
    vip = "vip"
    appointment = "appointment"
    elderly = "elderly"
    normal = "normal"


class Channel(StrEnum):
    kiosk = "kiosk"
    lobby = "lobby"
    remote = "remote"
    appointment = "appointment"
    api = "api"


class Ticket(IdMixin, Base):
    """One customer's place in one branch's queue on one business day."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("branch_id", "business_on", "prefix", "seq"),
        Index("ix_tickets_queue", "branch_id", "business_on", "state"),
    )

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    service_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_types.id"))
    business_on: Mapped[date]
    prefix: Mapped[str] = mapped_column(String(4))
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(12))
    priority: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    appointment_id: Mapped[uuid.UUID | None]
    booked_at: Mapped[datetime | None]
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime]
    # Arrival order used by the policy; a transfer or a return from park keeps it.
    queued_at: Mapped[datetime]
    checked_in_at: Mapped[datetime | None]
    called_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    counter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counters.id"))
    target_counter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counters.id"))
    served_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recall_count: Mapped[int] = mapped_column(default=0)
    transfer_count: Mapped[int] = mapped_column(default=0)
    outcome_code: Mapped[str | None] = mapped_column(String(32))
    estimated_wait_seconds: Mapped[int | None]
    come_back_sent_at: Mapped[datetime | None]
    public_token: Mapped[str] = mapped_column(String(43), unique=True)


class QueueSettings(Base):
    """Per-branch queue policy settings (defaults when a branch has no row)."""

    __tablename__ = "queue_settings"

    branch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    )
    enforce_opening_hours: Mapped[bool] = mapped_column(default=True)
    vip_bonus_seconds: Mapped[int] = mapped_column(default=900)
    appointment_bonus_seconds: Mapped[int] = mapped_column(default=1200)
    elderly_bonus_seconds: Mapped[int] = mapped_column(default=600)
    aging_bonus_seconds: Mapped[int] = mapped_column(default=900)
    vip_counter_preference_seconds: Mapped[int] = mapped_column(default=3600)
    appointment_lead_minutes: Mapped[int] = mapped_column(default=5)
    recalls_before_no_show: Mapped[int] = mapped_column(default=1)
    come_back_minutes: Mapped[int] = mapped_column(default=10)
    updated_at: Mapped[datetime]
