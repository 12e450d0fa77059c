"""Text-analysis tables: the label corrections people make, kept for the next training."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class CorrectionField(StrEnum):
    category = "category"
    sentiment = "sentiment"


class TextCorrection(IdMixin, Base):
    """A person's label for one text (category or sentiment); append-only, newest wins."""

    __tablename__ = "text_corrections"
    __table_args__ = (
        CheckConstraint("field IN ('category', 'sentiment')", name="field_known"),
        Index("ix_text_corrections_text_hash", "text_hash"),
        Index("ix_text_corrections_source", "source_type", "source_id"),
    )

    text: Mapped[str] = mapped_column(Text)
    # sha256 of the normalised text (Simplified script, folded case and spaces)
    text_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    field: Mapped[str] = mapped_column(String(16))
    predicted: Mapped[str] = mapped_column(String(40))
    corrected: Mapped[str] = mapped_column(String(40))
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
