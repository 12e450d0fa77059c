"""JSON API for accounts, postings (deposits, withdrawals, transfers, fees, remittances),
reversals and approvals. Postings answer 201 when new and 200 when replayed by idempotency key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, Forbidden, Unauthorized
from branchdesk.core.web import DbSession
from branchdesk.identity.audit import append_audit
from branchdesk.identity.deps import ApiUser
from branchdesk.identity.principal import Principal
from branchdesk.ledger import service
from branchdesk.ledger.models import PostingStatus, RemittanceStatus
from branchdesk.ledger.schemas import (
    AccountOpen,
    AccountRead,
    AccountStatusChange,
    ApprovalLimitRead,
    ApprovalLimitSet,
    BatchBody,
    BatchItemResult,
    BatchResult,
    CashBody,
    ClearingResult,
    Decision,
    EntryRead,
    FeeBody,
    PostingRead,
    RemittanceBody,
    ReversalBody,
    TimeDepositWithdrawal,
    TransferBody,
)
from branchdesk.ledger.service.compliance import AllOf, AmlCheck, PrePostingCheck
from branchdesk.ledger.service.posting import TransferItem, posting_reads

router = APIRouter(prefix="/api/v1", tags=["ledger"])

_default_check: PrePostingCheck | None = None


def compliance_check(request: Request) -> PrePostingCheck:
    """The app's pre-posting check (``app.state.ledger_compliance``), else the AML rules."""
    global _default_check
    configured: PrePostingCheck | None = getattr(request.app.state, "ledger_compliance", None)
    if configured is not None:
        return configured
    if _default_check is None:
        from branchdesk.risk.cases.kyc import KycExpiredCheck  # risk builds on the ledger

        _default_check = AllOf(KycExpiredCheck(), AmlCheck())
    return _default_check


async def _compliance(request: Request) -> PrePostingCheck:
    """`compliance_check` as a dependency: it does no I/O, so it runs on the event loop
    instead of costing a sync route a thread hop."""
    return compliance_check(request)


# the teller console, loans and the customer portal post through the same check
Compliance = Annotated[PrePostingCheck, Depends(_compliance)]


@contextmanager
def audited_refusal(
    db: Session,
    *,
    actor: Principal,
    action: str,
    detail: dict[str, Any],
    object_type: str = "posting",
) -> Iterator[None]:
    """A refused money action rolls back, then leaves one audit row in its own transaction.

    Permission and login refusals are not money outcomes and pass through unrecorded here.
    """
    try:
        yield
    except DomainError as exc:
        if isinstance(exc, Forbidden | Unauthorized):
            raise
        db.rollback()
        append_audit(
            db,
            action=action,
            object_type=object_type,
            now=utcnow(),
            actor=actor,
            outcome="refused",
            detail={**detail, "error": exc.code, "reason": exc.detail},
        )
        db.commit()
        raise


def _commit_posted(db: Session) -> None:
    """Commit the posting before its answer is built: the accounts' row locks are released
    sooner (a busy account's next posting waits less); the request's own commit afterwards has
    nothing left to do. A failed commit answers as it would at the end of the request."""
    db.commit()


def _answer(db: Session, response: Response, result: service.PostingResult) -> PostingRead:
    _commit_posted(db)
    response.status_code = 200 if result.is_replay else 201
    return service.posting_read(db, result.posting)


def _money_detail(body: Any) -> dict[str, Any]:
    return {
        "amount_minor": body.amount_minor,
        "currency": body.currency,
        "idempotency_key": body.idempotency_key,
    }


# --- accounts ----------------------------------------------------------------------------------


@router.post("/accounts", response_model=AccountRead, status_code=201)
def open_account(db: DbSession, principal: ApiUser, body: AccountOpen) -> AccountRead:
    account = service.open_account(db, data=body, actor=principal, now=utcnow())
    return service.account_read(db, account)


@router.get("/accounts/{account}", response_model=AccountRead)
def get_account(db: DbSession, principal: ApiUser, account: str) -> AccountRead:
    return service.account_read(db, service.get_account(db, ref=account, actor=principal))


@router.get("/accounts/{account}/entries", response_model=list[EntryRead])
def list_entries(
    db: DbSession,
    principal: ApiUser,
    account: str,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EntryRead]:
    return service.list_entries(
        db, ref=account, actor=principal, before_seq=before_seq, limit=limit
    )


@router.post("/accounts/{account}/status", response_model=AccountRead)
def change_account_status(
    db: DbSession, principal: ApiUser, account: str, body: AccountStatusChange
) -> AccountRead:
    changed = service.change_account_status(
        db, ref=account, data=body, actor=principal, now=utcnow()
    )
    return service.account_read(db, changed)


# --- postings ----------------------------------------------------------------------------------


