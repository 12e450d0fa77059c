"""Offline ticket blocks: paper ticket numbers a kiosk may print while the server is away."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
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
