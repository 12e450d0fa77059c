"""Course management and the manager's view through the HTML pages: a compliance officer creates
an annual compliance course, assigns it to tellers and grants certifications; the branch page
shows who is overdue, and that an expired certification took FX off the teller's counter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.models import User
from branchdesk.identity.roles import Role
from branchdesk.training.models import Completion, Course, CourseAssignment
from tests.factories import browser_session, make_user
from tests.training.helpers import World, count


def _post(client: TestClient, url: str, csrf: str, **data: str) -> int:
    response = client.post(url, data={**data, "csrf_token": csrf}, follow_redirects=False)
    return response.status_code


def test_course_management_and_the_managers_view(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = World(db)
    officer = db.get(User, world.officer.user_id)
    assert officer is not None
    colleague = make_user(db, Role.teller, (world.branch,))
    cookie, csrf = browser_session(signer, officer)
    client.cookies.set("bd_session", cookie)
    today = datetime.now(UTC).date()

    course = {"code": "aml26", "category": "compliance", "title_zh_hant": "反洗錢",
              "title_zh_hans": "反洗钱", "title_en": "AML refresher", "pass_mark": "70",
              "is_annual": "on"}  # fmt: skip
    assert _post(client, "/training/courses", csrf, **course) == 303
    assert _post(client, "/training/courses", csrf, **course) == 409  # the code exists
    made = db.execute(select(Course).where(Course.code == "AML26")).scalar_one()
    assert (made.category, made.pass_mark, made.is_annual) == ("compliance", 70, True)

    due = (today - timedelta(days=3)).isoformat()
    assert _post(client, "/training/assignments", csrf, course_code="AML26", role="teller",
                 due_on=due) == 303  # fmt: skip
    assert count(db, CourseAssignment) == 1
    assert _post(client, "/training/completions", csrf, course_code="AML26",
                 username=colleague.username, score="85") == 303  # fmt: skip
    # a score out of range names the field; nothing is written
    assert _post(client, "/training/completions", csrf, course_code="AML26",
                 username=colleague.username, score="185") == 422  # fmt: skip
    assert count(db, Completion) == 1

    # the teller at the FX counter held the FX certification, which expired yesterday
    granted = _post(
        client, "/training/staff-certifications", csrf, username=world.teller_user.username,
        certification_code=world.cert_code, issued_on=(today - timedelta(days=400)).isoformat(),
        expires_on=(today - timedelta(days=1)).isoformat(),
    )  # fmt: skip
    assert granted == 303

    page = client.get(f"/training/branches/{world.branch.code}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.text
    assert f'data-user="{world.teller_user.username}" data-status="overdue"' in text
    assert f'data-user="{colleague.username}" data-status="done"' in text
    row = text[text.index(f'data-counter="{world.counter.code}"') :].split("</tr>", 1)[0]
    assert f'<td class="removed">{world.fx.code}</td>' in row
    assert f'<td class="served">{world.cash.code}</td>' in row

    zh = client.get("/training/courses", headers={"Accept-Language": "zh-TW"})
    assert zh.status_code == 200
    assert "課程與證照" in zh.text
    assert "AML refresher" not in zh.text  # the title in the page's language
    assert "反洗錢" in zh.text


def test_a_branch_manager_sees_the_page_but_cannot_create_courses(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = World(db)
    manager = db.get(User, world.manager.user_id)
    assert manager is not None
    cookie, csrf = browser_session(signer, manager)
    client.cookies.set("bd_session", cookie)
    page = client.get("/training/courses")
    assert page.status_code == 200
    assert 'id="form-course"' not in page.text
    assert 'id="form-completion"' in page.text
    refused = _post(client, "/training/courses", csrf, code="X1", category="compliance",
                    title_zh_hant="a", title_zh_hans="a", title_en="a", pass_mark="50")  # fmt: skip
    assert refused == 403
    assert count(db, Course) == 0
