"""Done-when of #5 in headless Chromium on the demo-seeded bank: a product post is drafted by
the quality officer, approved by the Shanghai branch manager (a second person) and published; a
customer's replies arrive through the signed social webhook: praise lands in the interaction log
only, a complaint opens a case linked to the post. The case runs through acknowledge, an
extension approved by the manager (not the requester) and closure, with the final-answer date
shown exactly across a branch holiday added for the test (15, then 30 business days).

The survey rating on the dashboard and the dashboards' charts on the seeded history are the
journeys of tests/feedback/test_browser_survey.py and tests/quality/test_browser_dashboard.py.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from branchdesk.complaints.settings import hook_secret, sign
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, live_server, require_chromium

pytestmark = pytest.mark.browser

SECRET = "live-server-secret"  # tests.browser_support.server_env
PASSWORD = "branchdesk-demo"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _token(base_url: str, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _business_day(start: date, n: int, holidays: set[date]) -> date:
    """The n-th Monday-to-Friday after ``start`` that is not a holiday (written out here on
    purpose: the test does not ask complaints.rules what it is checking)."""
    day = start
    while n:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            n -= 1
    return day


def _hook(base_url: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    signature = sign(body, hook_secret("social_generic", app_secret=SECRET))
    answer = httpx.post(
        f"{base_url}/hooks/social/generic", content=body, timeout=60,
        headers={"content-type": "application/json", "x-branchdesk-signature": f"sha256={signature}"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _login(browser: Any, base_url: str, username: str) -> Any:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "bd_lang", "value": "en", "url": base_url}])
    page = context.new_page()
    page.set_default_timeout(30_000)  # a loaded two-core machine
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/$"))
    return page


def test_social_post_reply_complaint_extension_and_closure_across_a_holiday(
    tmp_path: Path,
) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with live_server(tmp_path) as base_url, sync_playwright() as p:
        manager_api = _token(base_url, "manager.sha")
        today = datetime.now(SHANGHAI).date()
        seeded = httpx.get(f"{base_url}/api/v1/branches/SHA01/holidays", headers=manager_api)
        holidays = {date.fromisoformat(h["on"]) for h in seeded.json()}
        holiday = _business_day(today, 2, holidays)  # a working day inside the SLA window
        added = httpx.post(
            f"{base_url}/api/v1/branches/SHA01/holidays", headers=manager_api,
            json={"on": holiday.isoformat(), "name": "Test holiday"},
        )  # fmt: skip
        assert added.status_code == 201, added.text
        without = _business_day(today, 15, holidays)
        holidays.add(holiday)
        final_15 = _business_day(today, 15, holidays)
        final_30 = _business_day(today, 30, holidays)
        assert final_15 > without  # the holiday moves the deadline

        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # 1. the quality officer drafts a Weibo post for Shanghai and submits it
        quality = _login(browser, base_url, "quality")
        quality.goto(f"{base_url}/social")
        form = quality.locator("#new-post")
        form.locator("select[name=branch_code]").select_option("SHA01")
        form.locator("select[name=channel]").select_option("weibo")
        form.locator("input[name=title]").fill("大额存单 3.1%")
        form.locator("textarea[name=body]").fill("本周大额存单年利率 3.1%，欢迎到陆家嘴支行办理。")
        form.get_by_role("button", name="Save draft").click()
        expect(quality.locator("#post-state")).to_have_text("draft")
        reference = quality.url.rsplit("/", 1)[-1].split("?")[0]
        quality.locator("#submit-post").click()
        expect(quality.locator("#post-state")).to_have_text("waiting for approval")
        assert quality.locator("#approve-post").count() == 0  # never their own

        # 2. the branch manager (a second person) approves and publishes it
        manager = _login(browser, base_url, "manager.sha")
        manager.goto(f"{base_url}/social/posts/{reference}")
        manager.locator("#approve-post").click()
        manager.locator("#publish-post").click()
        expect(manager.locator("#post-state")).to_have_text("published")

        # 3. replies through the signed social webhook: praise is logged, a complaint is a case
        praise = _hook(base_url, {"delivery_id": "wb-1", "sender": {"id": "wb-u1", "name": "小王"},
                                  "text": "谢谢，利率很好！", "in_reply_to": reference})  # fmt: skip
        assert praise == {"accepted": 1, "ignored": 0, "references": []}
        complaint = _hook(base_url, {
            "delivery_id": "wb-2", "sender": {"id": "wb-u2", "name": "小李"},
            "text": f"{reference} 你们的手机银行一直闪退，转账失败，等了一个小时都没人处理，我要投诉！",
        })  # fmt: skip
        [case_reference] = complaint["references"]
        manager.goto(f"{base_url}/social/interactions?post={reference}")
        rows = manager.locator("#interactions tbody tr")
        expect(rows).to_have_count(2)
        expect(manager.locator("#interactions")).to_contain_text(case_reference)

        # 4. the case, its deadline across the holiday, acknowledge and an extension request
        manager.locator(f"#interactions a[href='/complaints/{case_reference}']").click()
        expect(manager.locator("#final-due")).to_have_text(f"{final_15.isoformat()} 23:59")
        handler = _login(browser, base_url, "rm.sha")
        handler.context.add_cookies([{"name": "bd_lang", "value": "zh-Hans", "url": base_url}])
        handler.goto(f"{base_url}/complaints/{case_reference}")
        handler.locator(f"form[action='/complaints/{case_reference}/acknowledge'] button").click()
        expect(handler.locator("#state")).to_have_text("已受理")
        extension = handler.locator(f"form[action='/complaints/{case_reference}/extension']")
        extension.locator("input[name=total_days]").fill("30")
        extension.locator("input[name=reason]").fill("需要调取系统日志")
        extension.locator("button").click()
        expect(handler.locator("#extensions tbody")).to_contain_text("需要调取系统日志")
        assert handler.locator("#extensions form").count() == 0  # the requester cannot approve

        # 5. the manager approves the extension: 30 business days, still across the holiday
        manager.reload()
        manager.locator(
            f"form[action='/complaints/{case_reference}/approve-extension'] button"
        ).click()
        expect(manager.locator("#final-due")).to_have_text(f"{final_30.isoformat()} 23:59")

        # 6. the handler starts, resolves with a root cause and closes the case
        handler.reload()
        handler.locator(f"form[action='/complaints/{case_reference}/start'] button").click()
        resolve = handler.locator(f"form[action='/complaints/{case_reference}/resolve']")
        resolve.locator("input[name=root_cause]").fill("手机银行版本缺陷")
        resolve.locator("input[name=resolution]").fill("已修复并致电客户")
        resolve.locator("button").click()
        handler.locator(f"form[action='/complaints/{case_reference}/close'] button").click()
        expect(handler.locator("#state")).to_have_text("关闭")
        expect(handler.locator("#final-due")).to_have_text(f"{final_30.isoformat()} 23:59")
        handler.screenshot(path=str(tmp_path / "complaint-closed.png"), full_page=True)
        browser.close()
