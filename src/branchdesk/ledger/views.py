"""HTML pages of the ledger: the branch manager's list of postings waiting for a decision."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession, redirect, render
from branchdesk.identity.deps import PageUser, PostedForm
from branchdesk.ledger import service
from branchdesk.ledger.api import audited_refusal

router = APIRouter(include_in_schema=False)


def _note(form: dict[str, str | list[str]]) -> str:
    value = form.get("note", "")
    return (value if isinstance(value, str) else "")[:300]


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    pending = service.list_pending(db, actor=principal)
    reads = [service.posting_read(db, p) for p in pending]
    return render(request, "ledger/approvals.html", {"pending": reads})


@router.post("/approvals/{posting_id}/approve")
def approve(
    db: DbSession, principal: PageUser, posting_id: uuid.UUID, form: PostedForm
) -> Response:
    detail = {"posting": str(posting_id)}
    with audited_refusal(db, actor=principal, action="posting.approve", detail=detail):
        service.approve_posting(
            db, posting_id=posting_id, actor=principal, now=utcnow(), note=_note(form)
        )
    return redirect("/approvals")


@router.post("/approvals/{posting_id}/reject")
def reject(db: DbSession, principal: PageUser, posting_id: uuid.UUID, form: PostedForm) -> Response:
    detail = {"posting": str(posting_id)}
    with audited_refusal(db, actor=principal, action="posting.reject", detail=detail):
        service.reject_posting(
            db, posting_id=posting_id, actor=principal, now=utcnow(), note=_note(form)
        )
    return redirect("/approvals")
