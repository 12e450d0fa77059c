"""Pages: the public trilingual form with a confirmation reference, and the staff pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.complaints.models import Case
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.complaints.helpers import count
from tests.factories import browser_session, make_branch, make_user


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("language", "title", "done"),
    [
        ("zh-TW", "投訴", "已收到"),
        ("zh-CN", "投诉", "已收到"),
        ("en", "Make a complaint", "Complaint received"),
    ],
)
def test_public_form_in_three_languages_gives_a_reference(
    client: TestClient, db: Session, language: str, title: str, done: str
) -> None:
    make_branch(db, code="PUB1", timezone="Asia/Hong_Kong", name_en="Central")
    page = client.get("/complain", headers={"accept-language": language})
    assert page.status_code == 200
    assert title in page.text
    sent = client.post(
        "/complain",
        data={"csrf_token": csrf_of(page.text), "branch_code": "PUB1", "subject": "ATM",
              "body": "The ATM kept my card", "contact_email": "mei@example.com"},
        headers={"accept-language": language},
    )  # fmt: skip
    assert sent.status_code == 200, sent.text[:300]
    assert done in sent.text
    reference = re.search(r'id="reference" class="mono">(CMP-\d{4}-\d{6})<', sent.text)
    assert reference
    assert re.search(r'id="final-by">[^<]*\d{4}-\d{2}-\d{2}', sent.text)
    case = db.execute(select(Case).where(Case.reference == reference.group(1))).scalar_one()
    assert (case.channel, case.jurisdiction, case.contact_email) == ("web", "HK", "mei@example.com")


def test_public_form_refuses_missing_contact_and_forged_csrf(
    client: TestClient, db: Session
) -> None:
    make_branch(db, code="PUB2")
    before = count(db, Case)
    page = client.get("/complain")
    missing = client.post(
        "/complain", data={"csrf_token": csrf_of(page.text), "branch_code": "PUB2", "body": "x"}
    )
    assert missing.status_code == 422
    assert "contact_email" in missing.text
    forged = client.post(
        "/complain",
        data={"csrf_token": "forged", "branch_code": "PUB2", "body": "x", "contact_phone": "1"},
    )
    assert forged.status_code == 403
    assert count(db, Case) == before


def test_staff_pages_open_act_and_refuse(client: TestClient, db: Session, signer: Signer) -> None:
    branch = make_branch(db, code="STF1", timezone="Asia/Shanghai")
    teller = make_user(db, Role.teller, (branch,))
    cookie, csrf = browser_session(signer, teller)
    client.cookies.set("bd_session", cookie)
    created = client.post(
        "/complaints",
        data={"csrf_token": csrf, "branch_code": "STF1", "channel": "phone", "body": "Rude staff",
              "severity": "high", "locale": "en"},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303, created.text[:300]
    location = created.headers["location"]
    reference = location.split("/")[2].split("?")[0]
    page = client.get(location)
    assert reference in page.text
    assert "cn-banking-2020" in page.text
    # deadlines read as the end of their last local day
    assert re.search(r'id="final-due">\d{4}-\d{2}-\d{2} 23:59<', page.text)
    refused = client.post(f"/complaints/{reference}/close", data={"csrf_token": csrf})
    assert refused.status_code == 409
    ack = client.post(
        f"/complaints/{reference}/acknowledge", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert ack.status_code == 303
    case = db.execute(select(Case).where(Case.reference == reference)).scalar_one()
    db.refresh(case)
    assert case.state == "acknowledged"
    listing = client.get("/complaints?state=acknowledged")
    assert reference in listing.text
    assert reference not in client.get("/complaints?state=closed").text
    assert client.get("/improvement-actions").status_code == 200
