from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry, User
from branchdesk.identity.roles import Role
from tests.factories import PASSWORD, bearer, make_branch, make_user


def test_token_flow_returns_a_bearer_token_that_works(client: TestClient, db: Session) -> None:
    branch = make_branch(db, code="TOK1")
    make_user(db, Role.teller, (branch,), username="tok.teller")
    response = client.post(
        "/api/v1/auth/token", data={"username": "tok.teller", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["role"], me.json()["branch_codes"]) == (
        "tok.teller", "teller", ["TOK1"],
    )  # fmt: skip


def test_wrong_password_is_401_and_the_lock_is_kept_across_requests(
    client: TestClient, db: Session
) -> None:
    user = make_user(db, Role.admin, username="lock.me")
    for _ in range(4):
        r = client.post("/api/v1/auth/token", data={"username": "lock.me", "password": "bad"})
        assert (r.status_code, r.json()["error"]) == (401, "invalid_credentials")
    r = client.post("/api/v1/auth/token", data={"username": "lock.me", "password": "bad"})
    assert (r.status_code, r.json()["error"]) == (403, "account_locked")
    r = client.post("/api/v1/auth/token", data={"username": "lock.me", "password": PASSWORD})
    assert (r.status_code, r.json()["error"]) == (403, "account_locked")
    db.refresh(user)
    assert user.locked_until is not None
    failures = db.execute(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome == "refused")
    ).scalar_one()
    assert failures == 6


def test_missing_form_fields_are_422_naming_the_field(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "x"})
    assert r.status_code == 422
    assert r.json()["field"] == "password"


def test_no_or_bad_token_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer forged.token.value"})
    assert (r.status_code, r.json()["error"]) == (401, "invalid_token")


def test_password_change_revokes_old_tokens(
    client: TestClient, db: Session, signer: Signer
) -> None:
    user = make_user(db, Role.teller, (make_branch(db),))
    old = bearer(signer, user)
    r = client.post(
        "/api/v1/auth/password",
        headers=old,
        json={"current_password": PASSWORD, "new_password": "fresh-passphrase-2026"},
    )
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=old).status_code == 401
    r = client.post(
        "/api/v1/auth/token",
        data={"username": user.username, "password": "fresh-passphrase-2026"},
    )
    assert r.status_code == 200


def test_admin_provisions_a_user_and_duplicates_are_409(
    client: TestClient, db: Session, signer: Signer
) -> None:
    make_branch(db, code="PRV1")
    admin = make_user(db, Role.admin)
    body = {
        "username": "new.rm",
        "display_name": "王小明",
        "role": "relationship_manager",
        "branch_codes": ["PRV1"],
        "password": "a-good-passphrase",
    }
    r = client.post("/api/v1/users", headers=bearer(signer, admin), json=body)
    assert r.status_code == 201
    assert r.json()["branch_codes"] == ["PRV1"]
    again = client.post("/api/v1/users", headers=bearer(signer, admin), json=body)
    assert (again.status_code, again.json()["error"], again.json()["field"]) == (
        409, "conflict", "username",
    )  # fmt: skip
    bad_role = client.post(
        "/api/v1/users",
        headers=bearer(signer, admin),
        json={**body, "username": "r2d2", "role": "king"},
    )
    assert (bad_role.status_code, bad_role.json()["field"]) == (422, "role")
    assert db.execute(select(func.count()).select_from(User)).scalar_one() == 2
