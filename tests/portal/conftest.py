"""Portal fixtures: a small bank with two enrolled customers, a recording notifier, and the
portal's settings on the shared app (restored afterwards)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.notify import RecordingNotifier, use_notifier
from branchdesk.core.security import Signer, hash_password
from branchdesk.customers.models import Customer
from branchdesk.ledger.models import Account
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.portal.config import PortalSettings
from branchdesk.portal.models import PortalLogin
from tests.factories import make_customer
from tests.ledger.helpers import Bank, deposit, make_bank, open_account

PASSWORD = "portal-pass-1234"
LIMIT = 100_000  # 1,000.00 a day


@dataclass
class PortalWorld:
    bank: Bank
    alice: Customer
    bob: Customer
    alice_account: Account  # CNY 5,000.00
    alice_savings: Account  # CNY 0
    bob_account: Account  # CNY 1,000.00


@pytest.fixture
def portal_settings() -> PortalSettings:
    return PortalSettings(
        daily_transfer_limit_minor=LIMIT,
        daily_transfer_limits={},
        otp_minutes=5,
        otp_max_attempts=3,
        otp_resend_seconds=60,
        max_failures=4,
        lockout_minutes=15,
        idle_minutes=15,
        deliver_codes_now=True,
    )


@pytest.fixture
def notifier() -> Iterator[RecordingNotifier]:
    with use_notifier(RecordingNotifier()) as recording:
        assert isinstance(recording, RecordingNotifier)
        yield recording


@pytest.fixture
def portal_app(
    app: FastAPI, portal_settings: PortalSettings, notifier: RecordingNotifier
) -> Iterator[FastAPI]:
    before = (
        getattr(app.state, "portal_settings", None),
        getattr(app.state, "ledger_compliance", None),
    )
    app.state.portal_settings = portal_settings
    app.state.ledger_compliance = AllowAll()
    try:
        yield app
    finally:
        app.state.portal_settings, app.state.ledger_compliance = before


@pytest.fixture
def world(db: Session, signer: Signer, portal_settings: PortalSettings) -> PortalWorld:
    bank = make_bank(db, signer)
    alice = make_customer(
        db, signer, home_branch_id=bank.branch.id, phone="+886912000001", email="alice@example.com"
    )
    bob = make_customer(db, signer, home_branch_id=bank.branch.id, phone="+886912000002")
    alice_account = open_account(db, bank, customer_number=alice.customer_number)
    alice_savings = open_account(db, bank, customer_number=alice.customer_number, type="savings")
    bob_account = open_account(db, bank, customer_number=bob.customer_number)
    deposit(db, bank, alice_account, 500_000, memo="salary")
    deposit(db, bank, bob_account, 100_000, memo="opening")
    for customer in (alice, bob):
        enrol_fast(db, customer)
    return PortalWorld(bank, alice, bob, alice_account, alice_savings, bob_account)


_hash: str | None = None


def enrol_fast(db: Session, customer: Customer) -> PortalLogin:
    """An active login with PASSWORD (argon2 hashed once per test run: it is slow on purpose)."""
    global _hash
    if _hash is None:
        _hash = hash_password(PASSWORD)
    now = utcnow()
    login = PortalLogin(
        id=new_id(), customer_id=customer.id, password_hash=_hash, status="active",
        failed_count=0, auth_epoch=0, daily_limits={}, created_at=now, updated_at=now,
        activated_at=now,
    )  # fmt: skip
    db.add(login)
    db.flush()
    return login


def last_code(notifier: RecordingNotifier) -> str:
    message = notifier.sent[-1]
    assert message.template in ("portal.login_code", "portal.activation_code")
    code = message.values["code"]
    assert re.fullmatch(r"\d{6}", code)
    return code


def api_login(client: TestClient, notifier: RecordingNotifier, identifier: str) -> dict[str, str]:
    started = client.post(
        "/api/v1/portal/login", json={"identifier": identifier, "password": PASSWORD}
    )
    assert started.status_code == 200, started.text
    verified = client.post(
        "/api/v1/portal/login/verify",
        json={"challenge_id": started.json()["challenge_id"], "code": last_code(notifier)},
    )
    assert verified.status_code == 200, verified.text
    return {"Authorization": f"Bearer {verified.json()['access_token']}"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def page_login(client: TestClient, notifier: RecordingNotifier, identifier: str) -> None:
    """Log a browser-like client in through the pages (password, then the code), in English."""
    client.cookies.set("bd_lang", "en")
    page = client.get("/my/login")
    assert page.status_code == 200
    sent = client.post(
        "/my/login",
        data={"csrf_token": csrf_of(page.text), "identifier": identifier, "password": PASSWORD},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/my/login/verify"
    form = client.get("/my/login/verify")
    done = client.post(
        "/my/login/verify",
        data={"csrf_token": csrf_of(form.text), "code": last_code(notifier)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/my"
