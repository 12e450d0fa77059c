"""HTML pages of training: a branch's manager view (annual compliance training, who is overdue,
the skills matrix, what each counter serves) and course management (courses, assignments by
role, completions with scores, certifications and grants)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession, parse_form, redirect, render
from branchdesk.identity.deps import PageUser, PostedForm, field_text
from branchdesk.identity.roles import Permission, Role
from branchdesk.training import service
from branchdesk.training.models import CourseCategory
from branchdesk.training.schemas import (
    AssignmentCreate,
    CertificationCreate,
    CompletionCreate,
    CourseCreate,
    StaffCertificationCreate,
)

router = APIRouter(include_in_schema=False)
M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], values: dict[str, Any]) -> M:
    """A form as the API's schema, blank fields left out (the schema's defaults apply)."""
    return parse_form(model, {k: v for k, v in values.items() if v not in ("", None)})


@router.get("/training/branches/{branch_code}", response_class=HTMLResponse)
def branch_page(request: Request, db: DbSession, principal: PageUser, branch_code: str) -> Response:
    branch = service.get_branch(db, branch_code)
    now = utcnow()
    return render(
        request,
        "training/branch.html",
        {
            "branch": branch,
            "annual": service.annual_compliance(db, branch=branch, actor=principal, now=now),
            "overdue": service.list_overdue(db, branch=branch, actor=principal, now=now),
            "matrix": service.skills_matrix(db, branch=branch, actor=principal, now=now),
            "counters": service.counters_served(db, branch=branch, actor=principal, now=now),
        },
    )


@router.get("/training/courses", response_class=HTMLResponse)
def courses_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    return render(
        request,
        "training/courses.html",
        {
            "courses": service.list_courses(db, actor=principal),
            "assignments": service.list_assignments(db, actor=principal),
            "certifications": service.list_certifications(db, actor=principal),
            "categories": list(CourseCategory),
            "roles": list(Role),
            "services": service.service_codes(db),
            "can_manage": principal.can(Permission.training_manage),
            "can_record": principal.can(Permission.training_record),
        },
    )


@router.post("/training/courses")
def course_form(db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    names = ("code", "category", "title_zh_hant", "title_zh_hans", "title_en", "pass_mark")
    values: dict[str, Any] = {name: field_text(form, name) for name in names}
    values["is_annual"] = field_text(form, "is_annual") == "on"
    body = _parse(CourseCreate, values)
    service.create_course(db, body=body, actor=principal, now=utcnow())
    return redirect("/training/courses#courses")


@router.post("/training/assignments")
def assignment_form(db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    body = _parse(
        AssignmentCreate, {n: field_text(form, n) for n in ("course_code", "role", "due_on")}
    )
    service.assign_course(db, body=body, actor=principal, now=utcnow())
    return redirect("/training/courses#assignments")


@router.post("/training/completions")
def completion_form(db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    body = _parse(
        CompletionCreate, {n: field_text(form, n) for n in ("course_code", "username", "score")}
    )
    service.record_completion(db, body=body, actor=principal, now=utcnow())
    return redirect("/training/courses#completions")


@router.post("/training/certifications")
def certification_form(db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    names = ("code", "name_zh_hant", "name_zh_hans", "name_en", "service_code", "validity_months")
    body = _parse(CertificationCreate, {n: field_text(form, n) for n in names})
    service.create_certification(db, body=body, actor=principal, now=utcnow())
    return redirect("/training/courses#certifications")


@router.post("/training/staff-certifications")
def grant_form(db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    names = ("username", "certification_code", "issued_on", "expires_on")
    body = _parse(StaffCertificationCreate, {n: field_text(form, n) for n in names})
    service.grant_certification(db, body=body, actor=principal, now=utcnow())
    return redirect("/training/courses#grants")
