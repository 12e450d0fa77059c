"""The foundation's journey in a real browser: a branch manager logs in, switches between
Chinese and English, and manages counters and services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, live_server, require_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with live_server(Path(tmp_path_factory.mktemp("live"))) as url:
        yield url


def test_branch_manager_switches_language_and_manages_counters(
    base_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{base_url}/branches/TPE01")
        expect(page.locator("h1")).to_have_text("登入")
        page.get_by_label("使用者名稱").fill("manager.tpe")
        page.get_by_label("密碼").fill("branchdesk-demo")
        page.get_by_role("button", name="登入").click()
        expect(page.locator("h1")).to_contain_text("TPE01 · 台北信義分行")
        expect(page.get_by_role("heading", name="櫃檯")).to_be_visible()

        page.get_by_role("link", name="English").click()
        expect(page.locator("h1")).to_contain_text("TPE01 · Taipei Xinyi Branch")
        expect(page.get_by_role("heading", name="Counters")).to_be_visible()

        page.get_by_text("New counter").click()
        form = page.locator("form[action='/branches/TPE01/counters']")
        form.get_by_label("Code").fill("C07")
        form.get_by_label("Name").fill("Express")
        form.get_by_label("CASH").check()
        form.get_by_role("button", name="Create").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        row = page.locator("#counters tr", has_text="Express")
        expect(row).to_contain_text("CASH")

        row.get_by_label("Status C07").select_option("open")
        row.get_by_role("button", name="Set").click()
        expect(page.locator("#counters tr", has_text="Express").locator("select")).to_have_value(
            "open"
        )

        services = page.locator("#services tr", has_text="FX")
        services.get_by_label("Target wait (min) FX").fill("9")
        services.get_by_role("button", name="Save").click()
        expect(
            page.locator("#services tr", has_text="FX").locator("input[type=number]")
        ).to_have_value("9")

        page.get_by_role("link", name="简体中文").click()
        expect(page.locator("h1")).to_contain_text("台北信义分行")
        expect(page.get_by_role("heading", name="柜台")).to_be_visible()
        page.screenshot(path=str(tmp_path / "branch.png"), full_page=True)
        browser.close()
