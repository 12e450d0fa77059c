"""Loyalty over HTTP: the portal page and API, the counter page, the programme page with
maker-checker, the customer 360; refusals are 409 with nothing changed."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.notify import RecordingNotifier
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.loyalty import service
from branchdesk.loyalty.defaults import install_standard_rules, install_starter_rewards
from branchdesk.loyalty.models import Adjustment, EarningRule, PointsEntry, Redemption, Reward
from tests.factories import bearer, make_user
from tests.portal.conftest import api_login, csrf_of, enrol_fast, page_login
from tests.teller.helpers import Desk, fund, login, make_desk


def _desk_with_points(db: Session, signer: Signer) -> Desk:
    """A counter serving a customer whose two deposits (10,000.00 and 5,000.00) earn 15."""
    now = utcnow()
    install_standard_rules(db, now=now)
    install_starter_rewards(db, now=now)
    db.add(Reward(id=new_id(), code="STICKER", name_zh_hant="貼紙", name_zh_hans="贴纸",
                  name_en="Sticker", points_cost=5, stock=3, valid_from=now.date(),
                  valid_to=None, is_active=True, created_at=now))  # fmt: skip
    db.add(Reward(id=new_id(), code="PEN", name_zh_hant="筆", name_zh_hans="笔", name_en="Pen",
                  points_cost=10, stock=3, valid_from=now.date(), valid_to=None, is_active=True,
                  created_at=now))  # fmt: skip
    desk = make_desk(db, signer, locale="en")
    service.earn_from_sources(db, until=now.date(), now=now, customer_ids=[desk.customer.id])
    assert service.balance(db, desk.customer.id) == 15
    return desk


def _counts(db: Session) -> tuple[int, int, int]:
    stock = db.scalar(select(func.sum(Reward.stock)))
    entries = db.scalar(select(func.count()).select_from(PointsEntry))
    redemptions = db.scalar(select(func.count()).select_from(Redemption))
    return int(stock or 0), int(entries or 0), int(redemptions or 0)


def _key(page: str, reward: str) -> str:
    found = re.search(rf'name="key" value="([^"]+-{reward})"', page)
    assert found, reward
    return found.group(1)


def test_portal_page_and_api_redeem_once_and_refuse_without_points(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, db: Session,
    signer: Signer,
) -> None:  # fmt: skip
    desk = _desk_with_points(db, signer)
    desk.customer.phone = "+886912000099"
    enrol_fast(db, desk.customer)
    db.flush()
    page_login(client, notifier, desk.customer.customer_number)
    page = client.get("/my/loyalty")
    assert page.status_code == 200
    assert 'id="loyalty-balance">15<' in page.text
    assert "Pen" in page.text
    before = _counts(db)
    form = {"csrf_token": csrf_of(page.text), "reward_code": "COFFEE",
            "key": _key(page.text, "COFFEE")}  # fmt: skip
    refused = client.post("/my/loyalty/redeem", data=form)
    assert refused.status_code == 409
    assert 'data-code="insufficient_points"' in refused.text
    assert _counts(db) == before
    form |= {"reward_code": "PEN", "key": _key(page.text, "PEN")}
    done = client.post("/my/loyalty/redeem", data=form)
    assert done.status_code == 200
    assert 'id="loyalty-result"' in done.text
    replay = client.post("/my/loyalty/redeem", data=form)  # a double submit
    assert replay.status_code == 200
    after = _counts(db)
    assert after == (before[0] - 1, before[1] + 1, before[2] + 1)
    assert service.balance(db, desk.customer.id) == 5
    headers = api_login(client, notifier, desk.customer.customer_number)
    body = {"reward_code": "PEN", "idempotency_key": "mobile-0001"}
    refused_api = client.post("/api/v1/portal/loyalty/redemptions", json=body, headers=headers)
    assert refused_api.status_code == 409
    assert refused_api.json()["error"] == "insufficient_points"
    bad = client.post("/api/v1/portal/loyalty/redemptions", json={"reward_code": "PEN",
                      "idempotency_key": "x"}, headers=headers)  # fmt: skip
    assert bad.status_code == 422
    assert _counts(db) == after
    summary = client.get("/api/v1/portal/loyalty", headers=headers).json()
    assert (summary["balance"], summary["tier"]) == (5, None)
    body = {"reward_code": "STICKER", "idempotency_key": "mobile-0002"}
    first = client.post("/api/v1/portal/loyalty/redemptions", json=body, headers=headers)
    again = client.post("/api/v1/portal/loyalty/redemptions", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert (again.json()["is_replay"], again.json()["balance_after"]) == (True, 0)
    staff = client.get("/api/v1/portal/loyalty", headers=bearer(signer, desk.teller))
    assert staff.status_code in (401, 403)


def test_counter_redeems_for_the_customer_being_served_only(
    client: TestClient, db: Session, signer: Signer
) -> None:
    desk = _desk_with_points(db, signer)
    page_url = f"/loyalty/counter/{desk.branch.code}/{desk.counter.code}"
    csrf = login(client, signer, desk.teller)
    console = client.get(desk.console)
    assert f'href="{page_url}"' in console.text
    page = client.get(page_url)
    assert page.status_code == 200
    assert desk.customer.customer_number in page.text
    before = _counts(db)
    form = {"csrf_token": csrf, "ticket_id": str(desk.ticket.id), "reward_code": "PEN",
            "key": _key(page.text, "PEN")}  # fmt: skip
    done = client.post(f"{page_url}/redeem", data=form)
    assert done.status_code == 200
    assert 'id="loyalty-result"' in done.text
    redemption = db.execute(select(Redemption)).scalar_one()
    assert (redemption.channel, redemption.user_id, redemption.branch_id) == (
        "counter", desk.teller.id, desk.branch.id,
    )  # fmt: skip
    # another ticket id than the one being served: refused, nothing changed
    after = _counts(db)
    other = client.post(f"{page_url}/redeem", data=form | {"ticket_id": str(desk.customer.id),
                                                            "key": "other-key-1"})  # fmt: skip
    assert other.status_code == 409
    assert 'data-code="no_customer_served"' in other.text
    assert _counts(db) == after == (before[0] - 1, before[1] + 1, before[2] + 1)
    lobby = make_user(db, Role.lobby_manager, (desk.branch,))
    login(client, signer, lobby)
    assert client.get(page_url).status_code == 403


def test_programme_page_adjustment_maker_checker_and_the_360(
    client: TestClient, db: Session, signer: Signer
) -> None:
    desk = _desk_with_points(db, signer)
    other = make_user(db, Role.branch_manager, (desk.branch,))
    csrf = login(client, signer, desk.manager)
    page = client.get("/loyalty")
    assert page.status_code == 200
    assert "deposit" in page.text
    assert "Coffee voucher" in page.text
    number = desk.customer.customer_number
    bad = client.post("/loyalty/adjustments", data={"csrf_token": csrf,
                      "customer_number": number, "points": "0", "reason": "oops"})  # fmt: skip
    assert bad.status_code == 422
    made = client.post("/loyalty/adjustments", data={"csrf_token": csrf,
                       "customer_number": number, "points": "100", "reason": "goodwill"},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    adjustment = db.execute(select(Adjustment)).scalar_one()
    own = client.post(f"/loyalty/adjustments/{adjustment.id}/approve", data={"csrf_token": csrf})
    assert own.status_code == 403
    assert service.balance(db, desk.customer.id) == 15
    csrf = login(client, signer, other)
    approved = client.post(f"/loyalty/adjustments/{adjustment.id}/approve",
                           data={"csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert approved.status_code == 303
    assert service.balance(db, desk.customer.id) == 115
    again = client.post(f"/api/v1/loyalty/adjustments/{adjustment.id}/reject",
                        headers=bearer(signer, other))  # fmt: skip
    assert again.status_code == 409
    page_360 = client.get(f"/customers/{number}/360")
    assert 'id="loyalty-balance">115<' in page_360.text
    api = client.get(f"/api/v1/customers/{number}/loyalty", headers=bearer(signer, desk.teller))
    assert api.json()["balance"] == 115


def test_admin_pauses_a_rule_and_restocks_a_reward(
    client: TestClient, db: Session, signer: Signer
) -> None:
    desk = _desk_with_points(db, signer)
    admin = make_user(db, Role.admin, (desk.branch,))
    headers = bearer(signer, admin)
    bad = client.patch("/api/v1/loyalty/rules/deposit", json={"valid_to": "1999-01-01"},
                       headers=headers)  # fmt: skip
    assert (bad.status_code, bad.json()["error"]) == (422, "rule_violation")
    assert db.scalar(select(EarningRule.valid_to).where(EarningRule.code == "deposit")) is None
    paused = client.patch("/api/v1/loyalty/rules/deposit", json={"is_active": False},
                          headers=headers)  # fmt: skip
    assert paused.json()["is_active"] is False
    now = utcnow()
    # a paused rule earns nothing: a new deposit of the served customer brings no points
    fund(db, desk.teller, desk.current, 900_000, "after-pause")
    assert service.earn_from_sources(db, until=now.date(), now=now) == 0
    restocked = client.patch("/api/v1/loyalty/rewards/PEN", json={"stock": 0}, headers=headers)
    assert restocked.json()["stock"] == 0
    available = client.get("/api/v1/loyalty/rewards?available=true", headers=headers).json()
    assert "PEN" not in {r["code"] for r in available}
    teller = client.patch("/api/v1/loyalty/rewards/PEN", json={"stock": 9},
                          headers=bearer(signer, desk.teller))  # fmt: skip
    assert teller.status_code == 403
    assert db.scalar(select(Reward.stock).where(Reward.code == "PEN")) == 0
