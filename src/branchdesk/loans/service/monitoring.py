"""Post-loan inputs behind two early-warning signals: collateral revaluations and debts the
borrower declared at other lenders. Staff who service loans (``loan.create``) or handle the
watch list (``loan_alert.handle``) record them; each is audited."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, Forbidden, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loans.models import CollateralValuation, DeclaredDebt, Loan, LoanStatus
from branchdesk.loans.schemas import (
    CollateralValuationBody,
    CollateralValuationRead,
    DeclaredDebtBody,
    DeclaredDebtRead,
)
from branchdesk.loans.service.servicing import find_loan


def _require_servicer(actor: Principal, loan: Loan) -> None:
    if not (
        actor.can(Permission.loan_create, loan.branch_id)
        or actor.can(Permission.loan_alert_handle, loan.branch_id)
    ):
        raise Forbidden("you may not record monitoring data for this loan")


def _check_day(day: date, now: datetime, field: str, not_before: date) -> None:
    if day > now.date():
        raise RuleViolation("the date is in the future", field=field)
    if day < not_before:
        raise RuleViolation(f"the date is before the pay-out ({not_before})", field=field)


def record_valuation(
    db: Session, *, number: str, data: CollateralValuationBody, actor: Principal, now: datetime
) -> CollateralValuation:
    """Raises Forbidden, LoanNotFound, Conflict (loan closed), RuleViolation (date)."""
    loan = find_loan(db, number=number, actor=actor)
    _require_servicer(actor, loan)
    if loan.status == LoanStatus.closed:
        raise Conflict("the loan is closed", code="loan_not_active")
    _check_day(data.valued_on, now, "valued_on", loan.disbursed_on)
    row = CollateralValuation(
        id=new_id(), loan_id=loan.id, valued_on=data.valued_on, value_minor=data.value_minor,
        currency=loan.currency, note=data.note.strip(), recorded_by_id=actor.user_id,
        created_at=now,
    )  # fmt: skip
    db.add(row)
    db.flush()
    append_audit(
        db, action="loan.collateral_valued", object_type="loan", object_id=loan.id,
        branch_id=loan.branch_id, now=now, actor=actor,
        detail={"number": loan.number, "value_minor": data.value_minor,
                "valued_on": data.valued_on.isoformat()},
    )  # fmt: skip
    return row


def declare_debt(
    db: Session, *, number: str, data: DeclaredDebtBody, actor: Principal, now: datetime
) -> DeclaredDebt:
    """A debt elsewhere the borrower of loan ``number`` declared. Raises Forbidden, LoanNotFound,
    RuleViolation (date in the future)."""
    loan = find_loan(db, number=number, actor=actor)
    _require_servicer(actor, loan)
    if data.declared_on > now.date():
        raise RuleViolation("the date is in the future", field="declared_on")
    row = DeclaredDebt(
        id=new_id(), customer_id=loan.customer_id, lender=data.lender.strip(),
        monthly_payment_minor=data.monthly_payment_minor, balance_minor=data.balance_minor,
        currency=loan.currency, declared_on=data.declared_on, recorded_by_id=actor.user_id,
        created_at=now,
    )  # fmt: skip
    db.add(row)
    db.flush()
    append_audit(
        db, action="loan.debt_declared", object_type="loan", object_id=loan.id,
        branch_id=loan.branch_id, now=now, actor=actor,
        detail={"number": loan.number, "monthly_payment_minor": data.monthly_payment_minor},
    )  # fmt: skip
    return row


def valuations_of(db: Session, loan: Loan) -> list[CollateralValuationRead]:
    rows = db.execute(
        select(CollateralValuation, User.username)
        .join(User, User.id == CollateralValuation.recorded_by_id)
        .where(CollateralValuation.loan_id == loan.id)
        .order_by(CollateralValuation.valued_on, CollateralValuation.created_at)
    ).all()
    return [
        CollateralValuationRead(
            valued_on=v.valued_on,
            value_minor=v.value_minor,
            currency=v.currency,
            note=v.note,
            recorded_by=username,
        )
        for v, username in rows
    ]


def declared_debts_of(db: Session, loan: Loan) -> list[DeclaredDebtRead]:
    rows = db.execute(
        select(DeclaredDebt)
        .where(DeclaredDebt.customer_id == loan.customer_id)
        .order_by(DeclaredDebt.declared_on, DeclaredDebt.created_at)
    ).scalars()
    return [
        DeclaredDebtRead(
            lender=d.lender,
            monthly_payment_minor=d.monthly_payment_minor,
            balance_minor=d.balance_minor,
            currency=d.currency,
            declared_on=d.declared_on,
        )
        for d in rows
    ]
