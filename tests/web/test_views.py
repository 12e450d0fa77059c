from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Counter
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.factories import (
    PASSWORD,
    browser_session,
    make_branch,
    make_counter,
    make_service_type,
    make_user,
    offer,
)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_login_page_speaks_the_browsers_language(client: TestClient) -> None:
    tw = client.get("/login", headers={"Accept-Language": "zh-TW,zh;q=0.9"})
    assert '<html lang="zh-Hant">' in tw.text
    assert "<h1>登入</h1>" in tw.text
    cn = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "<h1>登录</h1>" in cn.text
    en = client.get("/login", headers={"Accept-Language": "en-US"})
    assert "<h1>Log in</h1>" in en.text
    client.get("/lang/zh-Hant?next=/login")
    chosen = client.get("/login", headers={"Accept-Language": "en-US"})
    assert "<h1>登入</h1>" in chosen.text


def test_language_switch_only_follows_local_paths(client: TestClient) -> None:
    r = client.get("/lang/en?next=https://evil.example/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/")


def test_form_login_then_logout(client: TestClient, db: Session) -> None:
    make_user(db, Role.branch_manager, (make_branch(db, code="VW1"),), username="vw.manager")
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": "vw.manager", "password": PASSWORD, "next": "/branches/VW1",
              "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert (r.status_code, r.headers["location"]) == (303, "/branches/VW1")
    branch_page = client.get("/branches/VW1")
    assert branch_page.status_code == 200
    assert "VW1" in branch_page.text
    r = client.post("/logout", data={"csrf_token": _csrf(branch_page.text)}, follow_redirects=False)
    assert r.status_code == 303
    after = client.get("/branches/VW1", follow_redirects=False)
    assert (after.status_code, after.headers["location"]) == (303, "/login?next=/branches/VW1")


def test_wrong_password_shows_the_form_again(client: TestClient, db: Session) -> None:
    make_user(db, Role.teller, (make_branch(db),), username="vw.teller")
    page = client.get("/login", headers={"Accept-Language": "zh-TW"})
    r = client.post(
        "/login",
        data={"username": "vw.teller", "password": "nope", "csrf_token": _csrf(page.text)},
        headers={"Accept-Language": "zh-TW"},
    )
    assert r.status_code == 401
    assert "使用者名稱或密碼錯誤。" in r.text


def test_a_form_post_without_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db, code="CSR")
    service = make_service_type(db)
    offer(db, branch, service)
    make_counter(db, branch, service, code="Q1")
    manager = make_user(db, Role.branch_manager, (branch,))
    cookie, token = browser_session(signer, manager)
    client.cookies.set("bd_session", cookie)
    refused = client.post("/branches/CSR/counters/Q1", data={"status": "open"})
    assert refused.status_code == 403
    counter = db.execute(select(Counter).where(Counter.code == "Q1")).scalar_one()
    assert counter.status == "closed"
    ok = client.post(
        "/branches/CSR/counters/Q1", data={"status": "open", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert ok.status_code == 303
    db.refresh(counter)
    assert counter.status == "open"


def test_manager_creates_a_counter_from_the_branch_page(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db, code="PGE")
    cash = make_service_type(db, code="PCASH", ticket_prefix="P")
    offer(db, branch, cash)
    manager = make_user(db, Role.branch_manager, (branch,), preferred_locale="zh-Hant")
    cookie, token = browser_session(signer, manager)
    client.cookies.set("bd_session", cookie)
    page = client.get("/branches/PGE")
    assert "櫃檯" in page.text  # the manager's language
    bad = client.post(
        "/branches/PGE/counters",
        data={"code": "bad code!", "name": "x", "csrf_token": token},
    )
    assert bad.status_code == 422
    r = client.post(
        "/branches/PGE/counters",
        data={"code": "p9", "name": "Window 9", "service_codes": "PCASH", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/branches/PGE")
    assert "Window 9" in page.text
    assert "PCASH" in page.text


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    r = client.get("/no/such/page", headers={"Accept-Language": "zh-TW"})
    assert r.status_code == 404
    assert "找不到" in r.text
    api = client.get("/api/v1/nope")
    assert (api.status_code, api.json()["error"]) == (404, "not_found")
