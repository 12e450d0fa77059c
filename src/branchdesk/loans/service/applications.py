"""Loan applications at the branch: checked against the product, scored, decided by the rules;
referrals decided by a supervisor who is not the maker (maker-checker), every step audited."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loans import rules
from branchdesk.loans.models import (
    ApplicationChannel,
    ApplicationStatus,
    Loan,
    LoanApplication,
    LoanProduct,
)
from branchdesk.loans.notifications import OUTCOME_WORDS, notify_customer
from branchdesk.loans.schedule import RepaymentMethod, build_schedule
from branchdesk.loans.schemas import (
    LoanApplicationCreate,
    LoanApplicationRead,
    PortalApplicationRead,
    PortalLoanApplication,
    ScoreReason,
)
from branchdesk.loans.service import scoring
from branchdesk.loans.service.common import ApplicationNotFound, OwnApproval, reference
from branchdesk.loans.service.products import (
    ProductNotFound,
    find_product,
    product_rate,
    product_rules,
)

STATUS_OF = {
    rules.Outcome.approve: ApplicationStatus.approved,
    rules.Outcome.refer: ApplicationStatus.referred,
    rules.Outcome.decline: ApplicationStatus.declined,
}


def _request_hash(data: LoanApplicationCreate) -> str:
    return hashlib.sha256(data.model_dump_json(exclude={"idempotency_key"}).encode()).hexdigest()


def regular_payment_minor(
    *, amount_minor: int, rate: Decimal, term_months: int, method: RepaymentMethod, grace: int
) -> int:
    """The largest instalment before the last (the bullet of interest-only loans left out)."""
    rows = build_schedule(
        principal_minor=amount_minor, annual_rate=rate, term_months=term_months, method=method,
        first_due_on=date(2000, 1, 1), grace_months=min(grace, term_months - 1),
    )  # fmt: skip
    regular = rows[:-1] or rows
    return max(r.payment_minor for r in regular)


def installment_rate_class(payment_minor: int, income_minor: int) -> int:
    """The scorecard's ``installment_rate`` (1-4): the new payment's share of income in tenths."""
    share = Decimal(payment_minor) / Decimal(max(income_minor, 1))
    for rate_class, limit in ((1, "0.1"), (2, "0.2"), (3, "0.3")):
        if share < Decimal(limit):
            return rate_class
    return 4


def scorecard_features(
    data: LoanApplicationCreate, *, age: int | None, payment_minor: int, currency_exponent: int
) -> dict[str, Any]:
    return {
        "checking_account_status": data.checking_account_status,
        "duration_months": data.term_months,
        "credit_amount": data.amount_minor // (10**currency_exponent),
        "purpose": data.purpose,
        "savings_account": data.savings_account,
        "employment_years": None if data.employment_years is None else float(data.employment_years),
        "installment_rate": installment_rate_class(payment_minor, data.monthly_income_minor),
        "housing": data.housing,
        "age_years": age,
        "residence_years": data.residence_years,
    }


def _branch_for(
    db: Session, *, actor: Principal, code: str | None, customer: Customer
) -> uuid.UUID:
    if code:
        branch = db.execute(
            select(Branch).where(Branch.code == code.strip().upper())
        ).scalar_one_or_none()
        if branch is None:
            raise RuleViolation("unknown branch", field="branch_code")
        return branch.id
    if len(actor.branch_ids) == 1:
        return next(iter(actor.branch_ids))
    if customer.home_branch_id is not None:
        return customer.home_branch_id
    raise RuleViolation("name the branch of the application", field="branch_code")


def _replay(db: Session, key: str, digest: str) -> LoanApplication | None:
    existing = db.execute(
        select(LoanApplication).where(LoanApplication.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is not None and existing.request_hash != digest:
        raise Conflict(
            "this idempotency key was used for a different application",
            field="idempotency_key", code="idempotency_key_reused",
        )  # fmt: skip
    return existing


def create_application(
    db: Session, *, data: LoanApplicationCreate, actor: Principal, now: datetime
) -> tuple[LoanApplication, bool]:
    """Take, score and decide an application; (application, is_replay).

    Raises Forbidden, RuleViolation (customer, product, amount, term, branch), ProductNotFound,
    Conflict (idempotency key used for another request).
    """
    actor.require(Permission.loan_create)
    digest = _request_hash(data)
    existing = _replay(db, data.idempotency_key, digest)
    if existing is not None:
        return existing, True
    customer = db.execute(
        select(Customer).where(Customer.customer_number == data.customer_number.strip())
    ).scalar_one_or_none()
    if customer is None:
        raise RuleViolation("unknown customer", field="customer_number", code="customer_not_found")
    branch_id = _branch_for(db, actor=actor, code=data.branch_code, customer=customer)
    actor.require(Permission.loan_create, branch_id)
    application = assess_and_store(
        db, data=data, digest=digest, customer=customer, branch_id=branch_id,
        maker_id=actor.user_id, channel=ApplicationChannel.branch, now=now,
    )  # fmt: skip
    append_audit(
        db, action="loan_application.create", object_type="loan_application",
        object_id=application.id, branch_id=branch_id, now=now, actor=actor,
        detail={"reference": application.reference, "outcome": application.outcome,
                "reasons": list(application.decision_reasons)},
    )  # fmt: skip
    return application, False


def create_portal_application(
    db: Session, *, data: PortalLoanApplication, customer_id: uuid.UUID, now: datetime
) -> tuple[LoanApplication, bool]:
    """A customer's own application from the portal: scored and decided exactly like one taken at
    the branch, then in the home branch's queue (no documents yet, so a product that needs them
    refers it to the branch). Raises RuleViolation (product, amount, term, no home branch),
    Conflict (idempotency key used for another request)."""
    customer = db.get(Customer, customer_id)
    if customer is None:
        raise RuleViolation("unknown customer", field="customer_number", code="customer_not_found")
    body = LoanApplicationCreate.model_validate(
        {
            **data.model_dump(exclude={"idempotency_key"}),
            "customer_number": customer.customer_number,
            "documents": [],
            # the key space of customers is their own: two customers may send the same key
            "idempotency_key": f"portal:{customer.id}:{data.idempotency_key}"[:120],
        }
    )
    digest = _request_hash(body)
    existing = _replay(db, body.idempotency_key, digest)
    if existing is not None:
        return existing, True
    if customer.home_branch_id is None:
        raise RuleViolation(
            "your file has no home branch; apply at a branch", field="product_code",
            code="no_home_branch",
        )  # fmt: skip
    application = assess_and_store(
        db, data=body, digest=digest, customer=customer, branch_id=customer.home_branch_id,
        maker_id=None, channel=ApplicationChannel.portal, now=now,
    )  # fmt: skip
    append_audit(
        db, action="loan_application.create", object_type="loan_application",
        object_id=application.id, branch_id=application.branch_id, now=now,
        actor_label=f"customer:{customer.customer_number}",
        detail={"reference": application.reference, "outcome": application.outcome,
                "channel": "portal"},
    )  # fmt: skip
    return application, False


def assess_and_store(
    db: Session, *, data: LoanApplicationCreate, digest: str, customer: Customer,
    branch_id: uuid.UUID, maker_id: uuid.UUID | None, channel: ApplicationChannel,
    now: datetime,
) -> LoanApplication:  # fmt: skip
    """Check against the product, score, decide and store (one implementation for every
    channel). Raises RuleViolation (product, amount, term)."""
    from branchdesk.core.money import CURRENCY_EXPONENTS

    try:
        product = find_product(db, data.product_code, field="product_code")
    except ProductNotFound as exc:
        raise RuleViolation("unknown loan product", field="product_code") from exc
    if not product.is_active:
        raise RuleViolation("this loan product is not offered", field="product_code")
    if not product.min_amount_minor <= data.amount_minor <= product.max_amount_minor:
        raise RuleViolation(
            f"the amount must be between {product.min_amount_minor} and "
            f"{product.max_amount_minor} minor units for this product",
            field="amount_minor",
        )
    if not product.min_term_months <= data.term_months <= product.max_term_months:
        raise RuleViolation(
            f"the term must be between {product.min_term_months} and "
            f"{product.max_term_months} months for this product",
            field="term_months",
        )
    today = now.date()
    rate = product_rate(product)
    decision_rules = product_rules(product)
    payment = regular_payment_minor(
        amount_minor=data.amount_minor, rate=rate, term_months=data.term_months,
        method=RepaymentMethod(product.repayment_method), grace=product.grace_months,
    )  # fmt: skip
    age = rules.age_on(customer.birth_on, today) if customer.birth_on else None
    features = scorecard_features(
        data, age=age, payment_minor=payment,
        currency_exponent=CURRENCY_EXPONENTS[product.currency],
    )  # fmt: skip
    assessment = scoring.assess(features)
    limit = rules.credit_limit_minor(
        income_minor=data.monthly_income_minor, obligations_minor=data.monthly_obligations_minor,
        annual_rate=rate, term_months=data.term_months, max_dsr=decision_rules.max_dsr,
        product_max_minor=product.max_amount_minor,
    )  # fmt: skip
    documents = list(dict.fromkeys(data.documents))
    missing = tuple(d for d in product.required_documents if d not in documents)
    decision = rules.decide(
        rules.Applicant(
            score=assessment.score,
            age_years=age,
            term_months=data.term_months,
            is_kyc_valid=customer.id_expires_on is not None and customer.id_expires_on > today,
            monthly_income_minor=data.monthly_income_minor,
            monthly_obligations_minor=data.monthly_obligations_minor,
            monthly_payment_minor=payment,
            amount_minor=data.amount_minor,
            credit_limit_minor=limit,
            documents_missing=missing,
        ),
        decision_rules,
    )
    application = LoanApplication(
        id=new_id(),
        reference=reference(db, "LA", now),
        idempotency_key=data.idempotency_key,
        request_hash=digest,
        branch_id=branch_id,
        customer_id=customer.id,
        product_id=product.id,
        amount_minor=data.amount_minor,
        currency=product.currency,
        term_months=data.term_months,
        annual_rate=str(rate),
        monthly_income_minor=data.monthly_income_minor,
        monthly_obligations_minor=data.monthly_obligations_minor,
        applicant_data=features,
        documents=documents,
        has_consent=data.has_consent,
        status=STATUS_OF[decision.outcome],
        outcome=decision.outcome,
        score=f"{assessment.score:.2f}",
        probability_bad=f"{assessment.probability_bad:.6f}",
        model_version=assessment.model_version,
        score_reasons=assessment.reasons,
        decision_reasons=list(decision.reasons),
        dsr=str(decision.dsr),
        monthly_payment_minor=payment,
        credit_limit_minor=decision.credit_limit_minor,
        maker_id=maker_id,
        channel=channel,
        approver_id=None,
        decision_note="",
        created_at=now,
        decided_at=now if decision.outcome != rules.Outcome.refer else None,
        updated_at=now,
    )
    db.add(application)
    db.flush()
    record_event(
        db, type="loans.application_assessed", aggregate_type="loan_application",
        aggregate_id=application.id, branch_id=branch_id, now=now,
        payload={"reference": application.reference, "outcome": decision.outcome},
    )  # fmt: skip
    return application


def list_own_applications(db: Session, *, customer_id: uuid.UUID) -> list[PortalApplicationRead]:
    """A customer's applications (any channel), newest first: what the portal shows."""
    rows = db.execute(
        select(LoanApplication, LoanProduct.code)
        .join(LoanProduct, LoanProduct.id == LoanApplication.product_id)
        .where(LoanApplication.customer_id == customer_id)
        .order_by(LoanApplication.created_at.desc(), LoanApplication.reference.desc())
        .limit(50)
    ).all()
    return [
        PortalApplicationRead(
            reference=a.reference,
            product_code=code,
            amount_minor=a.amount_minor,
            currency=a.currency,
            term_months=a.term_months,
            status=a.status,
            score=float(a.score),
            monthly_payment_minor=a.monthly_payment_minor,
            created_at=a.created_at,
        )
        for a, code in rows
    ]


