"""KYC in the operational database: expiry reminders once per threshold, expired KYC blocks
debits, missing information and risk rating stored with reasons, watch-list screening at
onboarding and on list update (hits become alerts on a case)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.events import Event
from branchdesk.core.security import Signer
from branchdesk.customers import service as customers
from branchdesk.customers.schemas import CustomerCreate
from branchdesk.ledger import service as ledger
from branchdesk.ledger.errors import PostingBlocked
from branchdesk.ledger.models import Account, Posting
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import AllOf, AllowAll
from branchdesk.risk.cases.kyc import KycExpiredCheck, expiry_check, load_watchlist
from branchdesk.risk.cases.models import AmlAlert, AmlCase, KycProfile
from branchdesk.risk.kyc.watchlist import WatchlistEntry
from tests.factories import NOW, make_customer
from tests.ledger.helpers import make_bank
from tests.risk.cases_helpers import cash_in

TODAY = NOW.date()


def _messages(db: Session) -> list[tuple[str, str]]:
    rows = db.execute(
        select(Event.aggregate_id, Event.payload)
        .where(Event.type == "notify.requested")
        .order_by(Event.seq)
    ).all()
    return [(str(aggregate), payload["template"]) for aggregate, payload in rows]


def test_expiry_reminders_go_out_once_per_threshold(db: Session, signer: Signer) -> None:
    soon = make_customer(db, signer, id_expires_on=TODAY + timedelta(days=20), phone="0912")
    sooner = make_customer(db, signer, id_expires_on=TODAY + timedelta(days=5), email="a@b.tw")
    gone = make_customer(db, signer, id_expires_on=TODAY - timedelta(days=3), phone="0913")
    make_customer(db, signer, id_expires_on=TODAY + timedelta(days=100), phone="0914")
    mute = make_customer(db, signer, id_expires_on=TODAY + timedelta(days=1))

    first = expiry_check(db, now=NOW, days=30, thresholds=(7,))

    assert (first.checked, first.reminders, first.expired, first.unreachable) == (4, 3, 1, 1)
    assert _messages(db) == [
        (str(gone.id), "kyc.id_expired"),
        (str(sooner.id), "kyc.id_expiring"),
        (str(soon.id), "kyc.id_expiring"),
    ]
    profiles = {p.customer_id: p for p in db.execute(select(KycProfile)).scalars()}
    assert {c.id: (profiles[c.id].status, profiles[c.id].reminded_days) for c in (soon, sooner, gone, mute)} == {
        soon.id: ("expiring", 30),
        sooner.id: ("expiring", 7),
        gone.id: ("expired", -1),
        mute.id: ("expiring", 7),
    }  # fmt: skip

    again = expiry_check(db, now=NOW + timedelta(hours=12), days=30, thresholds=(7,))
    assert (again.reminders, again.expired) == (0, 0)
    assert len(_messages(db)) == 3

    later = expiry_check(db, now=NOW + timedelta(days=15), days=30, thresholds=(7,))
    # soon: 5 days left, crosses 7; sooner: expired; mute: expired but unreachable
    assert (later.reminders, later.expired, later.unreachable) == (2, 2, 1)
    assert _messages(db)[3:] == [
        (str(sooner.id), "kyc.id_expired"),
        (str(soon.id), "kyc.id_expiring"),
    ]

    # a renewed document sets the profile right and its reminders start over
    soon.id_expires_on = TODAY + timedelta(days=3000)
    expiry_check(db, now=NOW + timedelta(days=16), days=30, thresholds=(7,))
    db.refresh(profiles[soon.id])
    assert (profiles[soon.id].status, profiles[soon.id].reminded_days) == ("valid", None)


def test_expired_kyc_blocks_debits_but_not_deposits(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    customer = make_customer(
        db, signer, home_branch_id=bank.branch.id, id_expires_on=TODAY + timedelta(days=10)
    )
    account = ledger.open_account(
        db,
        data=AccountOpen(customer_number=customer.customer_number, currency="CNY",
                         branch_code=bank.branch.code),
        actor=bank.teller, now=NOW,
    )  # fmt: skip
    check = AllOf(KycExpiredCheck(), AllowAll())
    cash_in(db, bank, account, 100_000, at=NOW, compliance=check)
    later = NOW + timedelta(days=11)
    cash_in(db, bank, account, 50_000, at=later, compliance=check)  # money in stays open
    postings = db.scalar(select(func.count()).select_from(Posting))

    with pytest.raises(PostingBlocked, match="cash_withdrawal refused"):
        ledger.post_withdrawal(
            db, account=account.number, amount_minor=10_000, currency="CNY",
            idempotency_key="kyc-w1", actor=bank.teller, now=later, compliance=check,
            branch_code=bank.branch.code,
        )  # fmt: skip

    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Posting)) == postings
    assert db.get(Account, account.id).balance_minor == 150_000  # type: ignore[union-attr]
    allowed = ledger.post_withdrawal(
        db, account=account.number, amount_minor=10_000, currency="CNY",
        idempotency_key="kyc-w2", actor=bank.teller, now=NOW + timedelta(days=10),
        compliance=check, branch_code=bank.branch.code,
    )  # fmt: skip  # the expiry day itself is still valid
    assert allowed.posting.status == "posted"


LISTED = WatchlistEntry(
    entry_id="UN-001",
    names=("陳大文", "CHAN Tai Man"),
    list_source="UN",
    listed_on=date(2020, 1, 1),
    birth_date=date(1970, 3, 4),
    country="CN",
)
OTHER = WatchlistEntry(
    entry_id="UN-002", names=("Ivan Petrovsky",), list_source="UN", listed_on=date(2020, 1, 1)
)


def test_list_update_rescreens_customers_and_opens_cases(db: Session, signer: Signer) -> None:
    listed = make_customer(
        db, signer, full_name="陈大文", latin_name="Chan Tai-man", birth_on=date(1970, 3, 4)
    )
    make_customer(db, signer, full_name="林美玲", latin_name="LIN Mei Ling")

    result = load_watchlist(db, entries=[OTHER], now=NOW)
    assert (result.entries, result.changed, result.hits, result.new_alerts) == (1, 1, 0, 0)

    result = load_watchlist(db, entries=[OTHER, LISTED], now=NOW + timedelta(days=1))
    assert (result.entries, result.changed, result.hits, result.new_alerts) == (2, 1, 1, 1)
    alert = db.execute(select(AmlAlert)).scalar_one()
    assert (alert.typology, alert.source, alert.customer_id) == (
        "watchlist",
        "watchlist",
        listed.id,
    )
    case = db.execute(select(AmlCase)).scalar_one()
    assert (case.customer_id, case.status, alert.case_id) == (listed.id, "new", case.id)
    profile = db.get(KycProfile, listed.id)
    assert profile is not None
    assert profile.rating == "high"
    assert any("watch-list" in reason for reason in profile.rating_reasons)

    # the same list again: nothing changed, nothing new
    again = load_watchlist(db, entries=[OTHER, LISTED], now=NOW + timedelta(days=2))
    assert (again.changed, again.new_alerts) == (0, 0)
    assert db.scalar(select(func.count()).select_from(AmlAlert)) == 1


def test_screening_at_onboarding(db: Session, signer: Signer) -> None:
    load_watchlist(db, entries=[LISTED, OTHER], now=NOW)
    bank = make_bank(db, signer)

    clean = customers.create_customer(
        db, data=CustomerCreate(full_name="林美玲", id_document_type="national_id",
                                id_number="B222333444", id_expires_on=date(2031, 1, 1),
                                phone="0911", birth_on=date(1990, 1, 1)),
        actor=bank.teller, pii=signer, now=NOW,
    )  # fmt: skip
    hit = customers.create_customer(
        db, data=CustomerCreate(full_name="陳大文", latin_name="CHAN Tai Man",
                                id_document_type="national_id", id_number="C333444555",
                                birth_on=date(1970, 3, 4)),
        actor=bank.teller, pii=signer, now=NOW,
    )  # fmt: skip

    alerts = db.execute(select(AmlAlert.customer_id, AmlAlert.typology)).all()
    assert alerts == [(hit.id, "watchlist")]
    assert db.scalar(select(func.count()).select_from(AmlCase)) == 1
    fine = db.get(KycProfile, clean.id)
    flagged = db.get(KycProfile, hit.id)
    assert fine is not None
    assert flagged is not None
    assert (fine.rating, fine.missing, fine.status) == ("low", [], "valid")
    assert flagged.rating == "high"
    assert flagged.missing == ["id_expires_on", "phone"]
    assert flagged.status == "unknown"


def test_alerts_on_file_raise_the_rating(db: Session, signer: Signer) -> None:
    from branchdesk.risk.cases.kyc import refresh_profile

    person = make_customer(db, signer, phone="0911")
    assert refresh_profile(db, customer=person, now=NOW).rating == "low"
    for n in range(3):
        db.add(
            AmlAlert(
                fingerprint=f"t-{person.id}-{n}",
                typology="structuring",
                account_number="",
                customer_id=person.id,
                posting_ids=[],
                score_pct=80,
                reason="r",
                source="sweep",
                is_report=False,
                first_booked_at=NOW,
                created_at=NOW,
            )
        )
        db.flush()
        profile = refresh_profile(db, customer=person, now=NOW)
        assert profile.rating == ("medium" if n < 2 else "high")
    assert profile.rating_reasons == ["3 AML alerts on file"]


def test_a_transfer_batch_applies_the_kyc_restriction_per_item(db: Session, signer: Signer) -> None:
    from branchdesk.ledger.service.posting import TransferItem

    bank = make_bank(db, signer)
    expiring = make_customer(
        db, signer, home_branch_id=bank.branch.id, id_expires_on=TODAY + timedelta(days=10)
    )
    valid = make_customer(
        db, signer, home_branch_id=bank.branch.id, id_expires_on=TODAY + timedelta(days=900)
    )
    accounts = [
        ledger.open_account(
            db,
            data=AccountOpen(
                customer_number=c.customer_number, currency="CNY", branch_code=bank.branch.code
            ),
            actor=bank.teller,
            now=NOW,
        )
        for c in (expiring, valid)
    ]
    check = AllOf(KycExpiredCheck(), AllowAll())
    for account in accounts:
        cash_in(db, bank, account, 100_000, at=NOW, compliance=check)
    later = NOW + timedelta(days=11)
    out_of_expired = TransferItem(accounts[0].number, accounts[1].number, 1_000, "CNY", "kb-1")
    into_expired = TransferItem(accounts[1].number, accounts[0].number, 2_000, "CNY", "kb-2")
    results = ledger.post_transfer_batch(
        db, items=[out_of_expired, into_expired], actor=bank.teller, now=later, compliance=check
    )
    assert isinstance(results[0], PostingBlocked)
    assert "KYC" in str(results[0].detail)
    assert not isinstance(results[1], PostingBlocked)
    assert results[1].posting.status == "posted"  # type: ignore[union-attr]
    db.expire_all()
    balances = [db.get(Account, a.id).balance_minor for a in accounts]  # type: ignore[union-attr]
    assert balances == [102_000, 98_000]
