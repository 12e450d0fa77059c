"""Interest accrual and floating-rate re-pricing, both run by the daily job.

**Accrual.** Each instalment's interest is earned evenly over the days of its period
(``rules.accrued_interest_minor``, Decimal, ``ROUND_HALF_EVEN`` per period), so what has accrued by
a due date is exactly the scheduled interest. Every business day the job recognises, per loan,
the difference between what has accrued by then and what was recognised before (one
``loan_interest_accruals`` row per loan and day, so a second run of the day adds nothing), and
posts the sum per branch and currency to the ledger:

    loan interest receivable (asset, negative balance)   - accrued
    loan interest income                                  + accrued

A repayment's interest then clears the receivable (``servicing.repay``); interest paid before
it accrued goes straight to income and counts as recognised. A schedule lowered by a prepayment
or a lower rate reverses the excess (a negative accrual, never more than the receivable).

Penalty interest accrues the same way (``accrue_penalty``): the days the job adds to a loan's
penalty (``rules.daily_penalty_minor``) are posted per branch and currency to the loan penalty
receivable and penalty income, and a repayment's penalty clears that receivable.

Both postings are of the ledger kind ``accrual`` (never held for approval, no customer leg).

**Re-pricing.** ``reference_rates`` holds each reference rate (``LPR 1Y``) from its effective
date. On the first business day a new rate is effective, products naming it quote the new rate to
new applications, and every active floating-rate loan whose rate differs from reference + margin
takes the new rate: its instalments not yet due are rebuilt on the principal left over the same
dates (``servicing.reschedule_not_due``). No money moves, so no posting; the change is audited
and recorded as a ``loans.repriced`` event.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.models import PostingKind
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.ledger.service.posting import Leg, submit
from branchdesk.loans import rules
from branchdesk.loans.models import (
    Loan,
    LoanInstalment,
    LoanInterestAccrual,
    LoanPenaltyAccrual,
    LoanProduct,
    LoanStatus,
    RateType,
    ReferenceRate,
)
from branchdesk.loans.schemas import ReferenceRateRead
from branchdesk.loans.service.common import loan_account
from branchdesk.loans.service.servicing import instalments_of, reschedule_not_due

# Accrual postings touch only the bank's own loan accounts (no customer, no cash); the ledger does
# not ask the compliance check for kind ``accrual`` anyway.
_INTERNAL = AllowAll()


def accrual_periods(loan: Loan, instalments: Sequence[LoanInstalment]) -> list[rules.AccrualPeriod]:
    periods = []
    starts_on = loan.disbursed_on
    for row in instalments:
        periods.append(rules.AccrualPeriod(starts_on, row.due_on, row.interest_minor))
        starts_on = row.due_on
    return periods


def accrue_interest(db: Session, *, loans: Sequence[Loan], as_of: date, now: datetime) -> int:
    """Recognise each loan's interest up to ``as_of``; one posting per branch and currency.

    Loans already run for a later day are left alone. Returns the net amount recognised."""
    if not loans:
        return 0
    done = set(
        db.execute(
            select(LoanInterestAccrual.loan_id).where(
                LoanInterestAccrual.loan_id.in_([loan.id for loan in loans]),
                LoanInterestAccrual.accrued_on == as_of,
            )
        ).scalars()
    )
    rows: dict[tuple[uuid.UUID, str], list[LoanInterestAccrual]] = defaultdict(list)
    for loan in loans:
        if loan.id in done or loan.last_accrued_on != as_of:
            continue
        target = rules.accrued_interest_minor(
            accrual_periods(loan, instalments_of(db, loan.id)), as_of
        )
        delta = max(target - loan.interest_recognized_minor, -loan.interest_receivable_minor)
        if delta == 0:
            continue
        loan.interest_recognized_minor += delta
        loan.interest_receivable_minor += delta
        loan.updated_at = now
        row = LoanInterestAccrual(
            loan_id=loan.id, accrued_on=as_of, amount_minor=delta,
            accrued_to_date_minor=loan.interest_recognized_minor, posting_id=None,
        )  # fmt: skip
        db.add(row)
        rows[(loan.branch_id, loan.currency)].append(row)
    db.flush()
    return post_accruals(
        db, rows, receivable_kind="loan_interest_receivable", income_kind="loan_interest_income",
        what="interest", as_of=as_of, now=now,
    )  # fmt: skip


def accrue_penalty(
    db: Session, *, accrued: Sequence[tuple[Loan, Sequence[LoanPenaltyAccrual]]], as_of: date,
    now: datetime,
) -> int:  # fmt: skip
    """Recognise the penalty days the daily job has just accrued (``servicing.run_daily``, one
    ``loan_penalty_accruals`` row per loan and day): the loan's penalty receivable grows by them
    and one posting per branch and currency carries the run's sum. Returns the amount."""
    rows: dict[tuple[uuid.UUID, str], list[LoanPenaltyAccrual]] = defaultdict(list)
    for loan, days in accrued:
        amount = sum(r.amount_minor for r in days)
        if amount == 0:
            continue
        loan.penalty_receivable_minor += amount
        rows[(loan.branch_id, loan.currency)].extend(days)
    db.flush()
    return post_accruals(
        db, rows, receivable_kind="loan_penalty_receivable", income_kind="loan_penalty_income",
        what="penalty", as_of=as_of, now=now,
    )  # fmt: skip


