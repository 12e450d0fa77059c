"""Customer 360: one read of everything the bank knows about a customer (nothing is written)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from branchdesk.analytics.config import PipelineConfig
from branchdesk.analytics.models import (
    CareTask,
    CustomerFeature,
    CustomerRecommendation,
    CustomerSegment,
)
from branchdesk.analytics.recommend.reasons import reason_text
from branchdesk.appointments.models import Appointment
from branchdesk.care.service import education as care_education
from branchdesk.care.service import people as care_people
from branchdesk.care.service import worklist as care_worklist
from branchdesk.catalog.models import Branch
from branchdesk.complaints.models import Case
from branchdesk.core.i18n import domain_messages, get_locale, translations
from branchdesk.crm.schemas import (
    AccountLine,
    Analytics,
    CareTaskLine,
    CareTaskRead,
    ComplaintLine,
    Customer360,
    Profile,
    ReasonPartRead,
    RecommendationLine,
    SegmentLine,
    SurveyLine,
    TransactionLine,
    VisitLine,
)
from branchdesk.customers import service as customers
from branchdesk.customers.models import Customer
from branchdesk.feedback.models import SurveyResponse
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.models import CUSTOMER_TYPES, Account, Entry, Posting
from branchdesk.loyalty import service as loyalty
from branchdesk.queue.models import Ticket

RECENT = 10
SEGMENT_ORDER = {"asset_tier": 0, "rfm": 1, "cluster": 2, "loyalty_tier": 3}


def _kyc_status(expires: object, now: datetime) -> str:
    if expires is None:
        return "unknown"
    today = now.date()
    if expires < today:  # type: ignore[operator]  # a date
        return "expired"
    if expires <= today + timedelta(days=30):  # type: ignore[operator]  # a date
        return "expiring"
    return "valid"


def _gettext(locale: str) -> Callable[[str], str]:
    """Translate in ``locale``: the crm catalog first, then the platform's (like crm pages)."""
    own = domain_messages(locale, "crm")
    shared = translations(locale)

    def gettext(message: str) -> str:
        return own.get(message) or shared.gettext(message)

    return gettext


def _segment_label(segment: str, gettext: Callable[[str], str]) -> str:
    """A segment in words; cluster names are lists of traits ("high assets, few products",
    a repeated name gets " (2)"), translated trait by trait."""
    base, bracket, suffix = segment.partition(" (")
    label = gettext(", ").join(gettext(word) for word in base.split(", "))
    return f"{label}{bracket}{suffix}"


def _recommendation(row: CustomerRecommendation, locale: str) -> RecommendationLine:
    """A stored recommendation with its name and reason worded in ``locale``."""
    gettext = _gettext(locale)
    names = {p.code: p.name for p in PipelineConfig().products}

    def product_name(code: str) -> str:
        return gettext(names[code]) if code in names else code

    parts = row.reason_parts or []
    return RecommendationLine(
        rank=row.rank,
        product_code=row.product_code,
        product_name=product_name(row.product_code),
        reason=reason_text(parts, gettext, product_name) if parts else row.reason,
        reason_parts=[
            ReasonPartRead(code=p["code"], parameters={k: v for k, v in p.items() if k != "code"})
            for p in parts
        ],
    )


