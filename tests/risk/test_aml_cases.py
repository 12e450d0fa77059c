"""AML cases over HTTP: the workflow, refused steps, held postings released or rejected through
the case, the large-value and suspicious transaction reports, and the pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.models import AuditEntry, User
from branchdesk.identity.roles import Role
from branchdesk.ledger.models import Account, Entry, Posting, PostingStatus
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.cases.kyc import refresh_profile
from branchdesk.risk.cases.models import AmlCase, AmlCaseEvent
from branchdesk.risk.cases.sweep import sweep_held_postings, sweep_ledger
from tests.factories import bearer, browser_session, make_user
from tests.ledger.helpers import Bank, make_bank, open_account
from tests.risk.cases_helpers import HOLD, cash_in, day


@dataclass
class World:
    bank: Bank
    account: Account
    held: Posting
    case: AmlCase
    officer: User


def _world(db: Session, signer: Signer) -> World:
    bank = make_bank(db, signer)
    account = open_account(db, bank)
    cash_in(db, bank, account, 1_000_000, at=day(0))
    held = cash_in(db, bank, account, 4_900_000, at=day(1), compliance=HOLD)
    sweep_held_postings(db, now=day(1, 3))
    case = db.execute(select(AmlCase)).scalar_one()
    officer = db.get(User, bank.compliance.user_id)
    assert officer is not None
    return World(bank, account, held, case, officer)


def _counts(db: Session, case: AmlCase) -> tuple[str, int, int]:
    db.expire_all()
    fresh = db.get(AmlCase, case.id)
    assert fresh is not None
    events = db.scalar(
        select(func.count()).select_from(AmlCaseEvent).where(AmlCaseEvent.case_id == case.id)
    )
    audits = db.scalar(select(func.count()).select_from(AuditEntry))
    return fresh.status, int(events or 0), int(audits or 0)


def test_workflow_to_reported_with_refused_steps(
    client: TestClient, db: Session, signer: Signer
) -> None:
    w = _world(db, signer)
    url = f"/api/v1/risk/cases/{w.case.id}/transitions"
    auth = bearer(signer, w.officer)

    before = _counts(db, w.case)
    refused = client.post(url, json={"to": "reported"}, headers=auth)
    assert refused.status_code == 409
    assert refused.json()["error"] == "transition_refused"
    assert _counts(db, w.case) == before

    answer = client.post(url, json={"to": "under_review", "note": "looking"}, headers=auth)
    assert answer.status_code == 200
    assert answer.json()["status"] == "under_review"
    assert answer.json()["assignee"] == w.officer.username
    assert answer.json()["allowed_transitions"] == ["escalated", "closed_no_action"]

    before = _counts(db, w.case)
    no_reason = client.post(url, json={"to": "closed_no_action", "reason": "  "}, headers=auth)
    assert no_reason.status_code == 422
    assert _counts(db, w.case) == before

    assert client.post(url, json={"to": "escalated"}, headers=auth).status_code == 200
    done = client.post(url, json={"to": "reported", "note": "STR filed"}, headers=auth)
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "reported"
    assert body["allowed_transitions"] == []
    assert [(e["action"], e["from_status"], e["to_status"]) for e in body["timeline"]] == [
        ("open", "", "new"),
        ("alert", "", ""),
        ("transition", "new", "under_review"),
        ("transition", "under_review", "escalated"),
        ("transition", "escalated", "reported"),
    ]
    actions = db.execute(
        select(AuditEntry.action, AuditEntry.actor_label)
        .where(AuditEntry.object_id == str(w.case.id))
        .order_by(AuditEntry.seq)
    ).all()
    assert [a for a, _ in actions] == [
        "aml_case.open",
        "aml_case.alert",
        "aml_case.transition",
        "aml_case.transition",
        "aml_case.transition",
    ]
    assert actions[-1][1] == f"{w.officer.username} (compliance_officer)"

    before = _counts(db, w.case)
    again = client.post(url, json={"to": "closed_no_action", "reason": "x"}, headers=auth)
    assert again.status_code == 409
    assert _counts(db, w.case) == before


def test_close_without_action_keeps_the_reason(
    client: TestClient, db: Session, signer: Signer
) -> None:
    w = _world(db, signer)
    url = f"/api/v1/risk/cases/{w.case.id}/transitions"
    auth = bearer(signer, w.officer)
    client.post(url, json={"to": "under_review"}, headers=auth)
    closed = client.post(
        url, json={"to": "closed_no_action", "reason": "salary of a cash business"}, headers=auth
    )
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["closing_reason"]) == (
        "closed_no_action",
        "salary of a cash business",
    )


def test_held_posting_released_through_the_case(
    client: TestClient, db: Session, signer: Signer
) -> None:
    w = _world(db, signer)
    auth = bearer(signer, w.officer)
    url = f"/api/v1/risk/cases/{w.case.id}/postings/{w.held.id}/decision"
    assert (
        db.scalar(select(func.count()).select_from(Entry).where(Entry.posting_id == w.held.id)) == 0
    )

    released = client.post(
        url, json={"approve": True, "note": "source of funds seen"}, headers=auth
    )

    assert released.status_code == 200
    assert released.json()["held_postings"][0]["status"] == "posted"
    db.expire_all()
    posting = db.get(Posting, w.held.id)
    account = db.get(Account, w.account.id)
    assert posting is not None
    assert account is not None
    assert (posting.status, posting.checker_id) == (PostingStatus.posted, w.officer.id)
    assert account.balance_minor == 1_000_000 + 4_900_000
    assert released.json()["timeline"][-1]["action"] == "release_posting"
    audit = db.execute(
        select(AuditEntry.action).where(AuditEntry.object_id == str(w.held.id))
    ).scalars()
    assert list(audit) == ["posting.approve"]

    twice = client.post(url, json={"approve": False}, headers=auth)
    assert twice.status_code == 409  # no longer pending
    db.expire_all()
    assert db.get(Posting, w.held.id).status == PostingStatus.posted  # type: ignore[union-attr]


def test_held_posting_rejected_through_the_case(
    client: TestClient, db: Session, signer: Signer
) -> None:
    w = _world(db, signer)
    auth = bearer(signer, w.officer)
    url = f"/api/v1/risk/cases/{w.case.id}/postings/{w.held.id}/decision"
    rejected = client.post(url, json={"approve": False, "note": "no source"}, headers=auth)
    assert rejected.status_code == 200
    db.expire_all()
    assert db.get(Posting, w.held.id).status == PostingStatus.rejected  # type: ignore[union-attr]
    assert db.get(Account, w.account.id).balance_minor == 1_000_000  # type: ignore[union-attr]

    other = f"/api/v1/risk/cases/{w.case.id}/postings/{uuid.uuid4()}/decision"
    assert client.post(other, json={"approve": True}, headers=auth).status_code == 404


def test_risk_officer_reads_but_cannot_decide(
    client: TestClient, db: Session, signer: Signer
) -> None:
    w = _world(db, signer)
    reader = make_user(db, Role.risk_officer, (w.bank.branch,))
    auth = bearer(signer, reader)
    assert client.get(f"/api/v1/risk/cases/{w.case.id}", headers=auth).status_code == 200
    before = _counts(db, w.case)
    url = f"/api/v1/risk/cases/{w.case.id}/transitions"
    assert client.post(url, json={"to": "under_review"}, headers=auth).status_code == 403
    assert _counts(db, w.case) == before
    outsider = make_user(db, Role.compliance_officer, ())
    assert (
        client.get(f"/api/v1/risk/cases/{w.case.id}", headers=bearer(signer, outsider)).status_code
        == 404
    )


def test_large_value_report_rows(client: TestClient, db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer, code="LVT")
    account = open_account(db, bank)
    usd = open_account(db, bank, currency="USD")
    big = cash_in(db, bank, account, 5_000_000, at=day(0, 3))  # exactly RMB 50,000: reported
    cash_in(db, bank, account, 4_999_999, at=day(2, 3))  # below the line, alone: not reported
    dollars = cash_in(db, bank, usd, 1_000_000, at=day(1, 4))  # USD 10,000
    sweep_ledger(db, config=RuleConfig(), since=None, now=day(3))
    officer = db.get(User, bank.compliance.user_id)
    assert officer is not None
    customer = db.execute(select(Account.customer_id).where(Account.id == account.id)).scalar_one()
    person = db.get(Customer, customer)
    dollar_person = db.get(Customer, usd.customer_id)
    assert person is not None
    assert dollar_person is not None

    answer = client.get(
        "/api/v1/risk/reports/large-value.csv",
        params={"from": day(0).date().isoformat(), "to": day(2).date().isoformat()},
        headers=bearer(signer, officer),
    )

    assert answer.status_code == 200
    lines = answer.text.splitlines()
    assert lines[0].split(",")[:4] == [
        "reporting_institution",
        "branch_code",
        "branch_name",
        "report_type",
    ]
    rows = [line.split(",") for line in lines[1:]]
    assert [r[:4] + r[4:5] + r[6:17] for r in rows] == [
        ["BRANCHDESK", "LVT", bank.branch.name_zh_hans, "large_cash", person.customer_number,
         "national_id", person.id_number_masked, account.number, "credit", "50000.00", "CNY",
         "50000.00", day(0, 3).isoformat(), "cash", "", str(big.id)],
        ["BRANCHDESK", "LVT", bank.branch.name_zh_hans, "large_cash",
         dollar_person.customer_number, "national_id", dollar_person.id_number_masked,
         usd.number, "credit", "10000.00", "USD", "71000.00", day(1, 4).isoformat(), "cash", "",
         str(dollars.id)],
    ]  # fmt: skip
    later = client.get(
        "/api/v1/risk/reports/large-value.csv",
        params={"from": day(1).date().isoformat(), "to": day(1).date().isoformat()},
        headers=bearer(signer, officer),
    )
    assert len(later.text.splitlines()) == 2  # the header and the USD deposit


def test_pages_and_suspicious_report(client: TestClient, db: Session, signer: Signer) -> None:
    w = _world(db, signer)
    cookie, csrf = browser_session(signer, w.officer)
    client.cookies.clear()
    client.cookies.set("bd_session", cookie)
    client.headers["Accept-Language"] = "zh-Hant"
    listing = client.get("/risk/cases")
    assert listing.status_code == 200
    assert w.case.reference in listing.text
    page = client.get(f"/risk/cases/{w.case.id}")
    assert "拆分交易" in page.text
    assert "待審查的暫停交易" in page.text
    moved = client.post(
        f"/risk/cases/{w.case.id}/transitions",
        data={"csrf_token": csrf, "to": "under_review", "note": "n"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    released = client.post(
        f"/risk/cases/{w.case.id}/postings/{w.held.id}/decision",
        data={"csrf_token": csrf, "decision": "approve"},
        follow_redirects=False,
    )
    assert released.status_code == 303
    db.expire_all()
    assert db.get(Posting, w.held.id).status == PostingStatus.posted  # type: ignore[union-attr]
    colleague = make_user(db, Role.compliance_officer, (w.bank.branch,))
    assigned = client.post(
        f"/risk/cases/{w.case.id}/assignee",
        data={"csrf_token": csrf, "username": colleague.username},
        follow_redirects=False,
    )
    assert assigned.status_code == 303
    teller = client.post(
        f"/risk/cases/{w.case.id}/assignee",
        data={"csrf_token": csrf, "username": "nobody.here"},
        follow_redirects=False,
    )
    assert teller.status_code == 422
    db.expire_all()
    assert db.get(AmlCase, w.case.id).assignee_id == colleague.id  # type: ignore[union-attr]
    report = client.get(f"/risk/cases/{w.case.id}/str")
    assert report.status_code == 200
    assert "可疑交易報告" in report.text
    csv_text = client.get(
        f"/api/v1/risk/cases/{w.case.id}/str.csv", headers=bearer(signer, w.officer)
    ).text
    rows = csv_text.splitlines()
    assert len(rows) == 2
    assert rows[1].startswith(f"{w.case.reference},under_review,structuring,hook,100,")
    assert f",{w.account.number},credit,49000.00,CNY,49000.00," in rows[1]
    alerts = client.get("/risk/alerts")
    assert alerts.status_code == 200
    assert w.account.number in alerts.text


def test_large_cash_at_the_counter_is_reported_after_run_now(
    client: TestClient, db: Session, signer: Signer
) -> None:
    """The demo: a teller takes RMB 60,000 in cash; the officer runs monitoring from the page;
    the deposit is in today's large-value report and opens no case."""
    bank = make_bank(db, signer, code="DEMO")
    account = open_account(db, bank)
    now = utcnow()
    deposit = cash_in(db, bank, account, 6_000_000, at=now)
    officer = db.get(User, bank.compliance.user_id)
    assert officer is not None
    cookie, csrf = browser_session(signer, officer)
    client.cookies.clear()
    client.cookies.set("bd_session", cookie)
    ran = client.post("/risk/sweeps", data={"csrf_token": csrf}, follow_redirects=False)
    assert ran.status_code == 303
    again = client.post("/api/v1/risk/sweeps", headers=bearer(signer, officer))
    assert again.json()["new_alerts"] == 0
    today = now.date().isoformat()
    report = client.get(
        "/api/v1/risk/reports/large-value.csv",
        params={"from": today, "to": today},
        headers=bearer(signer, officer),
    )
    rows = report.text.splitlines()
    assert len(rows) == 2
    assert deposit.posted_at is not None
    moved = f"{account.number},credit,60000.00,CNY,60000.00,{deposit.posted_at.isoformat()},cash,"
    assert f",{moved},{deposit.id},AML-" in rows[1]
    assert db.scalar(select(func.count()).select_from(AmlCase)) == 0
    audit = db.execute(select(AuditEntry.action).where(AuditEntry.action == "aml.sweep")).all()
    assert len(audit) == 2


def test_case_page_shows_the_kyc_rating(client: TestClient, db: Session, signer: Signer) -> None:
    w = _world(db, signer)
    customer = db.get(Customer, w.case.customer_id)
    assert customer is not None
    refresh_profile(db, customer=customer, now=day(2))
    detail = client.get(f"/api/v1/risk/cases/{w.case.id}", headers=bearer(signer, w.officer))
    body = detail.json()
    assert (body["kyc_status"], body["kyc_rating"], body["kyc_missing"]) == (
        "valid",
        "medium",
        ["phone"],
    )
    assert body["kyc_reasons"] == ["KYC incomplete: phone", "1 AML alert(s) on file"]
