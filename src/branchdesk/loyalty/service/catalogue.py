"""Earning rules and rewards as data, and redemption."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from branchdesk.core import i18n
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loyalty.models import (
    EarningRule,
    Redemption,
    Reward,
)
from branchdesk.loyalty.schemas import (
    EarningRuleCreate,
    EarningRuleRead,
    EarningRuleUpdate,
    RedemptionRead,
    RewardCreate,
    RewardRead,
    RewardUpdate,
)
from branchdesk.loyalty.service.ledger import (
    IdempotencyKeyReused,
    OutOfStock,
    RewardUnavailable,
    _consume,
    balance,
)

# --- rules and rewards --------------------------------------------------------------------------


def _rule_read(rule: EarningRule) -> EarningRuleRead:
    return EarningRuleRead(
        id=rule.id,
        code=rule.code,
        source=rule.source,
        posting_kind=rule.posting_kind,
        product=rule.product,
        campaign=rule.campaign,
        unit_minor=rule.unit_minor,
        points=rule.points,
        multiplier_bp=rule.multiplier_bp,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
        is_active=rule.is_active,
    )


def list_rules(db: Session) -> list[EarningRuleRead]:
    rows = db.execute(select(EarningRule).order_by(EarningRule.code)).scalars()
    return [_rule_read(r) for r in rows]


def create_rule(
    db: Session, *, actor: Principal, data: EarningRuleCreate, now: datetime
) -> EarningRuleRead:
    """Raises Forbidden (no loyalty.manage) or Conflict (code taken)."""
    actor.require(Permission.loyalty_manage)
    if db.scalar(select(EarningRule.id).where(EarningRule.code == data.code)):
        raise Conflict(f"rule {data.code} exists", field="code", code="rule_exists")
    rule = EarningRule(id=new_id(), is_active=True, created_at=now, **data.model_dump())
    db.add(rule)
    db.flush()
    append_audit(
        db,
        action="loyalty.rule_create",
        object_type="loyalty_earning_rule",
        object_id=rule.id,
        actor=actor,
        now=now,
        detail=data.model_dump(mode="json"),
    )
    return _rule_read(rule)


def _changes(
    target: object, data: EarningRuleUpdate | RewardUpdate, starts: date
) -> dict[str, object]:
    values = data.model_dump(exclude_unset=True)
    if values.get("valid_to") is not None and values["valid_to"] < starts:
        raise RuleViolation("valid_to must not be before valid_from", field="valid_to")
    for key, value in values.items():
        if value is None and key != "valid_to":
            raise RuleViolation(f"{key} may not be null", field=key)
    for key, value in values.items():  # only once everything is valid: no partial change
        setattr(target, key, value)
    return values


def update_rule(
    db: Session, *, actor: Principal, code: str, data: EarningRuleUpdate, now: datetime
) -> EarningRuleRead:
    """Raises Forbidden (no loyalty.manage), NotFound or RuleViolation (dates)."""
    actor.require(Permission.loyalty_manage)
    rule = db.execute(select(EarningRule).where(EarningRule.code == code)).scalar_one_or_none()
    if rule is None:
        raise NotFound(f"no rule {code}")
    values = _changes(rule, data, rule.valid_from)
    db.flush()
    append_audit(db, action="loyalty.rule_update", object_type="loyalty_earning_rule",
                 object_id=rule.id, actor=actor, now=now,
                 detail={k: str(v) for k, v in values.items()})  # fmt: skip
    return _rule_read(rule)


def update_reward(
    db: Session, *, actor: Principal, code: str, data: RewardUpdate, now: datetime
) -> RewardRead:
    """Raises Forbidden (no loyalty.manage), NotFound or RuleViolation (dates)."""
    actor.require(Permission.loyalty_manage)
    reward = db.execute(select(Reward).where(Reward.code == code)).scalar_one_or_none()
    if reward is None:
        raise NotFound(f"no reward {code}")
    values = _changes(reward, data, reward.valid_from)
    db.flush()
    append_audit(db, action="loyalty.reward_update", object_type="loyalty_reward",
                 object_id=reward.id, actor=actor, now=now,
                 detail={k: str(v) for k, v in values.items()})  # fmt: skip
    return _reward_read(reward)


def _reward_read(reward: Reward) -> RewardRead:
    return RewardRead(
        id=reward.id,
        code=reward.code,
        name_zh_hant=reward.name_zh_hant,
        name_zh_hans=reward.name_zh_hans,
        name_en=reward.name_en,
        points_cost=reward.points_cost,
        stock=reward.stock,
        valid_from=reward.valid_from,
        valid_to=reward.valid_to,
        is_active=reward.is_active,
        name=i18n.localized(reward.name_zh_hant, reward.name_zh_hans, reward.name_en),
    )


def list_rewards(db: Session, *, today: date | None = None) -> list[RewardRead]:
    """All rewards, or (with ``today``) those that can be redeemed that day."""
    stmt = select(Reward).order_by(Reward.points_cost, Reward.code)
    if today is not None:
        stmt = stmt.where(
            Reward.is_active,
            Reward.stock > 0,
            Reward.valid_from <= today,
            (Reward.valid_to.is_(None)) | (Reward.valid_to >= today),
        )
    return [_reward_read(r) for r in db.execute(stmt).scalars()]


def create_reward(
    db: Session, *, actor: Principal, data: RewardCreate, now: datetime
) -> RewardRead:
    """Raises Forbidden (no loyalty.manage) or Conflict (code taken)."""
    actor.require(Permission.loyalty_manage)
    if db.scalar(select(Reward.id).where(Reward.code == data.code)):
        raise Conflict(f"reward {data.code} exists", field="code", code="reward_exists")
    reward = Reward(id=new_id(), is_active=True, created_at=now, **data.model_dump())
    db.add(reward)
    db.flush()
    append_audit(
        db,
        action="loyalty.reward_create",
        object_type="loyalty_reward",
        object_id=reward.id,
        actor=actor,
        now=now,
        detail=data.model_dump(mode="json"),
    )
    return _reward_read(reward)


# --- redemption ---------------------------------------------------------------------------------


def _redemption_read(
    db: Session, redemption: Redemption, reward: Reward, *, is_replay: bool = False
) -> RedemptionRead:
    return RedemptionRead(
        id=redemption.id,
        reward_code=reward.code,
        reward_name=i18n.localized(reward.name_zh_hant, reward.name_zh_hans, reward.name_en),
        points=redemption.points,
        channel=redemption.channel,
        balance_after=balance(db, redemption.customer_id),
        created_at=redemption.created_at,
        is_replay=is_replay,
    )


def redeem(
    db: Session,
    *,
    customer_id: uuid.UUID,
    reward_code: str,
    idempotency_key: str,
    channel: str,
    today: date,
    now: datetime,
    branch_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> RedemptionRead:
    """Exchange points for one reward. The same key again returns the first redemption.
    Raises NotFound (reward), RewardUnavailable, OutOfStock, InsufficientPoints or
    IdempotencyKeyReused (key used for another customer or reward); a refusal writes nothing."""
    key = f"{channel}:{idempotency_key}"
    reward = db.execute(select(Reward).where(Reward.code == reward_code)).scalar_one_or_none()
    if reward is None:
        raise NotFound(f"no reward {reward_code}", field="reward_code", code="reward_not_found")
    done = db.execute(
        select(Redemption).where(Redemption.idempotency_key == key)
    ).scalar_one_or_none()
    if done is not None:
        if done.customer_id != customer_id or done.reward_id != reward.id:
            raise IdempotencyKeyReused("this key was used for another redemption")
        return _redemption_read(db, done, reward, is_replay=True)
    if (
        not reward.is_active
        or reward.valid_from > today
        or (reward.valid_to is not None and reward.valid_to < today)
    ):
        raise RewardUnavailable("this reward cannot be redeemed today", field="reward_code")
    with db.begin_nested():
        taken = db.execute(
            update(Reward)
            .where(Reward.id == reward.id, Reward.stock >= 1)
            .values(stock=Reward.stock - 1)
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            raise OutOfStock("this reward is out of stock", field="reward_code")
        redemption_id = new_id()
        entry = _consume(
            db,
            customer_id=customer_id,
            kind="redeem",
            points=reward.points_cost,
            source_kind="redemption",
            source_id=redemption_id,
            today=today,
            now=now,
        )
        redemption = Redemption(
            id=redemption_id,
            idempotency_key=key,
            customer_id=customer_id,
            reward_id=reward.id,
            points=reward.points_cost,
            channel=channel,
            branch_id=branch_id,
            user_id=user_id,
            entry_id=entry.id,
            created_at=now,
        )
        db.add(redemption)
        db.flush()
    db.refresh(reward)
    return _redemption_read(db, redemption, reward)
