"""Dashboard pages and JSON: figures, drill-down links and who may see which branch."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.models import User
from branchdesk.identity.roles import Role
from tests.factories import bearer, browser_session, make_branch, make_user
from tests.quality.helpers import DAY, build_day

RANGE = {"from": DAY.isoformat(), "to": DAY.isoformat()}


def _login(client: TestClient, signer: Signer, user: User) -> None:
    cookie, _csrf_token = browser_session(signer, user)
    client.cookies.set("bd_session", cookie)


def test_branch_json_has_the_exact_figures(client: TestClient, db: Session, signer: Signer) -> None:
    world = build_day(db)
    officer = make_user(db, Role.quality_officer)  # no branch assignment: bank-wide anyway
    response = client.get(
        "/api/v1/quality/dashboard",
        params={**RANGE, "branch": world.branch.code},
        headers=bearer(signer, officer),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    total = body["total"]
    assert (total["tickets"], total["wait_p50_seconds"], total["wait_p90_seconds"]) == (
        12, 900, 3000,
    )  # fmt: skip
    assert (total["within_target_share"], total["abandoned"], total["no_show"]) == (0.5, 1, 1)
    assert (total["complaints"], total["complaint_rate_per_1000"]) == (3, 250.0)
    assert [b["level"] for b in body["breakdowns"]] == ["teller", "counter", "service"]
    tellers = {r["label"]: r["tickets"] for r in body["breakdowns"][0]["rows"]}
    assert tellers == {"Teller Wang": 9, "—": 3}
    assert [(r["bucket"], r["tickets"]) for r in body["series"]] == [(DAY.isoformat(), 12)]


def test_bank_page_links_down_to_branches(client: TestClient, db: Session, signer: Signer) -> None:
    world = build_day(db)
    admin = make_user(db, Role.admin)
    _login(client, signer, admin)
    page = client.get("/quality", params=RANGE)
    assert page.status_code == 200
    assert f'href="/quality?branch={world.branch.code}&amp;from=' in page.text
    assert 'id="plot-waits"' in page.text
    assert '<script src="/quality/plotly.js?v=' in page.text
    assert 'id="regions-note"' in page.text  # the test branches carry no region
    branch_page = client.get("/quality", params={**RANGE, "branch": world.branch.code})
    assert branch_page.status_code == 200
    assert 'id="breakdown-teller"' in branch_page.text
    assert "Teller Wang" in branch_page.text


def test_branch_manager_of_another_branch_is_refused(
    client: TestClient, db: Session, signer: Signer
) -> None:
    world = build_day(db)
    elsewhere = make_branch(db)
    manager = make_user(db, Role.branch_manager, (elsewhere,))
    params = {**RANGE, "branch": world.branch.code}
    response = client.get(
        "/api/v1/quality/dashboard", params=params, headers=bearer(signer, manager)
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    _login(client, signer, manager)
    assert client.get("/quality", params=params).status_code == 403
    own = client.get("/api/v1/quality/dashboard", params=RANGE, headers=bearer(signer, manager))
    assert own.status_code == 200
    assert own.json()["total"]["tickets"] == 0  # the manager's own branches only


def test_teller_is_refused_and_bad_range_is_422(
    client: TestClient, db: Session, signer: Signer
) -> None:
    teller = make_user(db, Role.teller)
    response = client.get("/api/v1/quality/dashboard", headers=bearer(signer, teller))
    assert response.status_code == 403
    admin = make_user(db, Role.admin)
    bad = client.get(
        "/api/v1/quality/dashboard", params={"from": "2026-03-05", "to": "2026-03-01"},
        headers=bearer(signer, admin),
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"] == "rule_violation"


def test_plotly_js_is_served_locally_with_long_cache(client: TestClient) -> None:
    response = client.get("/quality/plotly.js")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.headers["content-type"].startswith("application/javascript")
    assert "plotly" in response.text[:2000].lower()
