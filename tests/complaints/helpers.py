from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.complaints import service
from branchdesk.complaints.models import Case, TimelineEntry
from branchdesk.identity.models import AuditEntry

# Monday 2 March 2026, 10:00 in Shanghai
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def open_web_case(db: Session, branch: Branch, **overrides: Any) -> Case:
    values: dict[str, Any] = {
        "channel": "web",
        "subject": "Card swallowed",
        "body": "The ATM kept my card",
        "branch_id": branch.id,
        "now": NOW,
        "contact_email": "mei@example.com",
    }
    values.update(overrides)
    return service.open_case(db, **values)


def timeline_kinds(db: Session, case: Case) -> list[str]:
    return [e.kind for e in service.timeline(db, case)]


def count(db: Session, model: Any, *where: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def audit_actions(db: Session, reference: str) -> list[tuple[str, str]]:
    rows = db.execute(
        select(AuditEntry.action, AuditEntry.outcome)
        .where(AuditEntry.object_id == reference)
        .order_by(AuditEntry.seq)
    ).all()
    return [(r.action, r.outcome) for r in rows]


__all__ = ["NOW", "TimelineEntry", "audit_actions", "count", "open_web_case", "timeline_kinds"]