def post_accruals(
    db: Session,
    rows: Mapping[tuple[uuid.UUID, str], Sequence[LoanInterestAccrual | LoanPenaltyAccrual]],
    *,
    receivable_kind: str,
    income_kind: str,
    what: str,
    as_of: date,
    now: datetime,
) -> int:
    """One ``accrual`` posting per branch and currency (receivable − sum, income + sum; a negative
    sum reverses), named on each row. The ledger never holds these: only the bank's own
    receivable and income accounts, no approval limit, no customer compliance check."""
    total = 0
    for (branch_id, currency), accrued in sorted(rows.items(), key=lambda kv: str(kv[0])):
        amount = sum(r.amount_minor for r in accrued)
        total += amount
        if amount == 0:
            continue
        receivable = loan_account(
            db, kind=receivable_kind, branch_id=branch_id, currency=currency, now=now
        )
        income = loan_account(db, kind=income_kind, branch_id=branch_id, currency=currency, now=now)
        body = f"{what}:{branch_id}:{currency}:{as_of}:{sorted(str(r.loan_id) for r in accrued)}"
        result = submit(
            db, kind=PostingKind.accrual,
            key=f"loan-{what}-accrual:{branch_id}:{currency}:{new_id()}",
            request_hash=hashlib.sha256(body.encode()).hexdigest(), branch_id=branch_id,
            legs=[Leg(receivable, -amount), Leg(income, amount)], amount_minor=abs(amount),
            currency=currency, actor=None, now=now, compliance=_INTERNAL,
            memo=f"loan {what} accrual {as_of}",
        )  # fmt: skip
        for r in accrued:
            r.posting_id = result.posting.id
    db.flush()
    return total


# --- reference rates and re-pricing -------------------------------------------------------------


