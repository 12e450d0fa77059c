"""The customer's journey in a real browser: log in with the one-time code read from the
notifier's file, see the balances, make a transfer, find it in the statement."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    portal_log_in,
    prepare_bank,
    require_chromium,
    server_env,
    serving,
)

pytestmark = pytest.mark.browser
PASSWORD = "branchdesk-demo"


@dataclass
class Live:
    url: str
    notifications: Path
    customer_number: str
    phone: str
    account: str
    payee_account: str


def _prepare_customers(database_url: str, secret: str) -> tuple[str, str, str, str]:
    """Two demo customers with a valid ID get a funded TWD account; the first is enrolled."""
    from datetime import date

    from branchdesk.core.clock import utcnow
    from branchdesk.core.db import Database
    from branchdesk.core.security import Signer
    from branchdesk.customers.models import Customer
    from branchdesk.identity.models import User
    from branchdesk.identity.service import principal_for
    from branchdesk.ledger import service as ledger
    from branchdesk.ledger.schemas import AccountOpen
    from branchdesk.ledger.service.compliance import AllowAll
    from branchdesk.portal.config import PortalSettings
    from branchdesk.portal.service import enrol

    database = Database(database_url)
    try:
        with database.unit_of_work() as db:
            admin = db.execute(select(User).where(User.role == "admin").limit(1)).scalar_one()
            actor = principal_for(db, admin)
            customers = list(
                db.execute(
                    select(Customer)
                    .where(Customer.id_expires_on > date(2027, 1, 1), Customer.phone != "")
                    .order_by(Customer.customer_number)
                    .limit(2)
                ).scalars()
            )
            numbers = []
            for index, customer in enumerate(customers):
                account = ledger.open_account(
                    db,
                    data=AccountOpen(customer_number=customer.customer_number, currency="TWD",
                                     branch_code="TPE01"),
                    actor=actor, now=utcnow(),
                )  # fmt: skip
                ledger.post_deposit(
                    db, account=account.number, amount_minor=1_000_000 * (index + 1),
                    currency="TWD", idempotency_key=f"browser-seed-{index}", actor=actor,
                    now=utcnow(), compliance=AllowAll(), branch_code="TPE01",
                )  # fmt: skip
                numbers.append(account.number)
            first = customers[0]
            enrol(
                db, customer_number=first.customer_number, actor=None, signer=Signer(secret),
                settings=PortalSettings(), now=utcnow(), password=PASSWORD,
            )  # fmt: skip
            return first.customer_number, first.phone, numbers[0], numbers[1]
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require_chromium()
    tmp = Path(tmp_path_factory.mktemp("portal-live"))
    env = server_env(tmp)
    prepare_bank(env)
    number, phone, account, payee = _prepare_customers(
        env["BRANCHDESK_DATABASE_URL"], env["BRANCHDESK_SECRET_KEY"]
    )
    with serving(env) as url:
        yield Live(url, tmp / "notifications.jsonl", number, phone, account, payee)


def test_customer_logs_in_with_the_code_and_transfers(live: Live, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "bd_lang", "value": "en", "url": live.url}])
        page = context.new_page()
        portal_log_in(
            page, live.url, login=live.customer_number, password=PASSWORD,
            notifications=live.notifications, phone=live.phone,
        )  # fmt: skip
        row = page.locator("#accounts tr", has_text=live.account)
        expect(row.locator(".balance")).to_have_text("TWD 10,000.00")

        page.get_by_role("link", name="Transfer").first.click()
        page.get_by_label("From account").select_option(live.account)
        page.get_by_label("To account").fill(live.payee_account)
        page.get_by_label("Amount").fill("123.45")
        page.get_by_label("Memo").fill("browser lunch")
        page.get_by_role("button", name="Send").click()
        expect(page.locator("#result")).to_contain_text("Done: the money has moved.")
        expect(page.locator("#result")).to_contain_text("TWD 123.45")

        page.get_by_role("link", name="My accounts").click()
        expect(
            page.locator("#accounts tr", has_text=live.account).locator(".balance")
        ).to_have_text("TWD 9,876.55")
        page.locator("#accounts tr", has_text=live.account).get_by_role("link").click()
        entry = page.locator("#entries tr", has_text="browser lunch")
        expect(entry).to_contain_text("TWD -123.45")
        expect(entry).to_contain_text("TWD 9,876.55")
        page.screenshot(path=str(tmp_path / "portal.png"), full_page=True)
        browser.close()
