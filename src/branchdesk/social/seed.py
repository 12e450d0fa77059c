"""Demo data: per branch, one product post published a week after the epoch (written by the
relationship manager, approved by the branch manager) with two customers' thankful replies in
the interaction log, and one post by the quality officer waiting for approval."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.ids import new_id
from branchdesk.core.references import next_value
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.roles import Role
from branchdesk.social.models import Interaction, InteractionKind, Post, PostState

CHANNELS = {"Asia/Taipei": "line", "Asia/Hong_Kong": "facebook"}  # else (mainland): wechat
POSTS = {
    "zh-Hant": ("一年期定存 3.1%", "即日起至三月底，一年期定期存款年利率 3.1%，歡迎臨櫃辦理。"),
    "zh-Hans": ("一年期定存 3.1%", "即日起至三月底，一年期定期存款年利率 3.1%，欢迎到网点办理。"),
}
PENDING = ("週六理財講座", "本週六上午十點，分行理財講座，名額有限。")
REPLIES = (("謝謝，利率很不錯！", "陳小姐"), ("已經預約了，服務很好。", "Leo"))


def _staff(db: Session, branch_id: uuid.UUID, role: Role) -> User | None:
    return db.execute(
        select(User)
        .join(user_branches, user_branches.c.user_id == User.id)
        .where(user_branches.c.branch_id == branch_id, User.role == role)
        .order_by(User.username)
        .limit(1)
    ).scalar_one_or_none()


def _post(db: Session, branch: Branch, maker: User, at: datetime, state: PostState) -> Post:
    chinese = "zh-Hans" if branch.timezone == "Asia/Shanghai" else "zh-Hant"
    title, body = POSTS[chinese] if state == PostState.published else PENDING
    post = Post(
        id=new_id(),
        reference=f"SP-{at.year}-{next_value(db, f'social_post:{at.year}'):06d}",
        branch_id=branch.id,
        channel=CHANNELS.get(branch.timezone, "wechat"),
        title=title,
        body=body,
        link_url="",
        state=state,
        scheduled_at=None,
        drafted_by_id=maker.id,
        submitted_at=at,
        decision_note="",
        published_by="",
        created_at=at,
        updated_at=at,
    )
    db.add(post)
    return post


def seed_demo_social(db: Session, *, epoch: datetime) -> int:
    """Returns how many posts were written (branches without a manager get none)."""
    written = 0
    branches = db.execute(select(Branch).where(Branch.is_active.is_(True)).order_by(Branch.code))
    for branch in branches.scalars():
        manager = _staff(db, branch.id, Role.branch_manager)
        maker = _staff(db, branch.id, Role.relationship_manager)
        quality = _staff(db, branch.id, Role.quality_officer)
        if manager is None or maker is None:
            continue
        at = epoch + timedelta(days=7, hours=2)
        post = _post(db, branch, maker, at, PostState.published)
        post.decided_by_id, post.decided_at = manager.id, at + timedelta(hours=1)
        post.published_at, post.published_by = (
            at + timedelta(hours=1),
            f"{maker.username} ({maker.role})",
        )
        post.updated_at = at + timedelta(hours=1)
        db.flush()
        for n, (text, name) in enumerate(REPLIES, start=1):
            db.add(
                Interaction(
                    id=new_id(), hook=post.channel if post.channel != "weibo" else "generic",
                    delivery_id=f"demo-{post.reference}-{n}", kind=InteractionKind.reply,
                    branch_id=branch.id, post_id=post.id, case_id=None,
                    sender_handle=f"demo-{branch.code.lower()}-{n}", sender_name=name, text=text,
                    received_at=at + timedelta(hours=3 * n),
                )
            )  # fmt: skip
        written += 1
        if quality is not None:
            _post(db, branch, quality, epoch + timedelta(days=20), PostState.pending_approval)
            written += 1
    db.flush()
    return written
