"""HTML pages of compliance checks: the violations register with the trend, the monthly trend
report, and one run."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.compliance import service
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.web import DbSession, render
from branchdesk.identity.deps import PageUser

router = APIRouter(include_in_schema=False)


@router.get("/compliance/violations", response_class=HTMLResponse)
def violations_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    now = utcnow()
    return render(
        request,
        "compliance/violations.html",
        {
            "violations": service.list_violations(db, actor=principal, now=now),
            "trend": service.trend(db, actor=principal),
            "checklists": service.list_checklists(db, actor=principal),
        },
    )


@router.get("/compliance/trend", response_class=HTMLResponse)
def trend_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    raw = request.query_params.get("months", "12")
    if not raw.isdigit():
        raise RuleViolation("a whole number of months", field="months")
    report = service.trend_months(db, actor=principal, now=utcnow(), months=int(raw))
    return render(request, "compliance/trend.html", {"report": report, "months": int(raw)})


@router.get("/compliance/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, db: DbSession, principal: PageUser, run_id: uuid.UUID) -> Response:
    found = service.get_run(db, run_id=run_id, actor=principal)
    return render(request, "compliance/run.html", {"run": found})
