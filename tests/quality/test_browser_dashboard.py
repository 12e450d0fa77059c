"""Done-when of #5 (dashboards): on the demo-seeded bank with its past days of queue history, the
quality officer's /quality page renders every chart (plotly draws SVG) and drills down to a branch
broken down by teller, counter and service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, live_server, require_chromium

pytestmark = pytest.mark.browser


def test_the_dashboard_renders_charts_on_seeded_history(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with live_server(tmp_path) as base_url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
        page = context.new_page()
        page.goto(f"{base_url}/quality")
        page.get_by_label("Username").fill("quality")
        page.get_by_label("Password").fill("branchdesk-demo")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("h1")).to_contain_text("Service quality")
        assert int(page.locator("#kpi-tickets").inner_text()) > 100  # the seeded history
        plots = page.locator(".plot")
        count = plots.count()
        assert count == 7  # waits, within target, abandonment, CSAT/NPS, complaints, SLA, service
        for n in range(count):
            expect(plots.nth(n).locator("svg.main-svg").first).to_be_visible(timeout=30_000)
        expect(page.locator("#plot-waits .scatterlayer .trace")).to_have_count(2)  # p50, p90
        page.screenshot(path=str(tmp_path / "quality-bank.png"), full_page=True)

        page.locator("#breakdown-branch tbody a").first.click()
        expect(page.locator("#breakdown-teller tbody tr").first).to_be_visible()
        expect(page.locator("h1")).to_contain_text("Service quality: ")
        assert page.locator("#breakdown-service tbody tr").count() >= 2
        expect(page.locator("#plot-waits svg.main-svg").first).to_be_visible(timeout=30_000)
        browser.close()
