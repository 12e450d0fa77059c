"""The header and home page link exactly the work areas the role may open."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.navigation import BRANCH_AREAS, WORK_AREAS
from branchdesk.identity.roles import PERMISSIONS, Role
from tests.factories import browser_session, make_branch, make_user


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_header_links_follow_the_permission_table(
    client: TestClient, db: Session, signer: Signer, role: Role
) -> None:
    branch = make_branch(db, code="NAV")
    user = make_user(db, role, () if role is Role.admin else (branch,), username=f"nav.{role}")
    cookie, _csrf = browser_session(signer, user)
    client.cookies.set("bd_session", cookie)
    page = client.get("/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    header = page.text.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'href="([^"]+)"', header)
    expected = [a.href for a in WORK_AREAS if role in PERMISSIONS[a.permission]]
    assert links == ["/", "/branches", "/services", *expected]
    for href in expected:  # every linked area really opens for this role
        assert client.get(href, follow_redirects=False).status_code == 200, href
    per_branch = [
        a.href.format(code="NAV") for a in BRANCH_AREAS if role in PERMISSIONS[a.permission]
    ]
    shortcuts = page.text.split("<h2>Shortcuts</h2>", 1)[1]
    for href in per_branch:
        assert f'href="{href}"' in shortcuts
        assert client.get(href, follow_redirects=False).status_code == 200, href
    for area in BRANCH_AREAS:
        if role not in PERMISSIONS[area.permission]:
            assert area.href.format(code="NAV") not in shortcuts


def test_the_areas_are_translated(client: TestClient, db: Session, signer: Signer) -> None:
    user = make_user(db, Role.admin, (), username="nav.zh")
    cookie, _csrf = browser_session(signer, user)
    client.cookies.set("bd_session", cookie)
    client.cookies.set("bd_lang", "zh-Hant")
    header = client.get("/").text.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert "待覆核交易" in header
    assert "Approvals" not in header
