"""Loan products: the admin's catalogue of amount and term ranges, rates, methods, fees, rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.money import CURRENCY_EXPONENTS
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loans.models import LoanProduct, ProductKind, RateType
from branchdesk.loans.rules import DecisionRules
from branchdesk.loans.schedule import RepaymentMethod
from branchdesk.loans.schemas import DecisionRulesBody, LoanProductBody, LoanProductRead


class ProductNotFound(NotFound):
    code = "loan_product_not_found"


def product_rate(product: LoanProduct) -> Decimal:
    """The annual rate a new loan of this product pays: fixed, or reference + margin."""
    if product.rate_type == RateType.floating:
        return Decimal(product.reference_rate) + Decimal(product.margin)
    return Decimal(product.fixed_rate)


def product_rules(product: LoanProduct) -> DecisionRules:
    return DecisionRules.from_json(product.decision_rules)


def product_read(product: LoanProduct) -> LoanProductRead:
    return LoanProductRead(
        id=product.id,
        code=product.code,
        kind=ProductKind(product.kind),
        name_zh_hant=product.name_zh_hant,
        name_zh_hans=product.name_zh_hans,
        name_en=product.name_en,
        currency=product.currency,
        min_amount_minor=product.min_amount_minor,
        max_amount_minor=product.max_amount_minor,
        min_term_months=product.min_term_months,
        max_term_months=product.max_term_months,
        rate_type=RateType(product.rate_type),
        fixed_rate=Decimal(product.fixed_rate),
        reference_rate_name=product.reference_rate_name,
        reference_rate=Decimal(product.reference_rate),
        margin=Decimal(product.margin),
        annual_rate=product_rate(product),
        repayment_method=RepaymentMethod(product.repayment_method),
        fee_flat_minor=product.fee_flat_minor,
        fee_bps=product.fee_bps,
        grace_months=product.grace_months,
        penalty_rate=Decimal(product.penalty_rate),
        required_documents=list(product.required_documents),
        decision_rules=DecisionRulesBody.model_validate(product.decision_rules),
        is_active=product.is_active,
    )


def _check(data: LoanProductBody) -> None:
    if data.currency not in CURRENCY_EXPONENTS:
        raise RuleViolation(f"unknown currency {data.currency}", field="currency")
    if data.max_amount_minor < data.min_amount_minor:
        raise RuleViolation("the maximum amount is below the minimum", field="max_amount_minor")
    if data.max_term_months < data.min_term_months:
        raise RuleViolation("the maximum term is below the minimum", field="max_term_months")
    if data.grace_months >= data.min_term_months:
        raise RuleViolation("the grace period must be shorter than the term", field="grace_months")
    if data.rate_type == RateType.floating:
        if not data.reference_rate_name.strip():
            raise RuleViolation("a floating rate names its reference", field="reference_rate_name")
        if data.reference_rate + data.margin < 0:
            raise RuleViolation("reference rate plus margin is negative", field="margin")
    rules = data.decision_rules
    if rules.decline_score > rules.approve_score:
        raise RuleViolation(
            "the decline cut-off is above the approve cut-off", field="decision_rules"
        )
    if rules.refer_dsr > rules.max_dsr:
        raise RuleViolation("the refer DSR is above the maximum DSR", field="decision_rules")


def apply_product(product: LoanProduct, data: LoanProductBody, now: datetime) -> None:
    product.kind = data.kind
    product.name_zh_hant = data.name_zh_hant
    product.name_zh_hans = data.name_zh_hans
    product.name_en = data.name_en
    product.currency = data.currency
    product.min_amount_minor = data.min_amount_minor
    product.max_amount_minor = data.max_amount_minor
    product.min_term_months = data.min_term_months
    product.max_term_months = data.max_term_months
    product.rate_type = data.rate_type
    product.fixed_rate = str(data.fixed_rate)
    product.reference_rate_name = data.reference_rate_name.strip()
    product.reference_rate = str(data.reference_rate)
    product.margin = str(data.margin)
    product.repayment_method = data.repayment_method
    product.fee_flat_minor = data.fee_flat_minor
    product.fee_bps = data.fee_bps
    product.grace_months = data.grace_months
    product.penalty_rate = str(data.penalty_rate)
    product.required_documents = list(dict.fromkeys(data.required_documents))
    product.decision_rules = DecisionRules(
        approve_score=data.decision_rules.approve_score,
        decline_score=data.decision_rules.decline_score,
        max_dsr=data.decision_rules.max_dsr,
        refer_dsr=data.decision_rules.refer_dsr,
        min_age=data.decision_rules.min_age,
        max_age_at_maturity=data.decision_rules.max_age_at_maturity,
    ).to_json()
    product.is_active = data.is_active
    product.updated_at = now


def find_product(db: Session, code: str, *, field: str | None = None) -> LoanProduct:
    """Raises ProductNotFound."""
    product = db.execute(
        select(LoanProduct).where(LoanProduct.code == code.strip().upper())
    ).scalar_one_or_none()
    if product is None:
        raise ProductNotFound("no such loan product", field=field)
    return product


def list_products(db: Session, *, actor: Principal) -> list[LoanProduct]:
    """Raises Forbidden."""
    actor.require(Permission.loan_view)
    return list(db.execute(select(LoanProduct).order_by(LoanProduct.code)).scalars())


def create_product(
    db: Session, *, data: LoanProductBody, actor: Principal, now: datetime
) -> LoanProduct:
    """Raises Forbidden, RuleViolation, Conflict (code taken)."""
    actor.require(Permission.loan_product_manage)
    _check(data)
    taken = db.execute(
        select(LoanProduct.id).where(LoanProduct.code == data.code)
    ).scalar_one_or_none()
    if taken is not None:
        raise Conflict("a loan product with this code exists", field="code", code="code_taken")
    product = LoanProduct(id=new_id(), code=data.code, created_at=now)
    apply_product(product, data, now)
    db.add(product)
    db.flush()
    append_audit(
        db, action="loan_product.create", object_type="loan_product", object_id=product.id,
        now=now, actor=actor, detail={"code": product.code},
    )  # fmt: skip
    return product


def update_product(
    db: Session, *, code: str, data: LoanProductBody, actor: Principal, now: datetime
) -> LoanProduct:
    """Raises Forbidden, ProductNotFound, RuleViolation (the code in the body must match)."""
    actor.require(Permission.loan_product_manage)
    product = find_product(db, code)
    if data.code != product.code:
        raise RuleViolation("the code of a product cannot change", field="code")
    _check(data)
    apply_product(product, data, now)
    db.flush()
    append_audit(
        db, action="loan_product.update", object_type="loan_product", object_id=product.id,
        now=now, actor=actor, detail={"code": product.code},
    )  # fmt: skip
    return product


def default_products() -> list[LoanProductBody]:
    """The four products a new bank starts with (``branchdesk loans seed-products``)."""
    common = {"currency": "CNY", "penalty_rate": Decimal("0.18")}
    return [
        LoanProductBody.model_validate({**common, **p})
        for p in (
            {
                "code": "PERSONAL", "kind": "personal", "name_zh_hant": "個人信用貸款",
                "name_zh_hans": "个人信用贷款", "name_en": "Personal loan",
                "min_amount_minor": 1_000_00, "max_amount_minor": 500_000_00,
                "min_term_months": 6, "max_term_months": 60, "rate_type": "fixed",
                "fixed_rate": Decimal("0.0885"), "repayment_method": "equal_instalment",
                "fee_bps": 100, "required_documents": ["id_document", "income_proof"],
            },
            {
                "code": "MORTGAGE", "kind": "mortgage", "name_zh_hant": "房屋貸款",
                "name_zh_hans": "住房贷款", "name_en": "Mortgage",
                "min_amount_minor": 100_000_00, "max_amount_minor": 10_000_000_00,
                "min_term_months": 60, "max_term_months": 360, "rate_type": "floating",
                "reference_rate_name": "LPR 5Y", "reference_rate": Decimal("0.0395"),
                "margin": Decimal("0.0030"), "repayment_method": "equal_instalment",
                "fee_flat_minor": 500_00,
                "required_documents": ["id_document", "income_proof", "property_valuation"],
                "decision_rules": {"max_age_at_maturity": 75},
            },
            {
                "code": "CAR", "kind": "car", "name_zh_hant": "汽車貸款",
                "name_zh_hans": "汽车贷款", "name_en": "Car loan", "min_amount_minor": 20_000_00,
                "max_amount_minor": 1_000_000_00, "min_term_months": 12, "max_term_months": 60,
                "rate_type": "fixed", "fixed_rate": Decimal("0.0650"),
                "repayment_method": "equal_principal", "fee_bps": 50,
                "required_documents": ["id_document", "income_proof", "vehicle_quote"],
            },
            {
                "code": "BUSINESS", "kind": "business", "name_zh_hant": "小微企業貸款",
                "name_zh_hans": "小微企业贷款", "name_en": "Small business loan",
                "min_amount_minor": 50_000_00, "max_amount_minor": 3_000_000_00,
                "min_term_months": 6, "max_term_months": 36, "rate_type": "floating",
                "reference_rate_name": "LPR 1Y", "reference_rate": Decimal("0.0345"),
                "margin": Decimal("0.0150"), "repayment_method": "interest_only",
                "grace_months": 0, "fee_bps": 75,
                "required_documents": [
                    "id_document", "business_registration", "financial_statements",
                    "bank_statements",
                ],
                "decision_rules": {"approve_score": 580, "decline_score": 500},
            },
        )
    ]  # fmt: skip


def seed_products(db: Session, *, now: datetime) -> int:
    """Create the default products that do not exist yet (an operator's job); returns how many."""
    created = 0
    for data in default_products():
        taken = db.execute(
            select(LoanProduct.id).where(LoanProduct.code == data.code)
        ).scalar_one_or_none()
        if taken is not None:
            continue
        _check(data)
        product = LoanProduct(id=new_id(), code=data.code, created_at=now)
        apply_product(product, data, now)
        db.add(product)
        created += 1
    db.flush()
    return created
