from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.identity.models import AuditEntry, User
from branchdesk.identity.roles import Role
from branchdesk.social import service
from branchdesk.social.models import Post
from branchdesk.social.schemas import PostCreate
from tests.factories import make_branch, make_user, principal

# Monday 2 March 2026, 10:00 in Hong Kong
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def count(db: Session, model: Any, *where: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def team(db: Session, code: str = "SOC1") -> tuple[Branch, User, User]:
    """A branch, a quality officer who drafts and a branch manager who approves."""
    branch = make_branch(db, code=code, timezone="Asia/Hong_Kong")
    maker = make_user(db, Role.quality_officer, (branch,))
    checker = make_user(db, Role.branch_manager, (branch,))
    return branch, maker, checker


def draft(db: Session, maker: User, **overrides: Any) -> Post:
    values: dict[str, Any] = {
        "branch_code": "SOC1",
        "channel": "wechat",
        "title": "Time deposit 3.1%",
        "body": "Our 12-month time deposit pays 3.1% a year until 31 March.",
    }
    values.update(overrides)
    return service.create_post(
        db, data=PostCreate.model_validate(values), actor=principal(db, maker), now=NOW
    )


def published(db: Session, maker: User, checker: User, **overrides: Any) -> Post:
    post = draft(db, maker, **overrides)
    service.submit_post(db, reference=post.reference, actor=principal(db, maker), now=NOW)
    service.approve_post(db, reference=post.reference, actor=principal(db, checker), now=NOW)
    service.publish_post(db, reference=post.reference, actor=principal(db, maker), now=NOW)
    return post


def refusals(db: Session, action: str) -> list[dict[str, Any]]:
    return [
        dict(detail)
        for detail in db.execute(
            select(AuditEntry.detail).where(
                AuditEntry.action == action, AuditEntry.outcome == "refused"
            )
        ).scalars()
    ]
