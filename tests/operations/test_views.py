"""The incident pages: open from the form, tick steps (who and when), in the user's language."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.operations import incidents
from tests.factories import NOW, browser_session, make_branch, make_user


def test_incident_checklist_pages(client: TestClient, db: Session, signer: Signer) -> None:
    branch = make_branch(db)
    teller = make_user(db, Role.teller, (branch,))
    incidents.load_default_plans(db, now=NOW)
    cookie, csrf = browser_session(signer, teller)
    client.cookies.set("bd_session", cookie)
    zh = {"Accept-Language": "zh-TW"}
    listing = client.get(f"/operations/branches/{branch.code}/incidents", headers=zh)
    assert listing.status_code == 200
    assert "事件登記" in listing.text
    opened = client.post(
        f"/operations/branches/{branch.code}/incidents",
        data={"scenario": "cash_shortage", "title": "vault short", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    page_url = opened.headers["location"]
    page = client.get(page_url, headers=zh)
    assert "清點金庫與櫃員現金並記錄差額" in page.text
    assert page.text.count('/tick"') == 4
    ticked = client.post(page_url + "/steps/1/tick", data={"csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert ticked.status_code == 303
    after = client.get(page_url, headers={"Accept-Language": "en"})
    assert f"✓ {teller.username}" in after.text
    assert "Count vault and teller cash" in after.text
    assert after.text.count('/tick"') == 3
    no_csrf = client.post(page_url + "/steps/2/tick", data={}, follow_redirects=False)
    assert no_csrf.status_code == 403
    assert client.get(page_url, headers=zh).text.count('/tick"') == 3
