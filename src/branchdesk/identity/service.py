"""Staff users: provisioning, authentication with lock-out, password changes, branch scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RuleViolation,
    Unauthorized,
)
from branchdesk.core.ids import new_id
from branchdesk.core.security import hash_password, needs_rehash, verify_password
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission, Role
from branchdesk.identity.schemas import UserCreate, UserRead, UserUpdate


class AccountLocked(Forbidden):
    code = "account_locked"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class WeakPassword(RuleViolation):
    code = "weak_password"


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    password_min_length: int = 10


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Failed attempts change state (counter, lock, audit) that must commit, so no raise here."""

    principal: Principal | None
    error: DomainError | None


def check_password_policy(password: str, *, username: str, min_length: int) -> None:
    """Raises ``WeakPassword`` (422, field ``password``) when the password is too weak."""
    if len(password) < min_length:
        raise WeakPassword(f"use at least {min_length} characters", field="password")
    if username and username.lower() in password.lower():
        raise WeakPassword("the password must not contain the username", field="password")
    if len(set(password)) < 4:
        raise WeakPassword("use more different characters", field="password")


def branch_ids_for_user(db: Session, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
    rows = db.execute(select(user_branches.c.branch_id).where(user_branches.c.user_id == user_id))
    return frozenset(rows.scalars())


def principal_for(db: Session, user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        branch_ids=branch_ids_for_user(db, user.id),
        preferred_locale=user.preferred_locale,
    )


# Built once: the statement (and its compiled form, from SQLAlchemy's cache) is reused by every
# request instead of being put together again each time.
_PRINCIPAL_ROWS = (
    select(
        User.username,
        User.display_name,
        User.role,
        User.preferred_locale,
        user_branches.c.branch_id,
    )
    .outerjoin(user_branches, user_branches.c.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.is_active.is_(True),
        User.auth_epoch == bindparam("auth_epoch"),
    )
)


def load_principal(db: Session, *, user_id: uuid.UUID, auth_epoch: int) -> Principal | None:
    """The principal behind a session or token, or None when it was revoked since.

    Revoked means: no such user, deactivated, or ``auth_epoch`` moved on (role, branches,
    activity or password changed). Runs on every API request and page, so it is one statement:
    the user's row joined with its branch ids (one row per branch; one row with a NULL branch for
    a user without branches). It always reads the database, never a cache, so a revocation
    takes effect on the next request.
    """
    rows = db.execute(_PRINCIPAL_ROWS, {"user_id": user_id, "auth_epoch": auth_epoch}).all()
    if not rows:
        return None
    first = rows[0]
    return Principal(
        user_id=user_id,
        username=first.username,
        display_name=first.display_name,
        role=Role(first.role),
        branch_ids=frozenset(row.branch_id for row in rows if row.branch_id is not None),
        preferred_locale=first.preferred_locale,
    )


def authenticate(
    db: Session, *, username: str, password: str, now: datetime, policy: LoginPolicy
) -> LoginResult:
    user = db.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        verify_password(None, password)  # same cost as a real check
        append_audit(
            db,
            action="auth.login_failed",
            object_type="user",
            now=now,
            actor_label="anonymous",
            outcome="refused",
            detail={"reason": "unknown_user"},
        )
        return LoginResult(None, InvalidCredentials("wrong username or password"))
    if user.locked_until is not None and user.locked_until > now:
        append_audit(
            db,
            action="auth.login_refused_locked",
            object_type="user",
            object_id=user.id,
            now=now,
            actor_id=user.id,
            actor_label=user.username,
            outcome="refused",
        )
        return LoginResult(None, AccountLocked("too many failed attempts; try again later"))
    if not user.is_active or not verify_password(user.password_hash, password):
        reason = "inactive" if user.is_active is False else "wrong_password"
        user.failed_login_count += 1
        locked = user.failed_login_count >= policy.max_failures
        if locked:
            user.locked_until = now + policy.lockout
            user.failed_login_count = 0
        append_audit(
            db,
            action="auth.locked" if locked else "auth.login_failed",
            object_type="user",
            object_id=user.id,
            now=now,
            actor_id=user.id,
            actor_label=user.username,
            outcome="refused",
            detail={"reason": reason},
        )
        if locked:
            return LoginResult(None, AccountLocked("too many failed attempts; try again later"))
        return LoginResult(None, InvalidCredentials("wrong username or password"))
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    append_audit(
        db,
        action="auth.login",
        object_type="user",
        object_id=user.id,
        now=now,
        actor_id=user.id,
        actor_label=user.username,
    )
    return LoginResult(principal_for(db, user), None)


def _branches_by_code(db: Session, codes: Sequence[str]) -> list[Branch]:
    wanted = sorted(set(codes))
    found = list(db.execute(select(Branch).where(Branch.code.in_(wanted))).scalars())
    missing = sorted(set(wanted) - {b.code for b in found})
    if missing:
        raise RuleViolation(f"unknown branch code(s): {', '.join(missing)}", field="branch_codes")
    return found


def _check_assignable(actor: Principal | None, role: Role, branches: Sequence[Branch]) -> None:
    if role is not Role.admin and not branches:
        raise RuleViolation("staff other than administrators need a branch", field="branch_codes")
    if actor is None:
        return
    actor.require(Permission.user_manage)
    for branch in branches:
        actor.require(Permission.user_manage, branch.id)


def create_user(
    db: Session,
    *,
    data: UserCreate,
    actor: Principal | None,
    now: datetime,
    password_min_length: int = 10,
) -> User:
    """Provision a staff user. Raises Forbidden, Conflict (username taken), RuleViolation."""
    branches = _branches_by_code(db, data.branch_codes)
    _check_assignable(actor, data.role, branches)
    username = data.username.lower()
    if db.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"username {username!r} is taken", field="username")
    check_password_policy(data.password, username=username, min_length=password_min_length)
    user = User(
        id=new_id(),
        username=username,
        display_name=data.display_name,
        role=data.role,
        password_hash=hash_password(data.password),
        preferred_locale=data.preferred_locale,
        is_active=True,
        failed_login_count=0,
        auth_epoch=0,
        password_changed_at=now,
        created_at=now,
    )
    db.add(user)
    db.flush()
    if branches:
        db.execute(
            insert(user_branches), [{"user_id": user.id, "branch_id": b.id} for b in branches]
        )
    append_audit(
        db,
        action="user.create",
        object_type="user",
        object_id=user.id,
        now=now,
        actor=actor,
        actor_label="cli",
        detail={
            "username": username,
            "role": str(data.role),
            "branches": sorted(data.branch_codes),
        },
    )
    return user


