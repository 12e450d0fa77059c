"""Loyalty routes in the role matrix: reading rules, rewards and a customer's points (customer
viewers), the catalogue and rules (admin), adjustments (supervisors and relationship managers
request, supervisors decide), redemption at the counter (counter staff). The portal's routes
(/my/loyalty, /api/v1/portal/loyalty) are the customer's own (tests/loyalty/test_web.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.loyalty.models import (
    Adjustment,
    EarningRule,
    PointsAccount,
    PointsEntry,
    Reward,
)
from tests.factories import NOW, make_counter, make_ticket
from tests.matrix import ADMIN, CUSTOMER_VIEWERS, SERVERS, SUPERVISORS, Case, WorldContext

ADJUSTERS = SUPERVISORS | {Role.relationship_manager}
_RULE = {
    "code": "matrix-rule",
    "source": "posting",
    "posting_kind": "deposit",
    "unit_minor": 100,
    "points": 1,
    "valid_from": "2026-01-01",
}
_REWARD = {
    "code": "MATRIX-NEW",
    "name_zh_hant": "獎",
    "name_zh_hans": "奖",
    "name_en": "Prize",
    "points_cost": 5,
    "stock": 1,
    "valid_from": "2026-01-01",
}

CASES = [
    Case("GET", "/api/v1/loyalty/rules", CUSTOMER_VIEWERS),
    Case("POST", "/api/v1/loyalty/rules", ADMIN, json=_RULE),
    Case("PATCH", "/api/v1/loyalty/rules/matrix-paused", ADMIN, json={"is_active": False}),
    Case("GET", "/api/v1/loyalty/rewards", CUSTOMER_VIEWERS),
    Case("PATCH", "/api/v1/loyalty/rewards/MATRIX", ADMIN, json={"stock": 7}),
    Case("POST", "/api/v1/loyalty/rewards", ADMIN, json=_REWARD),
    Case("GET", "/api/v1/customers/{customer}/loyalty", CUSTOMER_VIEWERS),
    Case("POST", "/api/v1/customers/{customer}/loyalty/adjustments", ADJUSTERS, json={"points": 5, "reason": "matrix"}),
    Case("GET", "/api/v1/loyalty/adjustments", ADJUSTERS),
    Case("POST", "/api/v1/loyalty/adjustments/{loyalty_adjustment}/approve", SUPERVISORS),
    Case("POST", "/api/v1/loyalty/adjustments/{loyalty_adjustment}/reject", SUPERVISORS),
    Case("GET", "/loyalty", ADJUSTERS, html=True),
    Case("POST", "/loyalty/adjustments", ADJUSTERS, html=True, form={"customer_number": "{customer}", "points": "5", "reason": "matrix"}),
    Case("POST", "/loyalty/adjustments/{loyalty_adjustment}/approve", SUPERVISORS, html=True, form={}),
    Case("GET", "/loyalty/counter/HOME/K4", SERVERS, html=True),
    Case("POST", "/loyalty/counter/HOME/K4/redeem", SERVERS, html=True, form={"ticket_id": "{loyalty_ticket}", "reward_code": "MATRIX", "key": "matrix-redeem-1"}),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    """A reward, 100 points for the world's customer, their ticket being served at counter K4,
    and an adjustment the colleague requested."""
    now = utcnow()
    db.add(Reward(id=new_id(), code="MATRIX", name_zh_hant="獎", name_zh_hans="奖",
                  name_en="Prize", points_cost=10, stock=5, valid_from=date(2020, 1, 1),
                  valid_to=None, is_active=True, created_at=now))  # fmt: skip
    db.add(EarningRule(id=new_id(), code="matrix-paused", source="survey", posting_kind=None,
                       product=None, campaign=None, unit_minor=0, points=1, multiplier_bp=10_000,
                       valid_from=date(2020, 1, 1), valid_to=None, is_active=True,
                       created_at=now))  # fmt: skip
    db.add(PointsAccount(id=new_id(), customer_id=ctx.customer.id, balance=100, window_points=0,
                         updated_at=now))  # fmt: skip
    db.add(PointsEntry(id=new_id(), customer_id=ctx.customer.id, kind="earn", points=100,
                       source_kind="matrix", source_id=new_id(), rule_code="matrix",
                       earned_on=now.date(), expires_on=date(2099, 1, 1), created_at=now))  # fmt: skip
    adjustment = Adjustment(id=new_id(), customer_id=ctx.customer.id, points=5, reason="matrix",
                            state="pending", requested_by=ctx.colleague.id, requested_at=now)  # fmt: skip
    db.add(adjustment)
    counter = make_counter(db, ctx.home, ctx.service, code="K4", status="open")
    ticket = make_ticket(
        db, ctx.home, ctx.service, business_on=business_day(ctx.home, now), state="serving",
        counter_id=counter.id, customer_id=ctx.customer.id, called_at=NOW, started_at=NOW,
    )  # fmt: skip
    db.flush()
    return {"loyalty_adjustment": str(adjustment.id), "loyalty_ticket": str(ticket.id)}
