"""Receipts: the customer's language, masked numbers, amounts, branch time, status, QR, access."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import Posting
from branchdesk.ledger.schemas import ApprovalLimitSet
from branchdesk.ledger.service.compliance import PrePostingCheck
from branchdesk.teller.models import CounterPosting
from branchdesk.teller.service import mask_account
from tests.factories import NOW, make_user, principal
from tests.teller.helpers import Desk, login, make_desk, submit

EXPECTED = {
    "zh-Hant": ("分行通銀行", "測試分行", "交易收據", "存款", "已完成"),
    "zh-Hans": ("分行通银行", "测试网点", "交易回单", "存款", "已完成"),
    "en": ("Branchdesk Bank", "Test Branch", "Transaction receipt", "deposit", "Completed"),
}


def _counter_deposit(
    client: TestClient, db: Session, desk: Desk, csrf: str, amount: str
) -> CounterPosting:
    response = submit(
        client, desk, csrf, "deposit", account=desk.current.number, amount=amount, currency="CNY"
    )
    assert response.status_code == 303
    links = db.execute(
        select(CounterPosting).where(CounterPosting.ticket_id == desk.ticket.id)
    ).scalars()
    return max(links, key=lambda link: link.reference)


@pytest.mark.parametrize("locale", ["zh-Hant", "zh-Hans", "en"])
def test_receipt_is_in_the_customers_language(
    client: TestClient,
    db: Session,
    signer: Signer,
    compliance: list[PrePostingCheck],
    locale: str,
) -> None:
    desk = make_desk(db, signer, locale=locale)
    csrf = login(client, signer, desk.teller, "en")  # the teller reads English
    link = _counter_deposit(client, db, desk, csrf, "1,234.50")
    page = client.get(f"/receipts/{link.posting_id}")
    assert page.status_code == 200
    text = page.text
    bank, branch, title, kind, status = EXPECTED[locale]
    assert f'<html lang="{locale}">' in text
    for expected in (bank, branch, title, kind, status):
        assert expected in text
    assert link.reference in text
    assert "CNY 1,234.50" in text
    assert mask_account(desk.current.number) in text
    assert desk.current.number not in text  # only the last four digits
    assert "櫃員小林" in text  # the teller
    assert "T1" in text  # the counter
    # branch time: 2026-... in Asia/Taipei, shown with its +08:00 offset
    assert "+08:00" in text
    assert "<svg" in text  # the QR code of the reference, inline
    assert "<script" not in text
    assert "@media print" in text


def test_pending_receipt_says_not_yet_completed(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer, locale="zh-Hant")
    ledger.set_approval_limit(
        db,
        data=ApprovalLimitSet(
            branch_code=desk.branch.code, kind="deposit", currency="CNY", amount_minor=100
        ),
        actor=principal(db, desk.manager),
        now=NOW,
    )
    csrf = login(client, signer, desk.teller)
    link = _counter_deposit(client, db, desk, csrf, "5")
    assert db.get(Posting, link.posting_id).status == "pending_approval"  # type: ignore[union-attr]
    text = client.get(f"/receipts/{link.posting_id}").text
    assert "待主管核准：交易尚未完成" in text
    assert "已完成" not in text


def test_only_staff_of_the_branch_see_a_receipt(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    other = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    link = _counter_deposit(client, db, desk, csrf, "10")
    login(client, signer, other.teller)
    assert client.get(f"/receipts/{link.posting_id}").status_code == 403
    login(client, signer, other.manager)
    assert client.get(f"/receipts/{link.posting_id}").status_code == 403
    quality = make_user(db, Role.quality_officer, (desk.branch,))
    login(client, signer, quality)
    assert client.get(f"/receipts/{link.posting_id}").status_code == 403
    login(client, signer, desk.manager)
    assert client.get(f"/receipts/{link.posting_id}").status_code == 200
    client.cookies.clear()
    anonymous = client.get(f"/receipts/{link.posting_id}", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")


def test_placement_receipt_names_the_time_deposit(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer, locale="zh-Hant")
    csrf = login(client, signer, desk.teller, "zh-Hans")
    response = submit(
        client, desk, csrf, "time-deposit", account=desk.savings.number, term_months="3",
        amount="1,000",
    )  # fmt: skip
    assert response.status_code == 303
    assert "定期存入" in client.get(desk.console).text  # the teller reads Simplified Chinese
    link = db.execute(
        select(CounterPosting).where(CounterPosting.ticket_id == desk.ticket.id)
    ).scalar_one()
    text = client.get(f"/receipts/{link.posting_id}").text
    assert "定存存入" in text  # the customer reads Traditional Chinese
    assert "CNY 1,000.00" in text
    assert text.count("****") == 2  # debited savings, credited time deposit
