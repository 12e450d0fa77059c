"""The points ledger: balances changed only by guarded SQL updates, lots consumed oldest first."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, Forbidden
from branchdesk.core.ids import new_id
from branchdesk.loyalty import rules
from branchdesk.loyalty.config import Programme
from branchdesk.loyalty.models import (
    PointsAccount,
    PointsAllocation,
    PointsEntry,
)

LOT_KINDS = ("earn", "adjust")
CHUNK = 500


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class OutOfStock(Conflict):
    code = "out_of_stock"


class RewardUnavailable(Conflict):
    code = "reward_unavailable"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class OwnAdjustment(Forbidden):
    code = "own_adjustment"


class AlreadyDecided(Conflict):
    code = "already_decided"


# --- the ledger ---------------------------------------------------------------------------------


def _ensure_account(db: Session, customer_id: uuid.UUID, now: datetime) -> None:
    if db.scalar(select(PointsAccount.id).where(PointsAccount.customer_id == customer_id)):
        return
    try:
        with db.begin_nested():
            db.add(
                PointsAccount(
                    id=new_id(), customer_id=customer_id, balance=0, window_points=0, updated_at=now
                )
            )
    except IntegrityError:  # created by a concurrent transaction meanwhile
        pass


def _credit(db: Session, customer_id: uuid.UUID, points: int, now: datetime) -> None:
    _ensure_account(db, customer_id, now)
    db.execute(
        update(PointsAccount)
        .where(PointsAccount.customer_id == customer_id)
        .values(balance=PointsAccount.balance + points, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _credit_many(db: Session, credits: dict[uuid.UUID, int], now: datetime) -> None:
    """Add points to many balances: new accounts in one insert, existing ones one update each
    (in customer id order, so two runs never lock each other in a cycle)."""
    ids = sorted(credits)
    have: set[uuid.UUID] = set()
    for chunk in _chunks(ids):
        have |= set(
            db.execute(
                select(PointsAccount.customer_id).where(PointsAccount.customer_id.in_(chunk))
            ).scalars()
        )
    for customer_id in ids:
        if customer_id in have:
            _credit(db, customer_id, credits[customer_id], now)
    missing = [c for c in ids if c not in have]
    if missing:
        try:
            with db.begin_nested():
                db.add_all(
                    PointsAccount(
                        id=new_id(),
                        customer_id=c,
                        balance=credits[c],
                        window_points=0,
                        updated_at=now,
                    )
                    for c in missing
                )
                db.flush()
        except IntegrityError:  # another transaction opened some meanwhile: one by one
            for customer_id in missing:
                _credit(db, customer_id, credits[customer_id], now)


def _debit(db: Session, customer_id: uuid.UUID, points: int, now: datetime) -> bool:
    result = db.execute(
        update(PointsAccount)
        .where(PointsAccount.customer_id == customer_id, PointsAccount.balance >= points)
        .values(balance=PointsAccount.balance - points, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


def _remaining() -> object:
    taken = (
        select(func.coalesce(func.sum(PointsAllocation.points), 0))
        .where(PointsAllocation.lot_id == PointsEntry.id)
        .scalar_subquery()
    )
    return (PointsEntry.points - taken).label("remaining")


def _open_lots(db: Session, customer_id: uuid.UUID) -> list[rules.Lot]:
    remaining = _remaining()
    rows = db.execute(
        select(PointsEntry.id, remaining)  # type: ignore[call-overload]  # labelled expression
        .where(
            PointsEntry.customer_id == customer_id,
            PointsEntry.kind.in_(LOT_KINDS),
            PointsEntry.points > 0,
        )
        .order_by(
            PointsEntry.expires_on, PointsEntry.earned_on, PointsEntry.created_at, PointsEntry.id
        )
    ).all()
    return [rules.Lot(id=r[0], remaining=int(r[1])) for r in rows if r[1] > 0]


def _add_lot(
    db: Session,
    *,
    customer_id: uuid.UUID,
    kind: str,
    points: int,
    source_kind: str,
    source_id: uuid.UUID,
    rule_code: str,
    earned_on: date,
    programme: Programme,
    now: datetime,
) -> PointsEntry:
    entry = PointsEntry(
        id=new_id(),
        customer_id=customer_id,
        kind=kind,
        points=points,
        source_kind=source_kind,
        source_id=source_id,
        rule_code=rule_code,
        earned_on=earned_on,
        expires_on=rules.plus_months(earned_on, programme.expiry_months),
        created_at=now,
    )
    db.add(entry)
    _credit(db, customer_id, points, now)
    return entry


def _consume(
    db: Session,
    *,
    customer_id: uuid.UUID,
    kind: str,
    points: int,
    source_kind: str,
    source_id: uuid.UUID,
    today: date,
    now: datetime,
) -> PointsEntry:
    """Take ``points`` oldest lot first. Raises InsufficientPoints (nothing written)."""
    if not _debit(db, customer_id, points, now):
        raise InsufficientPoints(f"not enough points for {points}", field="points")
    db.flush()
    taken = rules.allocate_fifo(_open_lots(db, customer_id), points)
    entry = PointsEntry(
        id=new_id(),
        customer_id=customer_id,
        kind=kind,
        points=-points,
        source_kind=source_kind,
        source_id=source_id,
        rule_code="",
        earned_on=today,
        expires_on=None,
        created_at=now,
    )
    db.add(entry)
    db.flush()
    db.add_all(
        PointsAllocation(id=new_id(), entry_id=entry.id, lot_id=lot_id, points=n)
        for lot_id, n in taken
    )
    return entry


def balance(db: Session, customer_id: uuid.UUID) -> int:
    value = db.scalar(select(PointsAccount.balance).where(PointsAccount.customer_id == customer_id))
    return int(value or 0)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _chunks(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
