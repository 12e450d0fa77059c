"""Courses, assignments by role, completions, certifications and the reminders sent."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from branchdesk.core.db import Base, IdMixin


class CourseCategory(StrEnum):
    service_awareness = "service_awareness"
    business_skills = "business_skills"
    communication = "communication"
    compliance = "compliance"
    anti_fraud = "anti_fraud"


class Course(IdMixin, Base):
    """A bank-wide course; ``is_annual`` courses must be passed again every year."""

    __tablename__ = "training_courses"
    __table_args__ = (CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_range"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    title_zh_hant: Mapped[str] = mapped_column(String(200))
    title_zh_hans: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    pass_mark: Mapped[int]
    is_annual: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class CourseAssignment(IdMixin, Base):
    """Everyone of ``role`` must pass ``course`` by ``due_on``."""

    __tablename__ = "training_assignments"
    __table_args__ = (UniqueConstraint("course_id", "role", "due_on"),)

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_courses.id"))
    role: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Completion(IdMixin, Base):
    """One attempt at a course with its score (0-100); ``is_passed`` compares with the pass mark."""

    __tablename__ = "training_completions"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        Index("ix_training_completions_user", "user_id", "course_id"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_courses.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int]
    is_passed: Mapped[bool]
    completed_at: Mapped[datetime]
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class Certification(IdMixin, Base):
    """A certification; with ``service_type_id`` set, serving that service requires it."""

    __tablename__ = "training_certifications"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh_hant: Mapped[str] = mapped_column(String(200))
    name_zh_hans: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    service_type_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("service_types.id"), unique=True
    )
    validity_months: Mapped[int]
    created_at: Mapped[datetime]


class StaffCertification(IdMixin, Base):
    """A certification held by a staff member, valid from ``issued_on`` up to ``expires_on``."""

    __tablename__ = "training_staff_certifications"
    __table_args__ = (
        UniqueConstraint("user_id", "certification_id", "issued_on"),
        CheckConstraint("expires_on > issued_on", name="expiry_after_issue"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    certification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_certifications.id"))
    issued_on: Mapped[date]
    expires_on: Mapped[date]
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class TrainingReminder(IdMixin, Base):
    """One reminder sent to one person for one assignment (never twice)."""

    __tablename__ = "training_reminders"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("training_assignments.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime]
