"""Disbursement, repayments (penalty -> interest -> principal, prepayment re-schedules), days past
due and the daily job. Money moves only through ledger postings (``ledger.service.posting.submit``):

* disbursement: the branch's loan-assets account pays out the principal; the customer's account
  receives it less the fee, which goes to fee income;
* repayment: the customer's account pays; principal goes back to loan assets, interest and
  penalty clear what had accrued to their receivables (the rest goes to income at once).

Interest and penalty are recognised as they accrue (``accrual.py``, ``accrual`` postings by the
daily job); penalty accrues daily on the loan (``penalty_due_minor``, one ``loan_penalty_accruals``
row per day) until paid.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger import rules as ledger_rules
from branchdesk.ledger.models import (
    Account,
    AccountHolder,
    AccountType,
    Posting,
    PostingKind,
    PostingStatus,
)
from branchdesk.ledger.service.common import find_account, internal_account
from branchdesk.ledger.service.compliance import PrePostingCheck
from branchdesk.ledger.service.posting import Leg, check_key, find_replay, submit
from branchdesk.loans import rules
from branchdesk.loans.models import (
    ApplicationStatus,
    Loan,
    LoanApplication,
    LoanInstalment,
    LoanPenaltyAccrual,
    LoanProduct,
    LoanRepayment,
    LoanStatus,
    RateType,
)
from branchdesk.loans.notifications import money, notify_customer
from branchdesk.loans.schedule import RepaymentMethod, add_months, build_schedule
from branchdesk.loans.schemas import DailyResult, InstalmentRead, LoanRead, RepaymentRead
from branchdesk.loans.service.applications import get_application
from branchdesk.loans.service.common import LoanNotFound, loan_account, reference

MAX_CATCH_UP_DAYS = 400  # the daily job accrues at most this many missed days per loan and run


def _fee_minor(product: LoanProduct, principal_minor: int) -> int:
    share = (Decimal(principal_minor) * product.fee_bps / Decimal(10_000)).quantize(
        Decimal(1), rounding=ROUND_HALF_EVEN
    )
    return product.fee_flat_minor + int(share)


def _owned_by(db: Session, account: Account, customer_id: uuid.UUID) -> bool:
    if account.customer_id == customer_id:
        return True
    holder = db.execute(
        select(AccountHolder.customer_id).where(
            AccountHolder.account_id == account.id, AccountHolder.customer_id == customer_id
        )
    ).scalar_one_or_none()
    return holder is not None


def disburse(
    db: Session,
    *,
    application_id: uuid.UUID,
    account: str,
    idempotency_key: str,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
) -> tuple[Loan, bool]:
    """Open the loan, write its schedule and pay it out; (loan, is_replay).

    Raises Forbidden, ApplicationNotFound, Conflict (not approved), RuleViolation (account not the
    applicant's, currency, fee), AccountNotFound and the ledger's posting errors.
    """
    actor.require(Permission.loan_create)
    application = get_application(db, application_id=application_id, actor=actor, for_update=True)
    actor.require(Permission.loan_create, application.branch_id)
    key = check_key(idempotency_key)
    body = {"application": str(application.id), "account": account.strip()}
    digest = ledger_rules.request_hash("loan_disbursement", body)
    replay = find_replay(db, key=key, request_hash=digest)
    if replay is not None:
        loan = db.execute(
            select(Loan).where(Loan.disbursement_posting_id == replay.posting.id)
        ).scalar_one()
        return loan, True
    if application.status != ApplicationStatus.approved:
        raise Conflict("only an approved application can be paid out", code="not_approved")
    target = find_account(db, account, field="account")
    if not _owned_by(db, target, application.customer_id):
        raise RuleViolation("the account does not belong to the applicant", field="account")
    if target.currency != application.currency:
        raise RuleViolation(f"the loan is paid out in {application.currency}", field="account")
    product = db.get(LoanProduct, application.product_id)
    assert product is not None
    principal = application.amount_minor
    fee = _fee_minor(product, principal)
    if fee >= principal:
        raise RuleViolation("the fee would take the whole amount", field="amount_minor")
    assets = loan_account(
        db, kind="loan_assets", branch_id=application.branch_id,
        currency=application.currency, now=now,
    )  # fmt: skip
    legs = [Leg(assets, -principal), Leg(target, principal - fee)]
    if fee:
        income = internal_account(
            db, type=AccountType.fee_income, branch_id=application.branch_id,
            currency=application.currency, now=now,
        )  # fmt: skip
        legs.append(Leg(income, fee))
    number = reference(db, "LN", now)
    result = submit(
        db, kind=PostingKind.transfer, key=key, request_hash=digest,
        branch_id=application.branch_id, legs=legs, amount_minor=principal,
        currency=application.currency, actor=actor, now=now, compliance=compliance,
        memo=f"loan {number} disbursement",
    )  # fmt: skip
    posted = result.posting.status == PostingStatus.posted
    today = now.date()
    loan = Loan(
        id=new_id(),
        number=number,
        application_id=application.id,
        branch_id=application.branch_id,
        customer_id=application.customer_id,
        product_id=product.id,
        account_id=target.id,
        currency=application.currency,
        principal_minor=principal,
        fee_minor=fee,
        annual_rate=application.annual_rate,
        penalty_rate=product.penalty_rate,
        repayment_method=product.repayment_method,
        term_months=application.term_months,
        grace_months=min(product.grace_months, application.term_months - 1),
        disbursed_on=today,
        status=LoanStatus.active if posted else LoanStatus.disbursement_pending,
        outstanding_principal_minor=principal,
        penalty_due_minor=0,
        days_past_due=0,
        max_days_past_due=0,
        bucket=rules.Bucket.current,
        last_accrued_on=today,
        reference_rate_name=(
            product.reference_rate_name if product.rate_type == RateType.floating else ""
        ),
        margin=product.margin if product.rate_type == RateType.floating else "0",
        interest_recognized_minor=0,
        interest_receivable_minor=0,
        penalty_receivable_minor=0,
        disbursement_posting_id=result.posting.id,
        disbursed_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        closed_at=None,
    )
    db.add(loan)
    db.flush()
    rows = build_schedule(
        principal_minor=principal, annual_rate=Decimal(loan.annual_rate),
        term_months=loan.term_months, method=RepaymentMethod(loan.repayment_method),
        first_due_on=add_months(today, 1), grace_months=loan.grace_months,
    )  # fmt: skip
    db.add_all(
        LoanInstalment(
            id=new_id(),
            loan_id=loan.id,
            number=r.number,
            due_on=r.due_on,
            principal_minor=r.principal_minor,
            interest_minor=r.interest_minor,
            paid_principal_minor=0,
            paid_interest_minor=0,
        )
        for r in rows
    )
    application.status = ApplicationStatus.disbursed
    application.updated_at = now
    db.flush()
    append_audit(
        db, action="loan.disburse", object_type="loan", object_id=loan.id,
        branch_id=loan.branch_id, now=now, actor=actor,
        detail={"number": loan.number, "application": application.reference,
                "principal_minor": principal, "fee_minor": fee, "posting": str(result.posting.id)},
    )  # fmt: skip
    notify_customer(
        db, customer_id=loan.customer_id, template="loan.disbursed",
        values={"number": loan.number, "amount": money(principal - fee, loan.currency),
                "account": target.number, "first_due": str(rows[0].due_on)},
        now=now, aggregate_type="loan", aggregate_id=loan.id, branch_id=loan.branch_id,
    )  # fmt: skip
    record_event(
        db, type="loans.loan_disbursed", aggregate_type="loan", aggregate_id=loan.id,
        branch_id=loan.branch_id, now=now,
        payload={"number": loan.number, "principal_minor": principal, "status": loan.status},
    )  # fmt: skip
    return loan, False


def find_loan(db: Session, *, number: str, actor: Principal, for_update: bool = False) -> Loan:
    """Raises Forbidden, LoanNotFound (also outside the actor's branches)."""
    actor.require(Permission.loan_view)
    query = select(Loan).where(Loan.number == number.strip().upper())
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    loan = db.execute(query).scalar_one_or_none()
    if loan is None or not actor.sees_branch(loan.branch_id):
        raise LoanNotFound("no such loan")
    return loan


def instalments_of(db: Session, loan_id: uuid.UUID) -> list[LoanInstalment]:
    return list(
        db.execute(
            select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan_id)
            .order_by(LoanInstalment.number)
        ).scalars()
    )


def _unpaid(row: LoanInstalment) -> int:
    return (
        row.principal_minor
        - row.paid_principal_minor
        + row.interest_minor
        - row.paid_interest_minor
    )


def days_past_due(instalments: list[LoanInstalment], as_of: date) -> int:
    """Days since the oldest instalment due before ``as_of`` that is not fully paid (0: none)."""
    for row in instalments:
        if row.due_on < as_of and _unpaid(row) > 0:
            return (as_of - row.due_on).days
    return 0


def overdue_minor(instalments: list[LoanInstalment], on: date) -> int:
    """Principal and interest of instalments due before ``on`` and not yet paid."""
    return sum(_unpaid(r) for r in instalments if r.due_on < on)


def _set_delinquency(loan: Loan, instalments: list[LoanInstalment], as_of: date) -> None:
    dpd = days_past_due(instalments, as_of)
    loan.days_past_due = dpd
    loan.max_days_past_due = max(loan.max_days_past_due, dpd)
    loan.bucket = rules.bucket_of(dpd)


@dataclass(frozen=True)
class Owed:
    penalty_minor: int
    interest_due_minor: int
    principal_due_minor: int
    principal_not_due_minor: int


def owed_on(loan: Loan, instalments: list[LoanInstalment], on: date) -> Owed:
    due = [r for r in instalments if r.due_on <= on]
    principal_due = sum(r.principal_minor - r.paid_principal_minor for r in due)
    return Owed(
        penalty_minor=loan.penalty_due_minor,
        interest_due_minor=sum(r.interest_minor - r.paid_interest_minor for r in due),
        principal_due_minor=principal_due,
        principal_not_due_minor=loan.outstanding_principal_minor - principal_due,
    )


def total_owed(owed: Owed) -> int:
    return (
        owed.penalty_minor + owed.interest_due_minor + owed.principal_due_minor
        + owed.principal_not_due_minor
    )  # fmt: skip


def reschedule_not_due(
    loan: Loan, db: Session, instalments: list[LoanInstalment], on: date
) -> None:
    """The instalments not yet due are rebuilt on the principal left at the loan's (current) rate
    over the same dates: after a prepayment (lower instalments) or a re-pricing (new rate)."""
    future = [r for r in instalments if r.due_on > on]
    if not future:
        return
    due_unpaid = sum(
        r.principal_minor - r.paid_principal_minor for r in instalments if r.due_on <= on
    )
    remaining = loan.outstanding_principal_minor - due_unpaid
    db.execute(delete(LoanInstalment).where(LoanInstalment.id.in_([r.id for r in future])))
    db.flush()
    if remaining <= 0:
        return
    first = future[0]
    grace = max(0, min(loan.grace_months - (first.number - 1), len(future) - 1))
    rows = build_schedule(
        principal_minor=remaining, annual_rate=Decimal(loan.annual_rate),
        term_months=len(future), method=RepaymentMethod(loan.repayment_method),
        first_due_on=first.due_on, grace_months=grace,
    )  # fmt: skip
    db.add_all(
        LoanInstalment(
            id=new_id(),
            loan_id=loan.id,
            number=first.number + r.number - 1,
            due_on=future[r.number - 1].due_on,
            principal_minor=r.principal_minor,
            interest_minor=r.interest_minor,
            paid_principal_minor=0,
            paid_interest_minor=0,
        )
        for r in rows
    )
    db.flush()


def repay(
    db: Session,
    *,
    number: str,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    account: str | None = None,
) -> tuple[LoanRepayment, bool]:
    """Take a repayment: penalty, then interest due, then principal due, then prepayment.

    Raises Forbidden, LoanNotFound, Conflict (loan not active, posting held), RuleViolation
    (currency, more than everything owed, account not the borrower's) and the ledger's errors.
    """
    actor.require(Permission.loan_create)
    loan = find_loan(db, number=number, actor=actor, for_update=True)
    actor.require(Permission.loan_create, loan.branch_id)
    key = check_key(idempotency_key)
    body = {"loan": loan.number, "amount_minor": amount_minor, "currency": currency,
            "account": (account or "").strip()}  # fmt: skip
    digest = ledger_rules.request_hash("loan_repayment", body)
    replay = find_replay(db, key=key, request_hash=digest)
    if replay is not None:
        done = db.execute(
            select(LoanRepayment).where(LoanRepayment.posting_id == replay.posting.id)
        ).scalar_one()
        return done, True
    if loan.status != LoanStatus.active:
        raise Conflict("this loan takes no repayments now", code="loan_not_active")
    if currency != loan.currency:
        raise RuleViolation(f"the loan is repaid in {loan.currency}", field="currency")
    payer = (
        find_account(db, account, field="account") if account else db.get(Account, loan.account_id)
    )
    assert payer is not None
    if not _owned_by(db, payer, loan.customer_id):
        raise RuleViolation("the account does not belong to the borrower", field="account")
    today = now.date()
    instalments = instalments_of(db, loan.id)
    owed = owed_on(loan, instalments, today)
    try:
        split = rules.allocate(
            amount_minor, penalty_due_minor=owed.penalty_minor,
            interest_due_minor=owed.interest_due_minor,
            principal_due_minor=owed.principal_due_minor,
            principal_not_due_minor=owed.principal_not_due_minor,
        )  # fmt: skip
    except ValueError as exc:
        raise RuleViolation(
            f"{exc}: at most {total_owed(owed)} minor units can be repaid today",
            field="amount_minor",
        ) from exc
    # interest already accrued clears the receivable; interest not accrued yet is income now.
    # Paying the loan off also reverses what accrued on the period that will never fall due.
    from_receivable = min(split.interest_minor, loan.interest_receivable_minor)
    direct_income = split.interest_minor - from_receivable
    # the same for penalty (penalty accrued before revision 0024 was never posted: income now)
    penalty_from_receivable = min(split.penalty_minor, loan.penalty_receivable_minor)
    pays_off = split.total_minor == total_owed(owed)
    reversed_accrual = loan.interest_receivable_minor - from_receivable if pays_off else 0
    legs = [Leg(payer, -amount_minor)]
    for kind, part in (
        ("loan_assets", split.principal_minor + split.prepayment_minor),
        ("loan_interest_receivable", from_receivable + reversed_accrual),
        ("loan_interest_income", direct_income - reversed_accrual),
        ("loan_penalty_receivable", penalty_from_receivable),
        ("loan_penalty_income", split.penalty_minor - penalty_from_receivable),
    ):
        if part:
            bank = loan_account(
                db, kind=kind, branch_id=loan.branch_id, currency=loan.currency, now=now
            )
            legs.append(Leg(bank, part))
    result = submit(
        db, kind=PostingKind.transfer, key=key, request_hash=digest, branch_id=loan.branch_id,
        legs=legs, amount_minor=amount_minor, currency=loan.currency, actor=actor, now=now,
        compliance=compliance, memo=f"loan {loan.number} repayment",
    )  # fmt: skip
    if result.posting.status != PostingStatus.posted:
        raise Conflict(
            "the ledger held this repayment for approval or review; it was not taken. "
            "Repay in smaller parts or after the limit is raised",
            code="repayment_held",
        )
    interest_left, principal_left = split.interest_minor, split.principal_minor
    for row in instalments:
        if row.due_on > today:
            break
        part = min(interest_left, row.interest_minor - row.paid_interest_minor)
        row.paid_interest_minor += part
        interest_left -= part
    for row in instalments:
        if row.due_on > today:
            break
        part = min(principal_left, row.principal_minor - row.paid_principal_minor)
        row.paid_principal_minor += part
        principal_left -= part
    loan.penalty_due_minor -= split.penalty_minor
    loan.penalty_receivable_minor -= penalty_from_receivable
    loan.outstanding_principal_minor -= split.principal_minor + split.prepayment_minor
    loan.interest_receivable_minor -= from_receivable + reversed_accrual
    loan.interest_recognized_minor += direct_income - reversed_accrual
    loan.updated_at = now
    db.flush()
    if split.prepayment_minor:
        reschedule_not_due(loan, db, instalments, today)
        instalments = instalments_of(db, loan.id)
    _set_delinquency(loan, instalments, today)
    if (
        loan.outstanding_principal_minor == 0
        and loan.penalty_due_minor == 0
        and all(_unpaid(r) == 0 for r in instalments)
    ):
        loan.status = LoanStatus.closed
        loan.closed_at = now
    repayment = LoanRepayment(
        id=new_id(), loan_id=loan.id, posting_id=result.posting.id, amount_minor=amount_minor,
        penalty_minor=split.penalty_minor, interest_minor=split.interest_minor,
        principal_minor=split.principal_minor, prepayment_minor=split.prepayment_minor,
        paid_on=today, actor_id=actor.user_id, created_at=now,
    )  # fmt: skip
    db.add(repayment)
    db.flush()
    append_audit(
        db, action="loan.repay", object_type="loan", object_id=loan.id, branch_id=loan.branch_id,
        now=now, actor=actor,
        detail={"number": loan.number, "amount_minor": amount_minor,
                "penalty_minor": split.penalty_minor, "interest_minor": split.interest_minor,
                "principal_minor": split.principal_minor,
                "prepayment_minor": split.prepayment_minor},
    )  # fmt: skip
    record_event(
        db, type="loans.repayment_taken", aggregate_type="loan", aggregate_id=loan.id,
        branch_id=loan.branch_id, now=now,
        payload={"number": loan.number, "amount_minor": amount_minor, "status": loan.status},
    )  # fmt: skip
    return repayment, False


def run_daily(
    db: Session, *, as_of: date, now: datetime, branch_ids: Collection[uuid.UUID] | None = None
) -> DailyResult:
    """Update days past due and buckets, accrue penalty for every missed day up to ``as_of``.

    Idempotent: a day is accrued once per loan (``loan_penalty_accruals`` has one row per loan
    and day), so running it again for the same date changes nothing. ``branch_ids`` limits the
    run to those branches (default: every branch).

    Before: floating-rate loans re-price to a reference rate effective by ``as_of``
    (``accrual.apply_reference_rates``). After the days past due: interest accrues up to ``as_of``
    (``accrual.accrue_interest``, ledger postings) and every active loan's DPD snapshot for
    ``as_of`` is written (``history.take_snapshots``).
    """
    from branchdesk.loans.service.accrual import (
        accrue_interest,
        accrue_penalty,
        apply_reference_rates,
    )
    from branchdesk.loans.service.history import take_snapshots

    repriced = apply_reference_rates(db, as_of=as_of, now=now, branch_ids=branch_ids)
    loans = list(
        db.execute(
            select(Loan)
            .where(
                Loan.status.in_([LoanStatus.active, LoanStatus.disbursement_pending]),
                *([Loan.branch_id.in_(list(branch_ids))] if branch_ids is not None else []),
            )
            .order_by(Loan.id)
            .with_for_update()
        ).scalars()
    )
    overdue_count = accrued_total = days_total = 0
    penalty_days: list[tuple[Loan, list[LoanPenaltyAccrual]]] = []
    for loan in loans:
        if loan.status == LoanStatus.disbursement_pending:
            posting = db.get(Posting, loan.disbursement_posting_id)
            if posting is not None and posting.status == PostingStatus.posted:
                loan.status = LoanStatus.active
            elif posting is not None and posting.status == PostingStatus.rejected:
                loan.status = LoanStatus.closed
                loan.outstanding_principal_minor = 0
                loan.closed_at = now
            continue
        instalments = instalments_of(db, loan.id)
        start = (loan.last_accrued_on or loan.disbursed_on) + timedelta(days=1)
        start = max(start, as_of - timedelta(days=MAX_CATCH_UP_DAYS - 1))
        rate = Decimal(loan.penalty_rate)
        day = start
        days: list[LoanPenaltyAccrual] = []
        while day <= as_of:
            overdue = overdue_minor(instalments, day)
            if overdue > 0:
                amount = rules.daily_penalty_minor(overdue, rate)
                days.append(
                    LoanPenaltyAccrual(
                        loan_id=loan.id,
                        accrued_on=day,
                        overdue_minor=overdue,
                        amount_minor=amount,
                        days_past_due=days_past_due(instalments, day),
                        posting_id=None,
                    )
                )
                loan.penalty_due_minor += amount
                accrued_total += amount
                days_total += 1
            day += timedelta(days=1)
        db.add_all(days)
        penalty_days.append((loan, days))
        if loan.last_accrued_on is None or as_of > loan.last_accrued_on:
            before = loan.bucket
            loan.last_accrued_on = as_of
            _set_delinquency(loan, instalments, as_of)
            loan.updated_at = now
            if loan.bucket != before and before == rules.Bucket.current:
                notify_customer(
                    db, customer_id=loan.customer_id, template="loan.overdue",
                    values={"number": loan.number, "days": str(loan.days_past_due),
                            "amount": money(overdue_minor(instalments, as_of), loan.currency)},
                    now=now, aggregate_type="loan", aggregate_id=loan.id,
                    branch_id=loan.branch_id,
                )  # fmt: skip
            if loan.bucket != before:
                record_event(
                    db, type="loans.bucket_changed", aggregate_type="loan",
                    aggregate_id=loan.id, branch_id=loan.branch_id, now=now,
                    payload={"number": loan.number, "from": before, "to": loan.bucket,
                             "days_past_due": loan.days_past_due},
                )  # fmt: skip
        if loan.days_past_due > 0:
            overdue_count += 1
    db.flush()
    accrue_penalty(db, accrued=penalty_days, as_of=as_of, now=now)
    active = [loan for loan in loans if loan.status == LoanStatus.active]
    interest = accrue_interest(db, loans=active, as_of=as_of, now=now)
    snapshots = take_snapshots(db, loans=active, as_of=as_of)
    return DailyResult(
        as_of=as_of, loans=len(loans), overdue=overdue_count,
        penalty_accrued_minor=accrued_total, days_accrued=days_total,
        interest_accrued_minor=interest, repriced=repriced, snapshots=snapshots,
    )  # fmt: skip


def loan_read(db: Session, loan: Loan) -> LoanRead:
    application = db.get(LoanApplication, loan.application_id)
    customer = db.get(Customer, loan.customer_id)
    product = db.get(LoanProduct, loan.product_id)
    branch = db.get(Branch, loan.branch_id)
    account = db.get(Account, loan.account_id)
    repayments = db.execute(
        select(LoanRepayment)
        .where(LoanRepayment.loan_id == loan.id)
        .order_by(LoanRepayment.created_at, LoanRepayment.id)
    ).scalars()
    from branchdesk.loans.service.restructuring import list_restructurings

    return LoanRead(
        restructurings=list_restructurings(db, loan=loan),
        id=loan.id,
        number=loan.number,
        application_reference=application.reference if application else "",
        branch_code=branch.code if branch else "",
        customer_number=customer.customer_number if customer else "",
        product_code=product.code if product else "",
        account_number=account.number if account else "",
        currency=loan.currency,
        principal_minor=loan.principal_minor,
        fee_minor=loan.fee_minor,
        annual_rate=Decimal(loan.annual_rate),
        penalty_rate=Decimal(loan.penalty_rate),
        repayment_method=RepaymentMethod(loan.repayment_method),
        term_months=loan.term_months,
        disbursed_on=loan.disbursed_on,
        status=loan.status,
        outstanding_principal_minor=loan.outstanding_principal_minor,
        penalty_due_minor=loan.penalty_due_minor,
        days_past_due=loan.days_past_due,
        bucket=loan.bucket,
        reference_rate_name=loan.reference_rate_name,
        margin=Decimal(loan.margin),
        interest_receivable_minor=loan.interest_receivable_minor,
        penalty_receivable_minor=loan.penalty_receivable_minor,
        disbursement_posting_id=loan.disbursement_posting_id,
        instalments=[
            InstalmentRead(
                number=r.number,
                due_on=r.due_on,
                principal_minor=r.principal_minor,
                interest_minor=r.interest_minor,
                payment_minor=r.principal_minor + r.interest_minor,
                paid_principal_minor=r.paid_principal_minor,
                paid_interest_minor=r.paid_interest_minor,
                is_paid=_unpaid(r) == 0,
            )
            for r in instalments_of(db, loan.id)
        ],
        repayments=[
            RepaymentRead(
                posting_id=r.posting_id,
                amount_minor=r.amount_minor,
                penalty_minor=r.penalty_minor,
                interest_minor=r.interest_minor,
                principal_minor=r.principal_minor,
                prepayment_minor=r.prepayment_minor,
                paid_on=r.paid_on,
            )
            for r in repayments
        ],
    )


def list_loans(db: Session, *, actor: Principal, limit: int = 200) -> list[Loan]:
    """Newest first, within the actor's branches. Raises Forbidden."""
    actor.require(Permission.loan_view)
    query = select(Loan).order_by(Loan.created_at.desc(), Loan.number.desc()).limit(limit)
    if not actor.is_bank_wide:
        query = query.where(Loan.branch_id.in_(list(actor.branch_ids)))
    return list(db.execute(query).scalars())