def get_application(
    db: Session, *, application_id: uuid.UUID, actor: Principal, for_update: bool = False
) -> LoanApplication:
    """Raises Forbidden, ApplicationNotFound (also outside the actor's branches).

    ``for_update`` locks the row (decisions and pay-outs), so two of them run one after another.
    """
    actor.require(Permission.loan_view)
    query = select(LoanApplication).where(LoanApplication.id == application_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    application = db.execute(query).scalar_one_or_none()
    if application is None or not actor.sees_branch(application.branch_id):
        raise ApplicationNotFound("no such loan application")
    return application


def list_applications(
    db: Session, *, actor: Principal, status: str | None = None, limit: int = 100
) -> list[LoanApplication]:
    """Newest first, within the actor's branches. Raises Forbidden."""
    actor.require(Permission.loan_view)
    query = select(LoanApplication).order_by(LoanApplication.created_at.desc()).limit(limit)
    if status:
        query = query.where(LoanApplication.status == status)
    if not actor.is_bank_wide:
        query = query.where(LoanApplication.branch_id.in_(list(actor.branch_ids)))
    return list(db.execute(query).scalars())


def decide_application(
    db: Session,
    *,
    application_id: uuid.UUID,
    approve: bool,
    note: str,
    actor: Principal,
    now: datetime,
) -> LoanApplication:
    """An approver's decision on a referral. Raises Forbidden, ApplicationNotFound, OwnApproval,
    Conflict (not referred)."""
    actor.require(Permission.loan_approve)
    application = get_application(db, application_id=application_id, actor=actor, for_update=True)
    actor.require(Permission.loan_approve, application.branch_id)
    if application.maker_id == actor.user_id:
        raise OwnApproval("nobody decides on an application they took themselves")
    if application.status != ApplicationStatus.referred:
        raise Conflict("only a referred application waits for a decision", code="not_referred")
    application.status = ApplicationStatus.approved if approve else ApplicationStatus.declined
    application.approver_id = actor.user_id
    application.decision_note = note.strip()[:300]
    application.decided_at = now
    application.updated_at = now
    db.flush()
    action = "loan_application.approve" if approve else "loan_application.decline"
    append_audit(
        db, action=action, object_type="loan_application", object_id=application.id,
        branch_id=application.branch_id, now=now, actor=actor,
        detail={"reference": application.reference, "note": application.decision_note},
    )  # fmt: skip
    notify_customer(
        db, customer_id=application.customer_id, template="loan.application_decided",
        values={"reference": application.reference, **OUTCOME_WORDS[application.status]},
        now=now, aggregate_type="loan_application", aggregate_id=application.id,
        branch_id=application.branch_id,
    )  # fmt: skip
    record_event(
        db, type="loans.application_decided", aggregate_type="loan_application",
        aggregate_id=application.id, branch_id=application.branch_id, now=now,
        payload={"reference": application.reference, "status": application.status},
    )  # fmt: skip
    return application


def application_read(db: Session, application: LoanApplication) -> LoanApplicationRead:
    customer = db.get(Customer, application.customer_id)
    product = db.get(LoanProduct, application.product_id)
    branch = db.get(Branch, application.branch_id)
    maker = db.get(User, application.maker_id) if application.maker_id else None
    approver = db.get(User, application.approver_id) if application.approver_id else None
    loan_number = db.execute(
        select(Loan.number).where(Loan.application_id == application.id)
    ).scalar_one_or_none()
    required = list(product.required_documents) if product else []
    return LoanApplicationRead(
        id=application.id,
        reference=application.reference,
        branch_code=branch.code if branch else "",
        customer_number=customer.customer_number if customer else "",
        customer_name=customer.full_name if customer else "",
        product_code=product.code if product else "",
        amount_minor=application.amount_minor,
        currency=application.currency,
        term_months=application.term_months,
        annual_rate=Decimal(application.annual_rate),
        monthly_income_minor=application.monthly_income_minor,
        monthly_obligations_minor=application.monthly_obligations_minor,
        monthly_payment_minor=application.monthly_payment_minor,
        dsr=Decimal(application.dsr),
        documents=list(application.documents),
        documents_missing=[d for d in required if d not in application.documents],
        status=application.status,
        outcome=application.outcome,
        score=float(application.score),
        probability_bad=float(application.probability_bad),
        model_version=application.model_version,
        score_reasons=[ScoreReason.model_validate(r) for r in application.score_reasons],
        decision_reasons=list(application.decision_reasons),
        decision_reason_texts=[rules.REASON_TEXT.get(r, r) for r in application.decision_reasons],
        credit_limit_minor=application.credit_limit_minor,
        maker=maker.username if maker else "",
        channel=application.channel,
        approver=approver.username if approver else None,
        decision_note=application.decision_note,
        loan_number=loan_number,
        created_at=application.created_at,
        decided_at=application.decided_at,
    )
