"""Alerts from the ledger: the batch sweep over history and the postings the hook held."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.ledger.models import PostingStatus
from branchdesk.ledger.service import approvals
from branchdesk.ledger.service.compliance import AmlCheck
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.cases.models import (
    AmlAlert,
    AmlAlertPosting,
    AmlCase,
    AmlCaseEvent,
    KycProfile,
)
from branchdesk.risk.cases.sweep import sweep_held_postings, sweep_ledger
from tests.ledger.helpers import make_bank, open_account
from tests.risk.cases_helpers import HOLD, cash_in, day

CONFIG = RuleConfig()


def _alerts(db: Session) -> list[tuple[str, str, list[str], str, bool]]:
    rows = db.execute(
        select(AmlAlert).order_by(AmlAlert.typology, AmlAlert.account_number)
    ).scalars()
    return [(a.typology, a.account_number, a.posting_ids, a.source, a.is_report) for a in rows]


def test_sweep_finds_exact_alerts_and_is_idempotent(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    smurf = open_account(db, bank)
    shop = open_account(db, bank)
    big = open_account(db, bank)
    structured = [
        cash_in(db, bank, smurf, amount, at=day(n))
        for n, amount in ((0, 4_600_000), (1, 4_700_000), (2, 4_800_000))
    ]
    for n in range(3):
        cash_in(db, bank, shop, 120_000, at=day(n))  # ordinary takings: nothing
    large = cash_in(db, bank, big, 6_000_000, at=day(1))

    first = sweep_ledger(db, config=CONFIG, since=None, now=day(5))

    assert _alerts(db) == [
        ("large_cash", big.number, [str(large.id)], "sweep", True),
        ("structuring", smurf.number, [str(p.id) for p in structured], "sweep", False),
    ]
    assert (first.alerts, first.cases_opened) == (2, 1)
    case = db.execute(select(AmlCase)).scalar_one()
    assert (case.customer_id, case.status) == (smurf.customer_id, "new")
    profile = db.get(KycProfile, smurf.customer_id)
    assert profile is not None
    assert (profile.rating, profile.rating_reasons) == (
        "medium",
        ["KYC incomplete: phone", "1 AML alert(s) on file"],
    )
    assert db.get(KycProfile, big.customer_id) is None  # a large-value report is no suspicion
    report = db.execute(select(AmlAlert).where(AmlAlert.is_report)).scalar_one()
    assert report.case_id is None  # a large-value report is filed, not a suspicion

    again = sweep_ledger(db, config=CONFIG, since=None, now=day(6))
    assert (again.alerts, again.cases_opened) == (0, 0)
    assert db.scalar(select(func.count()).select_from(AmlAlert)) == 2
    assert db.scalar(select(func.count()).select_from(AmlCase)) == 1

    # the pattern goes on: the new deposit joins the same alert (one per posting and typology)
    fourth = cash_in(db, bank, smurf, 4_900_000, at=day(3))
    later = sweep_ledger(db, config=CONFIG, since=day(3, 0), now=day(7))
    assert (later.alerts, later.cases_opened) == (0, 0)
    assert db.scalar(select(func.count()).select_from(AmlCase)) == 1
    grown = db.execute(select(AmlAlert).where(AmlAlert.typology == "structuring")).scalar_one()
    assert grown.posting_ids == [*(str(p.id) for p in structured), str(fourth.id)]
    assert grown.case_id == case.id
    last = db.execute(
        select(AmlCaseEvent.action, AmlCaseEvent.note)
        .where(AmlCaseEvent.case_id == case.id)
        .order_by(AmlCaseEvent.occurred_at.desc(), AmlCaseEvent.id)
        .limit(1)
    ).one()
    assert tuple(last) == ("alert_grew", "structuring: 1 more posting(s)")


def test_a_held_posting_gets_its_alert_and_case_with_the_posting(
    db: Session, signer: Signer
) -> None:
    bank = make_bank(db, signer)
    account = open_account(db, bank)
    held = cash_in(db, bank, account, 4_900_000, at=day(0), compliance=HOLD)
    assert held.status == PostingStatus.pending_review

    # no sweep has run: the hook stored the alert and opened the case in the same transaction
    assert _alerts(db) == [("structuring", account.number, [str(held.id)], "hook", False)]
    case = db.execute(select(AmlCase)).scalar_one()
    actions = db.execute(
        select(AmlCaseEvent.action)
        .where(AmlCaseEvent.case_id == case.id)
        .order_by(AmlCaseEvent.occurred_at, AmlCaseEvent.id)
    ).scalars()
    assert list(actions) == ["open", "alert"]

    # the catch-up sweep of held postings and the ledger sweep store nothing more
    repeat = sweep_held_postings(db, now=day(0, 4))
    assert (repeat.scanned, repeat.alerts, repeat.cases_opened) == (1, 0, 0)
    assert db.scalar(select(func.count()).select_from(AmlAlert)) == 1
    assert db.scalar(select(func.count()).select_from(AmlCase)) == 1


def test_held_postings_without_an_alert_are_caught_up_once(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    account = open_account(db, bank)
    held = cash_in(db, bank, account, 4_900_000, at=day(0), compliance=HOLD)
    db.execute(delete(AmlAlertPosting))
    db.execute(delete(AmlCaseEvent))
    db.execute(delete(AmlAlert))
    db.execute(delete(AmlCase))  # as if held before the hook stored alerts

    result = sweep_held_postings(db, now=day(0, 3))

    assert (result.scanned, result.alerts, result.cases_opened) == (1, 1, 1)
    assert _alerts(db) == [("structuring", account.number, [str(held.id)], "hook", False)]
    repeat = sweep_held_postings(db, now=day(0, 4))
    assert (repeat.alerts, repeat.cases_opened) == (0, 0)
    assert db.scalar(select(func.count()).select_from(AmlAlert)) == 1


def test_hook_and_sweep_findings_of_one_posting_and_typology_are_one_alert(
    db: Session, signer: Signer
) -> None:
    """The real AML check holds the second deposit just under the line (structuring) and reports
    a large deposit at once; once the compliance officer releases the held deposit, the sweep
    over the ledger finds the series and adds the first deposit to the hook's alert, and stores
    no second large-value report."""
    bank = make_bank(db, signer)
    smurf = open_account(db, bank)
    big = open_account(db, bank)
    check = AmlCheck(CONFIG)
    first, second = (
        cash_in(db, bank, smurf, amount, at=day(n), compliance=check)
        for n, amount in ((0, 4_600_000), (1, 4_700_000))
    )
    large = cash_in(db, bank, big, 6_000_000, at=day(1), compliance=check)
    assert (first.status, second.status, large.status) == ("posted", "pending_review", "posted")
    assert _alerts(db) == [
        ("large_cash", big.number, [str(large.id)], "hook", True),
        ("structuring", smurf.number, [str(second.id)], "hook", False),
    ]
    assert db.scalar(select(func.count()).select_from(AmlCase)) == 1
    approvals.approve_posting(db, posting_id=second.id, actor=bank.compliance, now=day(1, 5))

    swept = sweep_ledger(db, config=CONFIG, since=None, now=day(3))

    assert (swept.alerts, swept.cases_opened) == (0, 0)
    assert _alerts(db) == [
        ("large_cash", big.number, [str(large.id)], "hook", True),
        ("structuring", smurf.number, [str(second.id), str(first.id)], "hook", False),
    ]
    assert db.scalar(select(func.count()).select_from(AmlCase)) == 1
    assert db.scalar(select(func.count()).select_from(AmlAlertPosting)) == 3


def test_the_worker_job_sweeps_recent_movements_once(db: Session, signer: Signer) -> None:
    from branchdesk.risk.cases.jobs import aml_sweep_job

    bank = make_bank(db, signer)
    smurf = open_account(db, bank)
    structured = [
        cash_in(db, bank, smurf, amount, at=day(n))
        for n, amount in ((0, 4_600_000), (1, 4_700_000), (2, 4_800_000))
    ]
    aml_sweep_job(db, day(3))
    aml_sweep_job(db, day(4))  # the next turn finds nothing new
    assert _alerts(db) == [
        ("structuring", smurf.number, [str(p.id) for p in structured], "sweep", False)
    ]
