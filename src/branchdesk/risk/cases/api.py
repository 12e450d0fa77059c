"""JSON API of AML alerts, cases and reports, for compliance officers (risk officers read)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.cases import reports, service, sweep
from branchdesk.risk.cases.models import CaseStatus
from branchdesk.risk.cases.schemas import (
    AlertRead,
    AssigneeBody,
    CaseDetail,
    CaseRead,
    NoteBody,
    PostingDecisionBody,
    SweepRead,
    TransitionBody,
)

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The role may not do this"},
    404: {"description": "No such case (or outside the officer's branches)"},
    409: {"description": "The case's status does not allow this step; nothing changed"},
    422: {"description": "A reason or field is missing or invalid"},
}
_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


@router.get("/alerts", response_model=list[AlertRead], summary="AML alerts, newest first")
def alerts(
    db: DbSession,
    principal: ApiUser,
    typology: Annotated[str | None, Query(max_length=32)] = None,
) -> list[AlertRead]:
    return service.list_alerts(db, actor=principal, typology=typology)


@router.post(
    "/sweeps",
    response_model=SweepRead,
    summary="Run monitoring now: alerts for held postings and the last two days' findings",
    responses={403: _REFUSALS[403]},
)
def run_sweep(db: DbSession, principal: ApiUser) -> SweepRead:
    return sweep.run_sweep(db, actor=principal, now=utcnow(), config=RuleConfig())


@router.get("/cases", response_model=list[CaseRead], summary="AML cases, open ones first")
def cases(db: DbSession, principal: ApiUser, status: CaseStatus | None = None) -> list[CaseRead]:
    return service.list_cases(db, actor=principal, status=status)


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetail,
    summary="One case: alerts, held postings, timeline, allowed steps",
    responses={404: _REFUSALS[404]},
)
def case(db: DbSession, principal: ApiUser, case_id: uuid.UUID) -> CaseDetail:
    return service.get_case(db, case_id=case_id, actor=principal)


@router.post(
    "/cases/{case_id}/transitions",
    response_model=CaseDetail,
    summary="Move a case: under_review, escalated, reported, closed_no_action (reason required)",
    responses=_REFUSALS,
)
def transition(
    db: DbSession, principal: ApiUser, case_id: uuid.UUID, body: TransitionBody
) -> CaseDetail:
    service.transition_case(
        db, case_id=case_id, to=body.to, actor=principal, now=utcnow(), note=body.note,
        reason=body.reason,
    )  # fmt: skip
    return service.get_case(db, case_id=case_id, actor=principal)


@router.post(
    "/cases/{case_id}/assignee",
    response_model=CaseDetail,
    summary="Assign an open case to a compliance officer",
    responses=_REFUSALS,
)
def assign(db: DbSession, principal: ApiUser, case_id: uuid.UUID, body: AssigneeBody) -> CaseDetail:
    service.assign_case(db, case_id=case_id, username=body.username, actor=principal, now=utcnow())
    return service.get_case(db, case_id=case_id, actor=principal)


@router.post(
    "/cases/{case_id}/notes",
    response_model=CaseDetail,
    status_code=201,
    summary="Add a note to a case's timeline",
    responses=_REFUSALS,
)
def note(db: DbSession, principal: ApiUser, case_id: uuid.UUID, body: NoteBody) -> CaseDetail:
    service.add_note(db, case_id=case_id, text=body.text, actor=principal, now=utcnow())
    return service.get_case(db, case_id=case_id, actor=principal)


@router.post(
    "/cases/{case_id}/postings/{posting_id}/decision",
    response_model=CaseDetail,
    summary="Release (approve) or reject a posting held for review, through ledger approvals",
    responses=_REFUSALS,
)
def decide_posting(
    db: DbSession,
    principal: ApiUser,
    case_id: uuid.UUID,
    posting_id: uuid.UUID,
    body: PostingDecisionBody,
) -> CaseDetail:
    service.decide_held_posting(
        db, case_id=case_id, posting_id=posting_id, approve=body.approve, actor=principal,
        now=utcnow(), note=body.note,
    )  # fmt: skip
    return service.get_case(db, case_id=case_id, actor=principal)


@router.get(
    "/cases/{case_id}/str.csv",
    summary="Suspicious transaction report of a case (CSV)",
    response_class=Response,
    responses={**_CSV, 403: _REFUSALS[403], 404: _REFUSALS[404]},
)
def suspicious_report(db: DbSession, principal: ApiUser, case_id: uuid.UUID) -> Response:
    found, rows = reports.suspicious_rows(db, case_id=case_id, actor=principal)
    return Response(
        reports.to_csv(reports.STR_COLUMNS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{found.reference}-str.csv"'},
    )


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise RuleViolation("the range ends before it starts", field="to")
    first = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    return first, datetime.combine(end, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)


@router.get(
    "/reports/large-value.csv",
    summary="Large-value transaction report for a range of days (UTC, inclusive), CSV",
    response_class=Response,
    responses={**_CSV, 403: _REFUSALS[403], 422: _REFUSALS[422]},
)
def large_value(
    db: DbSession,
    principal: ApiUser,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> Response:
    first, last = day_range(start, end)
    rows = reports.large_value_report(db, actor=principal, start=first, end=last)
    return Response(
        reports.to_csv(reports.LVTR_COLUMNS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="lvtr-{start}-{end}.csv"'},
    )
