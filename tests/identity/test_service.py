from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity import service
from branchdesk.identity.models import AuditEntry, User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission, Role
from branchdesk.identity.schemas import UserCreate, UserUpdate
from tests.factories import NOW, PASSWORD, make_branch, make_user, principal
from tests.queue.sqlcount import count_statements

POLICY = service.LoginPolicy(max_failures=3, lockout=timedelta(minutes=15))


def _audit_actions(db: Session) -> list[str]:
    return list(db.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())


def test_login_succeeds_and_is_audited(db: Session) -> None:
    branch = make_branch(db)
    user = make_user(db, Role.teller, (branch,), username="amy")
    result = service.authenticate(db, username="AMY ", password=PASSWORD, now=NOW, policy=POLICY)
    assert result.error is None
    assert result.principal is not None
    assert result.principal.branch_ids == frozenset({branch.id})
    assert user.last_login_at == NOW
    assert _audit_actions(db)[-1] == "auth.login"


def test_repeated_failures_lock_the_account_even_for_the_right_password(db: Session) -> None:
    user = make_user(db, Role.admin, username="bob")
    for attempt in range(2):
        result = service.authenticate(db, username="bob", password="nope", now=NOW, policy=POLICY)
        assert result.error is not None
        assert result.error.code == "invalid_credentials"
        assert user.failed_login_count == attempt + 1
    result = service.authenticate(db, username="bob", password="nope", now=NOW, policy=POLICY)
    assert result.error is not None
    assert result.error.code == "account_locked"
    assert user.locked_until == NOW + timedelta(minutes=15)
    locked = service.authenticate(db, username="bob", password=PASSWORD, now=NOW, policy=POLICY)
    assert locked.principal is None
    assert locked.error is not None
    assert locked.error.code == "account_locked"
    later = NOW + timedelta(minutes=16)
    assert service.authenticate(
        db, username="bob", password=PASSWORD, now=later, policy=POLICY
    ).principal
    assert _audit_actions(db)[-5:] == [
        "auth.login_failed", "auth.login_failed", "auth.locked", "auth.login_refused_locked",
        "auth.login",
    ]  # fmt: skip


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(db: Session) -> None:
    result = service.authenticate(db, username="ghost", password="x", now=NOW, policy=POLICY)
    assert result.error is not None
    assert result.error.code == "invalid_credentials"


def test_create_user_validates_branches_duplicates_and_password(db: Session) -> None:
    branch = make_branch(db, code="TPE9")
    admin = principal(db, make_user(db, Role.admin))
    data = UserCreate(
        username="new.teller", display_name="New", role=Role.teller,
        branch_codes=["TPE9"], password="a-long-passphrase",
    )  # fmt: skip
    created = service.create_user(db, data=data, actor=admin, now=NOW)
    assert service.principal_for(db, created).branch_ids == frozenset({branch.id})
    with pytest.raises(Conflict) as taken:
        service.create_user(db, data=data, actor=admin, now=NOW)
    assert taken.value.field == "username"
    with pytest.raises(RuleViolation) as unknown:
        service.create_user(
            db, data=data.model_copy(update={"username": "x1y", "branch_codes": ["NOPE"]}),
            actor=admin, now=NOW,
        )  # fmt: skip
    assert unknown.value.field == "branch_codes"
    with pytest.raises(RuleViolation) as weak:
        service.create_user(
            db, data=data.model_copy(update={"username": "x2y", "password": "short"}),
            actor=admin, now=NOW,
        )  # fmt: skip
    assert weak.value.field == "password"
    with pytest.raises(RuleViolation) as no_branch:
        service.create_user(
            db, data=data.model_copy(update={"username": "x3y", "branch_codes": []}),
            actor=admin, now=NOW,
        )  # fmt: skip
    assert no_branch.value.field == "branch_codes"
    assert db.execute(select(func.count()).select_from(User)).scalar_one() == 2


def test_branch_manager_cannot_provision_and_nothing_changes(db: Session) -> None:
    branch = make_branch(db)
    manager = principal(db, make_user(db, Role.branch_manager, (branch,)))
    before = db.execute(select(func.count()).select_from(User)).scalar_one()
    data = UserCreate(
        username="sneaky", display_name="S", role=Role.admin, branch_codes=[], password="x" * 12
    )
    with pytest.raises(Forbidden):
        service.create_user(db, data=data, actor=manager, now=NOW)
    assert db.execute(select(func.count()).select_from(User)).scalar_one() == before


