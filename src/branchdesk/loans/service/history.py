"""Portfolio history from the daily DPD snapshots: roll rates, vintage curves, exposure.

* ``take_snapshots``: the daily job writes, per active loan and business day, its days past due,
  bucket and principal left (``loan_dpd_snapshots``; a second run of the day overwrites the row,
  so a repayment made during the day shows).
* **Roll rates**: for each pair of consecutive month ends, how many loans in bucket A at the end
  of one month were in bucket B at the end of the next (a month's end is the loan's last
  snapshot in that month); shares are of each starting bucket's loans.
* **Vintage curves**: loans grouped by pay-out month (and currency); for each month on book, the
  cumulative share of the cohort's principal that has been 30+ (90+) days past due by then.
* **Exposure by segment**: outstanding principal of active loans (and of those past due) by
  product kind, by branch and by the customer's asset-tier segment (analytics; ``unsegmented``
  when the nightly analytics have not placed the customer).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.analytics.models import CustomerSegment
from branchdesk.catalog.models import Branch
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loans import rules
from branchdesk.loans.models import Loan, LoanDpdSnapshot, LoanProduct, LoanStatus
from branchdesk.loans.schemas import (
    ExposureRow,
    PortfolioHistoryRead,
    RollRateRead,
    VintageRead,
)

MAX_MONTHS_ON_BOOK = 12
ROLL_MONTHS = 6  # the last this many month-to-month transitions
SEGMENT_KIND = "asset_tier"


def take_snapshots(db: Session, *, loans: Sequence[Loan], as_of: date) -> int:
    """Write (or overwrite) ``as_of``'s snapshot of every loan run for that day."""
    written = 0
    for loan in loans:
        if loan.status != LoanStatus.active or loan.last_accrued_on != as_of:
            continue
        db.merge(
            LoanDpdSnapshot(
                loan_id=loan.id, taken_on=as_of, days_past_due=loan.days_past_due,
                bucket=loan.bucket, outstanding_principal_minor=loan.outstanding_principal_minor,
            )
        )  # fmt: skip
        written += 1
    db.flush()
    return written


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def roll_rate_tables(month_ends: dict[str, dict[Any, str]]) -> list[RollRateRead]:
    """Transitions between consecutive months that both have snapshots (oldest first)."""
    months = sorted(month_ends)
    out = []
    for month in months:
        following = _next_month(month)
        if following not in month_ends:
            continue
        counts = rules.roll_rates(month_ends[month], month_ends[following])
        rates: dict[str, dict[str, float | None]] = {}
        for start, row in counts.items():
            total = sum(row.values())
            rates[start] = {end: (round(n / total, 4) if total else None) for end, n in row.items()}
        out.append(RollRateRead(from_month=month, to_month=following, counts=counts, rates=rates))
    return out[-ROLL_MONTHS:]


def portfolio_history(db: Session, *, actor: Principal, now: datetime) -> PortfolioHistoryRead:
    """Roll rates, vintage curves and exposure within the actor's branches. Raises Forbidden."""
    actor.require(Permission.loan_portfolio_view)
    loan_query = select(Loan).where(Loan.status != LoanStatus.disbursement_pending)
    if not actor.is_bank_wide:
        loan_query = loan_query.where(Loan.branch_id.in_(list(actor.branch_ids)))
    loans = {loan.id: loan for loan in db.execute(loan_query).scalars()}
    month_ends: dict[str, dict[Any, str]] = defaultdict(dict)
    seen: dict[Any, dict[int, int]] = defaultdict(dict)  # loan -> months on book -> worst DPD
    if loans:
        snapshots = db.execute(
            select(LoanDpdSnapshot)
            .where(LoanDpdSnapshot.loan_id.in_(list(loans)))
            .order_by(LoanDpdSnapshot.loan_id, LoanDpdSnapshot.taken_on)
        ).scalars()
        for snap in snapshots:
            month_ends[_month(snap.taken_on)][snap.loan_id] = snap.bucket  # the latest wins
            loan = loans[snap.loan_id]
            mob = rules.months_on_book(loan.disbursed_on, snap.taken_on)
            seen[snap.loan_id][mob] = max(seen[snap.loan_id].get(mob, 0), snap.days_past_due)
    cohorts: dict[tuple[str, str], list[Loan]] = defaultdict(list)
    for loan in loans.values():
        cohorts[(_month(loan.disbursed_on), loan.currency)].append(loan)
    vintages = []
    for (cohort, currency), members in sorted(cohorts.items()):
        observed = [
            (loan.principal_minor, sorted(seen[loan.id].items())) for loan in members
        ]  # fmt: skip
        vintages.append(
            VintageRead(
                cohort=cohort, currency=currency, loans=len(members),
                principal_minor=sum(loan.principal_minor for loan in members),
                dpd30=rules.vintage_curve(observed, threshold=30, max_mob=MAX_MONTHS_ON_BOOK),
                dpd90=rules.vintage_curve(observed, threshold=90, max_mob=MAX_MONTHS_ON_BOOK),
            )
        )  # fmt: skip
    return PortfolioHistoryRead(
        roll_rates=roll_rate_tables(month_ends),
        vintages=vintages,
        exposure=_exposure(db, [loan for loan in loans.values() if loan.status == "active"]),
    )


def _exposure(db: Session, loans: list[Loan]) -> list[ExposureRow]:
    if not loans:
        return []
    kinds = dict(db.execute(select(LoanProduct.id, LoanProduct.kind)).all())
    branches = dict(db.execute(select(Branch.id, Branch.code)).all())
    customer_ids = sorted({loan.customer_id for loan in loans})
    segments = dict(
        db.execute(
            select(CustomerSegment.customer_id, CustomerSegment.segment).where(
                CustomerSegment.customer_id.in_(customer_ids),
                CustomerSegment.kind == SEGMENT_KIND,
                CustomerSegment.valid_to.is_(None),
            )
        ).all()
    )
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for loan in loans:
        for dimension, segment in (
            ("product_kind", str(kinds.get(loan.product_id, "?"))),
            ("branch", str(branches.get(loan.branch_id, "?"))),
            ("segment", str(segments.get(loan.customer_id, "unsegmented"))),
        ):
            row = totals[(dimension, segment, loan.currency)]
            row[0] += 1
            row[1] += loan.outstanding_principal_minor
            if loan.days_past_due > 0:
                row[2] += loan.outstanding_principal_minor
    order = {"product_kind": 0, "branch": 1, "segment": 2}
    return [
        ExposureRow(
            dimension=dimension,
            segment=segment,
            currency=currency,
            loans=n,
            outstanding_minor=outstanding,
            overdue_minor=overdue,
        )
        for (dimension, segment, currency), (n, outstanding, overdue) in sorted(
            totals.items(), key=lambda kv: (order[kv[0][0]], -kv[1][1], kv[0][1])
        )
    ]
