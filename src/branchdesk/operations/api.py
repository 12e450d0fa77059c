"""JSON API of operations: offline ticket blocks, emergency plans, incidents, loss events."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from branchdesk.catalog import service as catalog
from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.operations import assessments, incidents, offline
from branchdesk.operations.models import IncidentStatus, Scenario
from branchdesk.operations.schemas import (
    AbsorbBody,
    AbsorbResult,
    CsaQuestionnaireCreate,
    CsaQuestionnaireRead,
    CsaResponseCreate,
    CsaResponseRead,
    IncidentClose,
    IncidentOpen,
    IncidentRead,
    LossEventCreate,
    LossEventRead,
    OfflineBlockCreate,
    OfflineBlockRead,
    PlanPut,
    PlanRead,
)

router = APIRouter(prefix="/api/v1", tags=["operations"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The role may not do this at this branch"},
    404: {"description": "No such branch or block"},
    409: {"description": "A number was used twice, or online numbers reached the block"},
    422: {"description": "A number outside the block, a bad time, or a service not offered"},
}


@router.post(
    "/branches/{branch_code}/offline-blocks", response_model=OfflineBlockRead, status_code=201,
    summary="Pre-allocate a block of paper ticket numbers for a service (kiosk fallback)",
    responses=_REFUSALS,
)  # fmt: skip
def allocate(
    db: DbSession, principal: ApiUser, branch_code: str, body: OfflineBlockCreate
) -> OfflineBlockRead:
    branch = catalog.get_branch_by_code(db, branch_code)
    return offline.allocate_block(db, branch=branch, body=body, actor=principal, now=utcnow())


@router.get(
    "/branches/{branch_code}/offline-blocks", response_model=list[OfflineBlockRead],
    summary="Offline blocks of today and later days",
)  # fmt: skip
def blocks(db: DbSession, principal: ApiUser, branch_code: str) -> list[OfflineBlockRead]:
    branch = catalog.get_branch_by_code(db, branch_code)
    return offline.list_blocks(db, branch=branch, actor=principal, now=utcnow())


@router.post(
    "/branches/{branch_code}/offline-blocks/{block_id}/absorb", response_model=AbsorbResult,
    summary="Upload the paper tickets issued offline; they join the queue in arrival order",
    responses=_REFUSALS,
)  # fmt: skip
def absorb(
    db: DbSession, principal: ApiUser, branch_code: str, block_id: uuid.UUID, body: AbsorbBody
) -> AbsorbResult:
    branch = catalog.get_branch_by_code(db, branch_code)
    return offline.absorb_block(
        db, branch=branch, block_id=block_id, body=body, actor=principal, now=utcnow()
    )


@router.get(
    "/operations/emergency-plans", response_model=list[PlanRead],
    summary="Emergency plans per scenario (steps in zh-Hant, zh-Hans, en)",
)  # fmt: skip
def plans(db: DbSession, principal: ApiUser) -> list[PlanRead]:
    return incidents.list_plans(db, actor=principal)


@router.put(
    "/operations/emergency-plans/{scenario}", response_model=PlanRead,
    summary="Create or replace a scenario's plan (new version)", responses=_REFUSALS,
)  # fmt: skip
def put_plan(db: DbSession, principal: ApiUser, scenario: Scenario, body: PlanPut) -> PlanRead:
    return incidents.put_plan(db, scenario=scenario, body=body, actor=principal, now=utcnow())


@router.get(
    "/branches/{branch_code}/incidents", response_model=list[IncidentRead],
    summary="A branch's incident register, newest first",
)  # fmt: skip
def incident_list(
    db: DbSession, principal: ApiUser, branch_code: str, status: IncidentStatus | None = None
) -> list[IncidentRead]:
    branch = catalog.get_branch_by_code(db, branch_code)
    return incidents.list_incidents(db, branch=branch, actor=principal, status=status)


@router.post(
    "/branches/{branch_code}/incidents", response_model=IncidentRead, status_code=201,
    summary="Open an incident; its scenario's plan becomes its step checklist",
    responses=_REFUSALS,
)  # fmt: skip
def incident_open(
    db: DbSession, principal: ApiUser, branch_code: str, body: IncidentOpen
) -> IncidentRead:
    branch = catalog.get_branch_by_code(db, branch_code)
    return incidents.open_incident(db, branch=branch, body=body, actor=principal, now=utcnow())


@router.get(
    "/incidents/{incident_id}", response_model=IncidentRead, summary="One incident",
    responses={404: _REFUSALS[404]},
)  # fmt: skip
def incident(db: DbSession, principal: ApiUser, incident_id: uuid.UUID) -> IncidentRead:
    return incidents.get_incident(db, incident_id=incident_id, actor=principal)


@router.post(
    "/incidents/{incident_id}/steps/{position}/tick", response_model=IncidentRead,
    summary="Tick a step (who and when are recorded; once)", responses=_REFUSALS,
)  # fmt: skip
def tick(db: DbSession, principal: ApiUser, incident_id: uuid.UUID, position: int) -> IncidentRead:
    return incidents.tick_step(
        db, incident_id=incident_id, position=position, actor=principal, now=utcnow()
    )


@router.post(
    "/incidents/{incident_id}/close", response_model=IncidentRead,
    summary="Close an incident once every step is ticked", responses=_REFUSALS,
)  # fmt: skip
def close(
    db: DbSession, principal: ApiUser, incident_id: uuid.UUID, body: IncidentClose
) -> IncidentRead:
    return incidents.close_incident(
        db, incident_id=incident_id, note=body.note, actor=principal, now=utcnow()
    )


@router.get(
    "/branches/{branch_code}/loss-events", response_model=list[LossEventRead],
    summary="Loss events and near misses of a branch",
)  # fmt: skip
def losses(db: DbSession, principal: ApiUser, branch_code: str) -> list[LossEventRead]:
    branch = catalog.get_branch_by_code(db, branch_code)
    return incidents.list_loss_events(db, branch=branch, actor=principal)


@router.post(
    "/branches/{branch_code}/loss-events", response_model=LossEventRead, status_code=201,
    summary="Record a loss event or near miss (amount in minor units)", responses=_REFUSALS,
)  # fmt: skip
def record_loss(
    db: DbSession, principal: ApiUser, branch_code: str, body: LossEventCreate
) -> LossEventRead:
    branch = catalog.get_branch_by_code(db, branch_code)
    return incidents.record_loss_event(db, branch=branch, body=body, actor=principal, now=utcnow())


@router.get(
    "/operations/csa-questionnaires", response_model=list[CsaQuestionnaireRead],
    summary="Control self-assessment questionnaires",
)  # fmt: skip
def questionnaires(db: DbSession, principal: ApiUser) -> list[CsaQuestionnaireRead]:
    return assessments.list_questionnaires(db, actor=principal)


@router.post(
    "/operations/csa-questionnaires", response_model=CsaQuestionnaireRead, status_code=201,
    summary="Create a control self-assessment questionnaire", responses=_REFUSALS,
)  # fmt: skip
def create_questionnaire(
    db: DbSession, principal: ApiUser, body: CsaQuestionnaireCreate
) -> CsaQuestionnaireRead:
    return assessments.create_questionnaire(db, body=body, actor=principal, now=utcnow())


@router.get(
    "/branches/{branch_code}/csa-responses", response_model=list[CsaResponseRead],
    summary="A branch's self-assessments with their scores",
)  # fmt: skip
def csa_responses(db: DbSession, principal: ApiUser, branch_code: str) -> list[CsaResponseRead]:
    branch = catalog.get_branch_by_code(db, branch_code)
    return assessments.list_responses(db, branch=branch, actor=principal)


@router.post(
    "/branches/{branch_code}/csa-responses", response_model=CsaResponseRead, status_code=201,
    summary="Answer a questionnaire for a period (yes/partial/no; scored 0-100)",
    responses=_REFUSALS,
)  # fmt: skip
def submit_csa(
    db: DbSession, principal: ApiUser, branch_code: str, body: CsaResponseCreate
) -> CsaResponseRead:
    branch = catalog.get_branch_by_code(db, branch_code)
    return assessments.submit_response(db, branch=branch, body=body, actor=principal, now=utcnow())
