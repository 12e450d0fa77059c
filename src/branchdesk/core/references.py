"""Gap-free readable reference numbers (ticket A-042, customer numbers, complaint CMP-2026-000123).

One row per key in ``reference_counters``; the next value is taken with an atomic
``UPDATE ... RETURNING`` inside the caller's transaction, so two transactions never get the same
number and a rolled-back transaction gives its number back.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from branchdesk.core.db import Base


class ReferenceCounter(Base):
    __tablename__ = "reference_counters"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))


def next_value(db: Session, key: str) -> int:
    """Take the next number for ``key`` (1, 2, 3, ...)."""
    for _attempt in range(3):
        taken = db.execute(
            update(ReferenceCounter)
            .where(ReferenceCounter.key == key)
            .values(value=ReferenceCounter.value + 1)
            .returning(ReferenceCounter.value)
        ).scalar_one_or_none()
        if taken is not None:
            return int(taken)
        try:
            with db.begin_nested():
                db.execute(insert(ReferenceCounter).values(key=key, value=1))
        except IntegrityError:
            continue  # another transaction created the row first; take the next value from it
        return 1
    raise RuntimeError(f"could not allocate a reference for {key!r}")
