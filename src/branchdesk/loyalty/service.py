"""The loyalty programme's rules: earning, the points ledger, FIFO consumption, expiry, tiers,
rewards, redemptions and maker-checker adjustments. The only code that writes loyalty tables.

Every change of a balance goes through ``_credit`` / ``_debit`` (one SQL UPDATE each, the debit
guarded by ``balance >= points``), which also locks the customer's account row on PostgreSQL,
so the FIFO allocation that follows sees no concurrent consumer.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from branchdesk.core import i18n
from branchdesk.core.errors import Conflict, Forbidden, NotFound
from branchdesk.core.ids import new_id
from branchdesk.customers import service as customers
from branchdesk.customers.models import Customer
from branchdesk.feedback.models import SurveyResponse
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.models import CUSTOMER_TYPES, Account, Entry, Posting
from branchdesk.loyalty import rules
from branchdesk.loyalty.config import Programme
from branchdesk.loyalty.models import (
    Adjustment,
    EarningRule,
    PointsAccount,
    PointsAllocation,
    PointsEntry,
    Redemption,
    Reward,
)
from branchdesk.loyalty.schemas import (
    AdjustmentCreate,
    AdjustmentRead,
    EarningRuleCreate,
    EarningRuleRead,
    EntryLine,
    LoyaltySummary,
    RedemptionRead,
    RewardCreate,
    RewardRead,
)
from branchdesk.queue.models import Ticket

LOT_KINDS = ("earn", "adjust")
CHUNK = 500


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class OutOfStock(Conflict):
    code = "out_of_stock"


class RewardUnavailable(Conflict):
    code = "reward_unavailable"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class OwnAdjustment(Forbidden):
    code = "own_adjustment"


class AlreadyDecided(Conflict):
    code = "already_decided"


# --- the ledger ---------------------------------------------------------------------------------


def _ensure_account(db: Session, customer_id: uuid.UUID, now: datetime) -> None:
    if db.scalar(select(PointsAccount.id).where(PointsAccount.customer_id == customer_id)):
        return
    try:
        with db.begin_nested():
            db.add(
                PointsAccount(
                    id=new_id(), customer_id=customer_id, balance=0, window_points=0, updated_at=now
                )
            )
    except IntegrityError:  # created by a concurrent transaction meanwhile
        pass


def _credit(db: Session, customer_id: uuid.UUID, points: int, now: datetime) -> None:
    _ensure_account(db, customer_id, now)
    db.execute(
        update(PointsAccount)
        .where(PointsAccount.customer_id == customer_id)
        .values(balance=PointsAccount.balance + points, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _credit_many(db: Session, credits: dict[uuid.UUID, int], now: datetime) -> None:
    """Add points to many balances: new accounts in one insert, existing ones one update each
    (in customer id order, so two runs never lock each other in a cycle)."""
    ids = sorted(credits)
    have: set[uuid.UUID] = set()
    for chunk in _chunks(ids):
        have |= set(
            db.execute(
                select(PointsAccount.customer_id).where(PointsAccount.customer_id.in_(chunk))
            ).scalars()
        )
    for customer_id in ids:
        if customer_id in have:
            _credit(db, customer_id, credits[customer_id], now)
    missing = [c for c in ids if c not in have]
    if missing:
        try:
            with db.begin_nested():
                db.add_all(
                    PointsAccount(
                        id=new_id(),
                        customer_id=c,
                        balance=credits[c],
                        window_points=0,
                        updated_at=now,
                    )
                    for c in missing
                )
                db.flush()
        except IntegrityError:  # another transaction opened some meanwhile: one by one
            for customer_id in missing:
                _credit(db, customer_id, credits[customer_id], now)


def _debit(db: Session, customer_id: uuid.UUID, points: int, now: datetime) -> bool:
    result = db.execute(
        update(PointsAccount)
        .where(PointsAccount.customer_id == customer_id, PointsAccount.balance >= points)
        .values(balance=PointsAccount.balance - points, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


def _remaining() -> object:
    taken = (
        select(func.coalesce(func.sum(PointsAllocation.points), 0))
        .where(PointsAllocation.lot_id == PointsEntry.id)
        .scalar_subquery()
    )
    return (PointsEntry.points - taken).label("remaining")


def _open_lots(db: Session, customer_id: uuid.UUID) -> list[rules.Lot]:
    remaining = _remaining()
    rows = db.execute(
        select(PointsEntry.id, remaining)  # type: ignore[call-overload]  # labelled expression
        .where(
            PointsEntry.customer_id == customer_id,
            PointsEntry.kind.in_(LOT_KINDS),
            PointsEntry.points > 0,
        )
        .order_by(
            PointsEntry.expires_on, PointsEntry.earned_on, PointsEntry.created_at, PointsEntry.id
        )
    ).all()
    return [rules.Lot(id=r[0], remaining=int(r[1])) for r in rows if r[1] > 0]


def _add_lot(
    db: Session,
    *,
    customer_id: uuid.UUID,
    kind: str,
    points: int,
    source_kind: str,
    source_id: uuid.UUID,
    rule_code: str,
    earned_on: date,
    programme: Programme,
    now: datetime,
) -> PointsEntry:
    entry = PointsEntry(
        id=new_id(),
        customer_id=customer_id,
        kind=kind,
        points=points,
        source_kind=source_kind,
        source_id=source_id,
        rule_code=rule_code,
        earned_on=earned_on,
        expires_on=rules.plus_months(earned_on, programme.expiry_months),
        created_at=now,
    )
    db.add(entry)
    _credit(db, customer_id, points, now)
    return entry


def _consume(
    db: Session,
    *,
    customer_id: uuid.UUID,
    kind: str,
    points: int,
    source_kind: str,
    source_id: uuid.UUID,
    today: date,
    now: datetime,
) -> PointsEntry:
    """Take ``points`` oldest lot first. Raises InsufficientPoints (nothing written)."""
    if not _debit(db, customer_id, points, now):
        raise InsufficientPoints(f"not enough points for {points}", field="points")
    db.flush()
    taken = rules.allocate_fifo(_open_lots(db, customer_id), points)
    entry = PointsEntry(
        id=new_id(),
        customer_id=customer_id,
        kind=kind,
        points=-points,
        source_kind=source_kind,
        source_id=source_id,
        rule_code="",
        earned_on=today,
        expires_on=None,
        created_at=now,
    )
    db.add(entry)
    db.flush()
    db.add_all(
        PointsAllocation(id=new_id(), entry_id=entry.id, lot_id=lot_id, points=n)
        for lot_id, n in taken
    )
    return entry


def balance(db: Session, customer_id: uuid.UUID) -> int:
    value = db.scalar(select(PointsAccount.balance).where(PointsAccount.customer_id == customer_id))
    return int(value or 0)


# --- earning ------------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _chunks(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _rule_events(
    db: Session,
    rule: EarningRule,
    *,
    until: date,
    since: date | None,
    customer_ids: list[uuid.UUID] | None,
) -> list[tuple[uuid.UUID, uuid.UUID, int, str, date]]:
    """(source id, customer id, amount minor, currency, day) of the rule's unearned events."""
    last = min(until, rule.valid_to) if rule.valid_to else until
    first = max(rule.valid_from, since) if since else rule.valid_from
    start, end = _day_start(first), _day_start(last + timedelta(days=1))
    source_kind = "ledger_entry" if rule.source == "posting" else "survey"
    scopes: list[list[uuid.UUID] | None] = [None]
    if customer_ids is not None:
        scopes = list(_chunks(customer_ids))
    found: list[tuple[uuid.UUID, uuid.UUID, int, str, date]] = []
    for scope in scopes:
        if rule.source == "posting":
            earned = exists().where(
                PointsEntry.source_kind == source_kind,
                PointsEntry.source_id == Entry.id,
                PointsEntry.rule_code == rule.code,
            )
            stmt = (
                select(
                    Entry.id,
                    Account.customer_id,
                    Entry.amount_minor,
                    Entry.currency,
                    Entry.booked_at,
                )
                .join(Posting, Posting.id == Entry.posting_id)
                .join(Account, Account.id == Entry.account_id)
                .where(
                    Account.customer_id.is_not(None),
                    Account.type.in_([str(t) for t in CUSTOMER_TYPES]),
                    Entry.booked_at >= start,
                    Entry.booked_at < end,
                    ~earned,
                )
            )
            if rule.posting_kind:
                stmt = stmt.where(Posting.kind == rule.posting_kind)
            if rule.product:
                stmt = stmt.where(Account.type == rule.product)
            if scope is not None:
                stmt = stmt.where(Account.customer_id.in_(scope))
            found += [(r[0], r[1], r[2], r[3], r[4].date()) for r in db.execute(stmt) if r[1]]
        else:
            earned = exists().where(
                PointsEntry.source_kind == source_kind,
                PointsEntry.source_id == SurveyResponse.id,
                PointsEntry.rule_code == rule.code,
            )
            surveys = (
                select(SurveyResponse.id, Ticket.customer_id, SurveyResponse.answered_at)
                .join(Ticket, Ticket.id == SurveyResponse.ticket_id)
                .where(
                    Ticket.customer_id.is_not(None),
                    SurveyResponse.answered_at >= start,
                    SurveyResponse.answered_at < end,
                    ~earned,
                )
            )
            if scope is not None:
                surveys = surveys.where(Ticket.customer_id.in_(scope))
            found += [(r[0], r[1], 0, "", r[2].date()) for r in db.execute(surveys) if r[1]]
    return found


