"""Loans services: applications decided by the rules, maker-checker on referrals, disbursement and
repayment postings (balanced, allocated exactly), prepayment, days past due and penalty."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, Forbidden, RuleViolation
from branchdesk.core.events import Event
from branchdesk.core.jobs import jobs
from branchdesk.core.money import format_money
from branchdesk.core.notify import render_template
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.ledger.models import Account, Entry, Posting
from branchdesk.loans import service
from branchdesk.loans.jobs import daily_job
from branchdesk.loans.models import (
    Loan,
    LoanApplication,
    LoanInstalment,
    LoanPenaltyAccrual,
)
from branchdesk.loans.rules import Bucket, daily_penalty_minor, watch_score
from branchdesk.loans.schedule import annuity_payment_minor
from branchdesk.loans.service.common import OwnApproval
from branchdesk.loans.service.scoring import assess, current_model
from branchdesk.loans.service.watchlist import (
    AlertAction,
    act_on_alert,
    list_alerts,
    update_watch_list,
)
from tests.factories import NOW
from tests.loans.helpers import (
    ALLOW,
    GOOD,
    MIDDLE,
    POOR,
    World,
    application_body,
    balance,
    entries_sum,
    key,
    make_world,
)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


def _disbursed(db: Session, world: World, **overrides: object) -> Loan:
    application, _ = service.create_application(
        db, data=application_body(world, GOOD, **overrides), actor=world.teller, now=NOW
    )
    assert application.status == "approved"
    loan, _ = service.disburse(
        db, application_id=application.id, account=world.account.number,
        idempotency_key=key("dis"), actor=world.teller, now=NOW, compliance=ALLOW,
    )  # fmt: skip
    return loan


def test_good_applicant_is_approved_with_score_limit_and_reasons(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    application, replay = service.create_application(
        db, data=application_body(world, GOOD), actor=world.teller, now=NOW
    )
    assert not replay
    read = service.application_read(db, application)
    assert (read.status, read.outcome) == ("approved", "approve")
    assert read.decision_reasons == ["score_and_affordability_pass"]
    assert read.score >= 560
    assert read.monthly_payment_minor == annuity_payment_minor(300_000, Decimal("0.12"), 12)
    assert read.dsr == Decimal("0.0133")  # 26,655 / 2,000,000
    # half of the income, 12 months at 12 %: the annuity of the limit fits 1,000,000 a month
    assert annuity_payment_minor(read.credit_limit_minor, Decimal("0.12"), 12) <= 1_000_000
    assert annuity_payment_minor(read.credit_limit_minor + 1, Decimal("0.12"), 12) > 1_000_000
    assert read.reference.startswith("LA-2026-")
    # the same key and body replays; nothing new is written
    again, replay = service.create_application(
        db, data=application_body(world, GOOD, idempotency_key=application.idempotency_key),
        actor=world.teller, now=NOW,
    )  # fmt: skip
    assert replay
    assert again.id == application.id


def test_middle_applicant_is_referred_and_poor_one_declined(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    middle, _ = service.create_application(
        db, data=application_body(world, MIDDLE), actor=world.teller, now=NOW
    )
    assert (middle.status, middle.decision_reasons) == ("referred", ["score_in_refer_band"])
    assert [r["feature"] for r in middle.score_reasons][:2] == [
        "checking_account_status",
        "savings_account",
    ]
    poor, _ = service.create_application(
        db, data=application_body(world, POOR), actor=world.teller, now=NOW
    )
    assert (poor.status, poor.decision_reasons) == ("declined", ["score_below_decline"])
    assert poor.credit_limit_minor == 0


def test_policy_exclusions_and_affordability_decline(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    world.customer.id_expires_on = date(2026, 1, 1)
    db.flush()
    expired, _ = service.create_application(
        db, data=application_body(world, GOOD, monthly_obligations_minor=1_000_000),
        actor=world.teller, now=NOW,
    )  # fmt: skip
    assert expired.status == "declined"
    assert expired.decision_reasons == ["kyc_expired", "dsr_above_limit"]


def test_missing_documents_and_amount_above_limit_refer(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    application, _ = service.create_application(
        db, data=application_body(world, GOOD, documents=["id_document"],
                                  monthly_income_minor=100_000, amount_minor=500_000),
        actor=world.teller, now=NOW,
    )  # fmt: skip
    assert application.status == "referred"
    assert "documents_missing" in application.decision_reasons
    read = service.application_read(db, application)
    assert read.documents_missing == ["income_proof"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount_minor": 99_999}, "amount_minor"),
        ({"amount_minor": 50_000_001}, "amount_minor"),
        ({"term_months": 61}, "term_months"),
        ({"product_code": "NOPE"}, "product_code"),
        ({"customer_number": "0000000000"}, "customer_number"),
    ],
)
def test_application_outside_the_product_is_refused_and_nothing_written(
    db: Session, signer: Signer, overrides: dict[str, object], field: str
) -> None:
    world = make_world(db, signer)
    before = _count(db, LoanApplication)
    with pytest.raises(RuleViolation) as caught:
        service.create_application(
            db, data=application_body(world, GOOD, **overrides), actor=world.teller, now=NOW
        )
    assert caught.value.field == field
    assert _count(db, LoanApplication) == before


def test_referral_maker_checker(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    manager_made, _ = service.create_application(
        db, data=application_body(world, MIDDLE), actor=world.manager, now=NOW
    )
    audits = _count(db, AuditEntry)
    with pytest.raises(OwnApproval):
        service.decide_application(
            db, application_id=manager_made.id, approve=True, note="", actor=world.manager,
            now=NOW,
        )  # fmt: skip
    db.refresh(manager_made)
    assert (manager_made.status, manager_made.approver_id) == ("referred", None)
    assert _count(db, AuditEntry) == audits
    with pytest.raises(Forbidden):
        service.decide_application(
            db, application_id=manager_made.id, approve=True, note="", actor=world.teller, now=NOW
        )
    decided = service.decide_application(
        db, application_id=manager_made.id, approve=True, note="known customer",
        actor=world.other_manager, now=NOW,
    )  # fmt: skip
    assert (decided.status, decided.approver_id) == ("approved", world.other_manager.user_id)
    assert _count(db, AuditEntry) == audits + 1


def test_disbursement_is_one_balanced_posting(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    before = balance(db, world.account.id)
    loan = _disbursed(db, world)
    assert loan.fee_minor == 3_000  # 1 % of 300,000
    assert balance(db, world.account.id) == before + 297_000
    entries = (
        db.execute(select(Entry).where(Entry.posting_id == loan.disbursement_posting_id))
        .scalars()
        .all()
    )
    assert sorted(e.amount_minor for e in entries) == [-300_000, 3_000, 297_000]
    assert sum(e.amount_minor for e in entries) == 0
    assets = db.execute(
        select(Account).where(Account.system_key.like(f"loan_assets:{world.branch.id}:%"))
    ).scalar_one()
    assert balance(db, assets.id) == -300_000 == entries_sum(db, assets.id)
    rows = service.loan_read(db, loan).instalments
    assert len(rows) == 12
    assert sum(r.principal_minor for r in rows) == 300_000
    assert rows[0].due_on == date(2026, 4, 2)
    # paying out twice is refused; the replay with the same key returns the loan
    application = db.get(LoanApplication, loan.application_id)
    assert application is not None
    assert application.status == "disbursed"


def test_repayment_allocates_interest_then_principal_and_posts_it(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    payment = annuity_payment_minor(300_000, Decimal("0.12"), 12)
    before = balance(db, world.account.id)
    repayment, _ = service.repay(
        db, number=loan.number, amount_minor=payment, currency="CNY",
        idempotency_key=key("pay"), actor=world.teller, now=_at(date(2026, 4, 2)),
        compliance=ALLOW,
    )  # fmt: skip
    assert (repayment.penalty_minor, repayment.interest_minor) == (0, 3_000)
    assert (repayment.principal_minor, repayment.prepayment_minor) == (payment - 3_000, 0)
    assert balance(db, world.account.id) == before - payment
    legs = (
        db.execute(select(Entry.amount_minor).where(Entry.posting_id == repayment.posting_id))
        .scalars()
        .all()
    )
    assert sorted(legs) == sorted([-payment, 3_000, payment - 3_000])
    db.refresh(loan)
    assert loan.outstanding_principal_minor == 300_000 - (payment - 3_000)
    first = service.loan_read(db, loan).instalments[0]
    assert first.is_paid


def test_overdue_days_buckets_and_penalty_then_penalty_paid_first(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    payment = annuity_payment_minor(300_000, Decimal("0.12"), 12)
    due = date(2026, 4, 2)
    result = service.run_daily(db, as_of=due, now=_at(due), branch_ids=[world.branch.id])
    db.refresh(loan)
    assert (loan.days_past_due, loan.bucket, loan.penalty_due_minor) == (0, "current", 0)
    as_of = due + timedelta(days=10)
    result = service.run_daily(db, as_of=as_of, now=_at(as_of), branch_ids=[world.branch.id])
    db.refresh(loan)
    expected_penalty = 10 * daily_penalty_minor(payment, Decimal("0.18"))
    assert (loan.days_past_due, loan.bucket) == (10, "1-30")
    assert loan.penalty_due_minor == expected_penalty
    assert (result.overdue, result.days_accrued) == (1, 10)
    # the same date again changes nothing
    again = service.run_daily(db, as_of=as_of, now=_at(as_of), branch_ids=[world.branch.id])
    db.refresh(loan)
    assert (again.days_accrued, loan.penalty_due_minor) == (0, expected_penalty)
    assert (
        len(
            db.execute(
                select(LoanPenaltyAccrual).where(LoanPenaltyAccrual.loan_id == loan.id)
            ).all()
        )
        == 10
    )
    # 31 days: next bucket
    later = due + timedelta(days=31)
    service.run_daily(db, as_of=later, now=_at(later), branch_ids=[world.branch.id])
    db.refresh(loan)
    assert (loan.days_past_due, loan.bucket) == (31, "31-60")
    penalty = loan.penalty_due_minor
    repayment, _ = service.repay(
        db, number=loan.number, amount_minor=penalty + 1_000, currency="CNY",
        idempotency_key=key("pay"), actor=world.teller, now=_at(later), compliance=ALLOW,
    )  # fmt: skip
    assert (repayment.penalty_minor, repayment.interest_minor, repayment.principal_minor) == (
        penalty, 1_000, 0,
    )  # fmt: skip
    db.refresh(loan)
    assert loan.penalty_due_minor == 0
    assert loan.days_past_due == 31  # still behind: the instalment is not fully paid


def test_prepayment_reschedules_and_full_payoff_closes(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    service.repay(
        db, number=loan.number, amount_minor=100_000, currency="CNY", idempotency_key=key("pp"),
        actor=world.teller, now=_at(date(2026, 3, 10)), compliance=ALLOW,
    )  # fmt: skip
    db.refresh(loan)
    assert loan.outstanding_principal_minor == 200_000
    rows = (
        db.execute(
            select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan.id)
            .order_by(LoanInstalment.number)
        )
        .scalars()
        .all()
    )
    assert len(rows) == 12
    assert sum(r.principal_minor for r in rows) == 200_000
    assert rows[0].interest_minor == 2_000  # 1 % of the reduced balance
    with pytest.raises(RuleViolation) as caught:
        service.repay(
            db, number=loan.number, amount_minor=200_001, currency="CNY",
            idempotency_key=key("pp"), actor=world.teller, now=_at(date(2026, 3, 10)),
            compliance=ALLOW,
        )  # fmt: skip
    assert caught.value.field == "amount_minor"
    service.repay(
        db, number=loan.number, amount_minor=200_000, currency="CNY", idempotency_key=key("pp"),
        actor=world.teller, now=_at(date(2026, 3, 10)), compliance=ALLOW,
    )  # fmt: skip
    db.refresh(loan)
    assert (loan.status, loan.outstanding_principal_minor) == ("closed", 0)
    assets = db.execute(
        select(Account).where(Account.system_key.like(f"loan_assets:{world.branch.id}:%"))
    ).scalar_one()
    assert balance(db, assets.id) == 0


def test_repayment_larger_than_owed_changes_nothing(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    postings = _count(db, Posting)
    before = balance(db, world.account.id)
    with pytest.raises(RuleViolation):
        service.repay(
            db, number=loan.number, amount_minor=300_001, currency="CNY",
            idempotency_key=key("big"), actor=world.teller, now=NOW, compliance=ALLOW,
        )  # fmt: skip
    assert _count(db, Posting) == postings
    assert balance(db, world.account.id) == before


def test_restructuring_needs_another_supervisor_and_rebuilds_the_schedule(
    db: Session, signer: Signer
) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    later = _at(date(2026, 4, 12))  # the first instalment (2 April) is ten days overdue
    request = service.request_restructuring(
        db, number=loan.number, new_term_months=24, reason="lost a job", actor=world.manager,
        now=later,
    )  # fmt: skip
    with pytest.raises(Conflict) as pending:
        service.request_restructuring(
            db, number=loan.number, new_term_months=18, reason="again", actor=world.teller,
            now=later,
        )  # fmt: skip
    assert pending.value.code == "restructuring_pending"
    before = [(r.number, r.principal_minor, r.interest_minor) for r in _rows(db, loan)]
    with pytest.raises(OwnApproval):
        service.decide_restructuring(
            db, restructuring_id=request.id, approve=True, note="", actor=world.manager, now=later
        )
    assert [(r.number, r.principal_minor, r.interest_minor) for r in _rows(db, loan)] == before
    assert request.status == "pending"
    service.decide_restructuring(
        db, restructuring_id=request.id, approve=True, note="ok", actor=world.other_manager,
        now=later,
    )  # fmt: skip
    rows = _rows(db, loan)
    assert len(rows) == 25
    assert (rows[0].principal_minor, rows[0].interest_minor) == (0, 3_000)  # arrears interest stays
    assert rows[1].due_on == date(2026, 5, 12)
    assert sum(r.principal_minor - r.paid_principal_minor for r in rows) == 300_000
    db.refresh(loan)
    assert (loan.term_months, request.status) == (25, "approved")
    service.run_daily(
        db, as_of=date(2026, 4, 13), now=_at(date(2026, 4, 13)), branch_ids=[world.branch.id]
    )
    db.refresh(loan)
    assert loan.days_past_due == 11  # the arrears interest is still unpaid


def _rows(db: Session, loan: Loan) -> list[LoanInstalment]:
    return list(
        db.execute(
            select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan.id)
            .order_by(LoanInstalment.number)
        ).scalars()
    )


def test_customer_is_told_of_pay_out_and_first_overdue_day(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    world.customer.phone = "+886912345678"
    world.customer.preferred_locale = "zh-Hant"
    db.flush()
    loan = _disbursed(db, world)
    service.run_daily(
        db, as_of=date(2026, 4, 5), now=_at(date(2026, 4, 5)), branch_ids=[world.branch.id]
    )
    service.run_daily(
        db, as_of=date(2026, 4, 6), now=_at(date(2026, 4, 6)), branch_ids=[world.branch.id]
    )
    sent = (
        db.execute(
            select(Event.payload)
            .where(Event.type == "notify.requested", Event.aggregate_id == loan.id)
            .order_by(Event.seq)
        )
        .scalars()
        .all()
    )
    assert [(p["template"], p["to_phone"]) for p in sent] == [
        ("loan.disbursed", "+886912345678"),
        ("loan.overdue", "+886912345678"),
    ]
    payment = annuity_payment_minor(300_000, Decimal("0.12"), 12)
    assert render_template("loan.overdue", "zh-Hant", sent[1]["values"]) == (
        f"您的貸款 {loan.number} 有 {format_money(payment, 'CNY')} 已逾期 3 天，"
        "請盡快還款以免產生更多罰息。"
    )
    assert render_template("loan.disbursed", "en", sent[0]["values"]) == (
        f"Loan {loan.number}: CNY 2,970.00 paid into account {world.account.number}. "
        "First payment due 2026-04-02."
    )


def test_watch_list_opens_one_alert_and_records_actions(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    as_of = date(2026, 5, 17)  # 45 days after the first due date, nothing paid
    service.run_daily(db, as_of=as_of, now=_at(as_of), branch_ids=[world.branch.id])
    opened = update_watch_list(db, as_of=as_of, now=_at(as_of), branch_ids=[world.branch.id])
    assert opened == 1
    alerts = list_alerts(db, actor=world.manager)
    assert [(a.loan_number, a.score, a.reasons) for a in alerts] == [
        (loan.number, 60, ["bucket:31-60", "dpd_rising", "missed_payment"])
    ]
    again = update_watch_list(db, as_of=as_of, now=_at(as_of), branch_ids=[world.branch.id])
    assert again == 0
    with pytest.raises(Forbidden):
        act_on_alert(
            db, alert_id=alerts[0].id, action=AlertAction.call, outcome="x", close=False,
            actor=world.teller, now=_at(as_of),
        )  # fmt: skip
    called = act_on_alert(
        db, alert_id=alerts[0].id, action=AlertAction.call, outcome="will pay Friday",
        close=False, actor=world.manager, now=_at(as_of),
    )  # fmt: skip
    assert [(x["action"], x["outcome"]) for x in called.actions] == [("call", "will pay Friday")]
    closed = act_on_alert(
        db, alert_id=alerts[0].id, action=AlertAction.restructure, outcome="asked for 24 months",
        close=True, actor=world.manager, now=_at(as_of),
    )  # fmt: skip
    assert closed.status == "closed"
    assert list_alerts(db, actor=world.manager) == []
    with pytest.raises(Conflict):
        act_on_alert(
            db, alert_id=alerts[0].id, action=AlertAction.visit, outcome="late", close=True,
            actor=world.manager, now=_at(as_of),
        )  # fmt: skip


def test_watch_score_weights() -> None:
    assert watch_score(Bucket.current, []) == 0
    assert watch_score(Bucket.current, ["balance_drop", "missed_payment"]) == 30
    assert watch_score(Bucket.dpd_90_plus, ["balance_drop", "dpd_rising"]) == 100


def test_assessment_agrees_with_the_scorecard_on_every_profile() -> None:
    card = current_model().scorecard
    for profile in (GOOD, MIDDLE, POOR):
        features = {
            "duration_months": 24, "credit_amount": 5000, "installment_rate": 3,
            "age_years": 33, **profile,
            "employment_years": None if profile["employment_years"] is None
            else float(profile["employment_years"]),
        }  # fmt: skip
        mine = assess(features)
        reference = card.score(pd.DataFrame([features])).iloc[0]
        assert (mine.score, mine.probability_bad) == (
            reference["score"], reference["probability_bad"],
        )  # fmt: skip
        assert "; ".join(r["text"] for r in mine.reasons) == reference["reasons"]


def test_the_worker_job_runs_the_daily_servicing_once_a_day(db: Session, signer: Signer) -> None:
    world = make_world(db, signer)
    loan = _disbursed(db, world)
    assert "loans.daily" in {job.name for job in jobs()}
    later = _at(date(2026, 4, 12))
    first = daily_job(db, later)
    db.refresh(loan)
    assert (loan.days_past_due, loan.bucket) == (10, "1-30")
    assert first["days_accrued"] >= 10
    assert first["interest_accrued_minor"] > 0
    assert first["snapshots"] == 1
    again = daily_job(db, later + timedelta(hours=1))
    assert (again["days_accrued"], again["alerts"], again["interest_accrued_minor"]) == (0, 0, 0)
    assert again["snapshots"] == 1  # the day's snapshot rewritten, not doubled
