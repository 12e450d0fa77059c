"""JSON API of social posts and the interaction log (staff, bearer auth): /api/v1/social."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from branchdesk.catalog.models import Branch
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.identity.roles import Permission
from branchdesk.ledger.api import audited_refusal
from branchdesk.social import service
from branchdesk.social.channels import channels
from branchdesk.social.schemas import (
    ChannelRead,
    DecisionIn,
    InteractionRead,
    PostContent,
    PostCreate,
    PostRead,
)

router = APIRouter(prefix="/api/v1/social", tags=["social"])

REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not allowed in the post's state, or the maker deciding"}
}


def branch_id_of(db: DbSession, code: str | None) -> uuid.UUID | None:
    if not code:
        return None
    branch_id = db.execute(
        select(Branch.id).where(Branch.code == code.upper().replace("\x00", ""))
    ).scalar()
    if branch_id is None:
        raise RuleViolation("no such branch", field="branch_code")
    return branch_id


def _one(db: DbSession, principal: ApiUser, reference: str) -> PostRead:
    return service.post_reads(db, [service.get_post(db, reference=reference, actor=principal)])[0]


@router.get("/channels", response_model=list[ChannelRead], summary="Channels posts are drafted for")
def list_channels(principal: ApiUser) -> list[ChannelRead]:
    principal.require(Permission.social_view)
    locale = principal.preferred_locale or "en"
    return [
        ChannelRead(code=c.code, name=c.name(locale), hook=c.hook, max_length=c.max_length)
        for c in channels().values()
    ]


@router.get("/posts", response_model=list[PostRead], summary="Posts in your branches, newest first")
def list_posts(
    db: DbSession,
    principal: ApiUser,
    state: Annotated[str | None, Query(max_length=24)] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    branch_code: Annotated[str | None, Query(max_length=16)] = None,
) -> list[PostRead]:
    posts = service.list_posts(
        db, actor=principal, state=state, channel=channel, branch_id=branch_id_of(db, branch_code)
    )
    return service.post_reads(db, posts)


@router.post("/posts", status_code=201, response_model=PostRead, summary="Draft a post")
def create_post(db: DbSession, principal: ApiUser, body: PostCreate) -> PostRead:
    with audited_refusal(
        db, actor=principal, action="social.post_create", detail={"channel": body.channel},
        object_type=service.AGGREGATE,
    ):  # fmt: skip
        post = service.create_post(db, data=body, actor=principal, now=utcnow())
    return service.post_reads(db, [post])[0]


@router.get("/posts/{reference}", response_model=PostRead, summary="One post")
def get_post(db: DbSession, principal: ApiUser, reference: str) -> PostRead:
    return _one(db, principal, reference)


@router.put(
    "/posts/{reference}", response_model=PostRead, summary="Rewrite a draft", responses=REFUSALS
)
def update_post(db: DbSession, principal: ApiUser, reference: str, body: PostContent) -> PostRead:
    with audited_refusal(
        db, actor=principal, action="social.post_update", detail={"post": reference},
        object_type=service.AGGREGATE,
    ):  # fmt: skip
        service.update_post(db, reference=reference, data=body, actor=principal, now=utcnow())
    return _one(db, principal, reference)


@router.post(
    "/posts/{reference}/submit", response_model=PostRead, summary="Ask for approval",
    responses=REFUSALS,
)  # fmt: skip
def submit_post(db: DbSession, principal: ApiUser, reference: str) -> PostRead:
    with audited_refusal(
        db, actor=principal, action="social.post_submit", detail={"post": reference},
        object_type=service.AGGREGATE,
    ):  # fmt: skip
        service.submit_post(db, reference=reference, actor=principal, now=utcnow())
    return _one(db, principal, reference)


@router.post(
    "/posts/{reference}/approve", response_model=PostRead,
    summary="Approve (a second person: not the one who wrote it)", responses=REFUSALS,
)  # fmt: skip
def approve_post(db: DbSession, principal: ApiUser, reference: str, body: DecisionIn) -> PostRead:
    with audited_refusal(
        db, actor=principal, action="social.post_approve", detail={"post": reference},
        object_type=service.AGGREGATE,
    ):  # fmt: skip
        service.approve_post(db, reference=reference, actor=principal, now=utcnow(), note=body.note)
    return _one(db, principal, reference)


@router.post(
    "/posts/{reference}/reject", response_model=PostRead,
    summary="Send back with a reason (a second person)", responses=REFUSALS,
)  # fmt: skip
def reject_post(db: DbSession, principal: ApiUser, reference: str, body: DecisionIn) -> PostRead:
    with audited_refusal(
        db, actor=principal, action="social.post_reject", detail={"post": reference},
        object_type=service.AGGREGATE,
    ):  # fmt: skip
        service.reject_post(db, reference=reference, actor=principal, now=utcnow(), note=body.note)
    return _one(db, principal, reference)


@router.post(
    "/posts/{reference}/publish", response_model=PostRead,
    summary="Publish an approved post now (sent after commit)", responses=REFUSALS,
)  # fmt: skip
def publish_post(db: DbSession, principal: ApiUser, reference: str) -> PostRead:
    with audited_refusal(
        db, actor=principal, action="social.post_publish", detail={"post": reference},
        object_type=service.AGGREGATE,
    ):  # fmt: skip
        service.publish_post(db, reference=reference, actor=principal, now=utcnow())
    return _one(db, principal, reference)


@router.get(
    "/interactions", response_model=list[InteractionRead],
    summary="Replies and messages from the social webhooks, newest first",
)  # fmt: skip
def list_interactions(
    db: DbSession,
    principal: ApiUser,
    hook: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    post: Annotated[str | None, Query(max_length=20)] = None,
    branch_code: Annotated[str | None, Query(max_length=16)] = None,
    has_case: bool | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
) -> list[InteractionRead]:
    filters = service.InteractionFilter(
        hook=hook, kind=kind, post_reference=post, branch_id=branch_id_of(db, branch_code),
        has_case=has_case, received_from=received_from, received_to=received_to,
    )  # fmt: skip
    return service.list_interactions(db, actor=principal, filters=filters)
