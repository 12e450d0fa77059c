"""A customer redeems points in a real browser on the demo bank: log in with the one-time code,
open My rewards, see balance and tier, redeem a coffee voucher, see the balance drop."""

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


@dataclass
class Live:
    url: str
    notifications: Path
    customer_number: str
    phone: str
    balance: int


def _customer_with_points(database_url: str) -> tuple[str, str, int]:
    """A demo customer with a portal login, a phone and at least 100 points."""
    from branchdesk.core.db import Database
    from branchdesk.customers.models import Customer
    from branchdesk.loyalty.models import PointsAccount
    from branchdesk.portal.models import PortalLogin

    database = Database(database_url)
    try:
        with database.unit_of_work() as db:
            row = db.execute(
                select(Customer.customer_number, Customer.phone, PointsAccount.balance)
                .join(PointsAccount, PointsAccount.customer_id == Customer.id)
                .join(PortalLogin, PortalLogin.customer_id == Customer.id)
                .where(PointsAccount.balance >= 100, Customer.phone != "")
                .order_by(Customer.customer_number)
                .limit(1)
            ).one()
            return row[0], row[1], int(row[2])
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require_chromium()
    tmp = Path(tmp_path_factory.mktemp("loyalty-live"))
    env = server_env(tmp)
    prepare_bank(env)
    number, phone, balance = _customer_with_points(env["BRANCHDESK_DATABASE_URL"])
    with serving(env) as url:
        yield Live(url, tmp / "notifications.jsonl", number, phone, balance)


def test_customer_redeems_a_reward_in_the_portal(live: Live, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from branchdesk.portal.seed import DEMO_PORTAL_PASSWORD

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "bd_lang", "value": "en", "url": live.url}])
        page = context.new_page()
        portal_log_in(
            page, live.url, login=live.customer_number, password=DEMO_PORTAL_PASSWORD,
            notifications=live.notifications, phone=live.phone,
        )  # fmt: skip

        page.get_by_role("link", name="My rewards").click()
        expect(page.locator("h1")).to_have_text("My rewards")
        expect(page.locator("#loyalty-balance")).to_have_text(str(live.balance))
        expect(page.locator("#loyalty-tier")).not_to_have_text("-")
        page.locator("#rewards tr[data-reward=COFFEE]").get_by_role("button", name="Redeem").click()
        expect(page.locator("#loyalty-result")).to_contain_text("Coffee voucher")
        expect(page.locator("#loyalty-balance")).to_have_text(str(live.balance - 50))
        page.screenshot(path=str(tmp_path / "loyalty.png"), full_page=True)
        browser.close()