def earn_from_sources(
    db: Session,
    *,
    until: date,
    now: datetime,
    programme: Programme | None = None,
    customer_ids: Collection[uuid.UUID] | None = None,
    since: date | None = None,
) -> int:
    """Apply every active rule to the ledger postings and surveys up to ``until`` (and from
    ``since``, when given) that it has not yet been applied to (once per event and rule);
    returns the entries added."""
    programme = programme or Programme()
    scope = None if customer_ids is None else sorted(customer_ids)
    lots: list[PointsEntry] = []
    credits: dict[uuid.UUID, int] = {}
    active = db.execute(
        select(EarningRule)
        .where(EarningRule.is_active, EarningRule.valid_from <= until)
        .order_by(EarningRule.code)
    ).scalars()
    for rule in list(active):
        terms = rules.RuleTerms(rule.unit_minor, rule.points, rule.multiplier_bp)
        source_kind = "ledger_entry" if rule.source == "posting" else "survey"
        for source_id, customer_id, amount, currency, day in _rule_events(
            db, rule, until=until, since=since, customer_ids=scope
        ):
            base = rules.to_base_minor(amount, currency, programme.fx_ppm) if currency else 0
            points = rules.points_for(terms, base)
            if points <= 0:
                continue
            lots.append(
                PointsEntry(
                    id=new_id(), customer_id=customer_id, kind="earn", points=points,
                    source_kind=source_kind, source_id=source_id, rule_code=rule.code,
                    earned_on=day, expires_on=rules.plus_months(day, programme.expiry_months),
                    created_at=now,
                )
            )  # fmt: skip
            credits[customer_id] = credits.get(customer_id, 0) + points
    db.add_all(lots)
    _credit_many(db, credits, now)
    db.flush()
    return len(lots)