@router.post("/deposits", response_model=PostingRead, status_code=201)
def post_deposit(
    db: DbSession, principal: ApiUser, compliance: Compliance, body: CashBody, response: Response
) -> PostingRead:
    detail = {"account": body.account, **_money_detail(body)}
    with audited_refusal(db, actor=principal, action="posting.deposit", detail=detail):
        result = service.post_deposit(
            db,
            account=body.account,
            amount_minor=body.amount_minor,
            currency=body.currency,
            idempotency_key=body.idempotency_key,
            actor=principal,
            now=utcnow(),
            compliance=compliance,
            branch_code=body.branch_code,
            counter_code=body.counter_code,
            memo=body.memo,
        )
    return _answer(db, response, result)


@router.post("/withdrawals", response_model=PostingRead, status_code=201)
def post_withdrawal(
    db: DbSession, principal: ApiUser, compliance: Compliance, body: CashBody, response: Response
) -> PostingRead:
    detail = {"account": body.account, **_money_detail(body)}
    with audited_refusal(db, actor=principal, action="posting.withdrawal", detail=detail):
        result = service.post_withdrawal(
            db,
            account=body.account,
            amount_minor=body.amount_minor,
            currency=body.currency,
            idempotency_key=body.idempotency_key,
            actor=principal,
            now=utcnow(),
            compliance=compliance,
            branch_code=body.branch_code,
            counter_code=body.counter_code,
            memo=body.memo,
        )
    return _answer(db, response, result)


def _transfer(
    db: Session, principal: Principal, compliance: PrePostingCheck, body: TransferBody
) -> service.PostingResult:
    return service.post_transfer(
        db,
        from_account=body.from_account,
        to_account=body.to_account,
        amount_minor=body.amount_minor,
        currency=body.currency,
        idempotency_key=body.idempotency_key,
        actor=principal,
        now=utcnow(),
        compliance=compliance,
        branch_code=body.branch_code,
        memo=body.memo,
    )


@router.post("/transfers", response_model=PostingRead, status_code=201)
def post_transfer(
    db: DbSession,
    principal: ApiUser,
    compliance: Compliance,
    body: TransferBody,
    response: Response,
) -> PostingRead:
    detail = {
        "from_account": body.from_account,
        "to_account": body.to_account,
        **_money_detail(body),
    }
    with audited_refusal(db, actor=principal, action="posting.transfer", detail=detail):
        result = _transfer(db, principal, compliance, body)
    _commit_posted(db)
    response.status_code = 200 if result.is_replay else 201
    (read,) = posting_reads(db, [result.posting], actor=principal)
    return read


@router.post("/transfers/batch", response_model=BatchResult)
def post_transfer_batch(
    db: DbSession, principal: ApiUser, compliance: Compliance, body: BatchBody
) -> BatchResult:
    """Up to 1,000 transfers; each is applied, replayed, held or refused on its own."""

    def audit_refusal(index: int, item: TransferItem, exc: DomainError) -> None:
        # the batch commits, so the refusal's audit row rides in the same transaction
        append_audit(
            db, action="posting.transfer", object_type="posting", now=utcnow(),
            actor_id=principal.user_id, actor_label=principal.label, outcome="refused",
            detail={"from_account": item.from_account, "to_account": item.to_account,
                    "amount_minor": item.amount_minor, "currency": item.currency,
                    "idempotency_key": item.idempotency_key, "error": exc.code,
                    "reason": exc.detail, "batch_index": index},
        )  # fmt: skip

    items = [TransferItem(**t.model_dump()) for t in body.transfers]
    outcomes = service.post_transfer_batch(
        db, items=items, actor=principal, now=utcnow(), compliance=compliance,
        on_refusal=audit_refusal,
    )  # fmt: skip
    _commit_posted(db)
    reads = iter(
        posting_reads(
            db,
            [o.posting for o in outcomes if not isinstance(o, DomainError)],
            actor=principal,
        )
    )
    results: list[BatchItemResult] = []
    counts = {"applied": 0, "replayed": 0, "pending": 0, "refused": 0}
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, DomainError):
            counts["refused"] += 1
            results.append(
                BatchItemResult(
                    index=index, outcome="refused", error=outcome.code, detail=outcome.detail
                )
            )
            continue
        if outcome.is_replay:
            label = "replayed"
            counts["replayed"] += 1
        elif outcome.posting.status == PostingStatus.posted:
            label = "applied"
            counts["applied"] += 1
        else:
            label = str(outcome.posting.status)
            counts["pending"] += 1
        results.append(BatchItemResult(index=index, outcome=label, posting=next(reads)))
    return BatchResult(**counts, results=results)


@router.post("/fees", response_model=PostingRead, status_code=201)
def post_fee(
    db: DbSession, principal: ApiUser, compliance: Compliance, body: FeeBody, response: Response
) -> PostingRead:
    detail = {"account": body.account, **_money_detail(body)}
    with audited_refusal(db, actor=principal, action="posting.fee", detail=detail):
        result = service.post_fee(
            db,
            account=body.account,
            amount_minor=body.amount_minor,
            currency=body.currency,
            idempotency_key=body.idempotency_key,
            actor=principal,
            now=utcnow(),
            compliance=compliance,
            branch_code=body.branch_code,
            memo=body.memo,
        )
    return _answer(db, response, result)


