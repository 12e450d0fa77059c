"""Post-loan work of the daily job: interest accrual postings, floating-rate re-pricing, DPD
snapshots (roll rates, vintage curves, exposure) and the early-warning signals of the watch list;
the monitoring inputs (collateral revaluation, declared debts) refuse bad input and write nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, RuleViolation
from branchdesk.core.events import Event
from branchdesk.core.security import Signer
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import Account, Entry
from branchdesk.loans import service
from branchdesk.loans.models import (
    CollateralValuation,
    DeclaredDebt,
    Loan,
    LoanAlert,
    LoanDpdSnapshot,
    LoanInstalment,
    LoanInterestAccrual,
    ReferenceRate,
)
from branchdesk.loans.schedule import RepaymentMethod, build_schedule
from branchdesk.loans.schemas import CollateralValuationBody, DeclaredDebtBody
from branchdesk.loans.service import monitoring
from branchdesk.loans.service.accrual import set_reference_rate
from branchdesk.loans.service.history import portfolio_history
from branchdesk.loans.service.signals import signals_of
from branchdesk.loans.service.watchlist import update_watch_list
from tests.loans.helpers import (
    ALLOW,
    GOOD,
    World,
    application_body,
    key,
    make_world,
    personal_product,
)

START = datetime(2026, 3, 2, 3, tzinfo=UTC)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, tzinfo=UTC)


def _loan(db: Session, world: World, *, product: str | None = None, now: datetime = START) -> Loan:
    application, _ = service.create_application(
        db, data=application_body(world, GOOD, product_code=product or world.product.code),
        actor=world.teller, now=now,
    )  # fmt: skip
    assert application.status == "approved", application.decision_reasons
    loan, _ = service.disburse(
        db, application_id=application.id, account=world.account.number,
        idempotency_key=key("dis"), actor=world.teller, now=now, compliance=ALLOW,
    )  # fmt: skip
    return loan


def _system(db: Session, kind: str, world: World) -> int:
    account = db.execute(
        select(Account).where(Account.system_key.like(f"{kind}:{world.branch.id}:%"))
    ).scalar_one_or_none()
    if account is None:
        return 0
    db.refresh(account)
    return account.balance_minor


def _rows(db: Session, loan: Loan) -> list[LoanInstalment]:
    return list(
        db.execute(
            select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan.id)
            .order_by(LoanInstalment.number)
        ).scalars()
    )


# --- interest accrual ---------------------------------------------------------------------------


def test_interest_accrues_daily_into_the_receivable_and_a_repayment_clears_it(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    loan = _loan(db, world)
    first = _rows(db, loan)[0]
    assert first.due_on == date(2026, 4, 2)  # 31 days after the pay-out
    expected = int(
        (Decimal(first.interest_minor) * 15 / 31).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    )
    mid = date(2026, 3, 17)
    result = service.run_daily(db, as_of=mid, now=at(mid))
    assert result.interest_accrued_minor == expected
    db.refresh(loan)
    assert (loan.interest_recognized_minor, loan.interest_receivable_minor) == (expected, expected)
    assert _system(db, "loan_interest_receivable", world) == -expected
    assert _system(db, "loan_interest_income", world) == expected
    accrual = db.execute(select(LoanInterestAccrual)).scalar_one()
    assert (accrual.accrued_on, accrual.amount_minor) == (mid, expected)
    legs = db.execute(
        select(Entry.amount_minor).where(Entry.posting_id == accrual.posting_id)
    ).scalars()
    assert sorted(legs) == [-expected, expected]

    again = service.run_daily(db, as_of=mid, now=at(mid))  # the same day: nothing more
    assert again.interest_accrued_minor == 0
    assert db.execute(select(func.count()).select_from(LoanInterestAccrual)).scalar_one() == 1

    due = date(2026, 4, 2)  # on the due date the whole instalment's interest has accrued
    service.run_daily(db, as_of=due, now=at(due))
    db.refresh(loan)
    assert loan.interest_receivable_minor == first.interest_minor
    service.repay(
        db, number=loan.number, amount_minor=first.principal_minor + first.interest_minor,
        currency="CNY", idempotency_key=key("pay"), actor=world.teller, now=at(due),
        compliance=ALLOW,
    )  # fmt: skip
    db.refresh(loan)
    assert loan.interest_receivable_minor == 0
    assert loan.interest_recognized_minor == first.interest_minor
    assert _system(db, "loan_interest_receivable", world) == 0
    assert _system(db, "loan_interest_income", world) == first.interest_minor  # no double count


# --- floating rates -----------------------------------------------------------------------------


def _floating(db: Session, world: World) -> None:
    service.create_product(
        db,
        data=personal_product(
            "FLOAT", rate_type="floating", reference_rate_name="LPR 1Y",
            reference_rate=Decimal("0.03"), margin=Decimal("0.02"),
        ),
        actor=world.admin, now=START,
    )  # fmt: skip


def test_a_new_reference_rate_reprices_floating_loans_from_its_effective_date(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    _floating(db, world)
    loan = _loan(db, world, product="FLOAT")
    assert (loan.annual_rate, loan.reference_rate_name, loan.margin) == ("0.05", "LPR 1Y", "0.02")
    before = _rows(db, loan)
    set_reference_rate(
        db, name="LPR 1Y", rate=Decimal("0.04"), effective_on=date(2026, 4, 10),
        actor=world.admin, now=START,
    )  # fmt: skip
    day_before = date(2026, 4, 9)
    assert service.run_daily(db, as_of=day_before, now=at(day_before)).repriced == 0
    db.refresh(loan)
    assert loan.annual_rate == "0.05"

    effective = date(2026, 4, 10)
    assert service.run_daily(db, as_of=effective, now=at(effective)).repriced == 1
    db.refresh(loan)
    assert Decimal(loan.annual_rate) == Decimal("0.06")
    after = _rows(db, loan)
    assert after[0].interest_minor == before[0].interest_minor  # due before: unchanged
    rebuilt = build_schedule(
        principal_minor=loan.outstanding_principal_minor - before[0].principal_minor,
        annual_rate=Decimal("0.06"), term_months=11, method=RepaymentMethod.equal_instalment,
        first_due_on=before[1].due_on,
    )  # fmt: skip
    assert [(r.due_on, r.principal_minor, r.interest_minor) for r in after[1:]] == [
        (r.due_on, r.principal_minor, r.interest_minor) for r in rebuilt
    ]
    assert sum(r.principal_minor for r in after) == loan.principal_minor
    product = service.find_product(db, "FLOAT")
    assert product.reference_rate == "0.04"  # new applications quote the new rate
    events = db.execute(select(Event.payload).where(Event.type == "loans.repriced")).scalars()
    assert [(e["from"], e["to"]) for e in events] == [("0.05", "0.06")]
    again = date(2026, 4, 11)
    assert service.run_daily(db, as_of=again, now=at(again)).repriced == 0


def test_reference_rate_bad_input_writes_nothing(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    _floating(db, world)
    with pytest.raises(RuleViolation) as unknown:
        set_reference_rate(
            db, name="SHIBOR", rate=Decimal("0.02"), effective_on=date(2026, 3, 1),
            actor=world.admin, now=START,
        )  # fmt: skip
    assert unknown.value.field == "name"
    set_reference_rate(
        db, name="LPR 1Y", rate=Decimal("0.035"), effective_on=date(2026, 3, 1),
        actor=world.admin, now=START,
    )  # fmt: skip
    with pytest.raises(Conflict) as twice:
        set_reference_rate(
            db, name="LPR 1Y", rate=Decimal("0.02"), effective_on=date(2026, 3, 1),
            actor=world.admin, now=START,
        )  # fmt: skip
    assert twice.value.code == "reference_rate_exists"
    rates = db.execute(select(ReferenceRate.name, ReferenceRate.rate)).all()
    assert [tuple(r) for r in rates] == [("LPR 1Y", "0.035")]
    assert service.find_product(db, "FLOAT").reference_rate == "0.035"  # effective already


# --- history: snapshots, roll rates, vintage, exposure ------------------------------------------


def test_snapshots_give_roll_rates_vintage_curves_and_exposure(db: Session, signer: Signer) -> None:
    world = make_world(db, signer, funds_minor=3_000_000)
    paying, late = _loan(db, world), _loan(db, world)
    for day in (date(2026, 3, 31), date(2026, 4, 20), date(2026, 4, 30), date(2026, 5, 5)):
        if day == date(2026, 4, 20):
            first = _rows(db, paying)[0]
            service.repay(
                db, number=paying.number, amount_minor=first.principal_minor
                + first.interest_minor + paying.penalty_due_minor, currency="CNY",
                idempotency_key=key("pay"), actor=world.teller, now=at(day), compliance=ALLOW,
            )  # fmt: skip
        service.run_daily(db, as_of=day, now=at(day))
    assert db.execute(select(func.count()).select_from(LoanDpdSnapshot)).scalar_one() == 8
    db.refresh(late)
    assert (late.days_past_due, late.bucket) == (33, "31-60")

    history = portfolio_history(db, actor=world.manager, now=at(date(2026, 5, 5)))
    march_april = history.roll_rates[0]
    assert (march_april.from_month, march_april.to_month) == ("2026-03", "2026-04")
    assert march_april.counts["current"] == {"current": 1, "1-30": 1, "31-60": 0, "61-90": 0,
                                             "90+": 0}  # fmt: skip
    assert march_april.rates["current"]["1-30"] == 0.5
    assert march_april.rates["1-30"]["current"] is None  # nobody started there
    april_may = history.roll_rates[1]
    assert april_may.counts["1-30"]["31-60"] == 1  # the late loan rolled on
    assert april_may.counts["current"]["1-30"] == 1  # the payer missed its second instalment

    (cohort,) = history.vintages
    assert (cohort.cohort, cohort.loans, cohort.currency) == ("2026-03", 2, "CNY")
    assert cohort.dpd30[:3] == [0.0, 0.0, 0.5]  # half the principal 30+ by month 2 on book
    assert cohort.dpd30[3:] == [None] * 10  # not observed yet
    assert cohort.dpd90[:3] == [0.0, 0.0, 0.0]

    kinds = [r for r in history.exposure if r.dimension == "product_kind"]
    db.refresh(paying)
    assert [(r.segment, r.loans, r.outstanding_minor, r.overdue_minor) for r in kinds] == [
        ("personal", 2, paying.outstanding_principal_minor + late.outstanding_principal_minor,
         paying.outstanding_principal_minor + late.outstanding_principal_minor),
    ]  # fmt: skip
    segments = [r.segment for r in history.exposure if r.dimension == "segment"]
    assert segments == ["unsegmented"]


# --- early-warning signals ----------------------------------------------------------------------


def test_every_signal_is_found_and_the_watch_list_gives_the_reasons(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer, funds_minor=0)
    for day in (date(2026, 3, 5), date(2026, 4, 5)):  # salary-sized credits (income 20,000.00)
        ledger.post_deposit(
            db, account=world.account.number, amount_minor=1_000_000, currency="CNY",
            idempotency_key=key("salary"), actor=world.teller, now=at(day), compliance=ALLOW,
        )  # fmt: skip
    loan = _loan(db, world)
    assert signals_of(db, loan, as_of=date(2026, 4, 1)) == []
    for n in range(3):  # three applications within the 30 days
        service.create_application(
            db, data=application_body(world, GOOD), actor=world.teller,
            now=at(date(2026, 5, 1 + n)),
        )  # fmt: skip
    monitoring.declare_debt(
        db, number=loan.number, actor=world.teller, now=at(date(2026, 5, 10)),
        data=DeclaredDebtBody(lender="Other Bank", monthly_payment_minor=300_000,
                              declared_on=date(2026, 5, 10)),
    )  # fmt: skip
    for day, value in ((date(2026, 3, 2), 1_000_000), (date(2026, 5, 1), 790_000)):
        monitoring.record_valuation(
            db, number=loan.number, actor=world.manager, now=at(date(2026, 5, 10)),
            data=CollateralValuationBody(value_minor=value, valued_on=day),
        )  # fmt: skip
    ledger.post_withdrawal(
        db, account=world.account.number, amount_minor=2_000_000, currency="CNY",
        idempotency_key=key("cash"), actor=world.teller, now=at(date(2026, 5, 12)),
        compliance=ALLOW,
    )  # fmt: skip
    as_of = date(2026, 5, 20)
    service.run_daily(db, as_of=as_of, now=at(as_of))
    db.refresh(loan)
    assert (loan.days_past_due, loan.bucket) == (48, "31-60")
    signals = signals_of(db, loan, as_of=as_of)
    assert signals == [
        "dpd_rising", "missed_payment", "balance_drop", "salary_stopped", "new_debt_elsewhere",
        "many_applications", "collateral_drop",
    ]  # fmt: skip
    assert update_watch_list(db, as_of=as_of, now=at(as_of)) == 1
    alert = db.execute(select(LoanAlert)).scalar_one()
    assert alert.score == 100  # 40 for the bucket + 110 of signals, capped
    assert alert.reasons == ["bucket:31-60", *signals]


def test_salary_signal_needs_regular_credits_before_the_silence(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer, funds_minor=0)
    ledger.post_deposit(
        db, account=world.account.number, amount_minor=1_000_000, currency="CNY",
        idempotency_key=key("salary"), actor=world.teller, now=at(date(2026, 3, 5)),
        compliance=ALLOW,
    )  # fmt: skip
    ledger.post_deposit(  # a second credit in the same month: still not a regular income
        db, account=world.account.number, amount_minor=1_000_000, currency="CNY",
        idempotency_key=key("salary"), actor=world.teller, now=at(date(2026, 3, 25)),
        compliance=ALLOW,
    )  # fmt: skip
    loan = _loan(db, world)
    assert "salary_stopped" not in signals_of(db, loan, as_of=date(2026, 5, 20))
    for day in (date(2026, 3, 20), date(2026, 4, 6)):  # big pay-outs of other loans: not income
        application, _ = service.create_application(
            db, data=application_body(world, GOOD, amount_minor=1_500_000), actor=world.teller,
            now=at(day),
        )  # fmt: skip
        service.disburse(
            db, application_id=application.id, account=world.account.number,
            idempotency_key=key("dis"), actor=world.teller, now=at(day), compliance=ALLOW,
        )  # fmt: skip
    assert "salary_stopped" not in signals_of(db, loan, as_of=date(2026, 5, 20))


def test_monitoring_inputs_refuse_bad_input_and_write_nothing(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    loan = _loan(db, world)
    today = START
    cases = [
        (CollateralValuationBody(value_minor=5, valued_on=date(2026, 3, 3)), "valued_on"),  # future
        (CollateralValuationBody(value_minor=5, valued_on=date(2026, 3, 1)), "valued_on"),  # early
    ]
    for body, field in cases:
        with pytest.raises(RuleViolation) as refused:
            monitoring.record_valuation(
                db, number=loan.number, data=body, actor=world.teller, now=today
            )
        assert refused.value.field == field
    with pytest.raises(RuleViolation) as future_debt:
        monitoring.declare_debt(
            db, number=loan.number, actor=world.teller, now=today,
            data=DeclaredDebtBody(lender="X", monthly_payment_minor=1,
                                  declared_on=date(2026, 3, 9)),
        )  # fmt: skip
    assert future_debt.value.field == "declared_on"
    assert db.execute(select(func.count()).select_from(CollateralValuation)).scalar_one() == 0
    assert db.execute(select(func.count()).select_from(DeclaredDebt)).scalar_one() == 0


# --- the demo history -----------------------------------------------------------------------------


def test_simulated_history_goes_through_the_services_and_fills_the_charts(
    db: Session, signer: Signer
) -> None:
    from branchdesk.loans.simulate import simulate

    world = make_world(db, signer, funds_minor=0)
    with pytest.raises(RuleViolation) as unknown:
        simulate(db, branch_code="NOPE", loans=1, months=1, seed=1, today=date(2026, 7, 15))
    assert unknown.value.field == "branch"
    done = simulate(
        db, branch_code=world.branch.code, loans=6, months=4, seed=3, today=date(2026, 7, 15)
    )
    loans = list(db.execute(select(Loan)).scalars())
    assert done.loans == len(loans) == 6
    assert sum(done.behaviours.values()) == 6
    assert done.repayments > 0
    unbalanced = db.execute(
        select(Entry.posting_id)
        .group_by(Entry.posting_id)
        .having(func.sum(Entry.amount_minor) != 0)
    ).all()
    assert unbalanced == []
    assert _system(db, "loan_assets", world) == -sum(
        loan.outstanding_principal_minor for loan in loans
    )
    assert _system(db, "loan_interest_receivable", world) == -sum(
        loan.interest_receivable_minor for loan in loans
    )
    history = portfolio_history(db, actor=world.manager, now=at(date(2026, 7, 15)))
    assert [(r.from_month, r.to_month) for r in history.roll_rates] == [
        ("2026-03", "2026-04"), ("2026-04", "2026-05"), ("2026-05", "2026-06"),
        ("2026-06", "2026-07"),
    ]  # fmt: skip
    assert sum(v.loans for v in history.vintages) == 6
