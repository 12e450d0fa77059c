"""Care in a real browser on the demo bank: a branch manager assigns a relationship manager and
records a risk assessment, the customer 360 shows the manager; the customer reads a fraud warning
in the portal and the staff library counts the read; the kiosk links to the library."""

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


def _portal_customer(database_url: str) -> tuple[str, str]:
    """A demo customer of TPE01 with a portal login and a phone."""
    from branchdesk.catalog.models import Branch
    from branchdesk.core.db import Database
    from branchdesk.customers.models import Customer
    from branchdesk.portal.models import PortalLogin

    database = Database(database_url)
    try:
        with database.unit_of_work() as db:
            row = db.execute(
                select(Customer.customer_number, Customer.phone)
                .join(PortalLogin, PortalLogin.customer_id == Customer.id)
                .join(Branch, Branch.id == Customer.home_branch_id)
                .where(Customer.phone != "", Branch.code == "TPE01")
                .order_by(Customer.customer_number)
                .limit(1)
            ).one()
            return row[0], row[1]
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require_chromium()
    tmp = Path(tmp_path_factory.mktemp("care-live"))
    env = server_env(tmp)
    prepare_bank(env)
    number, phone = _portal_customer(env["BRANCHDESK_DATABASE_URL"])
    with serving(env) as url:
        yield Live(url, tmp / "notifications.jsonl", number, phone)


def test_manager_customer_and_kiosk_journey(live: Live, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from branchdesk.portal.seed import DEMO_PORTAL_PASSWORD

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        staff = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        staff.add_cookies([{"name": "bd_lang", "value": "en", "url": live.url}])
        page = staff.new_page()
        page.goto(f"{live.url}/care/customers/{live.customer_number}")
        page.get_by_label("Username").fill("manager.tpe")
        page.get_by_label("Password").fill("branchdesk-demo")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("h1")).to_contain_text("Customer care")
        page.locator("#manager select[name=username]").select_option("rm.tpe")
        page.locator("#manager").get_by_role("button", name="Save").click()
        expect(page.locator("#manager")).to_contain_text("rm.tpe")
        page.locator("#risk-assessment select[name=risk_tolerance]").select_option("C3")
        page.locator("#risk-assessment").get_by_role("button", name="Record").click()
        expect(page.locator("#risk-assessment p").first).to_contain_text("C3")
        page.get_by_role("link", name="Customer 360").click()
        expect(page.locator("#relationship-manager")).to_contain_text("rm.tpe")

        customer = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        customer.add_cookies([{"name": "bd_lang", "value": "en", "url": live.url}])
        mine = customer.new_page()
        portal_log_in(
            mine, live.url, login=live.customer_number, password=DEMO_PORTAL_PASSWORD,
            notifications=live.notifications, phone=live.phone,
        )  # fmt: skip
        mine.get_by_role("link", name="Learn").click()
        mine.get_by_role("link", name="Beware of calls from fake bank staff").click()
        expect(mine.locator("#article h1")).to_have_text("Beware of calls from fake bank staff")

        page.goto(f"{live.url}/care/education")
        expect(page.locator("#item-fake-bank-calls td").nth(3)).to_have_text("1")

        kiosk = browser.new_context(locale="zh-TW", viewport={"width": 1080, "height": 1920})
        screen = kiosk.new_page()
        screen.goto(f"{live.url}/kiosk/TPE01")
        screen.locator(".kiosk-learn a").click()
        screen.get_by_role("link", name="小心假冒銀行職員來電").click()
        expect(screen.locator("#article h1")).to_have_text("小心假冒銀行職員來電")
        page.goto(f"{live.url}/care/education")
        expect(page.locator("#item-fake-bank-calls td").nth(4)).to_have_text("1")
        page.screenshot(path=str(tmp_path / "care.png"), full_page=True)
        browser.close()
