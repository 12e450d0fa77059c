"""Posts (draft, submit, approve or reject by a second person, publish) and the interaction log.

Every function takes the session first and keyword-only values; refusals are domain errors
(the API and pages wrap them in the ledger's ``audited_refusal``, so a refused change rolls back
and leaves one audit row).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.complaints.models import Case
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.core.jobs import Job, register_job
from branchdesk.core.references import next_value
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.errors import OwnApproval
from branchdesk.social.channels import channels
from branchdesk.social.models import Interaction, InteractionKind, Post, PostState
from branchdesk.social.publisher import EVENT_TYPE
from branchdesk.social.schemas import InteractionRead, PostContent, PostCreate, PostRead

AGGREGATE = "social_post"
REFERENCE_PATTERN = re.compile(r"SP-\d{4}-\d{6}")
EDITABLE = frozenset({PostState.draft, PostState.rejected})


class PostNotFound(NotFound):
    code = "post_not_found"


class TransitionRefused(Conflict):
    code = "transition_refused"


class NotYetDue(Conflict):
    code = "scheduled_later"


# --- posts --------------------------------------------------------------------------------


def _scoped(query: Select[Any], actor: Principal) -> Select[Any]:
    if actor.is_bank_wide:
        return query
    return query.where(Post.branch_id.in_(list(actor.branch_ids)))


def get_post(db: Session, *, reference: str, actor: Principal, lock: bool = False) -> Post:
    """Raises Forbidden, PostNotFound (also for a post of a branch the actor does not see)."""
    actor.require(Permission.social_view)
    query = _scoped(select(Post).where(Post.reference == reference.replace("\x00", "")), actor)
    if lock:
        query = query.with_for_update()
    post: Post | None = db.execute(query).scalar_one_or_none()
    if post is None:
        raise PostNotFound("no such post")
    return post


def list_posts(
    db: Session,
    *,
    actor: Principal,
    state: str | None = None,
    channel: str | None = None,
    branch_id: uuid.UUID | None = None,
    limit: int = 200,
) -> list[Post]:
    """Newest first. Raises Forbidden."""
    actor.require(Permission.social_view)
    query = _scoped(select(Post), actor)
    if state:
        query = query.where(Post.state == state)
    if channel:
        query = query.where(Post.channel == channel)
    if branch_id is not None:
        query = query.where(Post.branch_id == branch_id)
    query = query.order_by(Post.created_at.desc(), Post.reference.desc()).limit(limit)
    return list(db.execute(query).scalars())


def _check_content(data: PostContent, *, now: datetime) -> None:
    channel = channels().get(data.channel)
    if channel is None:
        raise RuleViolation(f"unknown channel {data.channel!r}", field="channel")
    if len(data.body) > channel.max_length:
        raise RuleViolation(
            f"{channel.code} takes at most {channel.max_length} characters", field="body"
        )
    if data.link_url and not data.link_url.startswith(("https://", "http://")):
        raise RuleViolation("a link starts with https://", field="link_url")
    if data.scheduled_at is not None and data.scheduled_at <= now:
        raise RuleViolation("choose a time in the future", field="scheduled_at")


def _audit(db: Session, post: Post, action: str, actor: Principal | None, now: datetime) -> None:
    append_audit(
        db, action=f"social.{action}", object_type=AGGREGATE, object_id=post.reference,
        branch_id=post.branch_id, now=now, actor=actor,
        actor_label="scheduler" if actor is None else "system",
        detail={"channel": post.channel, "state": post.state},
    )  # fmt: skip


def create_post(db: Session, *, data: PostCreate, actor: Principal, now: datetime) -> Post:
    """A new draft. Raises Forbidden, RuleViolation (branch, channel, body, link, time)."""
    actor.require(Permission.social_draft)
    branch = db.execute(
        select(Branch).where(Branch.code == data.branch_code.upper().replace("\x00", ""))
    ).scalar_one_or_none()
    if branch is None or not branch.is_active:
        raise RuleViolation("no such branch", field="branch_code")
    actor.require(Permission.social_draft, branch.id)
    _check_content(data, now=now)
    post = Post(
        id=new_id(),
        reference=f"SP-{now.year}-{next_value(db, f'social_post:{now.year}'):06d}",
        branch_id=branch.id,
        channel=data.channel,
        title=data.title,
        body=data.body,
        link_url=data.link_url,
        state=PostState.draft,
        scheduled_at=data.scheduled_at,
        drafted_by_id=actor.user_id,
        decision_note="",
        published_by="",
        created_at=now,
        updated_at=now,
    )
    db.add(post)
    db.flush()
    _audit(db, post, "post_create", actor, now)
    return post


def update_post(
    db: Session, *, reference: str, data: PostContent, actor: Principal, now: datetime
) -> Post:
    """Rewrite a draft (a rejected post becomes a draft again; its editor is now the maker).

    Raises Forbidden, PostNotFound, TransitionRefused, RuleViolation."""
    post = get_post(db, reference=reference, actor=actor, lock=True)
    actor.require(Permission.social_draft, post.branch_id)
    if post.state not in EDITABLE:
        raise TransitionRefused(f"a post that is {post.state} cannot be edited")
    _check_content(data, now=now)
    post.channel, post.title, post.body = data.channel, data.title, data.body
    post.link_url, post.scheduled_at = data.link_url, data.scheduled_at
    post.state = PostState.draft
    post.drafted_by_id = actor.user_id
    post.updated_at = now
    db.flush()
    _audit(db, post, "post_update", actor, now)
    return post


def submit_post(db: Session, *, reference: str, actor: Principal, now: datetime) -> Post:
    """Ask for approval. Raises Forbidden, PostNotFound, TransitionRefused, RuleViolation."""
    post = get_post(db, reference=reference, actor=actor, lock=True)
    actor.require(Permission.social_draft, post.branch_id)
    if post.state != PostState.draft:
        raise TransitionRefused(f"a post that is {post.state} cannot be submitted")
    if post.scheduled_at is not None and post.scheduled_at <= now:
        raise RuleViolation("the scheduled time has passed: choose another", field="scheduled_at")
    post.state = PostState.pending_approval
    post.submitted_at = now
    post.updated_at = now
    db.flush()
    _audit(db, post, "post_submit", actor, now)
    return post


def _decide(
    db: Session, *, reference: str, actor: Principal, now: datetime, note: str, approve: bool
) -> Post:
    post = get_post(db, reference=reference, actor=actor, lock=True)
    actor.require(Permission.social_approve, post.branch_id)
    if post.state != PostState.pending_approval:
        raise TransitionRefused(f"a post that is {post.state} is not waiting for a decision")
    if post.drafted_by_id == actor.user_id:
        raise OwnApproval("a second person must decide on this post")
    if not approve and not note.strip():
        raise RuleViolation("say why the post is rejected", field="note")
    post.state = PostState.approved if approve else PostState.rejected
    post.decided_by_id = actor.user_id
    post.decided_at = now
    post.decision_note = note.strip()
    post.updated_at = now
    db.flush()
    _audit(db, post, "post_approve" if approve else "post_reject", actor, now)
    return post


def approve_post(
    db: Session, *, reference: str, actor: Principal, now: datetime, note: str = ""
) -> Post:
    """Raises Forbidden, PostNotFound, TransitionRefused, OwnApproval (the maker decides)."""
    return _decide(db, reference=reference, actor=actor, now=now, note=note, approve=True)


def reject_post(db: Session, *, reference: str, actor: Principal, now: datetime, note: str) -> Post:
    """Raises Forbidden, PostNotFound, TransitionRefused, OwnApproval, RuleViolation (no note)."""
    return _decide(db, reference=reference, actor=actor, now=now, note=note, approve=False)


def _publish(db: Session, post: Post, *, actor: Principal | None, now: datetime) -> None:
    post.state = PostState.published
    post.published_at = now
    post.published_by = actor.label if actor is not None else "scheduler"
    post.updated_at = now
    db.flush()
    record_event(
        db,
        type=EVENT_TYPE,
        aggregate_type=AGGREGATE,
        aggregate_id=post.id,
        branch_id=post.branch_id,
        actor_id=actor.user_id if actor is not None else None,
        now=now,
        payload={
            "reference": post.reference,
            "channel": post.channel,
            "title": post.title,
            "body": post.body,
            "link_url": post.link_url,
        },
    )
    _audit(db, post, "post_publish", actor, now)


def publish_post(db: Session, *, reference: str, actor: Principal, now: datetime) -> Post:
    """Send an approved post now (through the publisher, after commit).

    Raises Forbidden, PostNotFound, TransitionRefused, NotYetDue (scheduled for later)."""
    post = get_post(db, reference=reference, actor=actor, lock=True)
    actor.require(Permission.social_draft, post.branch_id)
    if post.state != PostState.approved:
        raise TransitionRefused(f"a post that is {post.state} cannot be published")
    if post.scheduled_at is not None and post.scheduled_at > now:
        raise NotYetDue("the post is scheduled for later: the worker publishes it then")
    _publish(db, post, actor=actor, now=now)
    return post


def publish_due(db: Session, now: datetime) -> int:
    """Publish approved posts whose scheduled time has come (the worker's job); returns how many.

    Approved posts without a time wait for a person to press publish."""
    query = (
        select(Post)
        .where(
            Post.state == PostState.approved,
            Post.scheduled_at.is_not(None),
            Post.scheduled_at <= now,
        )
        .order_by(Post.scheduled_at, Post.id)
        .with_for_update(skip_locked=True)
    )
    posts = list(db.execute(query).scalars())
    for post in posts:
        _publish(db, post, actor=None, now=now)
    return len(posts)


register_job(Job(name="social.publish_due", every=timedelta(minutes=1), run=publish_due))


def post_reads(db: Session, posts: Sequence[Post]) -> list[PostRead]:
    """Plain values for pages and the API (names, branch codes, reply counts in three queries)."""
    if not posts:
        return []
    user_ids = {p.drafted_by_id for p in posts} | {
        p.decided_by_id for p in posts if p.decided_by_id
    }
    names = dict(db.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
    codes = dict(
        db.execute(
            select(Branch.id, Branch.code).where(Branch.id.in_({p.branch_id for p in posts}))
        ).all()
    )
    counts = dict(
        db.execute(
            select(Interaction.post_id, func.count())
            .where(Interaction.post_id.in_([p.id for p in posts]))
            .group_by(Interaction.post_id)
        ).all()
    )
    return [
        PostRead(
            reference=p.reference,
            branch_code=codes.get(p.branch_id, ""),
            channel=p.channel,
            title=p.title,
            body=p.body,
            link_url=p.link_url,
            state=p.state,
            scheduled_at=p.scheduled_at,
            drafted_by=names.get(p.drafted_by_id, ""),
            submitted_at=p.submitted_at,
            decided_by=names.get(p.decided_by_id) if p.decided_by_id else None,
            decided_at=p.decided_at,
            decision_note=p.decision_note,
            published_at=p.published_at,
            published_by=p.published_by,
            created_at=p.created_at,
            updated_at=p.updated_at,
            interactions=int(counts.get(p.id, 0)),
        )
        for p in posts
    ]


# --- the interaction log ------------------------------------------------------------------


def find_post(db: Session, *, text: str, in_reply_to: str = "") -> Post | None:
    """The published post a reply names (its SP-YYYY-NNNNNN in the reply-to field, else in the
    text), or None."""
    for source in (in_reply_to, text):
        match = REFERENCE_PATTERN.search(source or "")
        if match is None:
            continue
        post = db.execute(select(Post).where(Post.reference == match.group(0))).scalar_one_or_none()
        if post is not None and post.state == PostState.published:
            return post
    return None


def record_interaction(
    db: Session,
    *,
    hook: str,
    delivery_id: str,
    branch_id: uuid.UUID,
    post: Post | None,
    case_id: uuid.UUID | None,
    sender_handle: str,
    sender_name: str,
    text: str,
    now: datetime,
) -> Interaction:
    """Log one accepted webhook message (called by ``complaints.intake`` inside its savepoint;
    a repeated delivery id fails on the unique constraint there)."""
    interaction = Interaction(
        id=new_id(),
        hook=hook,
        delivery_id=delivery_id[:200],
        kind=InteractionKind.reply if post is not None else InteractionKind.message,
        branch_id=branch_id,
        post_id=post.id if post is not None else None,
        case_id=case_id,
        sender_handle=sender_handle[:200],
        sender_name=sender_name[:120],
        text=text,
        received_at=now,
    )
    db.add(interaction)
    db.flush()
    return interaction


@dataclass(frozen=True, slots=True)
class InteractionFilter:
    hook: str | None = None
    kind: str | None = None
    post_reference: str | None = None
    branch_id: uuid.UUID | None = None
    has_case: bool | None = None
    received_from: date | None = None
    received_to: date | None = None


def list_interactions(
    db: Session, *, actor: Principal, filters: InteractionFilter, limit: int = 500
) -> list[InteractionRead]:
    """Newest first, in the actor's branches; dates are whole UTC days. Raises Forbidden."""
    actor.require(Permission.social_view)
    query = (
        select(Interaction, Branch.code, Post.reference, Case.reference)
        .join(Branch, Branch.id == Interaction.branch_id)
        .outerjoin(Post, Post.id == Interaction.post_id)
        .outerjoin(Case, Case.id == Interaction.case_id)
    )
    if not actor.is_bank_wide:
        query = query.where(Interaction.branch_id.in_(list(actor.branch_ids)))
    if filters.hook:
        query = query.where(Interaction.hook == filters.hook)
    if filters.kind:
        query = query.where(Interaction.kind == filters.kind)
    if filters.post_reference:
        query = query.where(Post.reference == filters.post_reference.replace("\x00", ""))
    if filters.branch_id is not None:
        query = query.where(Interaction.branch_id == filters.branch_id)
    if filters.has_case is not None:
        column = Interaction.case_id
        query = query.where(column.is_not(None) if filters.has_case else column.is_(None))
    if filters.received_from is not None:
        query = query.where(
            Interaction.received_at >= datetime.combine(filters.received_from, time(), UTC)
        )
    if filters.received_to is not None:
        end = datetime.combine(filters.received_to + timedelta(days=1), time(), UTC)
        query = query.where(Interaction.received_at < end)
    query = query.order_by(Interaction.received_at.desc(), Interaction.id).limit(limit)
    return [
        InteractionRead(
            id=i.id,
            hook=i.hook,
            kind=i.kind,
            branch_code=code,
            post_reference=post_reference,
            case_reference=case_reference,
            sender_handle=i.sender_handle,
            sender_name=i.sender_name,
            text=i.text,
            received_at=i.received_at,
        )
        for i, code, post_reference, case_reference in db.execute(query).all()
    ]
