"""Opening cases: any channel, the staff form/API and the public form; text analysis."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.complaints import rules
from branchdesk.complaints.models import (
    Case,
    CaseChannel,
    CaseState,
    Severity,
    TimelineKind,
    plain,
)
from branchdesk.complaints.schemas import CaseCreate
from branchdesk.complaints.service.common import (
    AGGREGATE,
    add_timeline,
    branch_of,
    emit_event,
    jurisdiction_for_branch,
    recompute_due_dates,
    textanalysis_module,
)
from branchdesk.core.errors import RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.notify import Message, queue_notification
from branchdesk.core.references import next_value
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission

log = logging.getLogger(__name__)

Classifier = Callable[[str], Any]
_classifier_override: list[Classifier | None] = [None]


def set_classifier(classifier: Classifier | None) -> None:
    _classifier_override[0] = classifier


def _classify(text: str) -> Any | None:
    """The predicted category and sentiment, or None when no classifier is available."""
    classify = _classifier_override[0]
    if classify is None:
        module = textanalysis_module()
        classify = getattr(module, "classify", None) if module is not None else None
    if classify is None:
        return None
    try:
        # Without a session: the cached model, so intake never waits for a retrain.
        return classify(text)
    except Exception:
        log.exception("complaint text classification failed")
        return None


def reads_as_complaint(text: str) -> bool:
    """Whether a customer's reply reads as a complaint: negative sentiment by the text model
    (True when no model is available, so nothing that may be a complaint is missed)."""
    prediction = _classify(text)
    return prediction is None or getattr(prediction, "sentiment", None) == "negative"


# --- intake --------------------------------------------------------------------------------


def open_case(
    db: Session,
    *,
    channel: str,
    subject: str,
    body: str,
    branch_id: uuid.UUID,
    now: datetime,
    customer_id: uuid.UUID | None = None,
    related_ticket_id: uuid.UUID | None = None,
    severity: str = "normal",
    category: str | None = None,
    actor: Principal | None = None,
    source_ref: str | None = None,
    related_posting_id: uuid.UUID | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    contact_handle: str = "",
    thread_key: str | None = None,
    locale: str = "zh-Hant",
) -> Case:
    """Open a case (or return the one already opened for ``(channel, source_ref)``).

    Raises RuleViolation (unknown channel, severity or branch, empty text), Forbidden.
    """
    if channel not in set(CaseChannel):
        raise RuleViolation(f"unknown channel {channel!r}", field="channel")
    if severity not in set(Severity):
        raise RuleViolation(f"unknown severity {severity!r}", field="severity")
    subject = subject.strip()[:200]
    # Inbound channels send what they send: fit it to the columns rather than fail.
    source_ref = source_ref[:200] if source_ref is not None else None
    thread_key = thread_key[:200] if thread_key is not None else None
    contact_name, contact_handle = contact_name[:120], contact_handle[:200]
    contact_email, contact_phone = contact_email[:254], contact_phone[:32]
    body = body.strip()
    if not body and not subject:
        raise RuleViolation("describe the complaint", field="body")
    if actor is not None:
        actor.require(Permission.complaint_handle, branch_id)
    if source_ref is not None:
        existing = db.execute(
            select(Case).where(Case.channel == channel, Case.source_ref == source_ref)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    branch = branch_of(db, branch_id)
    jurisdiction = jurisdiction_for_branch(db, branch)
    policy = rules.policy_book().policy(jurisdiction)
    year = now.astimezone(ZoneInfo(branch.timezone)).year  # the branch's calendar year
    number = next_value(db, f"complaint:{year}")
    case = Case(
        id=new_id(),
        reference=f"CMP-{year}-{number:06d}",
        channel=channel,
        source_ref=source_ref,
        thread_key=thread_key,
        subject=subject or body[:80],
        body=body,
        category=category,
        severity=severity,
        is_complex=False,
        state=CaseState.new,
        branch_id=branch_id,
        customer_id=customer_id,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        contact_handle=contact_handle,
        locale=locale if locale in ("zh-Hant", "zh-Hans", "en") else "zh-Hant",
        related_ticket_id=related_ticket_id,
        related_posting_id=related_posting_id,
        jurisdiction=jurisdiction,
        policy_code=policy.code,
        policy_version=policy.version,
        received_at=now,
        extended_final_days=None,
        root_cause="",
        resolution="",
        created_at=now,
        updated_at=now,
    )
    prediction = _classify(f"{subject}\n{body}")
    if prediction is not None:
        case.predicted_category = getattr(prediction, "category", None)
        case.predicted_category_confidence = getattr(prediction, "category_confidence", None)
        case.predicted_sentiment = getattr(prediction, "sentiment", None)
        case.predicted_sentiment_confidence = getattr(prediction, "sentiment_confidence", None)
        case.detected_language = getattr(prediction, "language", None)
        if case.category is None:
            case.category = case.predicted_category
    db.add(case)
    db.flush()
    recompute_due_dates(db, case, now=now)
    add_timeline(
        db,
        case,
        kind=TimelineKind.created,
        now=now,
        actor=actor,
        actor_label="customer" if actor is None else "",
        body=body,
        data={"channel": channel, "policy": policy.code, "jurisdiction": jurisdiction},
    )
    emit_event(db, case, "opened", now, actor, channel=channel)
    if actor is not None:
        append_audit(
            db,
            actor=actor,
            action="complaint.open",
            object_type=AGGREGATE,
            object_id=case.reference,
            branch_id=branch_id,
            now=now,
            detail={"channel": channel},
        )
    if case.contact_email or case.contact_phone:
        queue_notification(
            db,
            message=Message(
                template="complaints.received",
                locale=case.locale,
                to_email=case.contact_email,
                to_phone=case.contact_phone,
                values={"reference": case.reference},
            ),
            now=now,
            aggregate_type=AGGREGATE,
            aggregate_id=case.id,
            branch_id=branch_id,
        )
    db.flush()
    return case


def open_case_for_staff(db: Session, *, data: CaseCreate, actor: Principal, now: datetime) -> Case:
    """A complaint taken at the counter, on the phone (or typed in from a letter or chat).

    Raises Forbidden, RuleViolation (unknown branch or customer)."""
    branch = db.execute(
        select(Branch).where(Branch.code == plain(data.branch_code.strip().upper()))
    ).scalar_one_or_none()
    if branch is None:
        raise RuleViolation("no such branch", field="branch_code")
    actor.require(Permission.complaint_handle, branch.id)
    customer_id = None
    contact_email, contact_phone = data.contact_email.strip(), data.contact_phone.strip()
    if data.customer_number:
        from branchdesk.customers.models import Customer

        customer = db.execute(
            select(Customer).where(Customer.customer_number == plain(data.customer_number.strip()))
        ).scalar_one_or_none()
        if customer is None:
            raise RuleViolation("no such customer", field="customer_number")
        customer_id = customer.id
        contact_email = contact_email or customer.email
        contact_phone = contact_phone or customer.phone
    if contact_email and "@" not in contact_email:
        raise RuleViolation("not an e-mail address", field="contact_email")
    _check_related(db, data, branch_id=branch.id)
    return open_case(
        db,
        channel=data.channel,
        subject=data.subject,
        body=data.body,
        branch_id=branch.id,
        now=now,
        customer_id=customer_id,
        related_ticket_id=data.related_ticket_id,
        related_posting_id=data.related_posting_id,
        severity=data.severity,
        category=data.category,
        actor=actor,
        contact_name=data.contact_name.strip(),
        contact_email=contact_email,
        contact_phone=contact_phone,
        locale=data.locale,
    )


def _check_related(db: Session, data: CaseCreate, *, branch_id: uuid.UUID) -> None:
    """The related ticket must be this branch's; the posting must exist."""
    from branchdesk.ledger.models import Posting
    from branchdesk.queue.models import Ticket

    if data.related_ticket_id is not None:
        ticket = db.get(Ticket, data.related_ticket_id)
        if ticket is None or ticket.branch_id != branch_id:
            raise RuleViolation("no such ticket at this branch", field="related_ticket_id")
    if data.related_posting_id is not None and db.get(Posting, data.related_posting_id) is None:
        raise RuleViolation("no such posting", field="related_posting_id")