@router.post("/remittances", response_model=PostingRead, status_code=201)
def post_remittance(
    db: DbSession,
    principal: ApiUser,
    compliance: Compliance,
    body: RemittanceBody,
    response: Response,
) -> PostingRead:
    detail = {"from_account": body.from_account, **_money_detail(body)}
    with audited_refusal(db, actor=principal, action="posting.remittance", detail=detail):
        result = service.post_remittance(
            db,
            from_account=body.from_account,
            beneficiary=body.beneficiary,
            country=body.country,
            amount_minor=body.amount_minor,
            currency=body.currency,
            idempotency_key=body.idempotency_key,
            actor=principal,
            now=utcnow(),
            compliance=compliance,
            branch_code=body.branch_code,
            memo=body.memo,
        )
    return _answer(db, response, result)


@router.post("/remittances/{posting_id}/clearing", response_model=PostingRead, status_code=201)
def record_clearing_result(
    db: DbSession,
    principal: ApiUser,
    compliance: Compliance,
    posting_id: uuid.UUID,
    body: ClearingResult,
    response: Response,
) -> PostingRead:
    detail = {
        "remittance": str(posting_id),
        "outcome": body.outcome,
        "idempotency_key": body.idempotency_key,
    }
    with audited_refusal(db, actor=principal, action="posting.clearing", detail=detail):
        result = service.record_clearing_result(
            db,
            posting_id=posting_id,
            outcome=RemittanceStatus(body.outcome),
            idempotency_key=body.idempotency_key,
            actor=principal,
            now=utcnow(),
            compliance=compliance,
        )
    return _answer(db, response, result)


@router.post("/time-deposits/{account}/withdraw", response_model=PostingRead, status_code=201)
def withdraw_time_deposit(
    db: DbSession,
    principal: ApiUser,
    compliance: Compliance,
    account: str,
    body: TimeDepositWithdrawal,
    response: Response,
) -> PostingRead:
    """Principal and interest (contract rate at maturity, the demand rate before) paid out."""
    detail = {"account": account, "to_account": body.to_account,
              "idempotency_key": body.idempotency_key}  # fmt: skip
    with audited_refusal(db, actor=principal, action="posting.time_deposit", detail=detail):
        result = service.withdraw_time_deposit(
            db, account=account, to_account=body.to_account,
            idempotency_key=body.idempotency_key, actor=principal, now=utcnow(),
            compliance=compliance, branch_code=body.branch_code,
        )  # fmt: skip
    return _answer(db, response, result)


@router.get("/postings/{posting_id}", response_model=PostingRead)
def get_posting(db: DbSession, principal: ApiUser, posting_id: uuid.UUID) -> PostingRead:
    return service.posting_read(db, service.get_posting(db, posting_id=posting_id, actor=principal))


@router.post("/postings/{posting_id}/reverse", response_model=PostingRead, status_code=201)
def reverse_posting(
    db: DbSession,
    principal: ApiUser,
    compliance: Compliance,
    posting_id: uuid.UUID,
    body: ReversalBody,
    response: Response,
) -> PostingRead:
    detail = {"reverses": str(posting_id), "idempotency_key": body.idempotency_key}
    with audited_refusal(db, actor=principal, action="posting.reversal", detail=detail):
        result = service.reverse_posting(
            db,
            posting_id=posting_id,
            idempotency_key=body.idempotency_key,
            actor=principal,
            now=utcnow(),
            compliance=compliance,
            memo=body.memo,
        )
    return _answer(db, response, result)


# --- approvals ---------------------------------------------------------------------------------


@router.get("/approvals", response_model=list[PostingRead])
def list_pending(
    db: DbSession,
    principal: ApiUser,
    branch_code: Annotated[str | None, Query(max_length=16)] = None,
) -> list[PostingRead]:
    pending = service.list_pending(db, actor=principal, branch_code=branch_code)
    return [service.posting_read(db, p) for p in pending]


@router.post("/approvals/{posting_id}/approve", response_model=PostingRead)
def approve_posting(
    db: DbSession, principal: ApiUser, posting_id: uuid.UUID, body: Decision
) -> PostingRead:
    detail = {"posting": str(posting_id)}
    with audited_refusal(db, actor=principal, action="posting.approve", detail=detail):
        posting = service.approve_posting(
            db, posting_id=posting_id, actor=principal, now=utcnow(), note=body.note
        )
    return service.posting_read(db, posting)


@router.post("/approvals/{posting_id}/reject", response_model=PostingRead)
def reject_posting(
    db: DbSession, principal: ApiUser, posting_id: uuid.UUID, body: Decision
) -> PostingRead:
    detail = {"posting": str(posting_id)}
    with audited_refusal(db, actor=principal, action="posting.reject", detail=detail):
        posting = service.reject_posting(
            db, posting_id=posting_id, actor=principal, now=utcnow(), note=body.note
        )
    return service.posting_read(db, posting)


@router.put("/approval-limits", response_model=ApprovalLimitRead)
def set_approval_limit(
    db: DbSession, principal: ApiUser, body: ApprovalLimitSet
) -> ApprovalLimitRead:
    service.set_approval_limit(db, data=body, actor=principal, now=utcnow())
    return ApprovalLimitRead(**body.model_dump())
