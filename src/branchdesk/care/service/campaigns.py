"""Campaigns to analytics segments: draft -> submitted -> approved by another person -> sent
by the ``care.campaigns`` job at the scheduled time, each customer once, only with marketing
consent and the portal's "offers" setting on. Results are counted per recipient outcome."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.analytics.models import CustomerSegment
from branchdesk.care.models import Campaign, CampaignRecipient, CampaignStatus, RecipientOutcome
from branchdesk.care.rules import render_text
from branchdesk.care.schemas import CampaignCreate, CampaignDecision, CampaignRead, SegmentCount
from branchdesk.care.service.greetings import display_name
from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.notify import Message, queue_notification
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.portal.service.preferences import wants_many

SEGMENT_KINDS = ("asset_tier", "rfm", "cluster", "loyalty_tier")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _branch(db: Session, code: str) -> Branch:
    branch = db.execute(select(Branch).where(Branch.code == code.upper())).scalar_one_or_none()
    if branch is None:
        raise RuleViolation("unknown branch", field="branch_code")
    return branch


def list_segments(db: Session, *, branch_code: str, actor: Principal) -> list[SegmentCount]:
    """Current segments of the branch's customers with their sizes (from the analytics run)."""
    branch = _branch(db, branch_code)
    actor.require(Permission.campaign_manage, branch.id)
    rows = db.execute(
        select(CustomerSegment.kind, CustomerSegment.segment, func.count())
        .join(Customer, Customer.id == CustomerSegment.customer_id)
        .where(CustomerSegment.valid_to.is_(None), Customer.home_branch_id == branch.id)
        .group_by(CustomerSegment.kind, CustomerSegment.segment)
        .order_by(CustomerSegment.kind, CustomerSegment.segment)
    ).all()
    return [SegmentCount(kind=k, segment=s, customers=int(n)) for k, s, n in rows]


def _members(db: Session, campaign: Campaign) -> list[Customer]:
    return list(
        db.execute(
            select(Customer)
            .join(CustomerSegment, CustomerSegment.customer_id == Customer.id)
            .where(
                CustomerSegment.valid_to.is_(None),
                CustomerSegment.kind == campaign.segment_kind,
                CustomerSegment.segment == campaign.segment,
                Customer.home_branch_id == campaign.branch_id,
            )
            .order_by(Customer.customer_number)
        ).scalars()
    )


def _read(db: Session, campaign: Campaign) -> CampaignRead:
    branch = db.get(Branch, campaign.branch_id)
    author = db.get(User, campaign.created_by_id)
    decider = db.get(User, campaign.decided_by_id) if campaign.decided_by_id else None
    results = {o.value: 0 for o in RecipientOutcome}
    for outcome, count in db.execute(
        select(CampaignRecipient.outcome, func.count())
        .where(CampaignRecipient.campaign_id == campaign.id)
        .group_by(CampaignRecipient.outcome)
    ).all():
        results[outcome] = int(count)
    return CampaignRead(
        id=campaign.id, name=campaign.name, branch_code=branch.code if branch else "",
        segment_kind=campaign.segment_kind, segment=campaign.segment,
        text_zh_hant=campaign.text_zh_hant, text_zh_hans=campaign.text_zh_hans,
        text_en=campaign.text_en, scheduled_at=campaign.scheduled_at, status=campaign.status,
        created_by=author.username if author else "", decided_by=decider.username if decider
        else None, decision_note=campaign.decision_note, sent_at=campaign.sent_at,
        results=results, targeted=sum(results.values()),
    )  # fmt: skip


def create_campaign(
    db: Session, *, data: CampaignCreate, actor: Principal, now: datetime
) -> CampaignRead:
    """A draft. Raises Forbidden, RuleViolation (unknown branch, segment or placeholder)."""
    branch = _branch(db, data.branch_code)
    actor.require(Permission.campaign_manage, branch.id)
    if data.segment_kind not in SEGMENT_KINDS:
        raise RuleViolation(f"one of {', '.join(SEGMENT_KINDS)}", field="segment_kind")
    known = db.execute(
        select(CustomerSegment.id)
        .where(CustomerSegment.kind == data.segment_kind, CustomerSegment.segment == data.segment)
        .limit(1)
    ).first()
    if known is None:
        raise RuleViolation("no analytics run produced this segment", field="segment")
    for name in ("text_zh_hant", "text_zh_hans", "text_en"):
        unknown = [p for p in _PLACEHOLDER.findall(getattr(data, name)) if p != "name"]
        if unknown:
            raise RuleViolation("only {name} may be filled in", field=name)
    campaign = Campaign(
        id=new_id(), name=data.name, branch_id=branch.id, segment_kind=data.segment_kind,
        segment=data.segment, text_zh_hant=data.text_zh_hant, text_zh_hans=data.text_zh_hans,
        text_en=data.text_en, scheduled_at=data.scheduled_at, status=CampaignStatus.draft,
        created_by_id=actor.user_id, decision_note="", created_at=now,
    )  # fmt: skip
    db.add(campaign)
    db.flush()
    _audit(db, campaign, "campaign.create", actor, now)
    return _read(db, campaign)


def _audit(db: Session, campaign: Campaign, action: str, actor: Principal, now: datetime) -> None:
    append_audit(
        db, action=action, object_type="campaign", object_id=campaign.id,
        branch_id=campaign.branch_id, now=now, actor=actor,
        detail={"status": campaign.status,
                "segment": f"{campaign.segment_kind}:{campaign.segment}"},
    )  # fmt: skip


