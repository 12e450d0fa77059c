"""The tamper-evident audit trail: append one hash-chained row per sensitive action, and verify.

Appends lock the single chain-head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one
writer), so concurrent transactions extend the chain one after another and it never forks.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.clock import ensure_utc
from branchdesk.identity.models import AuditChainHead, AuditEntry
from branchdesk.identity.principal import Principal

GENESIS = "0" * 64
HEAD_ID = 1


def _canonical(entry: AuditEntry) -> str:
    body = {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "branch_id": str(entry.branch_id) if entry.branch_id else None,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def compute_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + _canonical(entry)).encode()).hexdigest()


def append_audit(
    db: Session,
    *,
    action: str,
    object_type: str,
    now: datetime,
    actor: Principal | None = None,
    actor_id: uuid.UUID | None = None,
    actor_label: str = "system",
    object_id: str | uuid.UUID | None = None,
    branch_id: uuid.UUID | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit row to the caller's transaction (no personal data in ``detail``).

    ``actor`` (a staff principal) fills ``actor_id`` and ``actor_label``; jobs pass a label.
    """
    if actor is not None:
        actor_id, actor_label = actor.user_id, actor.label
    head = db.execute(
        select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditChainHead(id=HEAD_ID, seq=0, entry_hash=GENESIS)
        db.add(head)
        db.flush()
    entry = AuditEntry(
        seq=head.seq + 1,
        occurred_at=ensure_utc(now),
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        branch_id=branch_id,
        outcome=outcome,
        detail=json.loads(json.dumps(detail or {}, default=str)),
        prev_hash=head.entry_hash,
    )
    entry.entry_hash = compute_hash(head.entry_hash, entry)
    db.add(entry)
    head.seq = entry.seq
    head.entry_hash = entry.entry_hash
    db.flush()
    return entry


@dataclass(frozen=True, slots=True)
class ChainReport:
    is_intact: bool
    entries_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(db: Session, *, batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first row that was edited, deleted or reordered."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = (
            db.execute(
                select(AuditEntry)
                .where(AuditEntry.seq >= expected_seq)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainReport(
                    False,
                    checked,
                    expected_seq,
                    f"entry {expected_seq} is missing (next present is {entry.seq})",
                )
            if entry.prev_hash != expected_prev:
                return ChainReport(
                    False,
                    checked,
                    entry.seq,
                    f"entry {entry.seq} does not follow entry {entry.seq - 1} "
                    "(reordered, or an earlier entry was replaced)",
                )
            if compute_hash(entry.prev_hash, entry) != entry.entry_hash:
                return ChainReport(
                    False, checked, entry.seq, f"entry {entry.seq} was edited after it was written"
                )
            expected_prev = entry.entry_hash
            expected_seq += 1
            last_seq = entry.seq
            checked += 1
    head = db.get(AuditChainHead, HEAD_ID)
    if head is not None and (head.seq != last_seq or head.entry_hash != expected_prev):
        return ChainReport(
            False,
            checked,
            last_seq + 1,
            f"entries after {last_seq} were deleted (the chain head records {head.seq})",
        )
    return ChainReport(True, checked)


def list_entries(
    db: Session, *, before_seq: int | None, action: str | None, limit: int
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.execute(query).scalars())
