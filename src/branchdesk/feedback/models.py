"""Survey responses (one per completed ticket) and survey invitations (one per ticket)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class SurveyResponse(IdMixin, Base):
    """A customer's answer about one visit, with the visit's dimensions copied for roll-ups."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        CheckConstraint("csat BETWEEN 1 AND 5", name="csat_range"),
        CheckConstraint("nps BETWEEN 0 AND 10", name="nps_range"),
        # Covers the roll-ups: a date range is answered from the index alone.
        Index(
            "ix_survey_responses_rollup",
            "business_on",
            "branch_id",
            "teller_id",
            "counter_id",
            "service_type_id",
            "region",
            "csat",
            "nps",
        ),
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id"), unique=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    region: Mapped[str] = mapped_column(String(60), default="")
    service_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_types.id"))
    counter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counters.id"))
    teller_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    business_on: Mapped[date]
    csat: Mapped[int] = mapped_column(SmallInteger)
    nps: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(8))
    is_detractor: Mapped[bool]
    # The complaints case opened for a detractor (no foreign key: that package is optional).
    follow_up_case_id: Mapped[uuid.UUID | None]
    answered_at: Mapped[datetime]


class SurveyInvitation(Base):
    """An invitation sent by SMS/e-mail for a remote ticket (the primary key makes it once)."""

    __tablename__ = "survey_invitations"

    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"))
    sent_to: Mapped[str] = mapped_column(String(16))  # "sms", "email" or "sms+email"
    sent_at: Mapped[datetime]
