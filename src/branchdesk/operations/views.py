"""HTML pages of incidents: a branch's register with the open form, and one incident's
emergency-plan step checklist that staff tick during the incident."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from branchdesk.catalog import service as catalog
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.web import DbSession, redirect, render
from branchdesk.identity.deps import PageUser, PostedForm
from branchdesk.operations import incidents
from branchdesk.operations.models import Scenario
from branchdesk.operations.schemas import IncidentOpen

router = APIRouter(include_in_schema=False)


def _text(form: dict[str, str | list[str]], name: str) -> str:
    value = form.get(name, "")
    return (value if isinstance(value, str) else (value[0] if value else "")).strip()


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
    try:
        body = IncidentOpen.model_validate(
            {name: _text(form, name) for name in ("scenario", "title", "description")}
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        raise RuleViolation(f"check {field}", field=field) from None
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
    note = _text(form, "note")
    if not note:
        raise RuleViolation("a closing note is required", field="note")
    incidents.close_incident(db, incident_id=incident_id, note=note, actor=principal, now=utcnow())
    return redirect(f"/operations/incidents/{incident_id}")
