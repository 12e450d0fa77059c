"""The queue's Done-when journey in headless Chromium: a ticket taken at the kiosk appears on the
lobby display and the teller console, is called, served and completed, with the estimate shown
throughout. Display, console and the customer's phone page stay open side by side and update
over server-sent events without a reload."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, live_server, require_chromium

pytestmark = pytest.mark.browser

ESTIMATE_EN = re.compile(r"Estimating…|Less than 1 min|About \d+ min")
ESTIMATE_ZH = re.compile(r"估算中…|不到 1 分鐘|約 \d+ 分鐘")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with live_server(Path(tmp_path_factory.mktemp("queue-browser"))) as url:
        yield url


def _mark_and_wait_live(page: Any) -> None:
    """Remember this document (a reload would lose the mark) and wait for the live link."""
    page.evaluate("window.__sameDocument = 'yes'")
    page.wait_for_function("document.body.hasAttribute('data-refreshed')", timeout=10_000)


def _not_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.__sameDocument === 'yes'"))


def test_kiosk_ticket_is_called_served_and_completed_live(base_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        hall = browser.new_context(locale="zh-TW", viewport={"width": 1600, "height": 900})
        staff = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        staff.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
        customer = browser.new_context(locale="en-US", viewport={"width": 420, "height": 860})

        # The teller logs in and opens counter C01.
        console = staff.new_page()
        console.goto(f"{base_url}/console/TPE01/C01")
        console.get_by_label("Username").fill("teller1.tpe")
        console.get_by_label("Password").fill("branchdesk-demo")
        console.get_by_role("button", name="Log in").click()
        expect(console.locator("h1")).to_contain_text("TPE01 · Counter C01")
        console.get_by_role("button", name="Open counter").click()
        expect(console.locator("h1 .pill")).to_have_text("open")
        expect(console.locator("#waiting-here")).to_have_text("0")
        _mark_and_wait_live(console)

        # The lobby display, in Traditional Chinese, beside it.
        display = hall.new_page()
        display.goto(f"{base_url}/display/TPE01")
        expect(display.locator("#display-now")).to_contain_text("歡迎光臨，請至取號機取號。")
        _mark_and_wait_live(display)

        # A customer takes a cash ticket at the kiosk.
        kiosk = customer.new_page()
        kiosk.goto(f"{base_url}/kiosk/TPE01")
        expect(kiosk.locator("h1")).to_have_text("Take a ticket")
        kiosk.get_by_role("button", name=re.compile("Cash deposit and withdrawal")).click()
        number = kiosk.locator("#ticket-number")
        expect(number).to_have_text("A-001")
        expect(kiosk.locator("#ticket-position")).to_have_text("1")
        expect(kiosk.locator("#ticket-estimate")).to_have_text(ESTIMATE_EN)
        kiosk.screenshot(path=str(tmp_path / "kiosk-ticket.png"), full_page=True)

        # The phone page of the same ticket (the link printed on the ticket).
        kiosk.locator("a.phone-link").click()
        expect(kiosk.locator("#ticket-number")).to_have_text("A-001")
        expect(kiosk.locator("#ticket-estimate")).to_have_text(ESTIMATE_EN)
        expect(kiosk.get_by_role("alert")).to_have_text(
            "You are next! Please stay near the counters."
        )
        _mark_and_wait_live(kiosk)

        # Display and console learn of the ticket without a reload, estimate included.
        cash_row = display.locator('#display-waiting tr[data-service="CASH"]')
        expect(cash_row.locator(".count")).to_have_text("1")
        expect(cash_row.locator("td").nth(2)).to_have_text(ESTIMATE_ZH)
        expect(console.locator("#waiting-here")).to_have_text("1")
        console_cash = console.locator('#console-queue tr[data-service="CASH"]')
        expect(console_cash.locator("td").nth(2)).to_have_text(ESTIMATE_EN)
        assert _not_reloaded(display)
        assert _not_reloaded(console)

        # Called: the display shows ticket -> counter and the voice cue text; the phone says go.
        console.get_by_role("button", name="Call next").click()
        expect(console.locator("#current-number")).to_have_text("A-001")
        expect(console.locator("#console-current")).to_contain_text("Count cash in front of")
        expect(display.locator("#now-number")).to_have_text("A-001")
        expect(display.locator("#now-counter")).to_have_text("C01")
        expect(display.locator("#display-now .cue")).to_have_text("請 A-001 號到 C01 號櫃檯。")
        expect(cash_row.locator(".count")).to_have_text("0")
        expect(kiosk.get_by_role("alert")).to_have_text("Please go to counter C01 now.")
        display.screenshot(path=str(tmp_path / "display.png"), full_page=True)

        # Served and completed.
        console.get_by_role("button", name="Start service").click()
        expect(console.locator("#current-state")).to_have_text("Being served")
        # the display stops calling the number once the customer is at the counter
        expect(display.locator("#display-now")).to_contain_text("歡迎光臨，請至取號機取號。")
        expect(display.locator("#display-recent")).to_contain_text("A-001")
        expect(kiosk.locator("#phone-ticket")).to_contain_text(
            "You are being served at counter C01."
        )
        console.get_by_label("Outcome").select_option("done")
        console.get_by_role("button", name="Complete").click()
        expect(console.locator("#console-current")).to_contain_text("No customer at this counter.")
        expect(kiosk.locator("#phone-ticket")).to_contain_text("Thank you for your visit.")
        expect(display.locator("#display-recent")).to_contain_text("A-001")
        expect(display.locator("#now-number")).to_have_count(0)
        assert _not_reloaded(display)
        assert _not_reloaded(kiosk)
        console.screenshot(path=str(tmp_path / "console.png"), full_page=True)
        browser.close()
