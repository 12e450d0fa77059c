"""Issue #7's Done-when journey in headless Chromium, on the seeded demo bank.

A teller at SHA01 takes an application (a document missing) that is scored with reasons and
referred; the branch manager approves it; the teller pays it out to the customer's account and
takes one repayment; the daily job then runs (``branchdesk loans daily`` with a date 70 days on)
and the loan is overdue; the risk officer finds it on the watch list with its reasons, records a
call, and the portfolio page draws its charts.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import create_engine, text

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    prepare_bank,
    require_chromium,
    server_env,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.browser

PASSWORD = "branchdesk-demo"


def _applicant(database: Path) -> tuple[str, str]:
    """A SHA01 customer aged 30-50 with a valid ID and a CNY current account."""
    engine = create_engine(f"sqlite:///{database}")
    today = datetime.now(UTC).date()
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT c.customer_number, a.number FROM customers c"
                    " JOIN branches b ON b.id = c.home_branch_id AND b.code = 'SHA01'"
                    " JOIN accounts a ON a.customer_id = c.id AND a.type = 'current'"
                    "  AND a.currency = 'CNY' AND a.status = 'active'"
                    " WHERE c.id_expires_on > :soon AND c.birth_on BETWEEN :old AND :young"
                    " ORDER BY c.customer_number LIMIT 1"
                ),
                {
                    "soon": today + timedelta(days=400),
                    "old": today.replace(year=today.year - 50),
                    "young": today.replace(year=today.year - 30),
                },
            ).one()
    finally:
        engine.dispose()
    return str(row[0]), str(row[1])


def _login(browser: Any, base_url: str, username: str, path: str) -> Any:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
    page = context.new_page()
    page.goto(f"{base_url}{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


def test_application_to_watch_list(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    env = server_env(tmp_path)
    prepare_bank(env)
    customer_number, account = _applicant(tmp_path / "live.db")
    port = free_port()
    server = start_server(env, port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            teller = _login(browser, base_url, "teller1.sha", "/loans")
            expect(teller.locator("h1")).to_contain_text("Loans")
            form = teller.locator("#apply form")
            form.locator("input[name=customer_number]").fill(customer_number)
            form.locator("select[name=product_code]").select_option("PERSONAL")
            form.locator("input[name=amount]").fill("30,000.00")
            form.locator("input[name=term_months]").fill("12")
            form.locator("input[name=monthly_income]").fill("25000")
            form.locator("input[name=employment_years]").fill("10")
            form.locator("input[name=residence_years]").fill("4")
            form.locator("select[name=checking_account_status]").select_option(
                "no checking account"
            )
            form.locator("select[name=savings_account]").select_option("1000 or more")
            form.locator("select[name=housing]").select_option("own")
            form.locator("select[name=purpose]").select_option("car (used)")
            form.locator("input[name=documents][value=id_document]").check()  # no income proof
            form.locator("input[name=has_consent]").check()
            form.get_by_role("button").click()
            expect(teller.locator("#assessment h2")).to_contain_text("referred")
            expect(teller.locator("#assessment")).to_contain_text("Required documents are missing")
            assert teller.locator("#assessment li").count() >= 2  # decision and score reasons
            application_url = teller.url

            manager = _login(browser, base_url, "manager.sha", urlparse(application_url).path)
            expect(manager.locator("#decide")).to_be_visible()
            manager.locator("#decide input[name=note]").fill("income proof seen")
            manager.get_by_role("button", name="Approve").click()
            expect(manager.locator("#assessment h2")).to_contain_text("approved")

            teller.reload()
            teller.locator("#disburse input[name=account]").fill(account)
            teller.get_by_role("button", name="Pay out the loan").click()
            expect(teller.locator("h1")).to_contain_text("LN-")
            number = re.search(r"LN-\d{4}-\d{6}", teller.locator("h1").inner_text())
            assert number is not None
            loan_number = number.group(0)
            expect(teller.locator("#summary")).to_contain_text("active")
            teller.locator("#repay input[name=amount]").fill("1,000.00")
            teller.get_by_role("button", name="Repay from the loan account").click()
            expect(teller.locator("#repayments tbody tr")).to_have_count(1)
            expect(teller.locator("#repayments")).to_contain_text("1,000.00")

            later = (datetime.now(UTC) + timedelta(days=70)).date().isoformat()
            ran = subprocess.run(
                [sys.executable, "-m", "branchdesk", "loans", "daily", "--as-of", later],
                env=env, capture_output=True, text=True, check=False, timeout=60,
            )  # fmt: skip
            assert ran.returncode == 0, ran.stderr
            assert "1 overdue" in ran.stdout
            assert "1 alerts opened" in ran.stdout

            risk = _login(browser, base_url, "risk", "/loans/watch-list")
            row = risk.locator("#alerts tbody tr", has_text=loan_number)
            expect(row).to_be_visible()
            expect(row).to_contain_text("Missed payment")
            expect(row).to_contain_text("31-60")
            row.locator("select[name=action]").select_option("call")
            row.locator("input[name=outcome]").fill("promised to pay on Friday")
            row.get_by_role("button", name="Record").click()
            expect(risk.locator("#alerts tbody tr", has_text=loan_number)).to_contain_text(
                "promised to pay on Friday"
            )

            risk.goto(f"{base_url}/loans/portfolio")
            expect(risk.locator("#plot-exposure svg.main-svg").first).to_be_visible(timeout=30_000)
            expect(risk.locator("#warnings")).to_contain_text(loan_number)
            browser.close()
    finally:
        stop_server(server)
