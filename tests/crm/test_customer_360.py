"""Customer 360: content after a pipeline run (service, API, page, console short form) and
access (customer.view, home-branch scope)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.analytics.pipeline import run_pipeline
from branchdesk.core.errors import Forbidden, NotFound
from branchdesk.core.security import Signer
from branchdesk.crm.service import get_customer_360
from branchdesk.identity.roles import Role
from tests.analytics.bank import AS_OF, Bank, build_bank
from tests.factories import NOW, bearer, browser_session, make_branch, make_user, principal


def _analysed(db: Session, signer: Signer) -> Bank:
    bank = build_bank(db, signer)
    run_pipeline(db, engine_name="duckdb", as_of=AS_OF, now=NOW, branch_ids=[bank.branch.id])
    return bank


def test_360_shows_profile_holdings_segments_loyalty_recommendations(
    db: Session, signer: Signer
) -> None:
    bank = _analysed(db, signer)
    manager = make_user(db, Role.relationship_manager, (bank.branch,))
    rich = get_customer_360(
        db, customer_number=bank.rich.customer_number, actor=principal(db, manager), now=NOW
    )
    assert rich.profile.id_number_masked == bank.rich.id_number_masked
    assert rich.profile.kyc_status == "valid"
    assert sorted((a.type, a.balance_minor) for a in rich.accounts) == [
        ("current", 1_000_000), ("savings", 65_000_000),
    ]  # fmt: skip
    assert [(t.kind, t.amount_minor) for t in rich.transactions] == [
        ("deposit", 1_000_000), ("withdrawal", -5_000_000), ("deposit", 60_000_000),
        ("deposit", 10_000_000),
    ]  # fmt: skip
    assert {s.kind: s.segment for s in rich.segments}["asset_tier"] == "affluent"
    assert [s.kind for s in rich.segments] == ["asset_tier", "rfm", "cluster", "loyalty_tier"]
    assert (rich.loyalty_tier, rich.loyalty_points) == ("gold", 710)
    assert rich.analytics is not None
    assert rich.analytics.assets_minor == 66_000_000
    assert {r.product_code for r in rich.recommendations} == {
        "TIME_DEPOSIT", "CREDIT_CARD", "MONEY_MARKET",
    }  # fmt: skip
    assert all(r.reason for r in rich.recommendations)
    hk = get_customer_360(
        db, customer_number=bank.hk.customer_number, actor=principal(db, manager), now=NOW
    )
    assert [(v.kind, v.channel) for v in hk.visits] == [("ticket", "remote")]
    assert [(s.nps, s.is_detractor) for s in hk.surveys] == [(3, True)]
    assert sorted(t.rule_code for t in hk.care_tasks) == ["detractor", "dormant"]
    assert (hk.loyalty_tier, hk.loyalty_points, hk.recommendations) == ("silver", 112, [])


def test_360_access_is_by_role_and_home_branch(db: Session, signer: Signer) -> None:
    bank = build_bank(db, signer)
    elsewhere = make_user(db, Role.teller, (make_branch(db),))
    quality = make_user(db, Role.quality_officer, (bank.branch,))
    number = bank.rich.customer_number
    with pytest.raises(NotFound):
        get_customer_360(db, customer_number=number, actor=principal(db, elsewhere), now=NOW)
    with pytest.raises(Forbidden):
        get_customer_360(db, customer_number=number, actor=principal(db, quality), now=NOW)


def test_360_api_page_and_console_short_form(
    client: TestClient, db: Session, signer: Signer
) -> None:
    bank = _analysed(db, signer)
    teller = make_user(db, Role.teller, (bank.branch,))
    number = bank.rich.customer_number
    response = client.get(f"/api/v1/customers/{number}/360", headers=bearer(signer, teller))
    assert response.status_code == 200
    body = response.json()
    assert body["profile"]["customer_number"] == number
    assert body["loyalty_points"] == 710
    assert [r["rank"] for r in body["recommendations"]] == [1, 2, 3]
    assert "id_number_encrypted" not in response.text
    outsider = make_user(db, Role.teller, (make_branch(db),))
    missing = client.get(f"/api/v1/customers/{number}/360", headers=bearer(signer, outsider))
    assert missing.status_code == 404
    cookie, _csrf = browser_session(signer, teller)
    client.cookies.clear()
    client.cookies.set("bd_session", cookie)
    page = client.get(f"/customers/{number}/360", headers={"Accept-Language": "zh-Hant"})
    assert page.status_code == 200
    assert "客戶全景" in page.text
    assert "富裕客戶" in page.text
    assert "金卡" in page.text
    assert "710" in page.text
    assert "MONEY_MARKET" in page.text
    short = client.get(f"/customers/{number}/360?view=short", headers={"Accept-Language": "en"})
    assert short.status_code == 200
    assert "Open the customer 360" in short.text
    assert "TIME_DEPOSIT" in short.text
    client.cookies.clear()
