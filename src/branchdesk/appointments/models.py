"""Appointment slots, appointments and the per-branch check-in windows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class AppointmentState(StrEnum):
    booked = "booked"
    cancelled = "cancelled"
    checked_in = "checked_in"
    no_show = "no_show"
    completed = "completed"


class BookingChannel(StrEnum):
    portal = "portal"
    phone = "phone"
    api = "api"
    counter = "counter"


class AppointmentSlot(IdMixin, Base):
    """Bookable capacity for one service at one branch in one time window."""

    __tablename__ = "appointment_slots"
    __table_args__ = (
        UniqueConstraint("branch_id", "service_type_id", "starts_at"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "booked_count >= 0 AND booked_count <= capacity", name="booked_within_capacity"
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_appointment_slots_day", "branch_id", "starts_at"),
    )

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    service_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_types.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    # Changed only by ``UPDATE ... SET booked_count = booked_count +/- 1`` with a guard.
    booked_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class Appointment(IdMixin, Base):
    """One booking of one place in a slot, by a known customer or a name and phone number."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_day", "branch_id", "starts_at"),
        Index("ix_appointments_state", "state", "starts_at"),
    )

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    service_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_types.id"))
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointment_slots.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    business_on: Mapped[date]
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    locale: Mapped[str] = mapped_column(String(8), default="zh-Hant")
    note: Mapped[str] = mapped_column(String(300), default="")
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    is_late: Mapped[bool] = mapped_column(default=False)
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets.id"))
    booked_at: Mapped[datetime]
    booked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    rescheduled_count: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reminder_queued_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AppointmentSettings(Base):
    """Per-branch check-in windows and reminder lead (defaults when a branch has no row)."""

    __tablename__ = "appointment_settings"

    branch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    )
    early_checkin_minutes: Mapped[int] = mapped_column(default=30)
    late_checkin_minutes: Mapped[int] = mapped_column(default=15)
    reminder_hours: Mapped[int] = mapped_column(default=24)
    updated_at: Mapped[datetime]
