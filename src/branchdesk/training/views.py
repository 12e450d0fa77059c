"""HTML page of training for branch managers: who is overdue and the skills matrix."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession, render
from branchdesk.identity.deps import PageUser
from branchdesk.training import service

router = APIRouter(include_in_schema=False)


@router.get("/training/branches/{branch_code}", response_class=HTMLResponse)
def branch_page(request: Request, db: DbSession, principal: PageUser, branch_code: str) -> Response:
    branch = service.get_branch(db, branch_code)
    now = utcnow()
    return render(
        request,
        "training/branch.html",
        {
            "branch": branch,
            "overdue": service.list_overdue(db, branch=branch, actor=principal, now=now),
            "matrix": service.skills_matrix(db, branch=branch, actor=principal, now=now),
        },
    )
