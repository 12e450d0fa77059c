"""JSON API of training: courses, assignments, completions, certifications, the overdue list,
the skills matrix and what a counter serves under its teller's certifications."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.training import service
from branchdesk.training.schemas import (
    AssignmentCreate,
    AssignmentRead,
    CertificationCreate,
    CertificationRead,
    CompletionCreate,
    CompletionRead,
    CounterServices,
    CourseCreate,
    CourseRead,
    OverdueRow,
    SkillRow,
    StaffCertificationCreate,
    StaffCertificationRead,
)

router = APIRouter(prefix="/api/v1", tags=["training"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The role may not do this, or the person works outside your branches"},
    409: {"description": "Already exists; nothing changed"},
    422: {"description": "An unknown course, certification, person or service, or a bad field"},
}


@router.get("/training/courses", response_model=list[CourseRead], summary="All courses")
def courses(db: DbSession, principal: ApiUser) -> list[CourseRead]:
    return service.list_courses(db, actor=principal)


@router.post(
    "/training/courses", response_model=CourseRead, status_code=201, summary="Create a course",
    responses=_REFUSALS,
)  # fmt: skip
def create_course(db: DbSession, principal: ApiUser, body: CourseCreate) -> CourseRead:
    course = service.create_course(db, body=body, actor=principal, now=utcnow())
    return CourseRead.model_validate(course)


@router.post(
    "/training/assignments", response_model=AssignmentRead, status_code=201,
    summary="Assign a course to every staff member of a role, due by a day", responses=_REFUSALS,
)  # fmt: skip
def assign(db: DbSession, principal: ApiUser, body: AssignmentCreate) -> AssignmentRead:
    return service.assign_course(db, body=body, actor=principal, now=utcnow())


@router.post(
    "/training/completions", response_model=CompletionRead, status_code=201,
    summary="Record a completion with its score (passed when at or over the pass mark)",
    responses=_REFUSALS,
)  # fmt: skip
def complete(db: DbSession, principal: ApiUser, body: CompletionCreate) -> CompletionRead:
    return service.record_completion(db, body=body, actor=principal, now=utcnow())


@router.post(
    "/training/certifications", response_model=CertificationRead, status_code=201,
    summary="Create a certification, optionally required to serve one service type",
    responses=_REFUSALS,
)  # fmt: skip
def create_certification(
    db: DbSession, principal: ApiUser, body: CertificationCreate
) -> CertificationRead:
    return service.create_certification(db, body=body, actor=principal, now=utcnow())


@router.post(
    "/training/staff-certifications", response_model=StaffCertificationRead, status_code=201,
    summary="Grant a certification to a staff member (expiry defaults to its validity)",
    responses=_REFUSALS,
)  # fmt: skip
def grant(
    db: DbSession, principal: ApiUser, body: StaffCertificationCreate
) -> StaffCertificationRead:
    return service.grant_certification(db, body=body, actor=principal, now=utcnow())


@router.get(
    "/branches/{branch_code}/training/overdue", response_model=list[OverdueRow],
    summary="Staff of a branch past the due day of an assigned course",
)  # fmt: skip
def overdue(db: DbSession, principal: ApiUser, branch_code: str) -> list[OverdueRow]:
    branch = service.get_branch(db, branch_code)
    return service.list_overdue(db, branch=branch, actor=principal, now=utcnow())


@router.get(
    "/branches/{branch_code}/training/skills-matrix", response_model=list[SkillRow],
    summary="Per staff member: certifications (with validity) and courses passed",
)  # fmt: skip
def matrix(db: DbSession, principal: ApiUser, branch_code: str) -> list[SkillRow]:
    branch = service.get_branch(db, branch_code)
    return service.skills_matrix(db, branch=branch, actor=principal, now=utcnow())


@router.get(
    "/branches/{branch_code}/counters/{counter_code}/certified-services",
    response_model=CounterServices,
    summary="A counter's skills and those its current teller's certifications let it serve",
)  # fmt: skip
def counter_services(
    db: DbSession, principal: ApiUser, branch_code: str, counter_code: str
) -> CounterServices:
    branch = service.get_branch(db, branch_code)
    return service.counter_services_now(
        db, branch=branch, counter_code=counter_code, actor=principal, now=utcnow()
    )