# --- expiry -------------------------------------------------------------------------------------


def expire_due(db: Session, *, today: date, now: datetime) -> int:
    """Expire what is left of every lot whose expiry day has come (once per lot); returns the
    number of expire entries written."""
    remaining = _remaining()
    done = aliased(PointsEntry)
    due = db.execute(
        select(PointsEntry.id, PointsEntry.customer_id, remaining)  # type: ignore[call-overload]  # labelled expression
        .where(
            PointsEntry.kind.in_(LOT_KINDS),
            PointsEntry.points > 0,
            PointsEntry.expires_on <= today,
            ~exists().where(and_(done.source_kind == "lot", done.source_id == PointsEntry.id)),
        )
        .order_by(PointsEntry.customer_id, PointsEntry.expires_on, PointsEntry.id)
    ).all()
    entries: list[PointsEntry] = []
    allocations: list[PointsAllocation] = []
    debits: dict[uuid.UUID, int] = {}
    for lot_id, customer_id, left in due:
        if left <= 0:
            continue
        debits[customer_id] = debits.get(customer_id, 0) + int(left)
        entry = PointsEntry(
            id=new_id(),
            customer_id=customer_id,
            kind="expire",
            points=-int(left),
            source_kind="lot",
            source_id=lot_id,
            rule_code="",
            earned_on=today,
            expires_on=None,
            created_at=now,
        )
        entries.append(entry)
        allocations.append(
            PointsAllocation(id=new_id(), entry_id=entry.id, lot_id=lot_id, points=int(left))
        )
    for customer_id, points in sorted(debits.items()):  # id order: no lock cycles
        if not _debit(db, customer_id, points, now):  # cannot happen: balance >= open lots
            raise InsufficientPoints("points ledger out of balance", field="points")
    db.add_all(entries)
    db.flush()
    db.add_all(allocations)
    db.flush()
    return len(entries)


