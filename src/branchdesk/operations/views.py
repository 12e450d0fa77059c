"""HTML pages of operational risk: a branch's incident register with the open form, one
incident's emergency-plan step checklist that staff tick during the incident, the branch's loss
events and near misses, and its control self-assessments (answer, score, review)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.catalog import service as catalog
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.money import parse_major
from branchdesk.core.web import DbSession, parse_form, redirect, render
from branchdesk.identity.deps import PageUser, PostedForm, field_text
from branchdesk.identity.roles import Permission
from branchdesk.operations import assessments, incidents
from branchdesk.operations.models import LossKind, Scenario
from branchdesk.operations.schemas import CsaResponseCreate, IncidentOpen, LossEventCreate

router = APIRouter(include_in_schema=False)


@router.get("/operations/branches/{branch_code}/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request, db: DbSession, principal: PageUser, branch_code: str
) -> Response:
    branch = catalog.get_branch_by_code(db, branch_code)
    found = incidents.list_incidents(db, branch=branch, actor=principal)
    return render(
        request,
        "operations/incidents.html",
        {"branch": branch, "incidents": found, "scenarios": list(Scenario)},
    )


@router.post("/operations/branches/{branch_code}/incidents")
def open_form(db: DbSession, principal: PageUser, form: PostedForm, branch_code: str) -> Response:
    branch = catalog.get_branch_by_code(db, branch_code)
    body = parse_form(
        IncidentOpen,
        {name: field_text(form, name) for name in ("scenario", "title", "description")},
    )
    made = incidents.open_incident(db, branch=branch, body=body, actor=principal, now=utcnow())
    return redirect(f"/operations/incidents/{made.id}")


@router.get("/operations/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    request: Request, db: DbSession, principal: PageUser, incident_id: uuid.UUID
) -> Response:
    found = incidents.get_incident(db, incident_id=incident_id, actor=principal)
    return render(request, "operations/incident.html", {"incident": found})


@router.post("/operations/incidents/{incident_id}/steps/{position}/tick")
def tick_form(
    db: DbSession, principal: PageUser, form: PostedForm, incident_id: uuid.UUID, position: int
) -> Response:
    incidents.tick_step(
        db, incident_id=incident_id, position=position, actor=principal, now=utcnow()
    )
    return redirect(f"/operations/incidents/{incident_id}#step-{position}")


@router.post("/operations/incidents/{incident_id}/close")
def close_form(
    db: DbSession, principal: PageUser, form: PostedForm, incident_id: uuid.UUID
) -> Response:
    note = field_text(form, "note")
    if not note:
        raise RuleViolation("a closing note is required", field="note")
    incidents.close_incident(db, incident_id=incident_id, note=note, actor=principal, now=utcnow())
    return redirect(f"/operations/incidents/{incident_id}")


@router.get("/operations/branches/{branch_code}/loss-events", response_class=HTMLResponse)
def loss_events_page(
    request: Request, db: DbSession, principal: PageUser, branch_code: str
) -> Response:
    branch = catalog.get_branch_by_code(db, branch_code)
    found = incidents.list_loss_events(db, branch=branch, actor=principal)
    totals: dict[tuple[str, str], int] = {}
    for event in found:
        key = (str(event.kind), event.currency)
        totals[key] = totals.get(key, 0) + event.amount_minor
    return render(
        request,
        "operations/loss_events.html",
        {"branch": branch, "events": found, "kinds": list(LossKind),
         "totals": sorted(totals.items())},
    )  # fmt: skip


@router.post("/operations/branches/{branch_code}/loss-events")
def loss_event_form(
    db: DbSession, principal: PageUser, form: PostedForm, branch_code: str
) -> Response:
    branch = catalog.get_branch_by_code(db, branch_code)
    currency = field_text(form, "currency").upper()
    typed = field_text(form, "amount")
    try:  # a near miss may cost nothing
        amount = 0 if typed in ("", "0") else parse_major(typed, currency)
    except ValueError:
        raise RuleViolation("check the amount", field="amount") from None
    values = {
        name: field_text(form, name) for name in ("kind", "category", "root_cause", "occurred_on")
    }
    body = parse_form(LossEventCreate, {**values, "currency": currency, "amount_minor": amount})
    incidents.record_loss_event(db, branch=branch, body=body, actor=principal, now=utcnow())
    return redirect(f"/operations/branches/{branch.code}/loss-events")


@router.get("/operations/branches/{branch_code}/self-assessments", response_class=HTMLResponse)
def assessments_page(
    request: Request, db: DbSession, principal: PageUser, branch_code: str
) -> Response:
    branch = catalog.get_branch_by_code(db, branch_code)
    responses = assessments.list_responses(db, branch=branch, actor=principal)
    return render(
        request,
        "operations/assessments.html",
        {
            "branch": branch,
            "questionnaires": assessments.list_questionnaires(db, actor=principal),
            "responses": responses,
            "can_answer": principal.can(Permission.control_assessment_submit, branch.id),
            "can_review": principal.can(Permission.control_assessment_manage),
        },
    )


@router.post("/operations/branches/{branch_code}/self-assessments")
def assessment_form(
    db: DbSession, principal: PageUser, form: PostedForm, branch_code: str
) -> Response:
    branch = catalog.get_branch_by_code(db, branch_code)
    answers: list[str] = []
    while f"answer_{len(answers) + 1}" in form:
        answers.append(field_text(form, f"answer_{len(answers) + 1}"))
    body = parse_form(
        CsaResponseCreate,
        {
            "questionnaire_code": field_text(form, "questionnaire_code"),
            "period": field_text(form, "period"),
            "comment": field_text(form, "comment"),
            "answers": answers,
        },
    )
    assessments.submit_response(db, branch=branch, body=body, actor=principal, now=utcnow())
    return redirect(f"/operations/branches/{branch.code}/self-assessments")


@router.post("/operations/self-assessments/{response_id}/review")
def review_form(
    db: DbSession, principal: PageUser, form: PostedForm, response_id: uuid.UUID
) -> Response:
    done = assessments.review_response(
        db, response_id=response_id, note=field_text(form, "note"), actor=principal, now=utcnow()
    )
    return redirect(f"/operations/branches/{done.branch_code}/self-assessments")
