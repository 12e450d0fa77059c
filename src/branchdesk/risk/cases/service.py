"""AML cases: alerts grouped per customer, the review workflow, held-posting decisions, reads.

Workflow: new -> under_review -> escalated -> reported (suspicious transaction report filed);
under_review or escalated -> closed_no_action (a reason is required). Every step is audited
(``identity.audit``) and written to the case's timeline in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.references import next_value
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.models import Posting, PostingStatus
from branchdesk.ledger.service import approvals
from branchdesk.risk.cases.models import (
    OPEN_STATUSES,
    AmlAlert,
    AmlCase,
    AmlCaseEvent,
    CaseStatus,
    KycProfile,
)
from branchdesk.risk.cases.schemas import (
    AlertRead,
    CaseDetail,
    CaseEventRead,
    CaseRead,
    HeldPostingRead,
)

TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.new: (CaseStatus.under_review,),
    CaseStatus.under_review: (CaseStatus.escalated, CaseStatus.closed_no_action),
    CaseStatus.escalated: (CaseStatus.reported, CaseStatus.closed_no_action),
    CaseStatus.reported: (),
    CaseStatus.closed_no_action: (),
}


class CaseNotFound(NotFound):
    code = "case_not_found"


class TransitionRefused(Conflict):
    code = "transition_refused"


def _event(
    db: Session,
    case: AmlCase,
    *,
    action: str,
    now: datetime,
    actor: Principal | None,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    detail: dict[str, object] | None = None,
) -> None:
    db.add(
        AmlCaseEvent(
            case_id=case.id,
            occurred_at=now,
            actor_id=actor.user_id if actor else None,
            actor_label=actor.label if actor else "system",
            action=action,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
    )
    append_audit(
        db,
        action=f"aml_case.{action}",
        object_type="aml_case",
        object_id=case.id,
        branch_id=case.branch_id,
        now=now,
        actor=actor,
        detail={
            "reference": case.reference,
            "from": from_status,
            "to": to_status,
            **(detail or {}),
        },
    )
    db.flush()


def attach_to_case(db: Session, *, alert: AmlAlert, now: datetime) -> bool:
    """Put a suspicious alert on its customer's open case, opening one if none; True if opened."""
    if alert.customer_id is None or alert.is_report:
        return False
    # one open case per customer: concurrent postings of the customer (another account, another
    # counter) wait here for each other instead of opening a case each (no lock on SQLite,
    # which has a single writer). NO KEY UPDATE: the alert rows' foreign keys hold KEY SHARE
    # locks on the customer, which a plain FOR UPDATE would deadlock against.
    db.execute(
        select(Customer.id).where(Customer.id == alert.customer_id).with_for_update(key_share=True)
    )
    case = db.execute(
        select(AmlCase)
        .where(AmlCase.customer_id == alert.customer_id, AmlCase.status.in_(OPEN_STATUSES))
        .order_by(AmlCase.created_at)
        .limit(1)
    ).scalar_one_or_none()
    opened = case is None
    if case is None:
        number = next_value(db, f"aml_case:{now.year}")
        case = AmlCase(
            reference=f"AML-{now.year}-{number:06d}",
            customer_id=alert.customer_id,
            branch_id=alert.branch_id,
            status=CaseStatus.new,
            created_at=now,
            updated_at=now,
        )
        db.add(case)
        db.flush()
        _event(db, case, action="open", now=now, actor=None, to_status=CaseStatus.new)
    alert.case_id = case.id
    case.updated_at = now
    _event(
        db, case, action="alert", now=now, actor=None,
        note=f"{alert.typology} ({alert.source}): {alert.reason}"[:1000],
        detail={"alert": str(alert.id), "typology": alert.typology},
    )  # fmt: skip
    return opened


def note_alert_grew(db: Session, *, alert: AmlAlert, added: int, now: datetime) -> None:
    """Postings joined an alert already on a case (the pattern went on): a step on its timeline."""
    if alert.case_id is None:
        return
    case = db.get(AmlCase, alert.case_id)
    assert case is not None  # a foreign key
    case.updated_at = now
    _event(
        db, case, action="alert_grew", now=now, actor=None,
        note=f"{alert.typology}: {added} more posting(s)",
        detail={"alert": str(alert.id), "typology": alert.typology, "added": added},
    )  # fmt: skip


