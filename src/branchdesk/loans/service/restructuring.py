"""Restructuring with approval: the principal left (in arrears and not yet due) is spread over a
new number of monthly instalments from next month; arrears interest and penalty stay due.

A teller or relationship manager asks; a supervisor other than the one who asked decides
(maker-checker). Both steps are audited. No money moves, so there is no ledger posting.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loans.models import (
    Loan,
    LoanInstalment,
    LoanRestructuring,
    LoanStatus,
    RestructuringStatus,
)
from branchdesk.loans.schedule import RepaymentMethod, add_months, build_schedule
from branchdesk.loans.schemas import RestructuringRead
from branchdesk.loans.service.common import OwnApproval
from branchdesk.loans.service.servicing import find_loan, instalments_of

MAX_TERM_MONTHS = 480


class RestructuringNotFound(NotFound):
    code = "loan_restructuring_not_found"


def request_restructuring(
    db: Session, *, number: str, new_term_months: int, reason: str, actor: Principal,
    now: datetime,
) -> LoanRestructuring:  # fmt: skip
    """Raises Forbidden, LoanNotFound, Conflict (not active, one pending already), RuleViolation."""
    actor.require(Permission.loan_create)
    loan = find_loan(db, number=number, actor=actor, for_update=True)
    actor.require(Permission.loan_create, loan.branch_id)
    if loan.status != LoanStatus.active or loan.outstanding_principal_minor == 0:
        raise Conflict("only an active loan with principal left is restructured",
                       code="loan_not_active")  # fmt: skip
    if not 1 <= new_term_months <= MAX_TERM_MONTHS:
        raise RuleViolation(f"between 1 and {MAX_TERM_MONTHS} months", field="new_term_months")
    if not reason.strip():
        raise RuleViolation("say why the loan is restructured", field="reason")
    pending = db.execute(
        select(LoanRestructuring.id).where(
            LoanRestructuring.loan_id == loan.id,
            LoanRestructuring.status == RestructuringStatus.pending,
        )
    ).first()
    if pending is not None:
        raise Conflict("a restructuring of this loan waits for a decision",
                       code="restructuring_pending")  # fmt: skip
    request = LoanRestructuring(
        id=new_id(), loan_id=loan.id, new_term_months=new_term_months,
        reason=reason.strip()[:300], status=RestructuringStatus.pending,
        requested_by_id=actor.user_id, decided_by_id=None, decision_note="", created_at=now,
        decided_at=None,
    )  # fmt: skip
    db.add(request)
    db.flush()
    append_audit(
        db, action="loan.restructuring_request", object_type="loan", object_id=loan.id,
        branch_id=loan.branch_id, now=now, actor=actor,
        detail={"number": loan.number, "new_term_months": new_term_months},
    )  # fmt: skip
    return request


def decide_restructuring(
    db: Session, *, restructuring_id: uuid.UUID, approve: bool, note: str, actor: Principal,
    now: datetime,
) -> LoanRestructuring:  # fmt: skip
    """Raises Forbidden, RestructuringNotFound, OwnApproval, Conflict (not pending)."""
    actor.require(Permission.loan_approve)
    request = db.execute(
        select(LoanRestructuring)
        .where(LoanRestructuring.id == restructuring_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    loan = db.get(Loan, request.loan_id) if request is not None else None
    if request is None or loan is None or not actor.sees_branch(loan.branch_id):
        raise RestructuringNotFound("no such restructuring")
    actor.require(Permission.loan_approve, loan.branch_id)
    if request.requested_by_id == actor.user_id:
        raise OwnApproval("nobody decides on a restructuring they asked for")
    if request.status != RestructuringStatus.pending:
        raise Conflict("this restructuring was decided already", code="not_pending")
    request.status = RestructuringStatus.approved if approve else RestructuringStatus.rejected
    request.decided_by_id = actor.user_id
    request.decision_note = note.strip()[:300]
    request.decided_at = now
    if approve:
        loan = find_loan(db, number=loan.number, actor=actor, for_update=True)
        if loan.status != LoanStatus.active:
            raise Conflict("the loan is no longer active", code="loan_not_active")
        reschedule(db, loan=loan, months=request.new_term_months, now=now)
    db.flush()
    action = "loan.restructuring_approve" if approve else "loan.restructuring_reject"
    append_audit(
        db, action=action, object_type="loan", object_id=loan.id, branch_id=loan.branch_id,
        now=now, actor=actor,
        detail={"number": loan.number, "new_term_months": request.new_term_months,
                "note": request.decision_note},
    )  # fmt: skip
    record_event(
        db, type="loans.restructuring_decided", aggregate_type="loan", aggregate_id=loan.id,
        branch_id=loan.branch_id, now=now,
        payload={"number": loan.number, "status": request.status},
    )  # fmt: skip
    return request


def reschedule(db: Session, *, loan: Loan, months: int, now: datetime) -> None:
    """Arrears principal and principal not yet due go into ``months`` new instalments."""
    today = now.date()
    rows = instalments_of(db, loan.id)
    for row in rows:
        if row.due_on <= today:
            row.principal_minor = row.paid_principal_minor  # its unpaid principal moves on
    future = [r.id for r in rows if r.due_on > today]
    if future:
        db.execute(delete(LoanInstalment).where(LoanInstalment.id.in_(future)))
    db.flush()
    kept = [r for r in rows if r.due_on <= today]
    start = max((r.number for r in kept), default=0)
    schedule = build_schedule(
        principal_minor=loan.outstanding_principal_minor, annual_rate=Decimal(loan.annual_rate),
        term_months=months, method=RepaymentMethod(loan.repayment_method),
        first_due_on=add_months(today, 1),
    )  # fmt: skip
    db.add_all(
        LoanInstalment(
            id=new_id(),
            loan_id=loan.id,
            number=start + r.number,
            due_on=r.due_on,
            principal_minor=r.principal_minor,
            interest_minor=r.interest_minor,
            paid_principal_minor=0,
            paid_interest_minor=0,
        )
        for r in schedule
    )
    loan.term_months = start + months
    loan.updated_at = now
    db.flush()


def list_restructurings(db: Session, *, loan: Loan) -> list[RestructuringRead]:
    found = db.execute(
        select(LoanRestructuring)
        .where(LoanRestructuring.loan_id == loan.id)
        .order_by(LoanRestructuring.created_at.desc(), LoanRestructuring.id)
    ).scalars()
    out = []
    for r in found:
        requester = db.get(User, r.requested_by_id)
        decider = db.get(User, r.decided_by_id) if r.decided_by_id else None
        out.append(
            RestructuringRead(
                id=r.id,
                loan_number=loan.number,
                new_term_months=r.new_term_months,
                reason=r.reason,
                status=r.status,
                requested_by=requester.username if requester else "",
                decided_by=decider.username if decider else None,
                decision_note=r.decision_note,
                created_at=r.created_at,
                decided_at=r.decided_at,
            )
        )
    return out
