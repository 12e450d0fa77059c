"""The survey link over HTTP (public: the signed token is the permission), the JSON API and the
quality dashboard; the survey link on the phone page and the printed kiosk ticket."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.feedback.models import SurveyResponse
from branchdesk.identity.models import AuditEntry, User
from branchdesk.identity.roles import Role
from branchdesk.queue.models import QueueSettings, Ticket
from tests.factories import NOW, browser_session, make_ticket, make_user
from tests.feedback.helpers import TOKENS, World, completed_ticket, make_world

TEXT = {
    "zh-TW": "您今天的服務體驗如何？",
    "zh-CN": "您今天的服务体验如何？",
    "en-US": "How was your visit today?",
}


@pytest.fixture
def world(db: Session) -> World:
    found = make_world(db, code="SV1", region="East")
    db.add(QueueSettings(branch_id=found.branch.id, enforce_opening_hours=False, updated_at=NOW))
    db.flush()
    return found


def _done(db: Session, world: World, hours_ago: float = 1.0) -> Ticket:
    finished = utcnow() - timedelta(hours=hours_ago)
    ticket: Ticket = completed_ticket(
        db, world, finished_at=finished, business_on=business_day(world.branch, finished)
    )
    return ticket


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _responses(db: Session) -> list[tuple[object, ...]]:
    rows = db.execute(select(SurveyResponse.ticket_id, SurveyResponse.csat, SurveyResponse.nps,
                             SurveyResponse.comment)).all()  # fmt: skip
    return [tuple(r) for r in rows]


def _refusals(db: Session) -> list[tuple[str | None, str]]:
    rows = db.execute(
        select(AuditEntry.object_id, AuditEntry.detail).where(
            AuditEntry.action == "survey.answer", AuditEntry.outcome == "refused"
        )
    ).all()
    return [(object_id, detail["reason"]) for object_id, detail in rows]


@pytest.mark.parametrize("language", list(TEXT))
def test_the_survey_page_speaks_three_languages_and_fits_a_phone(
    client: TestClient, db: Session, world: World, language: str
) -> None:
    ticket = _done(db, world)
    page = client.get(f"/s/{TOKENS.token_for(ticket.id)}", headers={"Accept-Language": language})
    assert page.status_code == 200
    assert TEXT[language] in page.text
    assert ticket.number in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert page.text.count('name="nps"') == 11
    assert page.text.count('name="csat"') == 5
    for other, text in TEXT.items():
        if other != language:
            assert text not in page.text


def test_a_customer_answers_once_without_logging_in(
    client: TestClient, db: Session, world: World
) -> None:
    ticket = _done(db, world)
    path = f"/s/{TOKENS.token_for(ticket.id)}"
    page = client.get(path, headers={"Accept-Language": "zh-TW"})
    csrf = _csrf(page.text)
    sent = client.post(path, data={"csrf_token": csrf, "csat": "4", "nps": "9", "comment": "很快"},
                       headers={"Accept-Language": "zh-TW"})  # fmt: skip
    assert sent.status_code == 200
    assert "感謝您的寶貴意見！" in sent.text
    assert _responses(db) == [(ticket.id, 4, 9, "很快")]
    again = client.post(path, data={"csrf_token": csrf, "csat": "1", "nps": "0"},
                        headers={"Accept-Language": "en"})  # fmt: skip
    assert again.status_code == 409
    assert "You have already rated this visit." in again.text
    assert _responses(db) == [(ticket.id, 4, 9, "很快")]
    assert _refusals(db) == [(str(ticket.id), "survey_already_answered")]
    shown = client.get(path, headers={"Accept-Language": "zh-CN"})
    assert shown.status_code == 200
    assert "您已为本次服务评过分。" in shown.text
    assert 'name="csat"' not in shown.text


def test_an_incomplete_form_is_shown_again_and_nothing_is_stored(
    client: TestClient, db: Session, world: World
) -> None:
    ticket = _done(db, world)
    path = f"/s/{TOKENS.token_for(ticket.id)}"
    csrf = _csrf(client.get(path).text)
    sent = client.post(path, data={"csrf_token": csrf, "csat": "4", "nps": "11"},
                       headers={"Accept-Language": "en"})  # fmt: skip
    assert sent.status_code == 422
    assert "Please choose a number from 0 to 10." in sent.text
    assert 'value="4" required checked' in sent.text
    assert _responses(db) == []
    no_csrf = client.post(path, data={"csat": "4", "nps": "9"})
    assert no_csrf.status_code == 403
    assert _responses(db) == []


def test_forged_expired_and_early_links_are_refused(
    client: TestClient, db: Session, world: World
) -> None:
    ticket = _done(db, world)
    other = _done(db, world)
    head, mac = TOKENS.token_for(ticket.id).split(".")
    forged = f"{TOKENS.token_for(other.id).split('.')[0]}.{mac}"
    assert client.get(f"/s/{forged}").status_code == 404
    assert client.get(f"/s/{head}.{mac[:-1]}").status_code == 404
    csrf = _csrf(client.get(f"/s/{TOKENS.token_for(ticket.id)}").text)
    refused = client.post(f"/s/{forged}", data={"csrf_token": csrf, "csat": "5", "nps": "10"},
                          headers={"Accept-Language": "en"})  # fmt: skip
    assert refused.status_code == 404
    assert "This survey link is not valid." in refused.text
    old = _done(db, world, hours_ago=24 * 8)  # the default validity is 7 days
    old_path = f"/s/{TOKENS.token_for(old.id)}"
    assert "This survey link has expired." in client.get(old_path).text
    late = client.post(old_path, data={"csrf_token": csrf, "csat": "5", "nps": "10"})
    assert late.status_code == 410
    waiting = make_ticket(db, world.branch, world.service)
    early = client.post(f"/s/{TOKENS.token_for(waiting.id)}",
                        data={"csrf_token": csrf, "csat": "5", "nps": "10"})  # fmt: skip
    assert early.status_code == 409
    assert "The survey opens after your visit." in early.text
    assert _responses(db) == []
    assert _refusals(db) == [
        (None, "invalid_survey_link"),
        (str(old.id), "survey_expired"),
        (str(waiting.id), "survey_not_open"),
    ]


def test_the_public_json_api_answers_once(client: TestClient, db: Session, world: World) -> None:
    ticket = _done(db, world)
    token = TOKENS.token_for(ticket.id)
    status = client.get(f"/api/v1/surveys/{token}")
    assert status.status_code == 200
    assert status.json()["status"] == "open"
    assert status.json()["ticket_number"] == ticket.number
    bad = client.post(f"/api/v1/surveys/{token}", json={"csat": 6, "nps": 9})
    assert bad.status_code == 422
    assert bad.json()["field"] == "csat"
    created = client.post(f"/api/v1/surveys/{token}", json={"csat": 2, "nps": 9, "comment": "slow"})
    assert created.status_code == 201
    assert created.json() == {
        "status": "recorded",
        "ticket_number": ticket.number,
        "business_on": ticket.business_on.isoformat(),
    }
    second = client.post(f"/api/v1/surveys/{token}", json={"csat": 5, "nps": 10})
    assert second.status_code == 409
    assert second.json()["error"] == "survey_already_answered"
    assert _responses(db) == [(ticket.id, 2, 9, "slow")]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(f"/api/v1/surveys/{forged}", json={"csat": 5, "nps": 10}).status_code == 404
    old = _done(db, world, hours_ago=24 * 8)
    expired = client.post(
        f"/api/v1/surveys/{TOKENS.token_for(old.id)}", json={"csat": 5, "nps": 10}
    )
    assert expired.status_code == 410
    assert expired.json()["error"] == "survey_expired"
    assert _responses(db) == [(ticket.id, 2, 9, "slow")]
    assert [reason for _, reason in _refusals(db)] == [
        "survey_already_answered",
        "invalid_survey_link",
        "survey_expired",
    ]


def test_the_phone_page_and_the_printed_ticket_carry_the_survey_link(
    client: TestClient, db: Session, world: World
) -> None:
    ticket = _done(db, world)
    phone = client.get(f"/t/{ticket.public_token}", headers={"Accept-Language": "zh-TW"})
    assert phone.status_code == 200
    assert f'href="/s/{TOKENS.token_for(ticket.id)}"' in phone.text
    assert "為本次服務評分" in phone.text
    waiting = make_ticket(db, world.branch, world.service)
    assert "/s/" not in client.get(f"/t/{waiting.public_token}").text
    kiosk = client.get("/kiosk/SV1")
    printed = client.post("/kiosk/SV1/tickets",
                          data={"csrf_token": _csrf(kiosk.text), "service_code": world.service.code},
                          headers={"Accept-Language": "en"})  # fmt: skip
    assert printed.status_code == 200
    assert "After your visit, scan to rate our service" in printed.text
    assert printed.text.count("<svg") >= 2  # the phone-page QR and the survey QR


def _login(client: TestClient, signer: Signer, user: User) -> None:
    cookie, _csrf_token = browser_session(signer, user)
    client.cookies.set("bd_session", cookie)


def test_the_dashboard_shows_the_figures_with_charts(
    client: TestClient, db: Session, signer: Signer, world: World
) -> None:
    for csat, nps in ((5, 10), (2, 3)):
        ticket = _done(db, world)
        client.post(
            f"/api/v1/surveys/{TOKENS.token_for(ticket.id)}", json={"csat": csat, "nps": nps}
        )
    _done(db, world)  # a visit without an answer
    officer = make_user(db, Role.quality_officer, (world.branch,))
    _login(client, signer, officer)
    page = client.get("/quality/surveys?group_by=teller", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "客戶滿意度調查" in page.text
    assert '<strong id="kpi-responses">2</strong>' in page.text
    assert '<strong id="kpi-completed">3</strong>' in page.text
    assert '<strong id="kpi-rate">66.7%</strong>' in page.text
    assert '<strong id="kpi-csat">3.50</strong>' in page.text
    assert '<strong id="kpi-nps">+0.0</strong>' in page.text
    assert page.text.count('<svg class="chart') == 6
    assert world.teller.display_name in page.text
    api = client.get("/api/v1/feedback/summary", params={"group_by": "region", "branch": "SV1"})
    assert api.status_code == 200
    assert [(r["label"], r["completed"], r["responses"], r["nps"]) for r in api.json()["rows"]] == [
        ("East", 3, 2, 0.0)
    ]
    teller = make_user(db, Role.teller, (world.branch,))
    _login(client, signer, teller)
    assert client.get("/quality/surveys").status_code == 403
    assert client.get("/api/v1/feedback/summary").status_code == 403
    client.cookies.clear()
    assert client.get("/quality/surveys", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/feedback/summary").status_code == 401


def test_the_dashboard_refuses_a_bad_range(
    client: TestClient, db: Session, signer: Signer, world: World
) -> None:
    _login(client, signer, make_user(db, Role.admin))
    bad = client.get("/api/v1/feedback/summary", params={"from": "2026-03-05", "to": "2026-03-01"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "to"
    assert client.get("/quality/surveys?from=yesterday").status_code == 422
    assert client.get("/quality/surveys?group_by=colour").status_code == 422
    assert db.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 0