def _load(db: Session, case_id: uuid.UUID, actor: Principal, *, lock: bool = False) -> AmlCase:
    statement = select(AmlCase).where(AmlCase.id == case_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    case = db.execute(statement).scalar_one_or_none()
    if case is None or (case.branch_id is not None and not actor.sees_branch(case.branch_id)):
        raise CaseNotFound("no such case")
    return case


def transition_case(
    db: Session,
    *,
    case_id: uuid.UUID,
    to: CaseStatus,
    actor: Principal,
    now: datetime,
    note: str = "",
    reason: str = "",
) -> AmlCase:
    """Raises Forbidden, CaseNotFound, TransitionRefused (409), RuleViolation (reason missing)."""
    actor.require(Permission.aml_manage)
    case = _load(db, case_id, actor, lock=True)
    was = CaseStatus(case.status)
    if to not in TRANSITIONS[was]:
        raise TransitionRefused(f"a case that is {was} cannot become {to}")
    reason = reason.strip()
    if to == CaseStatus.closed_no_action and not reason:
        raise RuleViolation("a reason is required to close without action", field="reason")
    if to == CaseStatus.under_review and case.assignee_id is None:
        case.assignee_id = actor.user_id
    case.status = to
    if to == CaseStatus.closed_no_action:
        case.closing_reason = reason
    case.updated_at = now
    _event(
        db, case, action="transition", now=now, actor=actor, from_status=was, to_status=to,
        note=(reason if to == CaseStatus.closed_no_action else note.strip())[:1000],
    )  # fmt: skip
    return case


def assign_case(
    db: Session, *, case_id: uuid.UUID, username: str, actor: Principal, now: datetime
) -> AmlCase:
    """Raises Forbidden, CaseNotFound, TransitionRefused (closed case), RuleViolation (user)."""
    actor.require(Permission.aml_manage)
    case = _load(db, case_id, actor, lock=True)
    if case.status not in OPEN_STATUSES:
        raise TransitionRefused(f"the case is {case.status}")
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active or user.role not in ("compliance_officer", "admin"):
        raise RuleViolation("no active compliance officer of that name", field="username")
    case.assignee_id = user.id
    case.updated_at = now
    _event(db, case, action="assign", now=now, actor=actor, note=user.username)
    return case


def add_note(
    db: Session, *, case_id: uuid.UUID, text: str, actor: Principal, now: datetime
) -> AmlCase:
    """Raises Forbidden, CaseNotFound, RuleViolation (empty note)."""
    actor.require(Permission.aml_manage)
    case = _load(db, case_id, actor, lock=True)
    if not text.strip():
        raise RuleViolation("the note is empty", field="text")
    case.updated_at = now
    _event(db, case, action="note", now=now, actor=actor, note=text.strip()[:1000])
    return case


def decide_held_posting(
    db: Session,
    *,
    case_id: uuid.UUID,
    posting_id: uuid.UUID,
    approve: bool,
    actor: Principal,
    now: datetime,
    note: str = "",
) -> Posting:
    """Release (approve) or reject a posting held for review that belongs to an open case,
    through the ledger's approvals. Raises Forbidden, CaseNotFound, TransitionRefused,
    PostingNotFound, NotPending, OwnApproval and the ledger's posting errors."""
    actor.require(Permission.aml_manage)
    case = _load(db, case_id, actor, lock=True)
    if case.status not in OPEN_STATUSES:
        raise TransitionRefused(f"the case is {case.status}")
    if str(posting_id) not in _case_posting_ids(db, case.id):
        raise CaseNotFound("no such posting on this case")
    decide = approvals.approve_posting if approve else approvals.reject_posting
    posting = decide(db, posting_id=posting_id, actor=actor, now=now, note=note)
    case.updated_at = now
    _event(
        db, case, action="release_posting" if approve else "reject_posting", now=now,
        actor=actor, note=note, detail={"posting": str(posting_id), "now": posting.status},
    )  # fmt: skip
    return posting


def _case_posting_ids(db: Session, case_id: uuid.UUID) -> set[str]:
    found: set[str] = set()
    for ids in db.execute(
        select(AmlAlert.posting_ids).where(AmlAlert.case_id == case_id)
    ).scalars():
        found.update(ids)
    return found


# --- reads ---------------------------------------------------------------------------------------


def _in_scope(
    column: InstrumentedAttribute[uuid.UUID | None], actor: Principal
) -> ColumnElement[bool]:
    if actor.is_bank_wide:
        return true()
    return or_(column.in_(sorted(actor.branch_ids)), column.is_(None))


def list_alerts(
    db: Session, *, actor: Principal, typology: str | None = None, limit: int = 500
) -> list[AlertRead]:
    """Newest first. Raises Forbidden."""
    actor.require(Permission.aml_view)
    statement = (
        select(AmlAlert, Customer.customer_number, AmlCase.reference)
        .outerjoin(Customer, Customer.id == AmlAlert.customer_id)
        .outerjoin(AmlCase, AmlCase.id == AmlAlert.case_id)
        .order_by(AmlAlert.created_at.desc(), AmlAlert.first_booked_at.desc(), AmlAlert.id)
        .limit(limit)
    )
    statement = statement.where(_in_scope(AmlAlert.branch_id, actor))
    if typology:
        statement = statement.where(AmlAlert.typology == typology)
    return [_alert_read(a, number or "", ref or "") for a, number, ref in db.execute(statement)]


def _alert_read(alert: AmlAlert, customer_number: str, reference: str) -> AlertRead:
    return AlertRead(
        id=alert.id, typology=alert.typology, account_number=alert.account_number,
        customer_id=alert.customer_id, customer_number=customer_number,
        posting_ids=list(alert.posting_ids), score_pct=alert.score_pct, reason=alert.reason,
        source=alert.source, is_report=alert.is_report, case_id=alert.case_id,
        case_reference=reference, first_booked_at=alert.first_booked_at,
        created_at=alert.created_at,
    )  # fmt: skip


def list_cases(
    db: Session, *, actor: Principal, status: CaseStatus | None = None
) -> list[CaseRead]:
    """Open cases first, then newest. Raises Forbidden."""
    actor.require(Permission.aml_view)
    counts = (
        select(AmlAlert.case_id, func.count().label("n"))
        .where(AmlAlert.case_id.is_not(None))
        .group_by(AmlAlert.case_id)
        .subquery()
    )
    statement = (
        select(AmlCase, Customer, User.username, counts.c.n)
        .join(Customer, Customer.id == AmlCase.customer_id)
        .outerjoin(User, User.id == AmlCase.assignee_id)
        .outerjoin(counts, counts.c.case_id == AmlCase.id)
        .order_by(AmlCase.updated_at.desc(), AmlCase.id)
        .limit(500)
    )
    statement = statement.where(_in_scope(AmlCase.branch_id, actor))
    if status is not None:
        statement = statement.where(AmlCase.status == status)
    rows = [
        _case_read(c, customer, name or "", n or 0)
        for c, customer, name, n in db.execute(statement)
    ]
    return sorted(rows, key=lambda r: r.status not in OPEN_STATUSES)


def _case_read(case: AmlCase, customer: Customer, assignee: str, count: int) -> CaseRead:
    return CaseRead(
        id=case.id, reference=case.reference, status=CaseStatus(case.status),
        customer_id=case.customer_id, customer_number=customer.customer_number,
        customer_name=customer.full_name, assignee=assignee, closing_reason=case.closing_reason,
        alert_count=count, created_at=case.created_at, updated_at=case.updated_at,
    )  # fmt: skip


def get_case(db: Session, *, case_id: uuid.UUID, actor: Principal) -> CaseDetail:
    """Raises Forbidden, CaseNotFound."""
    actor.require(Permission.aml_view)
    case = _load(db, case_id, actor)
    customer = db.get(Customer, case.customer_id)
    assert customer is not None  # a foreign key
    assignee = db.get(User, case.assignee_id) if case.assignee_id else None
    alerts = list(
        db.execute(
            select(AmlAlert).where(AmlAlert.case_id == case.id).order_by(AmlAlert.first_booked_at)
        ).scalars()
    )
    events = db.execute(
        select(AmlCaseEvent)
        .where(AmlCaseEvent.case_id == case.id)
        .order_by(AmlCaseEvent.occurred_at, AmlCaseEvent.id)
    ).scalars()
    held_ids = sorted({uuid.UUID(p) for a in alerts if a.source == "hook" for p in a.posting_ids})
    held = (
        list(
            db.execute(
                select(Posting).where(Posting.id.in_(held_ids)).order_by(Posting.created_at)
            ).scalars()
        )
        if held_ids
        else []
    )
    base = _case_read(case, customer, assignee.username if assignee else "", len(alerts))
    profile = db.get(KycProfile, case.customer_id)
    return CaseDetail(
        **base.model_dump(),
        alerts=[_alert_read(a, customer.customer_number, case.reference) for a in alerts],
        timeline=[
            CaseEventRead(
                occurred_at=e.occurred_at,
                actor_label=e.actor_label,
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                note=e.note,
            )
            for e in events
        ],
        held_postings=[
            HeldPostingRead(
                id=p.id,
                kind=p.kind,
                status=p.status,
                amount_minor=p.amount_minor,
                currency=p.currency,
                hold_reason=p.hold_reason,
                created_at=p.created_at,
            )
            for p in held
        ],
        allowed_transitions=list(TRANSITIONS[CaseStatus(case.status)]),
        kyc_status=profile.status if profile else "",
        kyc_rating=profile.rating if profile else "",
        kyc_reasons=list(profile.rating_reasons) if profile else [],
        kyc_missing=list(profile.missing) if profile else [],
    )


def is_pending_review(status: str) -> bool:
    return status == PostingStatus.pending_review