def get_customer_360(
    db: Session, *, customer_number: str, actor: Principal, now: datetime, locale: str | None = None
) -> Customer360:
    """Raises Forbidden (no customer.view) or NotFound (unknown or outside the actor's branches).

    Segment names, product names and recommendation reasons are worded in ``locale`` (the
    request's language; default: the current one)."""
    locale = locale or get_locale()
    customer = customers.get_customer(db, customer_number=customer_number, actor=actor)
    branch = db.get(Branch, customer.home_branch_id) if customer.home_branch_id else None
    profile = Profile(
        customer_number=customer.customer_number,
        full_name=customer.full_name,
        latin_name=customer.latin_name,
        id_document_type=customer.id_document_type,
        id_number_masked=customer.id_number_masked,
        id_expires_on=customer.id_expires_on,
        kyc_status=_kyc_status(customer.id_expires_on, now),
        birth_on=customer.birth_on,
        preferred_locale=customer.preferred_locale,
        has_marketing_consent=customer.has_marketing_consent,
        home_branch_code=branch.code if branch else None,
        service_tier=customer.service_tier,
        customer_since=customer.created_at.date(),
    )
    account_rows = list(
        db.execute(
            select(Account)
            .where(
                Account.customer_id == customer.id,
                Account.type.in_([str(t) for t in CUSTOMER_TYPES]),
            )
            .order_by(Account.number)
        ).scalars()
    )
    accounts = [
        AccountLine(number=a.number, type=a.type, currency=a.currency, status=a.status,
                    balance_minor=a.balance_minor)
        for a in account_rows
    ]  # fmt: skip
    numbers = {a.id: a.number for a in account_rows}
    transactions = [
        TransactionLine(booked_at=r.booked_at, account_number=numbers[r.account_id], kind=r.kind,
                        amount_minor=r.amount_minor, currency=r.currency)
        for r in db.execute(
            select(Entry.booked_at, Entry.account_id, Entry.amount_minor, Entry.currency,
                   Posting.kind)
            .join(Posting, Posting.id == Entry.posting_id)
            .where(Entry.account_id.in_(list(numbers)))
            .order_by(desc(Entry.booked_at), desc(Entry.seq))
            .limit(RECENT)
        )
    ] if numbers else []  # fmt: skip
    visits = [
        VisitLine(kind="ticket", reference=t.number, on=t.business_on, channel=t.channel,
                  state=t.state)
        for t in db.execute(
            select(Ticket).where(Ticket.customer_id == customer.id)
            .order_by(desc(Ticket.issued_at)).limit(RECENT)
        ).scalars()
    ] + [
        VisitLine(kind="appointment", reference=a.reference, on=a.business_on, channel=a.channel,
                  state=a.state)
        for a in db.execute(
            select(Appointment).where(Appointment.customer_id == customer.id)
            .order_by(desc(Appointment.starts_at)).limit(RECENT)
        ).scalars()
    ]  # fmt: skip
    visits.sort(key=lambda v: (v.on, v.kind, v.reference), reverse=True)
    surveys = [
        SurveyLine(answered_at=s.answered_at, csat=s.csat, nps=s.nps, is_detractor=s.is_detractor)
        for s in db.execute(
            select(SurveyResponse)
            .join(Ticket, Ticket.id == SurveyResponse.ticket_id)
            .where(Ticket.customer_id == customer.id)
            .order_by(desc(SurveyResponse.answered_at))
            .limit(RECENT)
        ).scalars()
    ]
    complaints = [
        ComplaintLine(reference=c.reference, subject=c.subject, state=c.state,
                      received_at=c.received_at)
        for c in db.execute(
            select(Case).where(Case.customer_id == customer.id)
            .order_by(desc(Case.received_at)).limit(RECENT)
        ).scalars()
    ]  # fmt: skip
    words = _gettext(locale)
    segments = sorted(
        (
            SegmentLine(
                kind=s.kind,
                segment=s.segment,
                label=_segment_label(s.segment, words),
                valid_from=s.valid_from,
            )
            for s in db.execute(
                select(CustomerSegment).where(
                    CustomerSegment.customer_id == customer.id, CustomerSegment.valid_to.is_(None)
                )
            ).scalars()
        ),
        key=lambda s: SEGMENT_ORDER.get(s.kind, 9),
    )
    points = loyalty.summary(db, customer_id=customer.id, today=now.date())
    feature = db.execute(
        select(CustomerFeature)
        .where(CustomerFeature.customer_id == customer.id)
        .order_by(desc(CustomerFeature.as_of))
        .limit(1)
    ).scalar_one_or_none()
    analytics = None
    recommendations: list[RecommendationLine] = []
    if feature is not None:
        analytics = Analytics(
            as_of=feature.as_of, assets_minor=feature.assets_minor,
            base_currency=feature.base_currency, recency_days=feature.recency_days,
            frequency=feature.frequency, monetary_minor=feature.monetary_minor,
            risk_tolerance=feature.risk_tolerance,
            is_risk_tolerance_default=feature.is_risk_tolerance_default,
        )  # fmt: skip
        recommendations = [
            _recommendation(r, locale)
            for r in db.execute(
                select(CustomerRecommendation)
                .where(
                    CustomerRecommendation.customer_id == customer.id,
                    CustomerRecommendation.as_of == feature.as_of,
                )
                .order_by(CustomerRecommendation.rank)
            ).scalars()
        ]
    tasks = [
        CareTaskLine(rule_code=t.rule_code, due_on=t.due_on, status=t.status, detail=t.detail)
        for t in db.execute(
            select(CareTask)
            .where(CareTask.customer_id == customer.id, CareTask.status == "open")
            .order_by(CareTask.due_on, CareTask.rule_code)
        ).scalars()
    ]
    return Customer360(
        profile=profile,
        accounts=accounts,
        transactions=transactions,
        visits=visits[:RECENT],
        surveys=surveys,
        complaints=complaints,
        segments=segments,
        loyalty_tier=points.tier,
        loyalty_points=points.balance,
        loyalty=points,
        analytics=analytics,
        recommendations=recommendations,
        care_tasks=tasks,
        relationship_manager=care_people.relationship_manager(db, customer),
        education_reads=care_education.reads_of_customer(
            db, customer_id=customer.id, locale=locale
        ),
    )


def _task_read(task: CareTask, customer: Customer, branch_code: str | None) -> CareTaskRead:
    return CareTaskRead(
        id=task.id, customer_number=customer.customer_number, customer_name=customer.full_name,
        rule_code=task.rule_code, due_on=task.due_on, status=task.status, detail=task.detail,
        branch_code=branch_code,
    )  # fmt: skip


def list_care_tasks(
    db: Session, *, actor: Principal, status: str = "open", limit: int = 200
) -> list[CareTaskRead]:
    """The worklist of the actor's branches (all for bank-wide roles). Raises Forbidden."""
    actor.require(Permission.customer_view)
    stmt = (
        select(CareTask, Customer, Branch.code)
        .join(Customer, Customer.id == CareTask.customer_id)
        .outerjoin(Branch, Branch.id == CareTask.branch_id)
        .where(CareTask.status == status)
        .order_by(CareTask.due_on, CareTask.rule_code, Customer.customer_number)
        .limit(limit)
    )
    if not actor.is_bank_wide:
        stmt = stmt.where(CareTask.branch_id.in_(list(actor.branch_ids)))
    return [_task_read(t, c, code) for t, c, code in db.execute(stmt).all()]


def complete_care_task(
    db: Session, *, task_id: uuid.UUID, actor: Principal, now: datetime
) -> CareTaskRead:
    """Mark a task done (audited; no outcome recorded: the care worklist records one). Raises
    Forbidden, NotFound (unknown or another branch's), Conflict (already done)."""
    task = care_worklist.complete_task(
        db, task_id=task_id, outcome="", note="", actor=actor, now=now
    )
    customer = db.get(Customer, task.customer_id)
    assert customer is not None  # a foreign key
    branch = db.get(Branch, task.branch_id) if task.branch_id else None
    return _task_read(task, customer, branch.code if branch else None)