def test_manager_sees_only_staff_of_their_branches(db: Session) -> None:
    mine, other = make_branch(db), make_branch(db)
    manager_user = make_user(db, Role.branch_manager, (mine,))
    colleague = make_user(db, Role.teller, (mine,))
    stranger = make_user(db, Role.teller, (other,))
    manager = principal(db, manager_user)
    assert {u.username for u in service.list_users(db, actor=manager)} == {
        manager_user.username, colleague.username,
    }  # fmt: skip
    with pytest.raises(Forbidden):
        service.get_user(db, username=stranger.username, actor=manager)
    with pytest.raises(NotFound):
        service.get_user(db, username="nobody-at-all", actor=manager)
    assert manager.can(Permission.counter_manage, mine.id)
    assert not manager.can(Permission.counter_manage, other.id)


def test_role_change_revokes_sessions_and_is_audited(db: Session) -> None:
    branch = make_branch(db)
    admin = principal(db, make_user(db, Role.admin))
    teller = make_user(db, Role.teller, (branch,))
    assert service.load_principal(db, user_id=teller.id, auth_epoch=0) is not None
    service.update_user(
        db, username=teller.username, data=UserUpdate(role=Role.lobby_manager), actor=admin, now=NOW
    )
    assert teller.role == Role.lobby_manager
    assert service.load_principal(db, user_id=teller.id, auth_epoch=0) is None
    assert service.load_principal(db, user_id=teller.id, auth_epoch=1) is not None
    entry = db.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
    assert entry is not None
    assert entry.action == "user.permission_change"
    assert entry.detail["changes"] == {"role": ["teller", "lobby_manager"]}


def test_change_password_checks_the_current_one_and_ends_other_sessions(db: Session) -> None:
    user = make_user(db, Role.teller, (make_branch(db),))
    actor = principal(db, user)
    with pytest.raises(service.InvalidCredentials):
        service.change_password(
            db, actor=actor, current_password="wrong", new_password="another-passphrase", now=NOW
        )
    assert user.auth_epoch == 0
    service.change_password(
        db, actor=actor, current_password=PASSWORD, new_password="another-passphrase", now=NOW
    )
    assert user.auth_epoch == 1
    result = service.authenticate(
        db, username=user.username, password="another-passphrase", now=NOW, policy=POLICY
    )
    assert result.principal is not None


def test_load_principal_is_one_statement_and_the_same_principal_as_at_login(
    db: Session, db_connection: tuple[Connection, Session]
) -> None:
    """Every request loads its principal: one statement, the same rules and values as before."""
    first, second = make_branch(db), make_branch(db)
    teller = make_user(db, Role.teller, (first, second), preferred_locale="zh-Hant")
    admin = make_user(db, Role.admin)  # no branches: the outer join's NULL row
    retired = make_user(db, Role.teller, (first,), is_active=False)
    moved = make_user(db, Role.teller, (first,), auth_epoch=3)
    for user in (teller, admin):
        with count_statements(db_connection[0]) as seen:
            loaded = service.load_principal(db, user_id=user.id, auth_epoch=0)
        assert len(seen) == 1, seen
        assert loaded == service.principal_for(db, user)
    assert service.load_principal(db, user_id=teller.id, auth_epoch=0) == Principal(
        user_id=teller.id,
        username=teller.username,
        display_name=teller.display_name,
        role=Role.teller,
        branch_ids=frozenset({first.id, second.id}),
        preferred_locale="zh-Hant",
    )
    assert service.load_principal(db, user_id=admin.id, auth_epoch=0) == Principal(
        user_id=admin.id,
        username=admin.username,
        display_name=admin.display_name,
        role=Role.admin,
        branch_ids=frozenset(),
        preferred_locale=admin.preferred_locale,
    )
    # Revoked: deactivated, epoch moved on (either way), no such user.
    assert service.load_principal(db, user_id=retired.id, auth_epoch=0) is None
    assert service.load_principal(db, user_id=moved.id, auth_epoch=0) is None
    assert service.load_principal(db, user_id=moved.id, auth_epoch=4) is None
    assert service.load_principal(db, user_id=moved.id, auth_epoch=3) is not None
    assert service.load_principal(db, user_id=new_id(), auth_epoch=0) is None
    # Deactivating in the same transaction takes effect at once (no cache in between).
    teller.is_active = False
    assert service.load_principal(db, user_id=teller.id, auth_epoch=0) is None
