"""Issue #4's Done-when journey in headless Chromium, on the seeded demo bank.

A customer takes a ticket at the kiosk; the teller calls and serves it at the console,
identifies the customer, makes a cash deposit and a transfer; a large withdrawal waits for the
branch manager, who approves it on the approvals page while the console shows "Waiting for
approval" and then, without a reload, "Posted"; the teller completes the ticket. The postings are
then checked through the JSON API and the link rows in the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    live_server,
    read_login_code,
    require_chromium,
)

pytestmark = pytest.mark.browser

PASSWORD = "branchdesk-demo"


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The seeded demo served by `branchdesk serve` (waits up to 120 s for a busy machine)."""
    require_chromium()
    folder = Path(tmp_path_factory.mktemp("teller-browser"))
    with live_server(folder) as url:
        yield url, folder / "live.db"


def _demo_customer(database: Path) -> dict[str, Any]:
    """A TPE01 customer with a TWD current account and TWD savings of at least 400,000.00."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT c.customer_number, cur.number, sav.number, cur.balance_minor,"
                    " sav.balance_minor, c.phone FROM customers c"
                    " JOIN accounts cur ON cur.customer_id = c.id AND cur.type = 'current'"
                    "  AND cur.currency = 'TWD'"
                    " JOIN accounts sav ON sav.customer_id = c.id AND sav.type = 'savings'"
                    "  AND sav.currency = 'TWD' AND sav.balance_minor >= 40000000"
                    " JOIN branches b ON b.id = cur.branch_id AND b.code = 'TPE01'"
                    " JOIN portal_logins pl ON pl.customer_id = c.id AND c.phone != ''"
                    " ORDER BY c.customer_number LIMIT 1"
                )
            ).one()
    finally:
        engine.dispose()
    number, current, savings, current_balance, savings_balance, phone = row
    return {
        "phone": phone,
        "number": number,
        "current": current,
        "savings": savings,
        "current_balance": int(current_balance),
        "savings_balance": int(savings_balance),
    }


def _links(database: Path) -> list[tuple[str, str, str, str, str]]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT cp.action, t.number, c.code, u.username FROM counter_postings cp"
                    " JOIN tickets t ON t.id = cp.ticket_id JOIN counters c ON c.id = cp.counter_id"
                    " JOIN users u ON u.id = cp.teller_id ORDER BY cp.reference"
                )
            ).all()
            ids = conn.execute(
                text("SELECT posting_id FROM counter_postings ORDER BY reference")
            ).scalars()
            return [
                (str(action), str(ticket), str(counter), str(teller), str(posting))
                for (action, ticket, counter, teller), posting in zip(rows, ids, strict=True)
            ]
    finally:
        engine.dispose()


def _login(page: Any, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def customer_sees_both_on_the_phone_page(
    browser: Any, base_url: str, folder: Path, who: dict[str, Any]
) -> None:
    """The customer logs in on the phone (password, then the one-time code from the notifier's
    file) and finds the deposit, the transfer and the approved withdrawal in the statements."""
    from playwright.sync_api import expect

    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    phone.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
    page = phone.new_page()
    page.goto(f"{base_url}/my")
    page.get_by_label("Customer number, phone or e-mail").fill(who["number"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("One-time code")
    page.get_by_label("Code").fill(read_login_code(folder / "notifications.jsonl", who["phone"]))
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("My accounts")

    current = who["current_balance"] + 500_000 - 100_000
    savings = who["savings_balance"] + 100_000 - 30_000_000
    for account, balance in ((who["current"], current), (who["savings"], savings)):
        row = page.locator("#accounts tr", has_text=account)
        expect(row.locator(".balance")).to_have_text(f"TWD {balance / 100:,.2f}")

    page.locator("#accounts tr", has_text=who["current"]).get_by_role("link").click()
    entries = page.locator("#entries tbody tr")
    expect(entries.filter(has_text="TWD 5,000.00")).to_have_count(1)
    expect(entries.filter(has_text="TWD -1,000.00")).to_have_count(1)
    page.go_back()
    page.locator("#accounts tr", has_text=who["savings"]).get_by_role("link").click()
    expect(entries.filter(has_text="TWD 1,000.00")).to_have_count(1)
    expect(entries.filter(has_text="TWD -300,000.00")).to_have_count(1)
    page.screenshot(path=str(folder / "customer-phone.png"), full_page=True)
    phone.close()


def test_teller_serves_a_ticket_with_deposit_transfer_and_approved_withdrawal(
    bank: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, database = bank
    who = _demo_customer(database)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        staff = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
        staff.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
        boss = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        boss.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
        hall = browser.new_context(locale="zh-TW", viewport={"width": 420, "height": 860})

        # The teller opens counter C01.
        console = staff.new_page()
        console.goto(f"{base_url}/console/TPE01/C01")
        _login(console, "teller1.tpe")
        expect(console.locator("h1")).to_contain_text("TPE01 · Counter C01")
        console.get_by_role("button", name="Open counter").click()

        # The customer takes a cash ticket at the kiosk.
        kiosk = hall.new_page()
        kiosk.goto(f"{base_url}/kiosk/TPE01")
        kiosk.locator("button", has_text="現金存提").click()
        number = kiosk.locator("#ticket-number").inner_text().strip()
        assert re.fullmatch(r"A-\d{3}", number)

        # Called and served; the teller identifies the customer by customer number.
        expect(console.locator("#waiting-here")).not_to_have_text("0")
        console.get_by_role("button", name="Call next").click()
        expect(console.locator("#current-number")).to_have_text(number)
        console.get_by_role("button", name="Start service").click()
        expect(console.locator("#current-state")).to_have_text("Being served")
        console.get_by_label("Customer number or ID number").fill(who["number"])
        console.get_by_role("button", name="Identify customer").click()
        expect(console.locator("#teller-customer")).to_contain_text(who["number"])
        expect(
            console.locator(f'#teller-accounts tr[data-account="{who["current"]}"]')
        ).to_be_visible()

        # A cash deposit into the current account.
        deposit = console.locator("#form-deposit")
        deposit.locator("select[name=account]").select_option(who["current"])
        deposit.locator("input[name=amount]").fill("5,000")
        deposit.locator("button[type=submit]").click()
        rows = console.locator("#teller-postings tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.nth(0)).to_have_attribute("data-status", "posted")

        # A transfer from the current account to the savings account.
        transfer = console.locator("#form-transfer")
        transfer.locator("select[name=account]").select_option(who["current"])
        transfer.locator("select[name=to_account]").select_option(who["savings"])
        transfer.locator("input[name=amount]").fill("1,000")
        transfer.locator("button[type=submit]").click()
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_have_attribute("data-status", "posted")

        # A large withdrawal (TWD 300,000 > the TPE01 limit of 200,000) waits for approval.
        withdrawal = console.locator("#form-withdrawal")
        withdrawal.locator("select[name=account]").select_option(who["savings"])
        withdrawal.locator("input[name=amount]").fill("300,000")
        withdrawal.locator("button[type=submit]").click()
        expect(rows).to_have_count(3)
        waiting = rows.nth(0)
        expect(waiting).to_have_attribute("data-status", "pending_approval")
        expect(waiting).to_contain_text("Waiting for approval")
        console.evaluate("window.__sameDocument = 'yes'")

        # The branch manager approves it on the approvals page.
        approvals = boss.new_page()
        approvals.goto(f"{base_url}/approvals")
        _login(approvals, "manager.tpe")
        row = approvals.locator("tr", has_text=who["savings"])
        expect(row).to_contain_text("TWD 300,000.00")
        row.get_by_role("button", name="Approve").click()
        expect(approvals.locator("tr", has_text=who["savings"])).to_have_count(0)

        # The console shows it posted without a reload; the teller completes the ticket.
        expect(waiting).to_have_attribute("data-status", "posted", timeout=15_000)
        expect(waiting).to_contain_text("Posted")
        assert console.evaluate("window.__sameDocument === 'yes'")
        console.screenshot(path=str(tmp_path / "teller-console.png"), full_page=True)
        console.get_by_label("Outcome").select_option("done")
        console.get_by_role("button", name="Complete").click()
        expect(console.locator("#console-current")).to_contain_text("No customer at this counter.")

        # The deposit's receipt, in the customer's language, with its QR code.
        links = _links(database)
        receipt = staff.new_page()
        receipt.goto(f"{base_url}/receipts/{links[0][4]}")
        expect(receipt.locator("#receipt-amount")).to_have_text("TWD 5,000.00")
        expect(receipt.locator("#receipt-qr svg")).to_be_visible()
        receipt.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)

        customer_sees_both_on_the_phone_page(browser, base_url, database.parent, who)
        browser.close()

    # The postings through the JSON API (the manager's token) and the links in the database.
    token = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": "manager.tpe", "password": PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert [(a, t, c, u) for a, t, c, u, _id in links] == [
        ("deposit", number, "C01", "teller1.tpe"),
        ("transfer", number, "C01", "teller1.tpe"),
        ("withdrawal", number, "C01", "teller1.tpe"),
    ]
    postings = [
        httpx.get(f"{base_url}/api/v1/postings/{i}", headers=auth).json() for *_r, i in links
    ]
    assert [(p["kind"], p["status"], p["amount_minor"], p["currency"]) for p in postings] == [
        ("deposit", "posted", 500_000, "TWD"),
        ("transfer", "posted", 100_000, "TWD"),
        ("withdrawal", "posted", 30_000_000, "TWD"),
    ]
    assert postings[2]["maker"] == "teller1.tpe"
    assert postings[2]["checker"] == "manager.tpe"
    current = httpx.get(f"{base_url}/api/v1/accounts/{who['current']}", headers=auth).json()
    savings = httpx.get(f"{base_url}/api/v1/accounts/{who['savings']}", headers=auth).json()
    assert current["balance_minor"] == who["current_balance"] + 500_000 - 100_000
    assert savings["balance_minor"] == who["savings_balance"] + 100_000 - 30_000_000
