"""A portfolio with history for a demo or a measurement (``branchdesk loans simulate``).

Months back from today, a branch's teller takes applications for its customers (the manager
decides referrals), pays the loans out and the borrowers repay through the real services, so
every amount is a ledger posting and every figure on the portfolio page comes from the same code
as in production. The daily job runs weekly and at each month end (penalty, accrual, snapshots,
watch list). Each loan follows one behaviour, drawn with a fixed seed:

* ``on_time`` (70 %): pays each instalment on its due date;
* ``late`` (15 %): pays what is due 40 days after each due date (with penalty);
* ``stops`` (10 %): pays three instalments on time, then nothing;
* ``prepays`` (5 %): pays on time and repays everything six months in.

Before each repayment the same amount arrives on the borrower's account as a deposit (their
income). Generated history uses the ``AllowAll`` pre-posting check: it is demo data, written by an
operator's command, never by a user.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.identity.service import principal_for
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import Account, AccountStatus, AccountType
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.loans import service
from branchdesk.loans.models import Loan, LoanStatus
from branchdesk.loans.schedule import add_months
from branchdesk.loans.schemas import LoanApplicationCreate
from branchdesk.loans.service.servicing import instalments_of, owed_on
from branchdesk.loans.service.watchlist import update_watch_list

BEHAVIOURS = (("on_time", 70), ("late", 15), ("stops", 10), ("prepays", 5))
LATE_DAYS = 40
_ALLOW = AllowAll()


@dataclass
class Simulated:
    loans: int
    repayments: int
    daily_runs: int
    behaviours: dict[str, int]


@dataclass
class _Plan:
    loan: Loan
    behaviour: str
    pay_days: set[date]  # the days this borrower pays what is due
    paid_instalments: int = 0


def _at(day: date) -> datetime:
    return datetime.combine(day, time(3), tzinfo=UTC)


def _staff(db: Session, branch: Branch, role: Role) -> Principal:
    user = db.execute(
        select(User)
        .join(user_branches, user_branches.c.user_id == User.id)
        .where(user_branches.c.branch_id == branch.id, User.role == role)
        .order_by(User.username)
        .limit(1)
    ).scalar_one_or_none()
    if user is None:
        raise RuleViolation(f"branch {branch.code} has no {role}", field="branch")
    return principal_for(db, user)


def _borrowers(db: Session, branch: Branch, currency: str, today: date) -> list[tuple[str, str]]:
    rows = db.execute(
        select(Customer.customer_number, Account.number)
        .join(Account, Account.customer_id == Customer.id)
        .where(
            Customer.home_branch_id == branch.id,
            Customer.id_expires_on > today + timedelta(days=400),
            Customer.birth_on.between(
                today.replace(year=today.year - 55), today.replace(year=today.year - 25)
            ),
            Account.type == AccountType.current,
            Account.currency == currency,
            Account.status == AccountStatus.active,
        )
        .order_by(Customer.customer_number)
    ).all()
    if not rows:
        raise RuleViolation(
            f"branch {branch.code} has no customer with a {currency} current account",
            field="branch",
        )
    return [(str(c), str(a)) for c, a in rows]


def simulate(
    db: Session, *, branch_code: str, loans: int, months: int, seed: int, today: date,
    product_code: str = "PERSONAL",
) -> Simulated:  # fmt: skip
    """Write ``loans`` loans paid out over the last ``months`` months and their history.

    Raises RuleViolation (unknown branch, no staff or borrowers), ProductNotFound."""
    branch = db.execute(
        select(Branch).where(Branch.code == branch_code.strip().upper())
    ).scalar_one_or_none()
    if branch is None:
        raise RuleViolation(f"unknown branch {branch_code}", field="branch")
    product = service.find_product(db, product_code)
    teller = _staff(db, branch, Role.teller)
    manager = _staff(db, branch, Role.branch_manager)
    borrowers = _borrowers(db, branch, product.currency, today)
    rng = random.Random(seed)
    start = add_months(today, -months)
    tag = uuid.uuid4().hex[:8]  # a second simulation never collides with the first's keys
    payouts = sorted(start + timedelta(days=rng.randrange(0, max(1, (today - start).days - 20)))
                     for _ in range(loans))  # fmt: skip
    plans: list[_Plan] = []
    repayments = runs = 0
    run_days = {start + timedelta(days=7 * k) for k in range((today - start).days // 7 + 1)}
    run_days |= {add_months(start.replace(day=1), k + 1) - timedelta(days=1) for k in range(months)}
    run_days = {d for d in run_days if start <= d <= today} | {today}
    day = start
    next_payout = 0
    while day <= today:
        now = _at(day)
        while next_payout < len(payouts) and payouts[next_payout] <= day:
            try:
                with db.begin_nested():
                    plan = _pay_out(db, rng, borrowers, product.code, teller, manager, now, tag,
                                    next_payout)  # fmt: skip
            except DomainError:
                plan = None  # e.g. the applicant's age at maturity: this one is not lent
            if plan is not None:
                plans.append(plan)
            next_payout += 1
        for plan in plans:
            if day in plan.pay_days:
                repayments += _repay_due(db, plan, teller, day, tag)
        if day in run_days:
            service.run_daily(db, as_of=day, now=now, branch_ids=[branch.id])
            update_watch_list(db, as_of=day, now=now, branch_ids=[branch.id])
            runs += 1
        day += timedelta(days=1)
    counts = {name: sum(1 for p in plans if p.behaviour == name) for name, _ in BEHAVIOURS}
    return Simulated(loans=len(plans), repayments=repayments, daily_runs=runs, behaviours=counts)


def _pay_out(
    db: Session, rng: random.Random, borrowers: list[tuple[str, str]], product_code: str,
    teller: Principal, manager: Principal, now: datetime, tag: str, n: int,
) -> _Plan | None:  # fmt: skip
    customer_number, account = borrowers[rng.randrange(len(borrowers))]
    amount = rng.randrange(5_000, 40_001, 500) * 100
    data = LoanApplicationCreate(
        customer_number=customer_number, product_code=product_code, amount_minor=amount,
        term_months=rng.choice((12, 18, 24, 36)),
        monthly_income_minor=rng.randrange(15, 40) * 1_000_00,
        monthly_obligations_minor=rng.choice((0, 0, 1_000_00, 3_000_00)),
        checking_account_status=rng.choice(("no checking account", "200 or more", "0 to 200")),
        savings_account=rng.choice(("1000 or more", "500 to 1000", "100 to 500")),
        housing=rng.choice(("own", "rent")),
        purpose=rng.choice(("car (used)", "furniture", "repairs")),
        employment_years=Decimal(rng.randrange(2, 20)), residence_years=rng.randrange(1, 10),
        documents=["id_document", "income_proof"], has_consent=True,
        idempotency_key=f"sim-{tag}-{n}-app",
    )  # fmt: skip
    application, _ = service.create_application(db, data=data, actor=teller, now=now)
    if application.status == "referred":
        service.decide_application(
            db, application_id=application.id, approve=True, note="simulated", actor=manager,
            now=now,
        )  # fmt: skip
    if application.status != "approved":
        return None
    loan, _ = service.disburse(
        db, application_id=application.id, account=account, idempotency_key=f"sim-{tag}-{n}-dis",
        actor=teller, now=now, compliance=_ALLOW,
    )  # fmt: skip
    if loan.status != LoanStatus.active:
        return None
    roll, behaviour = rng.randrange(100), "on_time"
    for name, share in BEHAVIOURS:
        if roll < share:
            behaviour = name
            break
        roll -= share
    lag = LATE_DAYS if behaviour == "late" else 0
    due_days = [r.due_on for r in instalments_of(db, loan.id)]
    if behaviour == "stops":
        due_days = due_days[:3]
    pay_days = {d + timedelta(days=lag) for d in due_days}
    if behaviour == "prepays":
        payoff = add_months(loan.disbursed_on, 6)
        pay_days = {d for d in pay_days if d < payoff} | {payoff}
    return _Plan(loan, behaviour, pay_days)


def _repay_due(db: Session, plan: _Plan, teller: Principal, day: date, tag: str) -> int:
    """Pay what is due on ``day`` (everything, for the prepayer's last day); 1 if paid."""
    loan = plan.loan
    if loan.status != LoanStatus.active:
        return 0
    owed = owed_on(loan, instalments_of(db, loan.id), day)
    amount = owed.penalty_minor + owed.interest_due_minor + owed.principal_due_minor
    if plan.behaviour == "prepays" and day == max(plan.pay_days):
        amount += owed.principal_not_due_minor
    if amount <= 0:
        return 0
    now = _at(day)
    key = f"sim-{tag}-{loan.number}-{day.isoformat()}"
    account = db.get(Account, loan.account_id)
    assert account is not None
    try:
        with db.begin_nested():
            ledger.post_deposit(
                db, account=account.number, amount_minor=amount, currency=loan.currency,
                idempotency_key=f"{key}-in", actor=teller, now=now, compliance=_ALLOW,
                memo="salary",
            )  # fmt: skip
            service.repay(
                db, number=loan.number, amount_minor=amount, currency=loan.currency,
                idempotency_key=key, actor=teller, now=now, compliance=_ALLOW,
            )  # fmt: skip
    except DomainError:
        return 0
    plan.paid_instalments += 1
    return 1