def _get(db: Session, campaign_id: uuid.UUID, actor: Principal) -> Campaign:
    campaign = db.get(Campaign, campaign_id)
    if campaign is None or not actor.sees_branch(campaign.branch_id):
        raise NotFound("no such campaign")
    return campaign


def get_campaign(db: Session, *, campaign_id: uuid.UUID, actor: Principal) -> CampaignRead:
    """Raises Forbidden, NotFound."""
    actor.require(Permission.campaign_manage)
    return _read(db, _get(db, campaign_id, actor))


def list_campaigns(db: Session, *, actor: Principal, limit: int = 100) -> list[CampaignRead]:
    """Campaigns of the actor's branches, newest first. Raises Forbidden."""
    actor.require(Permission.campaign_manage)
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.name).limit(limit)
    if not actor.is_bank_wide:
        stmt = stmt.where(Campaign.branch_id.in_(list(actor.branch_ids)))
    return [_read(db, c) for c in db.execute(stmt).scalars()]


def submit_campaign(
    db: Session, *, campaign_id: uuid.UUID, actor: Principal, now: datetime
) -> CampaignRead:
    """Draft -> waiting for approval. Raises Forbidden, NotFound, Conflict (not a draft)."""
    actor.require(Permission.campaign_manage)
    campaign = _get(db, campaign_id, actor)
    actor.require(Permission.campaign_manage, campaign.branch_id)
    if campaign.status != CampaignStatus.draft:
        raise Conflict("only a draft can be submitted", field="status")
    campaign.status = CampaignStatus.pending_approval
    _audit(db, campaign, "campaign.submit", actor, now)
    db.flush()
    return _read(db, campaign)


def decide_campaign(
    db: Session,
    *,
    campaign_id: uuid.UUID,
    approve: bool,
    data: CampaignDecision,
    actor: Principal,
    now: datetime,
) -> CampaignRead:
    """Approve or reject (audited). Raises Forbidden (role, branch, or the author deciding),
    NotFound, Conflict (not waiting for approval)."""
    actor.require(Permission.campaign_approve)
    campaign = _get(db, campaign_id, actor)
    actor.require(Permission.campaign_approve, campaign.branch_id)
    if campaign.created_by_id == actor.user_id:
        raise Forbidden("nobody approves their own campaign")
    if campaign.status != CampaignStatus.pending_approval:
        raise Conflict("the campaign is not waiting for approval", field="status")
    campaign.status = CampaignStatus.approved if approve else CampaignStatus.rejected
    campaign.decided_by_id = actor.user_id
    campaign.decided_at = now
    campaign.decision_note = data.note
    _audit(db, campaign, "campaign.approve" if approve else "campaign.reject", actor, now)
    db.flush()
    return _read(db, campaign)


def _text(campaign: Campaign, locale: str) -> str:
    return {"zh-Hant": campaign.text_zh_hant, "zh-Hans": campaign.text_zh_hans}.get(
        locale, campaign.text_en
    )


def send_due_campaigns(db: Session, *, now: datetime) -> dict[uuid.UUID, dict[str, int]]:
    """Send every approved campaign whose time has come (each once); returns its counts."""
    query = (
        select(Campaign)
        .where(Campaign.status == CampaignStatus.approved, Campaign.scheduled_at <= now)
        .order_by(Campaign.scheduled_at, Campaign.id)
    )
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    sent: dict[uuid.UUID, dict[str, int]] = {}
    for campaign in db.execute(query).scalars().all():
        members = _members(db, campaign)
        ids = [c.id for c in members]
        sms = wants_many(db, customer_ids=ids, event="offers", channel="sms")
        email = wants_many(db, customer_ids=ids, event="offers", channel="email")
        counts: Counter[str] = Counter()
        for customer in members:
            message_id = None
            phone = customer.phone if sms[customer.id] else ""
            address = customer.email if email[customer.id] else ""
            if not customer.has_marketing_consent:
                outcome = RecipientOutcome.no_consent
            elif not sms[customer.id] and not email[customer.id]:
                outcome = RecipientOutcome.opted_out
            elif not phone and not address:
                outcome = RecipientOutcome.no_contact
            else:
                outcome = RecipientOutcome.sent
                text = render_text(
                    _text(campaign, customer.preferred_locale), name=display_name(customer)
                )
                message_id = queue_notification(
                    db,
                    message=Message(template="care.campaign", locale=customer.preferred_locale,
                                    to_phone=phone, to_email=address, values={"text": text}),
                    now=now, aggregate_type="campaign", aggregate_id=campaign.id,
                    branch_id=campaign.branch_id,
                )  # fmt: skip
            counts[outcome] += 1
            db.add(
                CampaignRecipient(
                    id=new_id(), campaign_id=campaign.id, customer_id=customer.id,
                    outcome=outcome, message_id=message_id,
                )
            )  # fmt: skip
        campaign.status = CampaignStatus.sent
        campaign.sent_at = now
        append_audit(
            db, action="campaign.send", object_type="campaign", object_id=campaign.id,
            branch_id=campaign.branch_id, now=now,
            detail={k: int(v) for k, v in sorted(counts.items())},
        )  # fmt: skip
        sent[campaign.id] = dict(counts)
    db.flush()
    return sent
