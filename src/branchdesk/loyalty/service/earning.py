"""Earning (rules applied once per source event) and expiry (once per lot)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from branchdesk.core.ids import new_id
from branchdesk.feedback.models import SurveyResponse
from branchdesk.ledger.models import CUSTOMER_TYPES, Account, Entry, Posting
from branchdesk.loyalty import rules
from branchdesk.loyalty.config import Programme
from branchdesk.loyalty.models import (
    EarningRule,
    PointsAllocation,
    PointsEntry,
)
from branchdesk.loyalty.service.ledger import (
    LOT_KINDS,
    InsufficientPoints,
    _chunks,
    _credit_many,
    _day_start,
    _debit,
    _remaining,
)
from branchdesk.queue.models import Ticket


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
