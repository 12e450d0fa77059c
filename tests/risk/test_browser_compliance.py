"""Issue #8's Done-when journey in headless Chromium, on the seeded demo bank.

At counter C01 of TPE01 the teller takes three cash deposits just under the reporting line into
a customer's savings account (the third is held: structuring) and a large cash deposit into
their current account (posted, reported). The compliance officer finds the large-value report
among the alerts and in the large-value report export, opens the structuring case, reviews it
and closes it with a reason. The officer then records that the teller's FX certification
expired yesterday: the branch's training page shows FX taken off C01, and a foreign-exchange
ticket taken at the kiosk is not called there.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    live_server,
    require_chromium,
)

pytestmark = pytest.mark.browser

PASSWORD = "branchdesk-demo"
# cash entries of at least half the reporting line (CNY 25,000 = TWD 113,637 at 0.22) count in
# the structuring rule's share; the customer with the fewest of them is picked
SIZEABLE_TWD_MINOR = 11_363_700


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The seeded demo served by `branchdesk serve` (waits up to 120 s for a busy machine)."""
    require_chromium()
    folder = Path(tmp_path_factory.mktemp("compliance-browser"))
    with live_server(folder) as url:
        yield url, folder / "live.db"


def _query(database: Path, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def _customer(database: Path) -> tuple[str, str, str]:
    """A TPE01 customer with TWD current and savings accounts and the fewest sizeable cash
    movements (the demo's opening deposits)."""
    (row,) = _query(
        database,
        "SELECT c.customer_number, cur.number, sav.number FROM customers c"
        " JOIN accounts cur ON cur.customer_id = c.id AND cur.type = 'current'"
        "  AND cur.currency = 'TWD'"
        " JOIN accounts sav ON sav.customer_id = c.id AND sav.type = 'savings'"
        "  AND sav.currency = 'TWD'"
        " JOIN branches b ON b.id = cur.branch_id AND b.code = 'TPE01'"
        " ORDER BY (SELECT count(*) FROM ledger_entries e JOIN accounts a ON a.id = e.account_id"
        "  JOIN postings p ON p.id = e.posting_id WHERE a.customer_id = c.id"
        "  AND p.kind IN ('deposit', 'withdrawal') AND abs(e.amount_minor) >= :sizeable),"
        " c.customer_number LIMIT 1",
        sizeable=SIZEABLE_TWD_MINOR,
    )
    return str(row[0]), str(row[1]), str(row[2])


def _login(page: Any, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _deposit(console: Any, account: str, amount: str) -> None:
    form = console.locator("#form-deposit")
    form.locator("select[name=account]").select_option(account)
    form.locator("input[name=amount]").fill(amount)
    form.locator("button[type=submit]").click()


def test_large_cash_report_structuring_case_closed_and_expired_certification(
    bank: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, database = bank
    number, current, savings = _customer(database)
    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        staff = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
        staff.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
        office = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
        office.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
        hall = browser.new_context(locale="zh-TW", viewport={"width": 420, "height": 860})

        # The teller opens C01; the customer takes a cash ticket and is served.
        console = staff.new_page()
        console.goto(f"{base_url}/console/TPE01/C01")
        _login(console, "teller1.tpe")
        console.get_by_role("button", name="Open counter").click()
        kiosk = hall.new_page()
        kiosk.goto(f"{base_url}/kiosk/TPE01")
        kiosk.locator("button", has_text="現金存提").click()
        ticket = kiosk.locator("#ticket-number").inner_text().strip()
        assert re.fullmatch(r"A-\d{3}", ticket)
        expect(console.locator("#waiting-here")).not_to_have_text("0")
        console.get_by_role("button", name="Call next").click()
        expect(console.locator("#current-number")).to_have_text(ticket)
        console.get_by_role("button", name="Start service").click()
        console.get_by_label("Customer number or ID number").fill(number)
        console.get_by_role("button", name="Identify customer").click()
        expect(console.locator("#teller-customer")).to_contain_text(number)

        # Three cash deposits just under the line (CNY 44,000-46,200 each): the third is held.
        rows = console.locator("#teller-postings tbody tr")
        for count, amount in enumerate(("200,000", "205,000", "210,000"), start=1):
            _deposit(console, savings, amount)
            expect(rows).to_have_count(count)
        expect(rows.nth(0)).to_have_attribute("data-status", "pending_review")
        expect(rows.nth(1)).to_have_attribute("data-status", "posted")
        # A large cash deposit (TWD 400,000, over USD 10,000): posted, and reported.
        _deposit(console, current, "400,000")
        expect(rows).to_have_count(4)
        expect(rows.nth(0)).to_have_attribute("data-status", "posted")
        console.get_by_label("Outcome").select_option("done")
        console.get_by_role("button", name="Complete").click()
        expect(console.locator("#console-current")).to_contain_text("No customer at this counter.")

        # The compliance officer sees the large-value report at once (no sweep ran).
        risk = office.new_page()
        risk.goto(f"{base_url}/risk/alerts")
        _login(risk, "compliance")
        report = risk.locator("#alerts tr", has_text=current)
        expect(report).to_have_count(1)
        expect(report).to_contain_text("large-value report")

        # The structuring case: review it, then close it with a reason.
        risk.goto(f"{base_url}/risk/cases")
        risk.locator("#cases tr", has_text=number).get_by_role("link").click()
        expect(risk.locator("main")).to_contain_text("structuring")
        transitions = risk.locator('form[action$="/transitions"]')
        transitions.locator("select[name=to]").select_option("under_review")
        transitions.get_by_role("button").click()
        transitions = risk.locator('form[action$="/transitions"]')
        transitions.locator("select[name=to]").select_option("closed_no_action")
        transitions.locator("input[name=reason]").fill(
            "Cash takings of the customer's shop, invoices seen"
        )
        transitions.get_by_role("button").click()
        expect(risk.locator("main")).to_contain_text(
            "Cash takings of the customer's shop, invoices seen"
        )
        expect(risk.locator('form[action$="/transitions"]')).to_have_count(0)
        risk.screenshot(path=str(tmp_path / "case-closed.png"), full_page=True)

        # The teller's FX certification expired yesterday (branch time).
        today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Taipei")).date()
        risk.goto(f"{base_url}/training/courses")
        form = risk.locator("#form-certification")
        form.locator("input[name=code]").fill("FXCERT")
        form.locator("input[name=name_zh_hant]").fill("外匯業務")
        form.locator("input[name=name_zh_hans]").fill("外汇业务")
        form.locator("input[name=name_en]").fill("Foreign exchange")
        form.locator("select[name=service_code]").select_option("FX")
        form.locator("button[type=submit]").click()
        expect(risk.locator('#certifications tr[data-certification="FXCERT"]')).to_contain_text(
            "FX"
        )
        grant = risk.locator("#form-grant")
        grant.locator("input[name=username]").fill("teller1.tpe")
        grant.locator("select[name=certification_code]").select_option("FXCERT")
        grant.locator("input[name=issued_on]").fill((today - timedelta(days=400)).isoformat())
        grant.locator("input[name=expires_on]").fill((today - timedelta(days=1)).isoformat())
        grant.locator("button[type=submit]").click()
        risk.goto(f"{base_url}/training/branches/TPE01")
        counter = risk.locator('#counters tr[data-counter="C01"]')
        expect(counter.locator(".removed")).to_have_text("FX")
        expect(counter).to_contain_text("teller1.tpe")

        # A foreign-exchange ticket waits: C01 no longer calls it.
        kiosk.goto(f"{base_url}/kiosk/TPE01")
        kiosk.locator("button", has_text="外幣兌換").click()
        fx_ticket = kiosk.locator("#ticket-number").inner_text().strip()
        assert fx_ticket.startswith("F-")
        expect(console.locator("#waiting-total")).not_to_have_text("0")
        console.get_by_role("button", name="Call next").click()
        console.wait_for_load_state("networkidle")
        expect(console.locator("#console-current")).to_contain_text("No customer at this counter.")
        expect(console.locator("#current-number")).to_have_count(0)
        console.screenshot(path=str(tmp_path / "console-no-fx.png"), full_page=True)
        browser.close()
    journey_seconds = time.monotonic() - started

    # The large-value report export lists the large deposit; the case is closed with its reason.
    token = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": "compliance", "password": PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    # the report's days are UTC days (the branch's day differs from 16:00 UTC in Taipei)
    utc_today = datetime.now(UTC).date()
    export = httpx.get(
        f"{base_url}/api/v1/risk/reports/large-value.csv",
        params={"from": (utc_today - timedelta(days=1)).isoformat(), "to": utc_today.isoformat()},
        headers=auth,
    )
    assert export.status_code == 200
    assert any(current in line and "400000.00" in line for line in export.text.splitlines())
    cases = httpx.get(f"{base_url}/api/v1/risk/cases", headers=auth).json()
    (case,) = [c for c in cases if c["customer_number"] == number]
    assert case["status"] == "closed_no_action"
    assert case["closing_reason"] == "Cash takings of the customer's shop, invoices seen"
    waiting = _query(
        database,
        "SELECT t.state FROM tickets t WHERE t.number = :n ORDER BY t.issued_at DESC LIMIT 1",
        n=fx_ticket,
    )
    assert waiting[0][0] == "waiting"
    assert journey_seconds < 60, journey_seconds
