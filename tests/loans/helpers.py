"""Loans test helpers: a branch with staff, a funded customer account and the loan products."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import Account, Entry
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.loans import service
from branchdesk.loans.models import LoanApplication, LoanProduct
from branchdesk.loans.schemas import LoanApplicationCreate, LoanProductBody
from tests.factories import NOW, make_branch, make_customer, make_user, principal

ALLOW = AllowAll()
_keys = itertools.count(1)


def key(prefix: str = "lk") -> str:
    return f"{prefix}-{next(_keys)}"


def personal_product(code: str = "PERSONAL", **overrides: Any) -> LoanProductBody:
    values: dict[str, Any] = {
        "code": code,
        "kind": "personal",
        "name_zh_hant": "個人信用貸款",
        "name_zh_hans": "个人信用贷款",
        "name_en": "Personal loan",
        "currency": "CNY",
        "min_amount_minor": 100_000,
        "max_amount_minor": 50_000_000,
        "min_term_months": 6,
        "max_term_months": 60,
        "rate_type": "fixed",
        "fixed_rate": Decimal("0.12"),
        "repayment_method": "equal_instalment",
        "fee_flat_minor": 0,
        "fee_bps": 100,
        "grace_months": 0,
        "penalty_rate": Decimal("0.18"),
        "required_documents": ["id_document", "income_proof"],
    }
    values.update(overrides)
    return LoanProductBody.model_validate(values)


@dataclass
class World:
    branch: Branch
    teller: Principal
    manager: Principal
    other_manager: Principal
    admin: Principal
    customer: Customer
    account: Account
    product: LoanProduct


def make_world(
    db: Session, signer: Signer, *, funds_minor: int = 1_000_000, product_code: str = "PERSONAL"
) -> World:
    branch = make_branch(db)
    teller = principal(db, make_user(db, Role.teller, (branch,)))
    manager = principal(db, make_user(db, Role.branch_manager, (branch,)))
    other = principal(db, make_user(db, Role.branch_manager, (branch,)))
    admin = principal(db, make_user(db, Role.admin))
    customer = make_customer(db, signer, home_branch_id=branch.id)
    account = ledger.open_account(
        db,
        data=AccountOpen(
            customer_number=customer.customer_number, currency="CNY", branch_code=branch.code
        ),
        actor=teller,
        now=NOW,
    )
    if funds_minor:
        ledger.post_deposit(
            db, account=account.number, amount_minor=funds_minor, currency="CNY",
            idempotency_key=key("fund"), actor=teller, now=NOW, compliance=ALLOW,
        )  # fmt: skip
    product = service.create_product(db, data=personal_product(product_code), actor=admin, now=NOW)
    return World(branch, teller, manager, other, admin, customer, account, product)


GOOD = {
    "checking_account_status": "no checking account",
    "savings_account": "1000 or more",
    "housing": "own",
    "purpose": "car (used)",
    "employment_years": Decimal("10"),
    "residence_years": 4,
}
MIDDLE = {
    "checking_account_status": "0 to 200",
    "savings_account": "below 100",
    "housing": "own",
    "purpose": "furniture",
    "employment_years": Decimal("4"),
    "residence_years": 2,
}
POOR = {
    "checking_account_status": "below 0",
    "savings_account": "below 100",
    "housing": "for free",
    "purpose": "education",
    "employment_years": None,
    "residence_years": 1,
}


def application_body(
    world: World, profile: dict[str, Any], **overrides: Any
) -> LoanApplicationCreate:
    values: dict[str, Any] = {
        "customer_number": world.customer.customer_number,
        "product_code": world.product.code,
        "amount_minor": 300_000,
        "term_months": 12,
        "monthly_income_minor": 2_000_000,
        "monthly_obligations_minor": 0,
        "documents": ["id_document", "income_proof"],
        "has_consent": True,
        "idempotency_key": key("app"),
        **profile,
    }
    values.update(overrides)
    return LoanApplicationCreate.model_validate(values)


def balance(db: Session, account_id: Any) -> int:
    account = db.get(Account, account_id, populate_existing=True)
    assert account is not None
    return account.balance_minor


def entries_sum(db: Session, account_id: Any) -> int:
    return int(
        db.execute(
            select(func.coalesce(func.sum(Entry.amount_minor), 0)).where(
                Entry.account_id == account_id
            )
        ).scalar_one()
    )


def make_application(
    db: Session,
    *,
    branch: Branch,
    customer: Customer,
    product: LoanProduct,
    maker: Principal,
    status: str,
    **overrides: Any,
) -> LoanApplication:
    """An application row as the rules would leave it, without scoring (for role-matrix worlds)."""
    n = next(_keys)
    values: dict[str, Any] = {
        "id": new_id(), "reference": f"LA-2026-9{n:05d}", "idempotency_key": f"made-{n}",
        "request_hash": "0" * 64, "branch_id": branch.id, "customer_id": customer.id,
        "product_id": product.id, "amount_minor": 300_000, "currency": product.currency,
        "term_months": 12, "annual_rate": product.fixed_rate, "monthly_income_minor": 2_000_000,
        "monthly_obligations_minor": 0, "applicant_data": {}, "documents": ["id_document"],
        "has_consent": True, "status": status,
        "outcome": {"approved": "approve", "referred": "refer"}.get(status, "decline"),
        "score": "600.00", "probability_bad": "0.050000", "model_version": "test",
        "score_reasons": [], "decision_reasons": [], "dsr": "0.0133",
        "monthly_payment_minor": 26_655, "credit_limit_minor": 10_000_000,
        "maker_id": maker.user_id, "approver_id": None, "decision_note": "", "created_at": NOW,
        "decided_at": None, "updated_at": NOW,
    }  # fmt: skip
    values.update(overrides)
    application = LoanApplication(**values)
    db.add(application)
    db.flush()
    return application
