"""The operational KYC rating with occupation, country, product, channel and PEP: facts kept on
the profile through the KYC page, products from the ledger (a remittance abroad)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.risk.cases.kyc import refresh_profile
from branchdesk.risk.cases.models import KycProfile
from tests.factories import NOW, browser_session, make_user
from tests.ledger.helpers import ALLOW, deposit, make_bank, open_account


def _rate(db: Session, customer: Customer) -> tuple[str, list[str]]:
    profile = refresh_profile(db, customer=customer, now=NOW)
    return profile.rating, list(profile.rating_reasons)


def test_each_fact_moves_the_rating(db: Session, signer: Signer) -> None:
    bank = make_bank(db, signer)
    account = open_account(db, bank)
    customer = db.get(Customer, account.customer_id)
    assert customer is not None
    customer.phone = "+886912345678"
    assert _rate(db, customer) == ("low", [])

    profile = db.get(KycProfile, customer.id)
    assert profile is not None
    profile.occupation = "real_estate_agent"
    profile.channels = ["online"]
    assert _rate(db, customer) == (
        "low",
        ["medium-risk occupation real_estate_agent", "non-face-to-face channels only (online)"],
    )
    profile.nationality = "SY"  # high-risk country: 3 more points
    assert _rate(db, customer)[0] == "medium"
    profile.residence_country = "IR"  # under a call for action: high whatever the points
    level, reasons = _rate(db, customer)
    assert level == "high"
    assert "residence IR is under a call for action" in reasons
    profile.nationality = profile.residence_country = ""
    profile.occupation = ""
    profile.channels = []
    profile.is_pep = True
    assert _rate(db, customer) == ("high", ["politically exposed person"])

    # a remittance abroad makes cross-border remittance one of the customer's products
    profile.is_pep = False
    deposit(db, bank, account, 500_000)
    ledger.post_remittance(
        db, from_account=account.number, beneficiary="Chan HSBC 1", country="HK",
        amount_minor=100_000, currency="CNY", idempotency_key="kyc-rem", actor=bank.teller,
        now=NOW, compliance=ALLOW,
    )  # fmt: skip
    assert _rate(db, customer) == ("low", ["high-risk products cross_border_remittance"])


def test_the_kyc_page_keeps_facts_and_rates_again(
    client: TestClient, db: Session, signer: Signer
) -> None:
    bank = make_bank(db, signer)
    account = open_account(db, bank)
    customer = db.get(Customer, account.customer_id)
    assert customer is not None
    officer = make_user(db, Role.compliance_officer, (bank.branch,))
    cookie, csrf = browser_session(signer, officer)
    client.cookies.set("bd_session", cookie)
    url = f"/risk/customers/{customer.customer_number}/kyc"
    first = client.get(url, headers={"Accept-Language": "en"})
    assert first.status_code == 200
    assert 'data-level="medium"' in first.text  # no phone on file: incomplete

    saved = client.post(
        url,
        data={"occupation": "Money_Changer", "nationality": "hk", "residence_country": "",
              "is_pep": "on", "products": "safe_deposit_box", "channels": "branch",
              "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    profile = db.get(KycProfile, customer.id)
    assert profile is not None
    assert (profile.occupation, profile.nationality, profile.is_pep, profile.rating) == (
        "money_changer", "HK", True, "high",
    )  # fmt: skip
    assert "high-risk occupation money_changer" in profile.rating_reasons
    assert "high-risk products safe_deposit_box" in profile.rating_reasons
    audit = db.execute(
        select(AuditEntry.detail).where(AuditEntry.action == "kyc.facts_update")
    ).scalar_one()
    assert (audit["rating_before"], audit["rating"]) == ("medium", "high")

    refused = client.post(url, data={"nationality": "HKG", "csrf_token": csrf},
                          follow_redirects=False)  # fmt: skip
    assert refused.status_code == 422
    db.refresh(profile)
    assert profile.nationality == "HK"  # nothing changed
    page = client.get(url, headers={"Accept-Language": "zh-TW"})
    assert "政治公眾人物" in page.text
    assert client.get("/risk/customers/NOPE/kyc").status_code == 404
