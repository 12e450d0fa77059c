"""Who did which posting at which counter for which ticket, and who was identified there."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class CounterPosting(IdMixin, Base):
    """One posting made on the teller console: ticket <-> posting <-> counter <-> teller."""

    __tablename__ = "counter_postings"
    __table_args__ = (Index("ix_counter_postings_ticket_id", "ticket_id"),)

    posting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("postings.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # shown on the receipt
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets.id"))
    counter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counters.id"))
    teller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    action: Mapped[str] = mapped_column(String(32))  # the console form that made it
    created_at: Mapped[datetime]


class CounterIdentification(Base):
    """The customer a teller identified for a ticket that arrived without one."""

    __tablename__ = "counter_identifications"

    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    method: Mapped[str] = mapped_column(String(16))  # customer_number | id_number
    identified_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    identified_at: Mapped[datetime]