def get_user(db: Session, *, username: str, actor: Principal) -> User:
    """Raises NotFound, or Forbidden for staff outside the actor's branches."""
    actor.require(Permission.user_view)
    user = db.execute(select(User).where(User.username == username.lower())).scalar_one_or_none()
    if user is None:
        raise NotFound("no such user")
    if not actor.is_bank_wide and not (branch_ids_for_user(db, user.id) & actor.branch_ids):
        raise Forbidden("this user works outside your branches")
    return user


def update_user(
    db: Session, *, username: str, data: UserUpdate, actor: Principal, now: datetime
) -> User:
    """Change role, branches, activity, lock. Raises Forbidden, NotFound, RuleViolation, Conflict"""
    actor.require(Permission.user_manage)
    user = get_user(db, username=username, actor=actor)
    changes: dict[str, object] = {}
    revoke = False
    if data.role is not None and data.role != user.role:
        if user.id == actor.user_id:
            raise Conflict("you cannot change your own role", field="role")
        changes["role"] = [user.role, str(data.role)]
        user.role = data.role
        revoke = True
    role = Role(user.role)
    if data.branch_codes is not None:
        branches = _branches_by_code(db, data.branch_codes)
        _check_assignable(actor, role, branches)
        before = sorted(
            db.execute(
                select(Branch.code)
                .join(user_branches, user_branches.c.branch_id == Branch.id)
                .where(user_branches.c.user_id == user.id)
            ).scalars()
        )
        after = sorted(b.code for b in branches)
        if before != after:
            db.execute(delete(user_branches).where(user_branches.c.user_id == user.id))
            if branches:
                db.execute(
                    insert(user_branches),
                    [{"user_id": user.id, "branch_id": b.id} for b in branches],
                )
            changes["branches"] = [before, after]
            revoke = True
    elif role is not Role.admin and not branch_ids_for_user(db, user.id):
        raise RuleViolation("staff other than administrators need a branch", field="branch_codes")
    if data.is_active is not None and data.is_active != user.is_active:
        if user.id == actor.user_id:
            raise Conflict("you cannot deactivate yourself", field="is_active")
        changes["is_active"] = [user.is_active, data.is_active]
        user.is_active = data.is_active
        revoke = True
    if data.display_name is not None and data.display_name != user.display_name:
        changes["display_name"] = "changed"
        user.display_name = data.display_name.strip()
    if data.preferred_locale is not None and data.preferred_locale != user.preferred_locale:
        changes["preferred_locale"] = [user.preferred_locale, data.preferred_locale]
        user.preferred_locale = data.preferred_locale
    if data.unlock and (user.locked_until is not None or user.failed_login_count):
        user.locked_until = None
        user.failed_login_count = 0
        changes["unlocked"] = True
    if revoke:
        user.auth_epoch += 1
    if changes:
        append_audit(
            db,
            action="user.permission_change" if revoke else "user.update",
            object_type="user",
            object_id=user.id,
            now=now,
            actor=actor,
            detail={"username": user.username, "changes": changes},
        )
    db.flush()
    return user


def change_password(
    db: Session,
    *,
    actor: Principal,
    current_password: str,
    new_password: str,
    now: datetime,
    password_min_length: int = 10,
) -> User:
    """Raises InvalidCredentials (wrong current password) or WeakPassword. Ends other sessions."""
    user = db.get(User, actor.user_id)
    if user is None:
        raise NotFound("no such user")
    if not verify_password(user.password_hash, current_password):
        raise InvalidCredentials("the current password is wrong", field="current_password")
    check_password_policy(new_password, username=user.username, min_length=password_min_length)
    if verify_password(user.password_hash, new_password):
        raise WeakPassword("choose a password different from the current one", field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.auth_epoch += 1
    append_audit(
        db,
        action="user.password_change",
        object_type="user",
        object_id=user.id,
        now=now,
        actor=actor,
    )
    db.flush()
    return user


def list_users(db: Session, *, actor: Principal) -> list[User]:
    actor.require(Permission.user_view)
    query = select(User).order_by(User.username)
    if not actor.is_bank_wide:
        query = query.where(
            User.id.in_(
                select(user_branches.c.user_id).where(
                    user_branches.c.branch_id.in_(actor.branch_ids)
                )
            )
        )
    return list(db.execute(query).scalars())


def to_read(db: Session, user: User, *, now: datetime) -> UserRead:
    codes = sorted(
        db.execute(
            select(Branch.code)
            .join(user_branches, user_branches.c.branch_id == Branch.id)
            .where(user_branches.c.user_id == user.id)
        ).scalars()
    )
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        branch_codes=codes,
        is_active=user.is_active,
        is_locked=user.locked_until is not None and user.locked_until > now,
        preferred_locale=user.preferred_locale,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
    )
