"""JSON API of care: worklist, relationship manager, risk assessment, campaigns, education."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from branchdesk.care.schemas import (
    AssessmentCreate,
    AssessmentRead,
    CampaignCreate,
    CampaignDecision,
    CampaignRead,
    EducationCreate,
    EducationLine,
    ManagerAssign,
    RelationshipManagerRead,
    SegmentCount,
    TaskDone,
    WorklistTask,
)
from branchdesk.care.service import campaigns, education, people, worklist
from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.customers import service as customers
from branchdesk.identity.deps import ApiUser

router = APIRouter(prefix="/api/v1", tags=["care"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The role may not do this here (or approves its own campaign)"},
    404: {"description": "Unknown, or outside your branches"},
    409: {"description": "Not in a state that allows this; nothing changed"},
    422: {"description": "A bad field (named in the answer); nothing changed"},
}


@router.get("/care/worklist", response_model=list[WorklistTask], responses=_REFUSALS)
def my_worklist(
    db: DbSession,
    principal: ApiUser,
    scope: Annotated[str, Query(pattern="^(mine|branch)$")] = "mine",
    status: Annotated[str, Query(pattern="^(open|done)$")] = "open",
) -> list[WorklistTask]:
    """Care tasks: ``mine`` (assigned to me or of customers I manage) or the branch's."""
    now = utcnow()
    return worklist.worklist(
        db, actor=principal, today=now.date(), scope="mine" if scope == "mine" else "branch",
        status=status,
    )  # fmt: skip


@router.post("/care/tasks/{task_id}/done", response_model=WorklistTask, responses=_REFUSALS)
def task_done(
    db: DbSession, principal: ApiUser, task_id: uuid.UUID, body: TaskDone
) -> WorklistTask:
    """Done with an outcome (reached, visited, no_answer, declined, not_needed); 409 if done."""
    now = utcnow()
    task = worklist.complete_task(
        db, task_id=task_id, outcome=body.outcome, note=body.note, actor=principal, now=now
    )
    return worklist.worklist(
        db, actor=principal, today=now.date(), scope="branch", status="done", task_id=task.id
    )[0]


@router.put(
    "/customers/{customer_number}/relationship-manager",
    response_model=RelationshipManagerRead | None,
    responses=_REFUSALS,
)
def assign_manager(
    db: DbSession, principal: ApiUser, customer_number: str, body: ManagerAssign
) -> RelationshipManagerRead | None:
    """Assign or reassign (``username``) or remove (null) the relationship manager."""
    return people.assign_relationship_manager(
        db, customer_number=customer_number, data=body, actor=principal, now=utcnow()
    )


@router.post(
    "/customers/{customer_number}/risk-assessments",
    response_model=AssessmentRead,
    status_code=201,
    responses=_REFUSALS,
)
def record_assessment(
    db: DbSession, principal: ApiUser, customer_number: str, body: AssessmentCreate
) -> AssessmentRead:
    """Store a risk-tolerance assessment C1-C5 (in force until its expiry)."""
    return people.record_assessment(
        db, customer_number=customer_number, data=body, actor=principal, now=utcnow()
    )


@router.get(
    "/customers/{customer_number}/risk-assessment",
    response_model=AssessmentRead | None,
    responses=_REFUSALS,
)
def current_assessment(
    db: DbSession, principal: ApiUser, customer_number: str
) -> AssessmentRead | None:
    """The latest assessment (``is_expired`` tells whether it is still in force)."""
    customer = customers.get_customer(db, customer_number=customer_number, actor=principal)
    return people.latest_assessment(db, customer_id=customer.id, today=utcnow().date())


@router.get("/care/segments", response_model=list[SegmentCount], responses=_REFUSALS)
def segments(
    db: DbSession, principal: ApiUser, branch_code: Annotated[str, Query(max_length=16)]
) -> list[SegmentCount]:
    """The branch's current analytics segments and their sizes (to aim a campaign)."""
    return campaigns.list_segments(db, branch_code=branch_code, actor=principal)


@router.get("/care/campaigns", response_model=list[CampaignRead], responses=_REFUSALS)
def list_campaigns(db: DbSession, principal: ApiUser) -> list[CampaignRead]:
    return campaigns.list_campaigns(db, actor=principal)


@router.post("/care/campaigns", response_model=CampaignRead, status_code=201, responses=_REFUSALS)
def create_campaign(db: DbSession, principal: ApiUser, body: CampaignCreate) -> CampaignRead:
    """A draft campaign to one segment of one branch."""
    return campaigns.create_campaign(db, data=body, actor=principal, now=utcnow())


@router.get("/care/campaigns/{campaign_id}", response_model=CampaignRead, responses=_REFUSALS)
def get_campaign(db: DbSession, principal: ApiUser, campaign_id: uuid.UUID) -> CampaignRead:
    """The campaign with its results counted per outcome once sent."""
    return campaigns.get_campaign(db, campaign_id=campaign_id, actor=principal)


@router.post(
    "/care/campaigns/{campaign_id}/submit", response_model=CampaignRead, responses=_REFUSALS
)
def submit_campaign(db: DbSession, principal: ApiUser, campaign_id: uuid.UUID) -> CampaignRead:
    return campaigns.submit_campaign(db, campaign_id=campaign_id, actor=principal, now=utcnow())


@router.post(
    "/care/campaigns/{campaign_id}/approve", response_model=CampaignRead, responses=_REFUSALS
)
def approve_campaign(
    db: DbSession, principal: ApiUser, campaign_id: uuid.UUID, body: CampaignDecision
) -> CampaignRead:
    """By someone other than the author; the worker sends it at the scheduled time."""
    return campaigns.decide_campaign(
        db, campaign_id=campaign_id, approve=True, data=body, actor=principal, now=utcnow()
    )


@router.post(
    "/care/campaigns/{campaign_id}/reject", response_model=CampaignRead, responses=_REFUSALS
)
def reject_campaign(
    db: DbSession, principal: ApiUser, campaign_id: uuid.UUID, body: CampaignDecision
) -> CampaignRead:
    return campaigns.decide_campaign(
        db, campaign_id=campaign_id, approve=False, data=body, actor=principal, now=utcnow()
    )


@router.get("/education", response_model=list[EducationLine], responses=_REFUSALS)
def list_education(db: DbSession, principal: ApiUser) -> list[EducationLine]:
    """The library with reads per item (portal, kiosk, distinct customers)."""
    return education.list_items(db, actor=principal)


@router.post("/education", response_model=EducationLine, status_code=201, responses=_REFUSALS)
def create_education(db: DbSession, principal: ApiUser, body: EducationCreate) -> EducationLine:
    """Publish an item in three languages, for everyone or one segment."""
    return education.create_item(db, data=body, actor=principal, now=utcnow())
