"""Maker-checker, compliance review, reversals and clearing results.

A held posting has no entries; approving it applies its legs then (with the usual locks and
limit checks), rejecting it closes it without entries. Nobody decides on their own posting.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Forbidden, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger import rules
from branchdesk.ledger.errors import (
    AlreadyReversed,
    InvalidRemittanceState,
    NotPending,
    OwnApproval,
    PostingNotFound,
)
from branchdesk.ledger.models import (
    Account,
    AccountType,
    ApprovalLimit,
    Posting,
    PostingKind,
    PostingStatus,
    RemittanceStatus,
)
from branchdesk.ledger.schemas import ApprovalLimitSet
from branchdesk.ledger.service.common import find_branch, internal_account
from branchdesk.ledger.service.compliance import PrePostingCheck
from branchdesk.ledger.service.posting import (
    BANK_INTERNAL,
    Leg,
    PostingResult,
    apply_legs,
    check_key,
    find_replay,
    needs_approval,
    submit,
)

PENDING = (PostingStatus.pending_approval, PostingStatus.pending_review)


def _lock_posting(db: Session, posting_id: uuid.UUID) -> Posting:
    posting = db.execute(
        select(Posting)
        .where(Posting.id == posting_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if posting is None:
        raise PostingNotFound("no such posting")
    return posting


def get_posting(db: Session, *, posting_id: uuid.UUID, actor: Principal) -> Posting:
    """Raises Forbidden or PostingNotFound (also outside the actor's branches)."""
    actor.require(Permission.account_view)
    posting = db.get(Posting, posting_id)
    if posting is None or not actor.sees_branch(posting.branch_id):
        raise PostingNotFound("no such posting")
    return posting


def _decider_permission(posting: Posting) -> Permission:
    if posting.status == PostingStatus.pending_review:
        return Permission.posting_review
    return Permission.posting_approve


def _check_decider(posting: Posting, actor: Principal) -> None:
    if posting.status not in PENDING:
        raise NotPending(f"the posting is {posting.status}, not waiting for a decision")
    actor.require(_decider_permission(posting), posting.branch_id)
    if posting.maker_id == actor.user_id:
        raise OwnApproval("a second person must decide on this posting")


def approve_posting(
    db: Session, *, posting_id: uuid.UUID, actor: Principal, now: datetime, note: str = ""
) -> Posting:
    """Raises Forbidden, PostingNotFound, NotPending, OwnApproval, InsufficientFunds, ..."""
    if not actor.can(Permission.posting_review):
        actor.require(Permission.posting_approve)
    posting = _lock_posting(db, posting_id)
    _check_decider(posting, actor)
    was = posting.status
    if posting.reverses_id is not None:
        original = _lock_posting(db, posting.reverses_id)
        if _reversal_of(db, original.id, exclude=posting.id, statuses=(PostingStatus.posted,)):
            raise AlreadyReversed("the original posting was reversed already")
    posting.checker_id = actor.user_id
    posting.decided_at = now
    posting.decision_note = note
    if was == PostingStatus.pending_review and needs_approval(
        db,
        kind=PostingKind(posting.kind),
        branch_id=posting.branch_id,
        amount_minor=posting.amount_minor,
        currency=posting.currency,
    ):
        posting.status = PostingStatus.pending_approval  # cleared by compliance, now maker-checker
        posting.hold_reason = ""
        db.flush()
    else:
        apply_legs(db, posting=posting, now=now)
    append_audit(
        db,
        action="posting.approve",
        object_type="posting",
        object_id=posting.id,
        branch_id=posting.branch_id,
        now=now,
        actor=actor,
        detail={
            "was": str(was),
            "now": posting.status,
            "kind": posting.kind,
            "amount_minor": posting.amount_minor,
            "currency": posting.currency,
        },
    )
    return posting


def reject_posting(
    db: Session, *, posting_id: uuid.UUID, actor: Principal, now: datetime, note: str = ""
) -> Posting:
    """Raises Forbidden, PostingNotFound, NotPending, OwnApproval."""
    if not actor.can(Permission.posting_review):
        actor.require(Permission.posting_approve)
    posting = _lock_posting(db, posting_id)
    _check_decider(posting, actor)
    was = posting.status
    posting.status = PostingStatus.rejected
    posting.checker_id = actor.user_id
    posting.decided_at = now
    posting.decision_note = note
    db.flush()
    append_audit(
        db,
        action="posting.reject",
        object_type="posting",
        object_id=posting.id,
        branch_id=posting.branch_id,
        now=now,
        actor=actor,
        detail={
            "was": str(was),
            "kind": posting.kind,
            "amount_minor": posting.amount_minor,
            "currency": posting.currency,
            "note": note,
        },
    )
    return posting


def list_pending(db: Session, *, actor: Principal, branch_code: str | None = None) -> list[Posting]:
    """Postings waiting for the actor's decision, oldest first. Raises Forbidden."""
    statuses = []
    if actor.can(Permission.posting_approve):
        statuses.append(PostingStatus.pending_approval)
    if actor.can(Permission.posting_review):
        statuses.append(PostingStatus.pending_review)
    if not statuses:
        raise Forbidden(f"the {actor.role} role may not decide on postings")
    stmt = select(Posting).where(Posting.status.in_(statuses)).order_by(Posting.created_at)
    if branch_code:
        branch = find_branch(db, branch_code)
        if not actor.sees_branch(branch.id):
            raise Forbidden("this branch is outside your assignment")
        stmt = stmt.where(Posting.branch_id == branch.id)
    elif not actor.is_bank_wide:
        stmt = stmt.where(Posting.branch_id.in_(actor.branch_ids))
    return list(db.execute(stmt.limit(500)).scalars())


def _reversal_of(
    db: Session,
    original_id: uuid.UUID,
    *,
    exclude: uuid.UUID | None = None,
    statuses: tuple[PostingStatus, ...] = (PostingStatus.posted, *PENDING),
) -> bool:
    stmt = select(Posting.id).where(
        Posting.reverses_id == original_id, Posting.status.in_(statuses)
    )
    if exclude is not None:
        stmt = stmt.where(Posting.id != exclude)
    return db.execute(stmt.limit(1)).first() is not None


def reverse_posting(
    db: Session,
    *,
    posting_id: uuid.UUID,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
    memo: str = "",
) -> PostingResult:
    """A reversing posting (the negated legs), always held for a supervisor's approval.

    Raises Forbidden, PostingNotFound, NotPending (original not posted), AlreadyReversed.
    """
    actor.require(Permission.posting_create)
    key = check_key(idempotency_key)
    digest = rules.request_hash(PostingKind.reversal, {"posting_id": str(posting_id), "memo": memo})
    replay = find_replay(db, key=key, request_hash=digest)
    if replay:
        return replay
    original = _lock_posting(db, posting_id)
    actor.require(Permission.posting_create, original.branch_id)
    if original.status != PostingStatus.posted:
        raise NotPending("only a posted posting can be reversed")
    if original.kind == PostingKind.reversal:
        raise AlreadyReversed("a reversal is itself not reversed; post a new movement")
    if _reversal_of(db, original.id):
        raise AlreadyReversed("this posting is reversed or has a reversal waiting")
    ids = [uuid.UUID(leg["account_id"]) for leg in original.legs]
    accounts = {a.id: a for a in db.execute(select(Account).where(Account.id.in_(ids))).scalars()}
    legs = [
        Leg(accounts[uuid.UUID(leg["account_id"])], -int(leg["amount_minor"]))
        for leg in original.legs
    ]
    return submit(
        db,
        kind=PostingKind.reversal,
        key=key,
        request_hash=digest,
        branch_id=original.branch_id,
        legs=legs,
        amount_minor=original.amount_minor,
        currency=original.currency,
        actor=actor,
        now=now,
        compliance=compliance,
        memo=memo or f"reversal of {original.id}",
        reverses_id=original.id,
    )


def record_clearing_result(
    db: Session,
    *,
    posting_id: uuid.UUID,
    outcome: RemittanceStatus,
    idempotency_key: str | None,
    actor: Principal,
    now: datetime,
    compliance: PrePostingCheck,
) -> PostingResult:
    """Settle (suspense -> settlement) or return (suspense -> customer) a sent remittance.

    Raises Forbidden, PostingNotFound, InvalidRemittanceState.
    """
    actor.require(Permission.clearing_manage)
    key = check_key(idempotency_key)
    digest = rules.request_hash("clearing", {"posting_id": str(posting_id), "outcome": outcome})
    replay = find_replay(db, key=key, request_hash=digest)
    if replay:
        return replay
    remittance = _lock_posting(db, posting_id)
    actor.require(Permission.clearing_manage, remittance.branch_id)
    if (
        remittance.kind != PostingKind.remittance
        or remittance.remittance_status != RemittanceStatus.sent
    ):
        raise InvalidRemittanceState("only a sent remittance takes a clearing result")
    legs_by_sign = {
        int(leg["amount_minor"]) > 0: uuid.UUID(leg["account_id"]) for leg in remittance.legs
    }
    suspense = db.get(Account, legs_by_sign[True])
    customer = db.get(Account, legs_by_sign[False])
    assert suspense is not None
    assert customer is not None
    amount = remittance.amount_minor
    if outcome == RemittanceStatus.settled:
        settlement = internal_account(
            db,
            type=AccountType.settlement,
            branch_id=remittance.branch_id,
            currency=remittance.currency,
            now=now,
        )
        legs = [Leg(suspense, -amount), Leg(settlement, amount)]
        kind = PostingKind.remittance_settlement
    else:
        legs = [Leg(suspense, -amount), Leg(customer, amount)]
        kind = PostingKind.remittance_return
    result = submit(
        db,
        kind=kind,
        key=key,
        request_hash=digest,
        branch_id=remittance.branch_id,
        legs=legs,
        amount_minor=amount,
        currency=remittance.currency,
        actor=actor,
        now=now,
        compliance=compliance,
        remittance_id=remittance.id,
    )
    if result.posting.status == PostingStatus.posted:
        remittance.remittance_status = outcome
        db.flush()
    return result


def set_approval_limit(
    db: Session, *, data: ApprovalLimitSet, actor: Principal, now: datetime
) -> ApprovalLimit:
    """Postings of the kind above the amount at the branch wait for approval. Raises Forbidden,
    RuleViolation (a kind the ledger never holds, e.g. ``accrual``)."""
    branch = find_branch(db, data.branch_code)
    actor.require(Permission.approval_limit_manage, branch.id)
    if data.kind in BANK_INTERNAL:
        raise RuleViolation(f"{data.kind} postings are never held for approval", field="kind")
    limit = db.execute(
        select(ApprovalLimit).where(
            ApprovalLimit.branch_id == branch.id,
            ApprovalLimit.kind == data.kind,
            ApprovalLimit.currency == data.currency,
        )
    ).scalar_one_or_none()
    if limit is None:
        limit = ApprovalLimit(
            id=new_id(),
            branch_id=branch.id,
            kind=data.kind,
            currency=data.currency,
            amount_minor=data.amount_minor,
            updated_at=now,
        )
        db.add(limit)
    else:
        limit.amount_minor = data.amount_minor
        limit.updated_at = now
    db.flush()
    append_audit(
        db,
        action="ledger.approval_limit",
        object_type="branch",
        object_id=branch.id,
        branch_id=branch.id,
        now=now,
        actor=actor,
        detail={"kind": data.kind, "currency": data.currency, "amount_minor": data.amount_minor},
    )
    return limit