# --- tiers --------------------------------------------------------------------------------------


def window_points(
    db: Session, customer_ids: list[uuid.UUID], *, today: date, days: int
) -> dict[uuid.UUID, int]:
    """Points earned in the ``days`` up to ``today`` (earn entries only), per customer."""
    since = today - timedelta(days=days)
    totals: dict[uuid.UUID, int] = {}
    for chunk in _chunks(customer_ids):
        for customer_id, points in db.execute(
            select(PointsEntry.customer_id, func.sum(PointsEntry.points))
            .where(
                PointsEntry.customer_id.in_(chunk),
                PointsEntry.kind == "earn",
                PointsEntry.earned_on > since,
                PointsEntry.earned_on <= today,
            )
            .group_by(PointsEntry.customer_id)
        ):
            totals[customer_id] = int(points or 0)
    return totals


def evaluate_tiers(
    db: Session,
    *,
    today: date,
    now: datetime,
    customer_ids: Iterable[uuid.UUID],
    programme: Programme | None = None,
) -> dict[uuid.UUID, str]:
    """The one place that decides tiers: each customer's tier from the points earned in the
    rolling window; a tier with ``queue_priority`` sets the customer's service tier to vip,
    leaving one resets it to standard. Returns customer id -> tier code."""
    programme = programme or Programme()
    ids = sorted(set(customer_ids))
    points = window_points(db, ids, today=today, days=programme.window_days)
    previous: dict[uuid.UUID, PointsAccount] = {}
    for chunk in _chunks(ids):
        for account in db.execute(
            select(PointsAccount).where(PointsAccount.customer_id.in_(chunk))
        ).scalars():
            previous[account.customer_id] = account
    result: dict[uuid.UUID, str] = {}
    promote: list[uuid.UUID] = []
    demote: list[uuid.UUID] = []
    for customer_id in ids:
        tier = rules.tier_for(points.get(customer_id, 0), programme.tiers)
        result[customer_id] = tier.code
        found = previous.get(customer_id)
        if found is not None:
            account = found
        else:
            account = PointsAccount(
                id=new_id(), customer_id=customer_id, balance=0, window_points=0, updated_at=now
            )
            db.add(account)
        before = programme.tier(account.tier)
        if account.tier != tier.code:
            account.tier, account.tier_since = tier.code, today
        account.window_points = points.get(customer_id, 0)
        if tier.queue_priority:
            promote.append(customer_id)
        elif before is not None and before.queue_priority:
            demote.append(customer_id)
    for service_tier, who in (("vip", promote), ("standard", demote)):
        for chunk in _chunks(who):
            db.execute(
                update(Customer)
                .where(Customer.id.in_(chunk), Customer.service_tier != service_tier)
                .values(service_tier=service_tier, updated_at=now)
                .execution_options(synchronize_session="fetch")
            )
    db.flush()
    return result


# --- reading ------------------------------------------------------------------------------------


