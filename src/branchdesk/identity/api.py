"""JSON API for authentication, staff users and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity import service
from branchdesk.identity.audit import list_entries, verify_chain
from branchdesk.identity.deps import ApiUser, settings, signer
from branchdesk.identity.models import User
from branchdesk.identity.roles import Permission
from branchdesk.identity.schemas import (
    AuditEntryRead,
    PasswordChange,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["identity"])


def login_policy(request: Request) -> service.LoginPolicy:
    config = settings(request)
    return service.LoginPolicy(
        max_failures=config.login_max_failures,
        lockout=timedelta(minutes=config.lockout_minutes),
        password_min_length=config.password_min_length,
    )


@router.post("/auth/token", response_model=TokenResponse, summary="OAuth2 password flow")
def issue_token(
    request: Request,
    db: DbSession,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
) -> TokenResponse:
    result = service.authenticate(
        db, username=username, password=password, now=utcnow(), policy=login_policy(request)
    )
    if result.error is not None:
        db.commit()  # the failed attempt (counter, lock, audit row) is kept
        raise result.error
    assert result.principal is not None
    user = db.get(User, result.principal.user_id)
    assert user is not None
    minutes = settings(request).access_token_minutes
    token = signer(request).dump_token({"uid": str(user.id), "ep": user.auth_epoch})
    return TokenResponse(access_token=token, expires_in=minutes * 60)


@router.get("/me", response_model=UserRead)
def me(db: DbSession, principal: ApiUser) -> UserRead:
    user = db.get(User, principal.user_id)
    assert user is not None
    return service.to_read(db, user, now=utcnow())


@router.post("/auth/password", status_code=204, summary="Change my password (ends other sessions)")
def change_password(
    request: Request, db: DbSession, principal: ApiUser, body: PasswordChange
) -> None:
    service.change_password(
        db,
        actor=principal,
        current_password=body.current_password,
        new_password=body.new_password,
        now=utcnow(),
        password_min_length=settings(request).password_min_length,
    )


@router.get("/users", response_model=list[UserRead])
def list_users(db: DbSession, principal: ApiUser) -> list[UserRead]:
    now = utcnow()
    return [service.to_read(db, u, now=now) for u in service.list_users(db, actor=principal)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(request: Request, db: DbSession, principal: ApiUser, body: UserCreate) -> UserRead:
    now = utcnow()
    user = service.create_user(
        db,
        data=body,
        actor=principal,
        now=now,
        password_min_length=settings(request).password_min_length,
    )
    return service.to_read(db, user, now=now)


@router.get("/users/{username}", response_model=UserRead)
def get_user(db: DbSession, principal: ApiUser, username: str) -> UserRead:
    return service.to_read(
        db, service.get_user(db, username=username, actor=principal), now=utcnow()
    )


@router.patch("/users/{username}", response_model=UserRead)
def update_user(db: DbSession, principal: ApiUser, username: str, body: UserUpdate) -> UserRead:
    now = utcnow()
    user = service.update_user(db, username=username, data=body, actor=principal, now=now)
    return service.to_read(db, user, now=now)


@router.get("/audit", response_model=list[AuditEntryRead])
def list_audit(
    db: DbSession,
    principal: ApiUser,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditEntryRead]:
    principal.require(Permission.audit_view)
    entries = list_entries(db, before_seq=before_seq, action=action, limit=limit)
    return [AuditEntryRead.model_validate(e, from_attributes=True) for e in entries]


@router.get("/audit/verify")
def audit_verify(db: DbSession, principal: ApiUser) -> dict[str, object]:
    principal.require(Permission.audit_view)
    report = verify_chain(db)
    return {
        "is_intact": report.is_intact,
        "entries_checked": report.entries_checked,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
    }