def open_case_from_public_form(
    db: Session,
    *,
    branch_code: str,
    subject: str,
    body: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    locale: str,
    now: datetime,
) -> Case:
    """The public web form (no login). Raises RuleViolation with the field."""
    branch = db.execute(
        select(Branch).where(Branch.code == plain(branch_code.strip().upper()))
    ).scalar_one_or_none()
    if branch is None or not branch.is_active:
        raise RuleViolation("choose a branch", field="branch_code")
    if not body.strip():
        raise RuleViolation("describe what happened", field="body")
    if len(body) > 10_000 or len(subject) > 200 or len(contact_name) > 120:
        raise RuleViolation("the text is too long", field="body")
    contact_email, contact_phone = contact_email.strip()[:254], contact_phone.strip()[:32]
    if not contact_email and not contact_phone:
        raise RuleViolation("give an e-mail address or a phone number", field="contact_email")
    if contact_email and "@" not in contact_email:
        raise RuleViolation("not an e-mail address", field="contact_email")
    return open_case(
        db,
        channel=CaseChannel.web,
        subject=subject,
        body=body,
        branch_id=branch.id,
        now=now,
        contact_name=contact_name.strip(),
        contact_email=contact_email,
        contact_phone=contact_phone,
        thread_key=contact_email.lower() or None,
        locale=locale,
    )
