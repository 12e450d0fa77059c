"""HTML pages of AML monitoring: alerts, cases, one case (workflow, held postings, timeline), the
printable suspicious transaction report of a case, and a customer's KYC profile (risk rating
with reasons, and the rating facts a compliance officer keeps)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.web import DbSession, parse_form, redirect, render
from branchdesk.identity.deps import PageUser, PostedForm, field_text
from branchdesk.identity.roles import Permission
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.cases import kyc, reports, service, sweep
from branchdesk.risk.cases.models import CaseStatus
from branchdesk.risk.cases.schemas import KycFactsUpdate

router = APIRouter(include_in_schema=False)


@router.get("/risk/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    typology = request.query_params.get("typology") or None
    found = service.list_alerts(db, actor=principal, typology=typology)
    return render(
        request,
        "risk/alerts.html",
        {
            "alerts": found,
            "typology": typology or "",
            "can_manage": principal.can(Permission.aml_manage),
        },
    )


@router.post("/risk/sweeps")
def sweep_form(db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    sweep.run_sweep(db, actor=principal, now=utcnow(), config=RuleConfig())
    return redirect("/risk/alerts")


@router.get("/risk/cases", response_class=HTMLResponse)
def cases_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    found = service.list_cases(db, actor=principal)
    return render(request, "risk/cases.html", {"cases": found})


@router.get("/risk/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, db: DbSession, principal: PageUser, case_id: uuid.UUID) -> Response:
    detail = service.get_case(db, case_id=case_id, actor=principal)
    return render(
        request,
        "risk/case.html",
        {
            "case": detail,
            "can_manage": principal.can(Permission.aml_manage),
            "is_open": detail.status in ("new", "under_review", "escalated"),
        },
    )


@router.get("/risk/cases/{case_id}/str", response_class=HTMLResponse)
def str_page(request: Request, db: DbSession, principal: PageUser, case_id: uuid.UUID) -> Response:
    found, rows = reports.suspicious_rows(db, case_id=case_id, actor=principal)
    detail = service.get_case(db, case_id=case_id, actor=principal)
    return render(
        request,
        "risk/str.html",
        {
            "case": detail,
            "columns": reports.STR_COLUMNS,
            "rows": rows,
            "reference": found.reference,
        },
    )


@router.post("/risk/cases/{case_id}/transitions")
def transition_form(
    db: DbSession, principal: PageUser, case_id: uuid.UUID, form: PostedForm
) -> Response:
    target = field_text(form, "to")
    if target not in set(CaseStatus):
        raise RuleViolation("unknown status", field="to")
    service.transition_case(
        db, case_id=case_id, to=CaseStatus(target), actor=principal, now=utcnow(),
        note=field_text(form, "note")[:1000], reason=field_text(form, "reason")[:500],
    )  # fmt: skip
    return redirect(f"/risk/cases/{case_id}")


@router.post("/risk/cases/{case_id}/assignee")
def assignee_form(
    db: DbSession, principal: PageUser, case_id: uuid.UUID, form: PostedForm
) -> Response:
    service.assign_case(
        db,
        case_id=case_id,
        username=field_text(form, "username")[:64],
        actor=principal,
        now=utcnow(),
    )
    return redirect(f"/risk/cases/{case_id}")


@router.post("/risk/cases/{case_id}/notes")
def note_form(db: DbSession, principal: PageUser, case_id: uuid.UUID, form: PostedForm) -> Response:
    service.add_note(
        db, case_id=case_id, text=field_text(form, "text")[:1000], actor=principal, now=utcnow()
    )
    return redirect(f"/risk/cases/{case_id}")


@router.post("/risk/cases/{case_id}/postings/{posting_id}/decision")
def posting_form(
    db: DbSession, principal: PageUser, case_id: uuid.UUID, posting_id: uuid.UUID, form: PostedForm
) -> Response:
    service.decide_held_posting(
        db, case_id=case_id, posting_id=posting_id,
        approve=field_text(form, "decision") == "approve", actor=principal, now=utcnow(),
        note=field_text(form, "note")[:300],
    )  # fmt: skip
    return redirect(f"/risk/cases/{case_id}")


def _list(form: dict[str, str | list[str]], name: str) -> list[str]:
    return [
        part.strip() for part in field_text(form, name).replace(";", ",").split(",") if part.strip()
    ]


@router.get("/risk/customers/{customer_number}/kyc", response_class=HTMLResponse)
def kyc_page(
    request: Request, db: DbSession, principal: PageUser, customer_number: str
) -> Response:
    found = kyc.get_kyc_profile(db, customer_number=customer_number, actor=principal, now=utcnow())
    return render(
        request,
        "risk/kyc.html",
        {"profile": found, "can_manage": principal.can(Permission.aml_manage)},
    )


@router.post("/risk/customers/{customer_number}/kyc")
def kyc_form(
    db: DbSession, principal: PageUser, form: PostedForm, customer_number: str
) -> Response:
    values = {
        "occupation": field_text(form, "occupation").lower(),
        "nationality": field_text(form, "nationality").upper(),
        "residence_country": field_text(form, "residence_country").upper(),
        "is_pep": field_text(form, "is_pep") == "on",
        "products": [p.lower() for p in _list(form, "products")],
        "channels": [c.lower() for c in _list(form, "channels")],
    }
    body = parse_form(KycFactsUpdate, values)
    kyc.update_kyc_facts(
        db, customer_number=customer_number, body=body, actor=principal, now=utcnow()
    )
    return redirect(f"/risk/customers/{customer_number}/kyc")
