"""JSON API of compliance checks: checklists, runs, results, the violations register, trends."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter

from branchdesk.catalog import service as catalog
from branchdesk.compliance import service
from branchdesk.compliance.models import ViolationStatus
from branchdesk.compliance.schemas import (
    ChecklistCreate,
    ChecklistRead,
    ResultsBody,
    RunRead,
    RunStart,
    TrendRow,
    ViolationCreate,
    ViolationRead,
    ViolationUpdate,
)
from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The role may not do this, or the branch is outside your assignment"},
    404: {"description": "No such run, violation or branch"},
    409: {"description": "Already exists, or the run was submitted; nothing changed"},
    422: {"description": "A missing result or evidence, an unknown item, checklist or person"},
}


@router.get("/checklists", response_model=list[ChecklistRead], summary="Active checklists")
def checklists(db: DbSession, principal: ApiUser) -> list[ChecklistRead]:
    return service.list_checklists(db, actor=principal)


@router.post(
    "/checklists", response_model=ChecklistRead, status_code=201,
    summary="Create a checklist template (items: what to check, evidence required)",
    responses=_REFUSALS,
)  # fmt: skip
def create_checklist(db: DbSession, principal: ApiUser, body: ChecklistCreate) -> ChecklistRead:
    return service.create_checklist(db, body=body, actor=principal, now=utcnow())


@router.post(
    "/branches/{branch_code}/runs", response_model=RunRead, status_code=201,
    summary="Start this period's run of a checklist at a branch", responses=_REFUSALS,
)  # fmt: skip
def start_run(db: DbSession, principal: ApiUser, branch_code: str, body: RunStart) -> RunRead:
    branch = catalog.get_branch_by_code(db, branch_code)
    return service.start_run(db, branch=branch, body=body, actor=principal, now=utcnow())


@router.get(
    "/runs/{run_id}", response_model=RunRead, summary="A run with its results",
    responses={404: _REFUSALS[404]},
)  # fmt: skip
def run(db: DbSession, principal: ApiUser, run_id: uuid.UUID) -> RunRead:
    return service.get_run(db, run_id=run_id, actor=principal)


@router.post(
    "/runs/{run_id}/results", response_model=RunRead,
    summary="Record per-item results (pass/fail/na, evidence note, attachment name)",
    responses=_REFUSALS,
)  # fmt: skip
def results(db: DbSession, principal: ApiUser, run_id: uuid.UUID, body: ResultsBody) -> RunRead:
    return service.record_results(db, run_id=run_id, body=body, actor=principal, now=utcnow())


@router.post(
    "/runs/{run_id}/submit", response_model=RunRead,
    summary="Submit a run; failed items become violations", responses=_REFUSALS,
)  # fmt: skip
def submit(db: DbSession, principal: ApiUser, run_id: uuid.UUID) -> RunRead:
    return service.submit_run(db, run_id=run_id, actor=principal, now=utcnow())


@router.get(
    "/violations", response_model=list[ViolationRead],
    summary="The violations register (your branches; bank-wide for compliance officers)",
)  # fmt: skip
def violations(
    db: DbSession,
    principal: ApiUser,
    branch_code: str | None = None,
    status: ViolationStatus | None = None,
) -> list[ViolationRead]:
    return service.list_violations(
        db, actor=principal, now=utcnow(), branch_code=branch_code, status=status
    )


@router.post(
    "/violations", response_model=ViolationRead, status_code=201,
    summary="Record a violation", responses=_REFUSALS,
)  # fmt: skip
def create_violation(db: DbSession, principal: ApiUser, body: ViolationCreate) -> ViolationRead:
    return service.create_violation(db, body=body, actor=principal, now=utcnow())


@router.patch(
    "/violations/{violation_id}", response_model=ViolationRead,
    summary="Change severity, owner, deadline, status or disciplinary outcome (audited)",
    responses=_REFUSALS,
)  # fmt: skip
def update_violation(
    db: DbSession, principal: ApiUser, violation_id: uuid.UUID, body: ViolationUpdate
) -> ViolationRead:
    return service.update_violation(
        db, violation_id=violation_id, body=body, actor=principal, now=utcnow()
    )


@router.get(
    "/trend", response_model=list[TrendRow],
    summary="Violations found by branch, severity and month",
)  # fmt: skip
def trend(db: DbSession, principal: ApiUser, since: date | None = None) -> list[TrendRow]:
    return service.trend(db, actor=principal, since=since)
