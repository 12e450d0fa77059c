"""JSON API of the loyalty programme: staff (rules, rewards, a customer's points, adjustments)
and the customer's own (``/api/v1/portal/loyalty``, customer bearer token)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.identity.roles import Permission
from branchdesk.loyalty import service
from branchdesk.loyalty.schemas import (
    AdjustmentCreate,
    AdjustmentRead,
    EarningRuleCreate,
    EarningRuleRead,
    EarningRuleUpdate,
    LoyaltySummary,
    RedeemBody,
    RedemptionRead,
    RewardCreate,
    RewardRead,
    RewardUpdate,
)
from branchdesk.portal.deps import ApiCustomer

router = APIRouter(prefix="/api/v1", tags=["loyalty"])
portal_router = APIRouter(prefix="/api/v1/portal/loyalty", tags=["portal (mobile banking)"])


@router.get("/loyalty/rules", response_model=list[EarningRuleRead])
def list_rules(db: DbSession, principal: ApiUser) -> list[EarningRuleRead]:
    """Earning rules (403 without customer.view)."""
    principal.require(Permission.customer_view)
    return service.list_rules(db)


@router.post("/loyalty/rules", response_model=EarningRuleRead, status_code=201)
def create_rule(db: DbSession, principal: ApiUser, body: EarningRuleCreate) -> EarningRuleRead:
    """403 without loyalty.manage; 409 rule_exists."""
    return service.create_rule(db, actor=principal, data=body, now=utcnow())


@router.patch("/loyalty/rules/{code}", response_model=EarningRuleRead)
def update_rule(
    db: DbSession, principal: ApiUser, code: str, body: EarningRuleUpdate
) -> EarningRuleRead:
    """Pause/resume (``is_active``) or end (``valid_to``) a rule; 403 without loyalty.manage."""
    return service.update_rule(db, actor=principal, code=code, data=body, now=utcnow())


@router.get("/loyalty/rewards", response_model=list[RewardRead])
def list_rewards(
    db: DbSession, principal: ApiUser, available: Annotated[bool, Query()] = False
) -> list[RewardRead]:
    """The catalogue (``available``: only what can be redeemed today); 403 without customer.view."""
    principal.require(Permission.customer_view)
    return service.list_rewards(db, today=utcnow().date() if available else None)


@router.post("/loyalty/rewards", response_model=RewardRead, status_code=201)
def create_reward(db: DbSession, principal: ApiUser, body: RewardCreate) -> RewardRead:
    """403 without loyalty.manage; 409 reward_exists."""
    return service.create_reward(db, actor=principal, data=body, now=utcnow())


@router.patch("/loyalty/rewards/{code}", response_model=RewardRead)
def update_reward(db: DbSession, principal: ApiUser, code: str, body: RewardUpdate) -> RewardRead:
    """Restock, pause/resume or end a reward; 403 without loyalty.manage."""
    return service.update_reward(db, actor=principal, code=code, data=body, now=utcnow())


@router.get("/customers/{customer_number}/loyalty", response_model=LoyaltySummary)
def customer_loyalty(db: DbSession, principal: ApiUser, customer_number: str) -> LoyaltySummary:
    """Balance, expiring soon, tier, progress; 404 unknown or outside the caller's branches."""
    return service.customer_summary(
        db, actor=principal, customer_number=customer_number, today=utcnow().date()
    )


@router.post(
    "/customers/{customer_number}/loyalty/adjustments",
    response_model=AdjustmentRead,
    status_code=201,
)
def request_adjustment(
    db: DbSession, principal: ApiUser, customer_number: str, body: AdjustmentCreate
) -> AdjustmentRead:
    """A manual correction waiting for a second user's approval (403 without loyalty.adjust)."""
    return service.request_adjustment(
        db, actor=principal, customer_number=customer_number, data=body, now=utcnow()
    )


@router.get("/loyalty/adjustments", response_model=list[AdjustmentRead])
def list_adjustments(
    db: DbSession,
    principal: ApiUser,
    state: Annotated[str, Query(pattern="^(pending|approved|rejected)$")] = "pending",
) -> list[AdjustmentRead]:
    return service.list_adjustments(db, actor=principal, state=state)


def _decide(
    db: DbSession, principal: ApiUser, adjustment_id: uuid.UUID, approve: bool
) -> AdjustmentRead:
    now = utcnow()
    return service.decide_adjustment(
        db, actor=principal, adjustment_id=adjustment_id, approve=approve, today=now.date(),
        now=now,
    )  # fmt: skip


@router.post("/loyalty/adjustments/{adjustment_id}/approve", response_model=AdjustmentRead)
def approve_adjustment(
    db: DbSession, principal: ApiUser, adjustment_id: uuid.UUID
) -> AdjustmentRead:
    """Apply it: 403 without loyalty.approve or for one's own request; 409 already decided or
    (a deduction) insufficient points, with nothing changed."""
    return _decide(db, principal, adjustment_id, True)


@router.post("/loyalty/adjustments/{adjustment_id}/reject", response_model=AdjustmentRead)
def reject_adjustment(
    db: DbSession, principal: ApiUser, adjustment_id: uuid.UUID
) -> AdjustmentRead:
    return _decide(db, principal, adjustment_id, False)


@portal_router.get("", response_model=LoyaltySummary)
def my_loyalty(db: DbSession, customer: ApiCustomer) -> LoyaltySummary:
    return service.summary(db, customer_id=customer.customer_id, today=utcnow().date())


@portal_router.get("/rewards", response_model=list[RewardRead])
def my_rewards(db: DbSession, customer: ApiCustomer) -> list[RewardRead]:
    return service.list_rewards(db, today=utcnow().date())


@portal_router.post("/redemptions", response_model=RedemptionRead, status_code=201)
def my_redemption(
    db: DbSession, customer: ApiCustomer, body: RedeemBody, response: Response
) -> RedemptionRead:
    """Redeem a reward: 201 new, 200 when the same idempotency key returns the first
    redemption; 409 insufficient_points, out_of_stock, reward_unavailable,
    idempotency_key_reused (nothing changed)."""
    now = utcnow()
    result = service.redeem(
        db, customer_id=customer.customer_id, reward_code=body.reward_code,
        idempotency_key=body.idempotency_key, channel="portal", today=now.date(), now=now,
    )  # fmt: skip
    if result.is_replay:
        response.status_code = 200
    return result
