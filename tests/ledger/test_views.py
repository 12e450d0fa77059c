"""The branch manager's approvals page: lists held postings, approves by form, refuses tellers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger import service
from branchdesk.ledger.models import PostingStatus
from tests.factories import NOW, browser_session, make_user
from tests.ledger.helpers import ALLOW, balance, deposit, key, make_bank, open_account


def test_manager_sees_and_approves_a_held_reversal(
    client: TestClient, db: Session, signer: Signer
) -> None:
    bank = make_bank(db, signer)
    account = open_account(db, bank)
    original = deposit(db, bank, account, 12_345)
    held = service.reverse_posting(
        db, posting_id=original.id, idempotency_key=key(), actor=bank.teller, now=NOW,
        compliance=ALLOW,
    ).posting  # fmt: skip
    manager = make_user(db, Role.branch_manager, (bank.branch,))
    cookie, csrf = browser_session(signer, manager)
    client.cookies.set("bd_session", cookie)
    page = client.get("/approvals", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "待決定的交易" in page.text
    assert account.number in page.text
    assert "沖正" in page.text
    done = client.post(
        f"/approvals/{held.id}/approve", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    db.refresh(held)
    assert held.status == PostingStatus.posted
    assert balance(db, account) == 0
    assert (
        "目前沒有待決定的交易"
        in client.get("/approvals", headers={"Accept-Language": "zh-TW"}).text
    )


def test_teller_cannot_open_the_approvals_page(
    client: TestClient, db: Session, signer: Signer
) -> None:
    bank = make_bank(db, signer)
    teller = make_user(db, Role.teller, (bank.branch,))
    cookie, _csrf = browser_session(signer, teller)
    client.cookies.set("bd_session", cookie)
    assert client.get("/approvals").status_code == 403
