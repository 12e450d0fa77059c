"""The survey's Done-when journey in headless Chromium, on a demo-seeded bank with a history of
survey answers: a ticket is completed, the customer rates it from the phone page (on a phone-sized
screen, in Traditional Chinese), a second try is refused, and the quality officer's dashboard
shows the new rating with its charts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    prepare_bank,
    require_chromium,
    server_env,
    serving,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    env = server_env(Path(tmp_path_factory.mktemp("survey-browser")))
    prepare_bank(env)
    # the demo seed already answered about 30% of the past visits; the same seed again finds
    # nothing new to answer (answers are deterministic per ticket)
    seeded = subprocess.run(
        [sys.executable, "-m", "branchdesk", "feedback", "seed"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert seeded.stdout == "seeded 0 survey responses\n"
    with serving(env) as url:
        yield url


def _complete_a_ticket(base_url: str) -> str:
    """Issue, call, start and complete a cash ticket through the API; returns its phone page."""
    with httpx.Client(base_url=base_url, timeout=10) as api:
        login = api.post(
            "/api/v1/auth/token", data={"username": "teller1.tpe", "password": "branchdesk-demo"}
        )
        api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        opened = api.post("/api/v1/branches/TPE01/counters/C01/status", json={"status": "open"})
        assert opened.status_code == 200, opened.text
        issued = api.post("/api/v1/branches/TPE01/tickets", json={"service_code": "CASH"})
        assert issued.status_code == 201, issued.text
        ticket_id = issued.json()["id"]
        called = api.post("/api/v1/branches/TPE01/counters/C01/call-next")
        assert called.json()["id"] == ticket_id
        assert api.post(f"/api/v1/tickets/{ticket_id}/start").status_code == 200
        done = api.post(f"/api/v1/tickets/{ticket_id}/complete", json={"outcome_code": "done"})
        assert done.status_code == 200, done.text
        return str(api.get(f"/api/v1/tickets/{ticket_id}").json()["public_url"])


def _kpi(page: object, name: str) -> int:
    return int(page.locator(f"#kpi-{name}").inner_text())  # type: ignore[attr-defined]


def test_a_completed_visit_is_rated_from_the_phone_and_shows_on_the_dashboard(
    base_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    phone_path = _complete_a_ticket(base_url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        staff = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        staff.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
        dashboard = staff.new_page()
        dashboard.goto(f"{base_url}/quality/surveys?group_by=branch")
        dashboard.get_by_label("Username").fill("quality")
        dashboard.get_by_label("Password").fill("branchdesk-demo")
        dashboard.get_by_role("button", name="Log in").click()
        expect(dashboard.locator("h1")).to_have_text("Customer surveys")
        before = (_kpi(dashboard, "responses"), _kpi(dashboard, "detractors"))
        assert before[0] > 0  # the seeded history
        assert dashboard.locator("svg.chart").count() == 6
        assert dashboard.locator("#survey-rows tbody tr").count() >= 2

        customer = browser.new_context(
            locale="zh-TW", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        phone = customer.new_page()
        phone.goto(f"{base_url}{phone_path}")
        expect(phone.locator("#phone-ticket")).to_contain_text("感謝您的光臨")
        phone.locator("#survey-link").click()
        expect(phone.locator("h1")).to_have_text("您今天的服務體驗如何？")
        survey_url = phone.url
        phone.locator("label", has=phone.locator('input[name="csat"][value="2"]')).click()
        phone.locator("label", has=phone.locator('input[name="nps"][value="3"]')).click()
        phone.locator("#comment").fill("等候太久")
        # Nothing overflows a phone-sized screen.
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        phone.screenshot(path=str(tmp_path / "survey-phone.png"), full_page=True)
        phone.get_by_role("button", name="送出評分").click()
        expect(phone.get_by_role("status")).to_have_text("感謝您的寶貴意見！")

        # The same link again: answered once only.
        phone.goto(survey_url)
        expect(phone.get_by_role("alert")).to_have_text("您已為本次服務評過分。")

        dashboard.reload()
        after = (_kpi(dashboard, "responses"), _kpi(dashboard, "detractors"))
        assert after == (before[0] + 1, before[1] + 1)
        dashboard.screenshot(path=str(tmp_path / "survey-dashboard.png"), full_page=True)
        browser.close()
