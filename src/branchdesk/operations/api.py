"""JSON API of the offline ticketing fallback (kiosk blocks of paper ticket numbers)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from branchdesk.catalog import service as catalog
from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.operations import offline
from branchdesk.operations.schemas import (
    AbsorbBody,
    AbsorbResult,
    OfflineBlockCreate,
    OfflineBlockRead,
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
