"""Risk rating rules, missing information, ID expiry boundaries and expired-KYC restrictions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from branchdesk.risk.kyc.completeness import (
    IdStatus,
    id_expiry,
    kyc_status,
    missing_information,
    reminders_due,
)
from branchdesk.risk.kyc.customer import Customer, CustomerType
from branchdesk.risk.kyc.rating import (
    DEFAULT_RATING,
    RatingConfigError,
    RiskLevel,
    load_rating_config,
    rate,
)
from branchdesk.risk.kyc.restrictions import Operation, RestrictionPolicy, decide
from branchdesk.risk.kyc.watchlist import Hit

TODAY = date(2026, 11, 29)

COMPLETE = Customer(
    customer_id="C1",
    customer_type=CustomerType.INDIVIDUAL,
    name="陳大文",
    birth_date=date(1970, 3, 4),
    country="HK",
    residence_country="HK",
    occupation="teacher",
    id_type="hk_id",
    id_number="A1234563",
    id_expires_on=date(2030, 1, 1),
    address="1 Queen's Road Central",
    phone="+852 2123 4567",
    products=("savings",),
    channels=("branch",),
    cash_share_percent=5,
)
COMPANY = Customer(
    customer_id="B1",
    customer_type=CustomerType.BUSINESS,
    name="Acme Trading Ltd",
    country="GB",
    residence_country="GB",
    industry="software",
    registration_number="01234567",
    beneficial_owners=("Jane Doe",),
    id_type="company_registration",
    id_number="01234567",
    id_expires_on=date(2030, 1, 1),
    address="1 High Street, London",
    phone="+44 20 7946 0000",
)


def reasons(customer: Customer, **kwargs: object) -> list[tuple[str, int, str]]:
    rating = rate(customer, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return [(r.rule, r.points, r.text) for r in rating.reasons]


def test_ordinary_complete_customer_is_low_with_no_reason() -> None:
    rating = rate(COMPLETE, today=TODAY)
    assert (rating.level, rating.points, rating.reasons) == (RiskLevel.LOW, 0, ())
    assert rating.explain() == "no risk factor found"
    assert rate(COMPANY, today=TODAY).level is RiskLevel.LOW


def test_points_add_up_to_medium_and_high_with_reasons_in_words() -> None:
    medium = replace(
        COMPLETE, occupation="self_employed", cash_share_percent=30, channels=("online",)
    )
    rating = rate(medium, today=TODAY)
    assert (rating.level, rating.points) == (RiskLevel.MEDIUM, 3)
    assert rating.explain() == (
        "medium-risk occupation self_employed; non-face-to-face channels only (online); "
        "uses cash a lot (30% in cash)"
    )
    high = replace(medium, occupation="money_changer", products=("cross_border_remittance",))
    rating = rate(high, today=TODAY)
    assert (rating.level, rating.points) == (RiskLevel.HIGH, 7)
    assert reasons(high) == [
        ("occupation", 3, "high-risk occupation money_changer"),
        ("product", 2, "high-risk products cross_border_remittance"),
        ("channel", 1, "non-face-to-face channels only (online)"),
        ("cash", 1, "uses cash a lot (30% in cash)"),
    ]


def test_boundaries_of_points_and_cash_share() -> None:
    two = replace(COMPLETE, products=("trade_finance",))  # 2 points: still low
    assert rate(two, today=TODAY).level is RiskLevel.LOW
    three = replace(two, channels=("mobile", "online"))  # 3 points = medium_at
    assert (rate(three, today=TODAY).level, rate(three, today=TODAY).points) == (
        RiskLevel.MEDIUM,
        3,
    )
    assert reasons(replace(COMPLETE, cash_share_percent=29)) == []
    assert reasons(replace(COMPLETE, cash_share_percent=60)) == [
        ("cash", 3, "cash-intensive (60% in cash)")
    ]
    mixed_channels = replace(COMPLETE, channels=("online", "branch"))
    assert reasons(mixed_channels) == []


def test_pep_watchlist_hit_and_call_for_action_country_are_high_by_themselves() -> None:
    pep = rate(replace(COMPLETE, is_pep=True), today=TODAY)
    assert (pep.level, pep.points, pep.explain()) == (
        RiskLevel.HIGH,
        0,
        "politically exposed person",
    )
    resident = rate(replace(COMPLETE, residence_country="KP"), today=TODAY)
    assert (resident.level, resident.explain()) == (
        RiskLevel.HIGH,
        "residence KP is under a call for action",
    )
    grey = rate(replace(COMPLETE, country="SY"), today=TODAY)
    assert (grey.level, grey.points) == (RiskLevel.MEDIUM, 3)
    hit = Hit("C1", "W1", "UN", 0.97, 0.95, "陳大文", "CHEN, Da-Wen", "pinyin", "same", "same", ())
    other = replace(hit, customer_id="C2")
    assert rate(COMPLETE, today=TODAY, watchlist_hits=[other]).level is RiskLevel.LOW
    rating = rate(COMPLETE, today=TODAY, watchlist_hits=[other, hit])
    assert rating.level is RiskLevel.HIGH
    assert rating.explain() == (
        "possible watch-list match 'CHEN, Da-Wen' (UN W1, score 0.97) awaiting review"
    )
    relaxed = replace(DEFAULT_RATING, pep_is_high=False)
    assert rate(replace(COMPLETE, is_pep=True), today=TODAY, config=relaxed).level is RiskLevel.LOW


def test_incomplete_file_is_at_least_medium_and_business_needs_owners() -> None:
    rating = rate(replace(COMPLETE, occupation="", phone=""), today=TODAY)
    assert (rating.level, rating.points) == (RiskLevel.MEDIUM, 2)
    assert rating.explain() == "KYC incomplete: occupation, phone"
    no_owner = rate(replace(COMPANY, beneficial_owners=(), industry="casino"), today=TODAY)
    assert (no_owner.level, no_owner.points) == (RiskLevel.HIGH, 7)
    assert no_owner.explain() == (
        "high-risk industry casino; no beneficial owner known; KYC incomplete: beneficial_owners"
    )


def test_expired_id_adds_a_point_with_the_date() -> None:
    expired = replace(COMPLETE, id_expires_on=date(2026, 11, 28))
    assert reasons(expired) == [("id_expiry", 1, "ID expired on 2026-11-28 (1 days ago)")]


def test_missing_information_per_customer_type() -> None:
    assert missing_information(COMPLETE) == ()
    empty = Customer("X", CustomerType.INDIVIDUAL, "王小明")
    assert [m.field for m in missing_information(empty)] == [
        "birth_date",
        "country",
        "residence_country",
        "occupation",
        "id_type",
        "id_number",
        "id_expires_on",
        "address",
        "phone",
    ]
    assert missing_information(empty)[0].message == "date of birth is missing"
    company = Customer("Y", CustomerType.BUSINESS, "Acme")
    assert "beneficial_owners" in [m.field for m in missing_information(company)]
    assert "birth_date" not in [m.field for m in missing_information(company)]
    long_term = replace(COMPLETE, id_type="cn_resident_id_long_term", id_expires_on=None)
    assert missing_information(long_term) == ()
    assert kyc_status(long_term, today=TODAY).id_expiry.status is IdStatus.LONG_TERM


@pytest.mark.parametrize(
    ("expires_on", "status", "days_left"),
    [
        (date(2026, 12, 30), IdStatus.VALID, 31),
        (date(2026, 12, 29), IdStatus.EXPIRING, 30),  # warning boundary is inclusive
        (date(2026, 11, 29), IdStatus.EXPIRING, 0),  # valid through its expiry day
        (date(2026, 11, 28), IdStatus.EXPIRED, -1),
        (None, IdStatus.UNKNOWN, None),
    ],
)
def test_id_expiry_boundaries(
    expires_on: date | None, status: IdStatus, days_left: int | None
) -> None:
    expiry = id_expiry(expires_on, today=TODAY, warn_days=30)
    assert (expiry.status, expiry.days_left) == (status, days_left)


def test_reminder_dates_before_and_after_expiry() -> None:
    expiry = id_expiry(date(2027, 3, 1), today=TODAY)
    assert expiry.reminders_on == (
        date(2026, 12, 31),
        date(2027, 1, 30),
        date(2027, 2, 22),
        date(2027, 3, 1),
        date(2027, 3, 2),
        date(2027, 3, 31),
        date(2027, 5, 30),
    )
    assert expiry.next_reminder_on == date(2026, 12, 31)
    on_the_day = id_expiry(date(2026, 12, 6), today=TODAY)
    assert on_the_day.next_reminder_on == date(2026, 11, 29)  # the 7-day reminder is today
    long_gone = id_expiry(date(2025, 1, 1), today=TODAY)
    assert long_gone.next_reminder_on is None
    assert long_gone.describe() == "ID expired on 2025-01-01 (697 days ago)"


def test_reminders_due_today() -> None:
    in_a_week = replace(COMPLETE, customer_id="A", id_expires_on=date(2026, 12, 6))
    in_ten_days = replace(COMPLETE, customer_id="B", id_expires_on=date(2026, 12, 9))
    expired_yesterday = replace(COMPLETE, customer_id="C", id_expires_on=date(2026, 11, 28))
    no_date = replace(COMPLETE, customer_id="D", id_expires_on=None)
    due = reminders_due([in_a_week, in_ten_days, expired_yesterday, no_date], today=TODAY)
    assert [(c.customer_id, e.status) for c, e in due] == [
        ("A", IdStatus.EXPIRING),
        ("C", IdStatus.EXPIRED),
    ]


def test_expired_kyc_blocks_money_leaving_but_not_coming_in() -> None:
    expired = kyc_status(replace(COMPLETE, id_expires_on=date(2026, 11, 28)), today=TODAY)
    allowed = {op for op in Operation if decide(op, kyc=expired).allowed}
    assert allowed == {
        Operation.CASH_DEPOSIT,
        Operation.INCOMING_TRANSFER,
        Operation.LOAN_REPAYMENT,
        Operation.KYC_UPDATE,
    }
    refused = decide(Operation.OUTGOING_TRANSFER, kyc=expired)
    assert refused.reason == (
        "outgoing_transfer refused: ID expired on 2026-11-28 (1 days ago); the customer must "
        "renew their ID first (deposits, incoming transfers and repayments remain open)"
    )
    valid = kyc_status(COMPLETE, today=TODAY)
    assert all(decide(op, kyc=valid).allowed for op in Operation)
    assert decide(Operation.OUTGOING_TRANSFER, kyc=valid).warning == ""


def test_expiry_day_grace_period_and_warnings() -> None:
    on_the_day = kyc_status(replace(COMPLETE, id_expires_on=TODAY), today=TODAY)
    decision = decide(Operation.OUTGOING_TRANSFER, kyc=on_the_day)
    assert (decision.allowed, decision.warning) == (True, "ID expires on 2026-11-29 (in 0 days)")
    expired = kyc_status(replace(COMPLETE, id_expires_on=date(2026, 11, 19)), today=TODAY)
    grace = RestrictionPolicy(grace_days=10)
    decision = decide(Operation.OUTGOING_TRANSFER, kyc=expired, policy=grace)
    assert decision.allowed
    assert decision.warning == "ID expired on 2026-11-19 (10 days ago); grace period of 10 days"
    later = kyc_status(replace(COMPLETE, id_expires_on=date(2026, 11, 18)), today=TODAY)
    assert not decide(Operation.OUTGOING_TRANSFER, kyc=later, policy=grace).allowed


def test_incomplete_information_blocks_new_products_and_credit_only() -> None:
    unknown_expiry = kyc_status(replace(COMPLETE, id_expires_on=None), today=TODAY)
    refused = decide(Operation.OPEN_PRODUCT, kyc=unknown_expiry)
    assert (refused.allowed, refused.reason) == (
        False,
        "open_product refused: KYC information incomplete (id_expires_on)",
    )
    assert not decide(Operation.LOAN_DISBURSEMENT, kyc=unknown_expiry).allowed
    assert decide(Operation.OUTGOING_TRANSFER, kyc=unknown_expiry).allowed
    strict = RestrictionPolicy(treat_unknown_expiry_as_expired=True)
    assert not decide(Operation.OUTGOING_TRANSFER, kyc=unknown_expiry, policy=strict).allowed


def test_rating_config_from_json(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps({"high_risk_occupations": ["teacher"], "medium_at": 2, "high_at": 3})
    )
    config = load_rating_config(path)
    rating = rate(COMPLETE, today=TODAY, config=config)
    assert (rating.level, rating.explain()) == (RiskLevel.HIGH, "high-risk occupation teacher")
    for bad, field in (
        ({"medium_at": 7}, "high_at"),
        ({"points_product": -1}, "points_product"),
        ({"no_such_rule": 1}, "no_such_rule"),
        ({"high_risk_countries": "KP"}, "high_risk_countries"),
    ):
        path.write_text(json.dumps(bad))
        with pytest.raises(RatingConfigError) as caught:
            load_rating_config(path)
        assert caught.value.field == field
