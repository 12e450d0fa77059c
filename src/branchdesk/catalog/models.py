"""Branch, counter and service-catalog tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, SmallInteger, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class CounterStatus(StrEnum):
    open = "open"
    paused = "paused"
    closed = "closed"


class Branch(IdMixin, Base):
    __tablename__ = "branches"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh_hant: Mapped[str] = mapped_column(String(120))
    name_zh_hans: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300), default="")
    region: Mapped[str] = mapped_column(String(60), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(40), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OpeningHours(Base):
    """One weekday's hours (0 = Monday). A weekday without a row is closed."""

    __tablename__ = "branch_opening_hours"

    branch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    opens_at: Mapped[time]
    closes_at: Mapped[time]


class Holiday(IdMixin, Base):
    __tablename__ = "branch_holidays"
    __table_args__ = (UniqueConstraint("branch_id", "on"),)

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    on: Mapped[date]
    name: Mapped[str] = mapped_column(String(120))


counter_services = Table(
    "counter_services",
    Base.metadata,
    Column("counter_id", ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
    Column("service_type_id", ForeignKey("service_types.id", ondelete="CASCADE"), primary_key=True),
)


class Counter(IdMixin, Base):
    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("branch_id", "code"),)

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default=CounterStatus.closed)
    is_vip: Mapped[bool] = mapped_column(default=False)
    staffed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    status_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ServiceType(IdMixin, Base):
    """A bank-wide service; its current standard is also kept as numbered versions."""

    __tablename__ = "service_types"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh_hant: Mapped[str] = mapped_column(String(120))
    name_zh_hans: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    ticket_prefix: Mapped[str] = mapped_column(String(4), unique=True)
    standard_handling_minutes: Mapped[int]
    target_max_wait_minutes: Mapped[int]
    required_documents: Mapped[list[str]]
    script: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int] = mapped_column(default=1)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ServiceStandardVersion(IdMixin, Base):
    """An immutable snapshot of a service standard: what staff saw from ``changed_at`` on."""

    __tablename__ = "service_standard_versions"
    __table_args__ = (UniqueConstraint("service_type_id", "version"),)

    service_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_types.id", ondelete="CASCADE")
    )
    version: Mapped[int]
    standard_handling_minutes: Mapped[int]
    target_max_wait_minutes: Mapped[int]
    required_documents: Mapped[list[str]]
    script: Mapped[str] = mapped_column(Text)
    change_note: Mapped[str] = mapped_column(String(300), default="")
    changed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    changed_by_label: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime]


class BranchService(Base):
    """A service offered at a branch, with an optional local wait target."""

    __tablename__ = "branch_services"

    branch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    )
    service_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_types.id", ondelete="CASCADE"), primary_key=True
    )
    is_enabled: Mapped[bool] = mapped_column(default=True)
    target_max_wait_minutes: Mapped[int | None]