def rate_on(db: Session, name: str, on: date) -> Decimal | None:
    """The reference rate ``name`` effective on ``on`` (None: none recorded yet)."""
    found = db.execute(
        select(ReferenceRate.rate)
        .where(ReferenceRate.name == name, ReferenceRate.effective_on <= on)
        .order_by(ReferenceRate.effective_on.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else Decimal(found)


def set_reference_rate(
    db: Session, *, name: str, rate: Decimal, effective_on: date, actor: Principal,
    now: datetime,
) -> ReferenceRate:  # fmt: skip
    """Record a reference rate from ``effective_on``; products naming it quote it at once when it
    is already effective. Raises Forbidden, RuleViolation (no product uses the name),
    Conflict (a rate for that name and day exists)."""
    actor.require(Permission.loan_product_manage)
    name = name.strip()
    products = list(
        db.execute(
            select(LoanProduct).where(
                LoanProduct.rate_type == RateType.floating,
                LoanProduct.reference_rate_name == name,
            )
        ).scalars()
    )
    if not products:
        raise RuleViolation(f"no floating-rate product uses the reference {name!r}", field="name")
    for product in products:
        if product.margin and Decimal(product.margin) + rate < 0:
            raise RuleViolation(
                f"{product.code}: reference plus margin would be negative", field="rate"
            )
    taken = db.execute(
        select(ReferenceRate.id).where(
            ReferenceRate.name == name, ReferenceRate.effective_on == effective_on
        )
    ).scalar_one_or_none()
    if taken is not None:
        raise Conflict(
            f"{name} already has a rate from {effective_on}", field="effective_on",
            code="reference_rate_exists",
        )  # fmt: skip
    row = ReferenceRate(
        id=new_id(), name=name, effective_on=effective_on, rate=str(rate),
        created_by_id=actor.user_id, created_at=now,
    )  # fmt: skip
    db.add(row)
    db.flush()
    if effective_on <= now.date():
        _quote(db, name=name, on=now.date(), now=now)
    append_audit(
        db, action="loan.reference_rate_set", object_type="reference_rate", object_id=row.id,
        now=now, actor=actor,
        detail={"name": name, "rate": str(rate), "effective_on": effective_on.isoformat()},
    )  # fmt: skip
    return row


def _quote(db: Session, *, name: str, on: date, now: datetime) -> None:
    current = rate_on(db, name, on)
    if current is None:
        return
    for product in db.execute(
        select(LoanProduct).where(
            LoanProduct.rate_type == RateType.floating, LoanProduct.reference_rate_name == name
        )
    ).scalars():
        if Decimal(product.reference_rate) != current:
            product.reference_rate = str(current)
            product.updated_at = now


def list_reference_rates(db: Session, *, actor: Principal) -> list[ReferenceRateRead]:
    """Newest first. Raises Forbidden."""
    actor.require(Permission.loan_view)
    rows = db.execute(
        select(ReferenceRate).order_by(ReferenceRate.name, ReferenceRate.effective_on.desc())
    ).scalars()
    return [
        ReferenceRateRead(name=r.name, effective_on=r.effective_on, rate=Decimal(r.rate))
        for r in rows
    ]


def apply_reference_rates(
    db: Session, *, as_of: date, now: datetime, branch_ids: Collection[uuid.UUID] | None = None
) -> int:
    """Quote the rates effective on ``as_of`` and re-price the floating loans; returns how many
    loans took a new rate."""
    names = set(db.execute(select(ReferenceRate.name).distinct()).scalars())
    if not names:
        return 0
    for name in sorted(names):
        _quote(db, name=name, on=as_of, now=now)
    query = (
        select(Loan)
        .where(Loan.status == LoanStatus.active, Loan.reference_rate_name.in_(sorted(names)))
        .order_by(Loan.id)
        .with_for_update()
    )
    if branch_ids is not None:
        query = query.where(Loan.branch_id.in_(list(branch_ids)))
    repriced = 0
    for loan in db.execute(query).scalars():
        reference = rate_on(db, loan.reference_rate_name, as_of)
        if reference is None:
            continue
        new_rate = reference + Decimal(loan.margin)
        if new_rate == Decimal(loan.annual_rate) or new_rate < 0:
            continue
        old_rate = loan.annual_rate
        loan.annual_rate = str(new_rate)
        loan.updated_at = now
        reschedule_not_due(loan, db, instalments_of(db, loan.id), as_of)
        repriced += 1
        detail = {
            "number": loan.number,
            "from": old_rate,
            "to": loan.annual_rate,
            "reference": loan.reference_rate_name,
            "effective_on": as_of.isoformat(),
        }
        append_audit(
            db, action="loan.repriced", object_type="loan", object_id=loan.id,
            branch_id=loan.branch_id, now=now, actor_label="loans.daily", detail=detail,
        )  # fmt: skip
        record_event(
            db, type="loans.repriced", aggregate_type="loan", aggregate_id=loan.id,
            branch_id=loan.branch_id, now=now, payload=detail,
        )  # fmt: skip
    db.flush()
    return repriced
