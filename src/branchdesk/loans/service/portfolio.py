"""The portfolio for branch managers and risk officers: outstanding principal by product and
bucket, and the early-warning signals per loan (``signals.signals_of``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loans.models import Loan, LoanProduct, LoanStatus
from branchdesk.loans.rules import BUCKETS
from branchdesk.loans.schemas import EarlyWarningRead, PortfolioRead, PortfolioRow
from branchdesk.loans.service.signals import signals_of


@dataclass
class Warning:
    loan_number: str
    product_code: str
    days_past_due: int
    bucket: str
    outstanding_minor: int
    currency: str
    signals: list[str]


@dataclass
class Portfolio:
    buckets: list[str]
    rows: list[dict[str, object]]  # product, currency, per-bucket outstanding, total, loans
    totals: dict[str, int]
    warnings: list[Warning] = field(default_factory=list)


def portfolio_summary(db: Session, *, actor: Principal, now: datetime) -> Portfolio:
    """Raises Forbidden."""
    actor.require(Permission.loan_portfolio_view)
    query = (
        select(Loan, LoanProduct.code)
        .join(LoanProduct, LoanProduct.id == Loan.product_id)
        .where(Loan.status == LoanStatus.active)
        .order_by(LoanProduct.code, Loan.number)
    )
    if not actor.is_bank_wide:
        query = query.where(Loan.branch_id.in_(list(actor.branch_ids)))
    buckets = [str(b) for b in BUCKETS]
    by_product: dict[tuple[str, str], dict[str, object]] = {}
    totals = dict.fromkeys(buckets, 0)
    warnings: list[Warning] = []
    today = now.date()
    for loan, code in db.execute(query).all():
        row = by_product.setdefault(
            (code, loan.currency),
            {"product": code, "currency": loan.currency, "loans": 0, "total": 0,
             **dict.fromkeys(buckets, 0)},
        )  # fmt: skip
        row[loan.bucket] = int(str(row[loan.bucket])) + loan.outstanding_principal_minor
        row["total"] = int(str(row["total"])) + loan.outstanding_principal_minor
        row["loans"] = int(str(row["loans"])) + 1
        totals[loan.bucket] += loan.outstanding_principal_minor
        signals = signals_of(db, loan, as_of=today)
        if signals:
            warnings.append(
                Warning(
                    loan_number=loan.number,
                    product_code=code,
                    days_past_due=loan.days_past_due,
                    bucket=loan.bucket,
                    outstanding_minor=loan.outstanding_principal_minor,
                    currency=loan.currency,
                    signals=signals,
                )
            )
    warnings.sort(key=lambda w: (-w.days_past_due, w.loan_number))
    return Portfolio(buckets, list(by_product.values()), totals, warnings)


def portfolio_read(summary: Portfolio) -> PortfolioRead:
    return PortfolioRead(
        buckets=summary.buckets,
        rows=[
            PortfolioRow(
                product=str(row["product"]),
                currency=str(row["currency"]),
                loans=int(str(row["loans"])),
                outstanding_by_bucket_minor={b: int(str(row[b])) for b in summary.buckets},
                total_minor=int(str(row["total"])),
            )
            for row in summary.rows
        ],
        warnings=[
            EarlyWarningRead(
                loan_number=w.loan_number,
                product_code=w.product_code,
                days_past_due=w.days_past_due,
                bucket=w.bucket,
                outstanding_minor=w.outstanding_minor,
                currency=w.currency,
                signals=w.signals,
            )
            for w in summary.warnings
        ],
    )
