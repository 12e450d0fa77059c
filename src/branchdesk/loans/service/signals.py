"""Early-warning signals of one loan on a business day; the watch list and the portfolio page both
call ``signals_of`` (one implementation). Every signal reads stored data only:

* ``dpd_rising``: days past due now above those of seven days before (penalty accrual rows);
* ``missed_payment``: an instalment past its due date with nothing paid;
* ``balance_drop`` (balance collapse): the loan's account holds less than half of what it held
  30 days before (ledger entries' running balance);
* ``salary_stopped``: credits of half the declared monthly income or more reached the borrower's
  accounts in at least two calendar months between 95 and 35 days before, none in the last 35
  days (ledger entries; the borrower's loan pay-outs are not income);
* ``new_debt_elsewhere``: a debt at another lender declared after the pay-out (declared data);
* ``many_applications``: ``MANY_APPLICATIONS`` or more loan applications by the borrower in the
  30 days up to the day (any branch or channel);
* ``collateral_drop``: the latest collateral valuation is under 80 % of the first one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.ledger.models import Account, Entry
from branchdesk.loans.models import (
    CollateralValuation,
    DeclaredDebt,
    Loan,
    LoanApplication,
    LoanPenaltyAccrual,
)
from branchdesk.loans.service.servicing import instalments_of

BALANCE_DROP_SHARE = 0.5  # under half of what the account held LOOKBACK_DAYS before
LOOKBACK_DAYS = 30
SALARY_SILENT_DAYS = 35  # no salary-like credit for this long after regular ones before
SALARY_WINDOW_DAYS = 60  # the window before the silence in which regular credits were seen
SALARY_MIN_MONTHS = 2  # credits in at least this many calendar months: a regular income
MANY_APPLICATIONS = 3
APPLICATIONS_WINDOW_DAYS = 30
COLLATERAL_DROP_SHARE = 0.8


def end_of(day: date) -> datetime:
    """The last instant of a business day (UTC): balances and credits up to it count."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) - timedelta(
        microseconds=1
    )


def balance_at(db: Session, account_id: uuid.UUID, at: datetime) -> int | None:
    """The account's balance at ``at`` from its entries (None: no entry before then)."""
    row = db.execute(
        select(Entry.balance_after_minor)
        .where(Entry.account_id == account_id, Entry.booked_at <= at)
        .order_by(Entry.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if row is None else int(row)


def _salary_stopped(db: Session, loan: Loan, as_of: date) -> bool:
    income = db.execute(
        select(LoanApplication.monthly_income_minor).where(
            LoanApplication.id == loan.application_id
        )
    ).scalar_one()
    silent_from = end_of(as_of - timedelta(days=SALARY_SILENT_DAYS))
    window_from = silent_from - timedelta(days=SALARY_WINDOW_DAYS)
    accounts = select(Account.id).where(Account.customer_id == loan.customer_id)
    credits = select(Entry.booked_at).where(
        Entry.account_id.in_(accounts),
        Entry.amount_minor * 2 >= income,
        # the borrower's loan pay-outs are not income
        Entry.posting_id.not_in(
            select(Loan.disbursement_posting_id).where(Loan.customer_id == loan.customer_id)
        ),
    )
    before = db.execute(
        credits.where(Entry.booked_at > window_from, Entry.booked_at <= silent_from)
    ).scalars()
    if len({(at.year, at.month) for at in before}) < SALARY_MIN_MONTHS:
        return False  # not a regular income: one-off credits (an opening balance) do not count
    since = db.execute(
        credits.where(Entry.booked_at > silent_from, Entry.booked_at <= end_of(as_of)).limit(1)
    ).first()
    return since is None


def signals_of(db: Session, loan: Loan, *, as_of: date) -> list[str]:
    """Early-warning signal codes of one loan at the end of ``as_of``, in a fixed order."""
    found: list[str] = []
    week_ago = db.execute(
        select(LoanPenaltyAccrual.days_past_due).where(
            LoanPenaltyAccrual.loan_id == loan.id,
            LoanPenaltyAccrual.accrued_on == as_of - timedelta(days=7),
        )
    ).scalar_one_or_none()
    if loan.days_past_due > 0 and loan.days_past_due > (week_ago or 0):
        found.append("dpd_rising")
    if any(
        r.due_on < as_of and r.paid_principal_minor + r.paid_interest_minor == 0
        for r in instalments_of(db, loan.id)
    ):
        found.append("missed_payment")
    before = balance_at(db, loan.account_id, end_of(as_of - timedelta(days=LOOKBACK_DAYS)))
    now_balance = balance_at(db, loan.account_id, end_of(as_of))
    if (
        before is not None
        and before > 0
        and now_balance is not None
        and now_balance < before * BALANCE_DROP_SHARE
    ):
        found.append("balance_drop")
    if _salary_stopped(db, loan, as_of):
        found.append("salary_stopped")
    new_debts = db.execute(
        select(func.count())
        .select_from(DeclaredDebt)
        .where(
            DeclaredDebt.customer_id == loan.customer_id,
            DeclaredDebt.declared_on > loan.disbursed_on,
            DeclaredDebt.declared_on <= as_of,
        )
    ).scalar_one()
    if new_debts:
        found.append("new_debt_elsewhere")
    window_start = end_of(as_of - timedelta(days=APPLICATIONS_WINDOW_DAYS))
    applications = db.execute(
        select(func.count())
        .select_from(LoanApplication)
        .where(
            LoanApplication.customer_id == loan.customer_id,
            LoanApplication.created_at > window_start,
            LoanApplication.created_at <= end_of(as_of),
        )
    ).scalar_one()
    if applications >= MANY_APPLICATIONS:
        found.append("many_applications")
    values = [
        v
        for (v,) in db.execute(
            select(CollateralValuation.value_minor)
            .where(CollateralValuation.loan_id == loan.id, CollateralValuation.valued_on <= as_of)
            .order_by(CollateralValuation.valued_on, CollateralValuation.created_at)
        ).all()
    ]
    if len(values) >= 2 and values[-1] < values[0] * COLLATERAL_DROP_SHARE:
        found.append("collateral_drop")
    return found
