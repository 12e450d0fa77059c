"""Loans pages in Chinese: take an application by form, see the assessment and reasons, decide the
referral as another supervisor, pay out, repay; the portfolio lists the overdue loan."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.events import Event
from branchdesk.core.security import Signer
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.loans import service
from branchdesk.loans.models import Loan, LoanApplication
from branchdesk.loans.rules import bucket_of
from tests.factories import bearer, browser_session, make_user
from tests.loans.helpers import ALLOW, GOOD, application_body, make_world

ZH = {"Accept-Language": "zh-TW"}
HANS = {"Accept-Language": "zh-CN"}


def _login(client: TestClient, db: Session, signer: Signer, who: Principal) -> str:
    user = db.get(User, who.user_id)
    assert user is not None
    cookie, csrf = browser_session(signer, user)
    client.cookies.clear()
    client.cookies.set("bd_session", cookie)
    return csrf


def test_application_to_repayment_through_the_pages(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    csrf = _login(client, db, signer, world.manager)
    page = client.get("/loans", headers=ZH)
    assert page.status_code == 200
    assert "新貸款申請" in page.text
    assert "申請人同意信用查詢" in page.text
    form = {
        "csrf_token": csrf, "customer_number": world.customer.customer_number,
        "product_code": "PERSONAL", "amount": "3,000.00", "term_months": "12",
        "monthly_income": "20000", "monthly_obligations": "0",
        "checking_account_status": "0 to 200", "savings_account": "below 100",
        "housing": "own", "purpose": "furniture", "employment_years": "4",
        "residence_years": "2", "documents": ["id_document", "income_proof"],
        "has_consent": "yes", "idempotency_key": "page-app-1",
    }  # fmt: skip
    taken = client.post("/loans/applications", data=form, headers=ZH, follow_redirects=False)
    assert taken.status_code == 303, taken.text[:500]
    location = taken.headers["location"]
    application = db.execute(
        select(LoanApplication).where(LoanApplication.idempotency_key == "page-app-1")
    ).scalar_one()
    assert location == f"/loans/applications/{application.id}"
    assert (application.amount_minor, application.status) == (300_000, "referred")
    shown = client.get(location, headers=ZH).text
    assert "已轉介審批" in shown
    assert "如今日放款的還款計劃" in shown
    assert "信用評分介於兩個門檻之間" in shown
    assert "支票帳戶狀況: 0 至 200" in shown
    assert "審批轉介申請" not in shown  # the maker gets no decision form
    assert "等待審批人" in shown

    csrf = _login(client, db, signer, world.other_manager)
    assert "审批转介申请" in client.get(location, headers=HANS).text
    decided = client.post(
        f"{location}/decision", data={"csrf_token": csrf, "decision": "approve", "note": "ok"},
        follow_redirects=False,
    )  # fmt: skip
    assert decided.status_code == 303
    csrf = _login(client, db, signer, world.teller)
    assert "發放貸款" in client.get(location, headers=ZH).text
    paid = client.post(
        f"{location}/disbursement",
        data={"csrf_token": csrf, "account": world.account.number, "idempotency_key": "pg-dis"},
        follow_redirects=False,
    )
    assert paid.status_code == 303
    loan = db.execute(select(Loan).where(Loan.application_id == application.id)).scalar_one()
    assert paid.headers["location"] == f"/loans/{loan.number}"
    loan_page = client.get(f"/loans/{loan.number}", headers=ZH).text
    assert "還款計劃" in loan_page
    assert "等額本息" in loan_page
    assert len(re.findall(r"<tr><td>\d+</td><td>\d{4}-\d\d-\d\d</td>", loan_page)) == 12
    repaid = client.post(
        f"/loans/{loan.number}/repayments",
        data={"csrf_token": csrf, "amount": "500.00", "idempotency_key": "pg-pay"},
        follow_redirects=False,
    )
    assert repaid.status_code == 303
    db.refresh(loan)
    # paid today, before the first due date: all of it repays principal early
    assert loan.outstanding_principal_minor == 250_000
    refused = client.post(
        f"/loans/{loan.number}/repayments",
        data={"csrf_token": csrf, "amount": "9999.00", "idempotency_key": "pg-pay-2"},
        headers=ZH,
    )
    assert refused.status_code == 422
    db.refresh(loan)
    assert loan.outstanding_principal_minor == 250_000


def test_a_bad_form_is_shown_again_with_the_field(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    csrf = _login(client, db, signer, world.teller)
    answer = client.post(
        "/loans/applications",
        data={"csrf_token": csrf, "customer_number": world.customer.customer_number,
              "product_code": "PERSONAL", "amount": "12.345", "term_months": "12",
              "monthly_income": "100", "has_consent": "yes", "idempotency_key": "bad-1"},
        headers=ZH,
    )  # fmt: skip
    assert answer.status_code == 422
    assert '<p class="alert" role="alert">金額: too many decimal places' in answer.text
    assert 'value="12.345"' in answer.text  # the form keeps what was typed
    assert (
        db.execute(
            select(LoanApplication).where(LoanApplication.idempotency_key == "bad-1")
        ).first()
        is None
    )


def test_portfolio_shows_buckets_and_warnings(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    application, _ = service.create_application(
        db,
        data=application_body(world, GOOD),
        actor=world.teller,
        now=utcnow() - timedelta(days=75),
    )
    loan, _ = service.disburse(
        db, application_id=application.id, account=world.account.number,
        idempotency_key="pf-dis", actor=world.teller, now=utcnow() - timedelta(days=75),
        compliance=ALLOW,
    )  # fmt: skip
    today = utcnow().date()
    service.run_daily(db, as_of=today, now=utcnow(), branch_ids=[world.branch.id])
    db.refresh(loan)
    first_due = min(r.due_on for r in service.loan_read(db, loan).instalments)
    assert loan.days_past_due == (today - first_due).days
    risk = make_user(db, Role.risk_officer, (world.branch,))
    cookie, _csrf = browser_session(signer, risk)
    client.cookies.clear()
    client.cookies.set("bd_session", cookie)
    page = client.get("/loans/portfolio", headers=ZH)
    assert page.status_code == 200
    assert loan.number in page.text
    assert "未按期還款" in page.text
    assert "逾期天數上升" in page.text
    answer = client.get("/api/v1/loan-portfolio", headers=bearer(signer, risk)).json()
    bucket = bucket_of(loan.days_past_due)
    assert answer["rows"] == [
        {
            "product": "PERSONAL", "currency": "CNY", "loans": 1, "total_minor": 300_000,
            "outstanding_by_bucket_minor": {
                b: (300_000 if b == bucket else 0) for b in answer["buckets"]
            },
        }
    ]  # fmt: skip
    assert [(w["loan_number"], w["signals"]) for w in answer["warnings"]] == [
        (loan.number, ["dpd_rising", "missed_payment"])
    ]
    changed = (
        db.execute(
            select(Event.payload).where(
                Event.type == "loans.bucket_changed", Event.aggregate_id == loan.id
            )
        )
        .scalars()
        .all()
    )
    assert changed == [
        {"number": loan.number, "from": "current", "to": str(bucket),
         "days_past_due": loan.days_past_due}
    ]  # fmt: skip
