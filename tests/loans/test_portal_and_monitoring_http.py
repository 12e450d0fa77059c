"""Over HTTP: a customer applies on the portal (API and page), the application lands in the home
branch's queue scored like a branch one; staff record revaluations, declared debts and reference
rates (bad input: 422 on the field, nothing written); the portfolio page draws its charts with
the locally served plotly.js."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.notify import RecordingNotifier
from branchdesk.core.security import Signer
from branchdesk.identity.models import User
from branchdesk.loans import service
from branchdesk.loans.models import (
    CollateralValuation,
    DeclaredDebt,
    LoanApplication,
    LoanDpdSnapshot,
    ReferenceRate,
)
from tests.factories import bearer, browser_session
from tests.loans.helpers import ALLOW, GOOD, application_body, key, make_world
from tests.portal.conftest import (  # noqa: F401  fixtures
    csrf_of,
    enrol_fast,
    notifier,
    page_login,
    portal_app,
    portal_settings,
)

PORTAL_BODY = {
    "product_code": "PERSONAL", "amount_minor": 300_000, "term_months": 12,
    "monthly_income_minor": 2_000_000, "monthly_obligations_minor": 0,
    "checking_account_status": "no checking account", "savings_account": "1000 or more",
    "housing": "own", "purpose": "car (used)", "employment_years": "10",
    "residence_years": 4, "has_consent": True, "idempotency_key": "my-first",
}  # fmt: skip


def _customer_token(signer: Signer, customer_id: object, epoch: int) -> dict[str, str]:
    token = signer.dump_token({"typ": "customer", "cid": str(customer_id), "ep": epoch})
    return {"Authorization": f"Bearer {token}"}


def _user(db: Session, principal: object) -> User:
    user = db.get(User, principal.user_id)  # type: ignore[attr-defined]  # a Principal
    assert user is not None
    return user


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_portal_application_is_scored_and_waits_in_the_branch_queue(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    login = enrol_fast(db, world.customer)
    headers = _customer_token(signer, world.customer.id, login.auth_epoch)
    sent = client.post("/api/v1/portal/loan-applications", json=PORTAL_BODY, headers=headers)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["status"] == "referred"  # no documents yet: the branch must see them
    again = client.post("/api/v1/portal/loan-applications", json=PORTAL_BODY, headers=headers)
    assert (again.status_code, again.json()["reference"]) == (200, body["reference"])

    staff = bearer(signer, _user(db, world.teller))
    queue = client.get("/api/v1/loan-applications?status=referred", headers=staff).json()
    (mine,) = [a for a in queue if a["reference"] == body["reference"]]
    assert (mine["channel"], mine["maker"], mine["branch_code"]) == (
        "portal",
        "",
        world.branch.code,
    )
    assert mine["decision_reasons"] == ["documents_missing"]
    assert mine["score_reasons"] != []  # scored like a branch application
    branch_twin, _ = service.create_application(
        db, data=application_body(world, GOOD, documents=[]), actor=world.teller, now=utcnow()
    )
    assert float(branch_twin.score) == mine["score"]  # the same scorecard, the same answer

    decided = client.post(  # maker-checker: the portal has no staff maker, any approver decides
        f"/api/v1/loan-applications/{mine['id']}/decision",
        json={"approve": True, "note": "documents seen"},
        headers=bearer(signer, _user(db, world.manager)),
    )
    assert decided.json()["status"] == "approved"
    listed = client.get("/api/v1/portal/loan-applications", headers=headers).json()
    assert [(a["reference"], a["status"]) for a in listed] == [
        (branch_twin.reference, "referred"),  # the customer sees every application, newest first
        (body["reference"], "approved"),
    ]


def test_portal_application_bad_input_writes_nothing(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    login = enrol_fast(db, world.customer)
    headers = _customer_token(signer, world.customer.id, login.auth_epoch)
    before = _count(db, LoanApplication)
    long_term = client.post(
        "/api/v1/portal/loan-applications", json={**PORTAL_BODY, "term_months": 90},
        headers=headers,
    )  # fmt: skip
    assert long_term.status_code == 422
    assert long_term.json()["field"] == "term_months"
    no_consent = client.post(
        "/api/v1/portal/loan-applications", json={**PORTAL_BODY, "has_consent": False},
        headers=headers,
    )  # fmt: skip
    assert no_consent.status_code == 422
    assert "consent" in no_consent.text
    staff_token = client.post(
        "/api/v1/portal/loan-applications", json=PORTAL_BODY,
        headers=bearer(signer, _user(db, world.teller)),
    )  # fmt: skip
    assert staff_token.status_code == 403
    assert _count(db, LoanApplication) == before


def test_the_portal_page_takes_an_application(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, db: Session,  # noqa: F811
    signer: Signer,
) -> None:  # fmt: skip
    world = make_world(db, signer)
    world.customer.phone = "+8613800000001"
    enrol_fast(db, world.customer)
    db.flush()
    page_login(client, notifier, world.customer.customer_number)
    page = client.get("/my/loans")
    assert page.status_code == 200
    assert "Apply for a loan" in page.text
    form = {
        "csrf_token": csrf_of(page.text), "product_code": "PERSONAL", "amount": "3,000.00",
        "term_months": "12", "monthly_income": "20000", "monthly_obligations": "0",
        "checking_account_status": "no checking account", "savings_account": "1000 or more",
        "housing": "own", "purpose": "car (used)", "employment_years": "10",
        "residence_years": "4", "has_consent": "yes", "idempotency_key": "page-1",
    }  # fmt: skip
    bad = client.post("/my/loans/applications", data={**form, "amount": "1,000,000.00"})
    assert bad.status_code == 422
    assert "amount_minor" in bad.text
    assert _count(db, LoanApplication) == 0
    sent = client.post("/my/loans/applications", data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text[:400]
    application = db.execute(select(LoanApplication)).scalar_one()
    assert (application.channel, application.maker_id) == ("portal", None)
    assert sent.headers["location"] == f"/my/loans?created={application.reference}"
    shown = client.get(sent.headers["location"])
    assert application.reference in shown.text
    assert "referred" in shown.text
    client.cookies.clear()
    assert client.get("/my/loans", follow_redirects=False).status_code == 303  # to the login


def test_monitoring_inputs_over_http(client: TestClient, db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    application, _ = service.create_application(
        db, data=application_body(world, GOOD), actor=world.teller, now=utcnow()
    )
    loan, _ = service.disburse(
        db, application_id=application.id, account=world.account.number,
        idempotency_key=key("dis"), actor=world.teller, now=utcnow(), compliance=ALLOW,
    )  # fmt: skip
    staff = bearer(signer, _user(db, world.teller))
    today = utcnow().date()
    url = f"/api/v1/loans/{loan.number}/collateral-valuations"
    for body, field in (
        ({"value_minor": 0, "valued_on": str(today)}, "value_minor"),
        ({"value_minor": 10, "valued_on": str(today + timedelta(days=1))}, "valued_on"),
        ({"value_minor": 10}, "valued_on"),
    ):
        refused = client.post(url, json=body, headers=staff)
        assert refused.status_code == 422, refused.text
        assert field in refused.text
    assert _count(db, CollateralValuation) == 0
    ok = client.post(url, json={"value_minor": 900_000, "valued_on": str(today)}, headers=staff)
    assert ok.status_code == 201
    assert [v["value_minor"] for v in ok.json()] == [900_000]

    debts = f"/api/v1/loans/{loan.number}/declared-debts"
    bad = client.post(debts, json={"lender": "", "monthly_payment_minor": 5,
                                   "declared_on": str(today)}, headers=staff)  # fmt: skip
    assert bad.status_code == 422
    assert _count(db, DeclaredDebt) == 0
    good = client.post(debts, json={"lender": "Other Bank", "monthly_payment_minor": 50_000,
                                    "declared_on": str(today)}, headers=staff)  # fmt: skip
    assert good.status_code == 201
    assert good.json()[0]["lender"] == "Other Bank"

    admin = bearer(signer, _user(db, world.admin))
    unknown = client.post(
        "/api/v1/reference-rates",
        json={"name": "NOPE", "rate": "0.03", "effective_on": str(today)},
        headers=admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "name"
    too_high = client.post(
        "/api/v1/reference-rates",
        json={"name": "NOPE", "rate": "1.5", "effective_on": str(today)},
        headers=admin,
    )
    assert too_high.status_code == 422
    assert _count(db, ReferenceRate) == 0


def test_the_portfolio_page_draws_charts_with_the_local_plotly(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    start = utcnow() - timedelta(days=75)
    application, _ = service.create_application(
        db, data=application_body(world, GOOD), actor=world.teller, now=start
    )
    service.disburse(
        db, application_id=application.id, account=world.account.number,
        idempotency_key=key("dis"), actor=world.teller, now=start, compliance=ALLOW,
    )  # fmt: skip
    for days in (30, 60, 75):
        day = (start + timedelta(days=days)).date()
        service.run_daily(db, as_of=day, now=start + timedelta(days=days))
    assert _count(db, LoanDpdSnapshot) == 3
    user = _user(db, world.manager)
    cookie, _csrf = browser_session(signer, user)
    client.cookies.set("bd_session", cookie)
    page = client.get("/loans/portfolio", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "/quality/plotly.js?v=" in page.text
    assert 'id="plot-exposure"' in page.text
    assert 'id="plot-vintage30"' in page.text
    assert "帳齡曲線" in page.text  # the vintage chart's title, in Traditional Chinese
    assert "按分群劃分的風險暴露" in page.text
    script = client.get("/quality/plotly.js")
    assert script.status_code == 200
    assert "plotly" in script.text[:2000].lower()


def test_monitoring_forms_show_the_error_and_write_nothing(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    application, _ = service.create_application(
        db, data=application_body(world, GOOD), actor=world.teller, now=utcnow()
    )
    loan, _ = service.disburse(
        db, application_id=application.id, account=world.account.number,
        idempotency_key=key("dis"), actor=world.teller, now=utcnow(), compliance=ALLOW,
    )  # fmt: skip
    cookie, csrf = browser_session(signer, _user(db, world.teller))
    client.cookies.set("bd_session", cookie)
    today = utcnow().date()
    page = client.get(f"/loans/{loan.number}", headers={"Accept-Language": "zh-TW"})
    assert "擔保品估值" in page.text
    refused = client.post(
        f"/loans/{loan.number}/collateral-valuations",
        data={"csrf_token": csrf, "value": "abc", "valued_on": str(today)},
    )
    assert refused.status_code == 422
    assert "not an amount" in refused.text
    future = client.post(
        f"/loans/{loan.number}/declared-debts",
        data={"csrf_token": csrf, "lender": "X", "monthly_payment": "100",
              "declared_on": str(today + timedelta(days=3))},
    )  # fmt: skip
    assert future.status_code == 422
    assert "the date is in the future" in future.text
    assert (_count(db, CollateralValuation), _count(db, DeclaredDebt)) == (0, 0)
    done = client.post(
        f"/loans/{loan.number}/collateral-valuations",
        data={"csrf_token": csrf, "value": "8,000.00", "valued_on": str(today)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert db.execute(select(CollateralValuation.value_minor)).scalar_one() == 800_000

    admin_cookie, admin_csrf = browser_session(signer, _user(db, world.admin))
    client.cookies.set("bd_session", admin_cookie)
    bad_rate = client.post(
        "/loan-products/reference-rates",
        data={"csrf_token": admin_csrf, "name": "LPR 1Y", "rate": "abc",
              "effective_on": str(today)},
    )  # fmt: skip
    assert bad_rate.status_code == 422
    assert _count(db, ReferenceRate) == 0