def summary(
    db: Session, *, customer_id: uuid.UUID, today: date, programme: Programme | None = None
) -> LoyaltySummary:
    """Balance, points expiring soon, tier and progress, the last entries (no errors)."""
    programme = programme or Programme()
    account = db.execute(
        select(PointsAccount).where(PointsAccount.customer_id == customer_id)
    ).scalar_one_or_none()
    by = today + timedelta(days=programme.expiring_soon_days)
    lots = db.execute(
        select(PointsEntry.expires_on, _remaining())  # type: ignore[call-overload]  # labelled expression
        .where(
            PointsEntry.customer_id == customer_id,
            PointsEntry.kind.in_(LOT_KINDS),
            PointsEntry.points > 0,
        )
        .order_by(PointsEntry.expires_on)
    ).all()
    open_lots = [(day, int(left)) for day, left in lots if left > 0]
    soon = sum(left for day, left in open_lots if day is not None and day <= by)
    window = window_points(db, [customer_id], today=today, days=programme.window_days).get(
        customer_id, 0
    )
    tier = programme.tier(account.tier) if account else None
    upcoming, needed = rules.next_tier(window, programme.tiers)
    if upcoming is None:
        progress = 100
    else:
        floor = rules.tier_for(window, programme.tiers).min_points
        span = max(upcoming.min_points - floor, 1)
        progress = max(0, min(100, (window - floor) * 100 // span))
    recent = [
        EntryLine(
            kind=e.kind,
            points=e.points,
            rule_code=e.rule_code,
            earned_on=e.earned_on,
            expires_on=e.expires_on,
        )
        for e in db.execute(
            select(PointsEntry)
            .where(PointsEntry.customer_id == customer_id)
            .order_by(PointsEntry.created_at.desc(), PointsEntry.earned_on.desc())
            .limit(10)
        ).scalars()
    ]
    return LoyaltySummary(
        balance=account.balance if account else 0,
        expiring_soon=soon,
        expiring_by=by,
        next_expiry_on=next((day for day, _left in open_lots if day is not None), None),
        tier=tier.code if tier else None,
        tier_since=account.tier_since if account else None,
        benefits=list(tier.benefits) if tier else [],
        window_points=window,
        next_tier=upcoming.code if upcoming else None,
        points_to_next_tier=needed,
        progress_percent=progress,
        recent=recent,
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


def _redemption_read(db: Session, redemption: Redemption, reward: Reward) -> RedemptionRead:
    return RedemptionRead(
        id=redemption.id,
        reward_code=reward.code,
        reward_name=i18n.localized(reward.name_zh_hant, reward.name_zh_hans, reward.name_en),
        points=redemption.points,
        channel=redemption.channel,
        balance_after=balance(db, redemption.customer_id),
        created_at=redemption.created_at,
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
        return _redemption_read(db, done, reward)
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


# --- adjustments (maker-checker) ----------------------------------------------------------------


def _adjustment_read(db: Session, adjustment: Adjustment) -> AdjustmentRead:
    number = db.scalar(
        select(Customer.customer_number).where(Customer.id == adjustment.customer_id)
    )
    names = dict(
        db.execute(
            select(User.id, User.username).where(
                User.id.in_([u for u in (adjustment.requested_by, adjustment.decided_by) if u])
            )
        ).all()
    )
    return AdjustmentRead(
        id=adjustment.id,
        customer_number=number or "",
        points=adjustment.points,
        reason=adjustment.reason,
        state=adjustment.state,
        requested_by=names.get(adjustment.requested_by, ""),
        requested_at=adjustment.requested_at,
        decided_by=names.get(adjustment.decided_by) if adjustment.decided_by else None,
        decided_at=adjustment.decided_at,
    )


def request_adjustment(
    db: Session, *, actor: Principal, customer_number: str, data: AdjustmentCreate, now: datetime
) -> AdjustmentRead:
    """Raises Forbidden (no loyalty.adjust in the customer's branch) or NotFound."""
    customer = customers.get_customer(db, customer_number=customer_number, actor=actor)
    actor.require(Permission.loyalty_adjust, customer.home_branch_id)
    adjustment = Adjustment(
        id=new_id(),
        customer_id=customer.id,
        points=data.points,
        reason=data.reason,
        state="pending",
        requested_by=actor.user_id,
        requested_at=now,
    )
    db.add(adjustment)
    db.flush()
    append_audit(
        db,
        action="loyalty.adjustment_request",
        object_type="loyalty_adjustment",
        object_id=adjustment.id,
        actor=actor,
        branch_id=customer.home_branch_id,
        now=now,
        detail={"points": data.points},
    )
    return _adjustment_read(db, adjustment)


def list_adjustments(
    db: Session, *, actor: Principal, state: str = "pending"
) -> list[AdjustmentRead]:
    """Adjustments of customers in the actor's branches. Raises Forbidden (no loyalty.adjust)."""
    actor.require(Permission.loyalty_adjust)
    stmt = (
        select(Adjustment)
        .join(Customer, Customer.id == Adjustment.customer_id)
        .where(Adjustment.state == state)
        .order_by(Adjustment.requested_at)
    )
    if not actor.is_bank_wide:
        stmt = stmt.where(Customer.home_branch_id.in_(list(actor.branch_ids)))
    return [_adjustment_read(db, a) for a in db.execute(stmt).scalars()]


def decide_adjustment(
    db: Session,
    *,
    actor: Principal,
    adjustment_id: uuid.UUID,
    approve: bool,
    today: date,
    now: datetime,
    programme: Programme | None = None,
) -> AdjustmentRead:
    """Approve (apply) or reject a pending adjustment. Raises NotFound, Forbidden (no
    loyalty.approve, or the actor's own request: OwnAdjustment), AlreadyDecided, or
    InsufficientPoints (a deduction larger than the balance; nothing changes)."""
    adjustment = db.get(Adjustment, adjustment_id)
    customer = db.get(Customer, adjustment.customer_id) if adjustment else None
    if (
        adjustment is None
        or customer is None
        or (
            customer.home_branch_id is not None
            and not actor.sees_branch(customer.home_branch_id)
            and not actor.is_bank_wide
        )
    ):
        raise NotFound("no such adjustment")
    actor.require(Permission.loyalty_approve, customer.home_branch_id)
    if adjustment.requested_by == actor.user_id:
        raise OwnAdjustment("a second person must approve this adjustment")
    if adjustment.state != "pending":
        raise AlreadyDecided(f"this adjustment is already {adjustment.state}")
    programme = programme or Programme()
    with db.begin_nested():
        if approve:
            if adjustment.points > 0:
                entry = _add_lot(
                    db,
                    customer_id=customer.id,
                    kind="adjust",
                    points=adjustment.points,
                    source_kind="adjustment",
                    source_id=adjustment.id,
                    rule_code="",
                    earned_on=today,
                    programme=programme,
                    now=now,
                )
            else:
                entry = _consume(
                    db,
                    customer_id=customer.id,
                    kind="adjust",
                    points=-adjustment.points,
                    source_kind="adjustment",
                    source_id=adjustment.id,
                    today=today,
                    now=now,
                )
            db.flush()
            adjustment.entry_id = entry.id
        adjustment.state = "approved" if approve else "rejected"
        adjustment.decided_by, adjustment.decided_at = actor.user_id, now
        db.flush()
    append_audit(
        db,
        action=f"loyalty.adjustment_{adjustment.state}",
        object_type="loyalty_adjustment",
        object_id=adjustment.id,
        actor=actor,
        branch_id=customer.home_branch_id,
        now=now,
        detail={"points": adjustment.points},
    )
    return _adjustment_read(db, adjustment)


def customer_summary(
    db: Session, *, actor: Principal, customer_number: str, today: date
) -> LoyaltySummary:
    """Raises Forbidden (no customer.view) or NotFound (unknown or outside the branches)."""
    customer = customers.get_customer(db, customer_number=customer_number, actor=actor)
    return summary(db, customer_id=customer.id, today=today)


def customer_ids_with_accounts(db: Session) -> list[uuid.UUID]:
    return list(db.execute(select(PointsAccount.customer_id)).scalars())
