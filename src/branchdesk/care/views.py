"""Care pages: the worklist, a customer's care page (relationship manager, risk assessment,
education reads), campaigns and the education library for staff; the library for customers in
the portal (/my/learn) and at the kiosk (/kiosk/{branch}/learn)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from branchdesk.care.rules import OUTCOMES, TOLERANCES
from branchdesk.care.schemas import (
    AssessmentCreate,
    CampaignCreate,
    CampaignDecision,
    EducationCreate,
    ManagerAssign,
    TaskDone,
)
from branchdesk.care.service import campaigns, education, people, worklist
from branchdesk.catalog.models import Branch
from branchdesk.catalog.service import get_branch_by_code
from branchdesk.core import i18n
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.web import DbSession, parse_form, redirect, render, request_locale
from branchdesk.customers import service as customers
from branchdesk.identity.deps import PageUser, PostedForm, field_text
from branchdesk.identity.roles import Permission
from branchdesk.portal.deps import PageCustomer, PortalRoute

router = APIRouter(include_in_schema=False)
portal_router = APIRouter(prefix="/my", route_class=PortalRoute, include_in_schema=False)


# --- worklist ------------------------------------------------------------------------------


@router.get("/care/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request, db: DbSession, principal: PageUser, scope: str = "mine", status: str = "open"
) -> Response:
    chosen: Literal["mine", "branch"] = "branch" if scope == "branch" else "mine"
    state = "done" if status == "done" else "open"
    tasks = worklist.worklist(
        db, actor=principal, today=utcnow().date(), scope=chosen, status=state
    )
    return render(
        request,
        "care/worklist.html",
        {"tasks": tasks, "scope": chosen, "status": state, "outcomes": OUTCOMES,
         "can_complete": principal.can(Permission.customer_manage)},
    )  # fmt: skip


@router.post("/care/tasks/{task_id}/done")
def task_done_form(
    db: DbSession, principal: PageUser, form: PostedForm, task_id: uuid.UUID
) -> Response:
    body = parse_form(
        TaskDone, {"outcome": field_text(form, "outcome"), "note": field_text(form, "note")}
    )
    worklist.complete_task(
        db, task_id=task_id, outcome=body.outcome, note=body.note, actor=principal, now=utcnow()
    )
    scope = "branch" if field_text(form, "scope") == "branch" else "mine"
    return redirect(f"/care/worklist?scope={scope}")


# --- a customer's care page ----------------------------------------------------------------


@router.get("/care/customers/{customer_number}", response_class=HTMLResponse)
def customer_page(
    request: Request, db: DbSession, principal: PageUser, customer_number: str
) -> Response:
    customer = customers.get_customer(db, customer_number=customer_number, actor=principal)
    today = utcnow().date()
    locale = getattr(request.state, "locale", None) or request_locale(request)
    return render(
        request,
        "care/customer.html",
        {
            "customer": {"number": customer.customer_number, "name": customer.full_name},
            "manager": people.relationship_manager(db, customer),
            "candidates": people.manager_candidates(db, branch_id=customer.home_branch_id),
            "can_assign": principal.can(
                Permission.customer_assign_manager, customer.home_branch_id
            ),
            "assessment": people.latest_assessment(db, customer_id=customer.id, today=today),
            "can_assess": principal.can(Permission.risk_assessment_record, customer.home_branch_id),
            "tolerances": TOLERANCES,
            "reads": education.reads_of_customer(db, customer_id=customer.id, locale=locale),
        },
    )


@router.post("/care/customers/{customer_number}/manager")
def assign_manager_form(
    db: DbSession, principal: PageUser, form: PostedForm, customer_number: str
) -> Response:
    username = field_text(form, "username") or None
    people.assign_relationship_manager(
        db, customer_number=customer_number, data=parse_form(ManagerAssign, {"username": username}),
        actor=principal, now=utcnow(),
    )  # fmt: skip
    return redirect(f"/care/customers/{customer_number}")


@router.post("/care/customers/{customer_number}/risk-assessment")
def assessment_form(
    db: DbSession, principal: PageUser, form: PostedForm, customer_number: str
) -> Response:
    body = parse_form(
        AssessmentCreate,
        {"risk_tolerance": field_text(form, "risk_tolerance"), "note": field_text(form, "note")},
    )
    people.record_assessment(
        db, customer_number=customer_number, data=body, actor=principal, now=utcnow()
    )
    return redirect(f"/care/customers/{customer_number}")


# --- campaigns -----------------------------------------------------------------------------


def _branch_choices(db: DbSession, principal: PageUser) -> list[Branch]:
    stmt = select(Branch).where(Branch.is_active).order_by(Branch.code)
    if not principal.is_bank_wide:
        stmt = stmt.where(Branch.id.in_(list(principal.branch_ids)))
    return list(db.execute(stmt).scalars())


@router.get("/care/campaigns", response_class=HTMLResponse)
def campaigns_page(
    request: Request, db: DbSession, principal: PageUser, branch: str = ""
) -> Response:
    found = campaigns.list_campaigns(db, actor=principal)
    choices = [b.code for b in _branch_choices(db, principal)]
    chosen = branch.upper() if branch.upper() in choices else (choices[0] if choices else "")
    segments = campaigns.list_segments(db, branch_code=chosen, actor=principal) if chosen else []
    return render(
        request,
        "care/campaigns.html",
        {"campaigns": found, "branches": choices, "branch": chosen, "segments": segments},
    )


@router.post("/care/campaigns")
def create_campaign_form(db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    kind, _sep, segment = field_text(form, "segment").partition(":")
    local = field_text(form, "scheduled_at")
    try:
        scheduled = datetime.fromisoformat(local) if local else utcnow()
    except ValueError:
        raise RuleViolation("a date and time", field="scheduled_at") from None
    if scheduled.tzinfo is None:  # typed in the branch's local time
        zone = get_branch_by_code(db, field_text(form, "branch_code") or "?").timezone
        scheduled = scheduled.replace(tzinfo=ZoneInfo(zone))
    body = parse_form(
        CampaignCreate,
        {"name": field_text(form, "name"), "branch_code": field_text(form, "branch_code"),
         "segment_kind": kind, "segment": segment, "text_zh_hant": field_text(form, "text_zh_hant"),
         "text_zh_hans": field_text(form, "text_zh_hans"), "text_en": field_text(form, "text_en"),
         "scheduled_at": scheduled},
    )  # fmt: skip
    made = campaigns.create_campaign(db, data=body, actor=principal, now=utcnow())
    return redirect(f"/care/campaigns/{made.id}")


@router.get("/care/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(
    request: Request, db: DbSession, principal: PageUser, campaign_id: uuid.UUID
) -> Response:
    found = campaigns.get_campaign(db, campaign_id=campaign_id, actor=principal)
    return render(
        request,
        "care/campaign.html",
        {"c": found, "can_approve": principal.can(Permission.campaign_approve)
         and found.created_by != principal.username},
    )  # fmt: skip


@router.post("/care/campaigns/{campaign_id}/submit")
def submit_form(
    db: DbSession, principal: PageUser, form: PostedForm, campaign_id: uuid.UUID
) -> Response:
    campaigns.submit_campaign(db, campaign_id=campaign_id, actor=principal, now=utcnow())
    return redirect(f"/care/campaigns/{campaign_id}")


@router.post("/care/campaigns/{campaign_id}/{decision}")
def decide_form(
    db: DbSession, principal: PageUser, form: PostedForm, campaign_id: uuid.UUID, decision: str
) -> Response:
    if decision not in ("approve", "reject"):
        raise RuleViolation("approve or reject", field="decision")
    campaigns.decide_campaign(
        db, campaign_id=campaign_id, approve=decision == "approve",
        data=parse_form(CampaignDecision, {"note": field_text(form, "note")}), actor=principal,
        now=utcnow(),
    )  # fmt: skip
    return redirect(f"/care/campaigns/{campaign_id}")


# --- the education library (staff) ---------------------------------------------------------

KINDS = ("article", "fraud_warning", "product_explainer")


@router.get("/care/education", response_class=HTMLResponse)
def education_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    return render(
        request,
        "care/education.html",
        {"items": education.list_items(db, actor=principal), "kinds": list(KINDS)},
    )


@router.post("/care/education")
def create_education_form(db: DbSession, principal: PageUser, form: PostedForm) -> Response:
    kind, _sep, segment = field_text(form, "segment").partition(":")
    fields = ("slug", "kind", "title_zh_hant", "title_zh_hans", "title_en", "body_zh_hant",
              "body_zh_hans", "body_en")  # fmt: skip
    data: dict[str, Any] = {name: field_text(form, name) for name in fields}
    data.update({"segment_kind": kind or None, "segment": segment or None})
    education.create_item(db, data=parse_form(EducationCreate, data), actor=principal, now=utcnow())
    return redirect("/care/education")


# --- customers: portal and kiosk -----------------------------------------------------------


def _screen(branch: Branch) -> dict[str, str]:
    name = i18n.localized(branch.name_zh_hant, branch.name_zh_hans, branch.name_en)
    return {"code": branch.code, "name": name}


def _public_locale(request: Request) -> str:
    request.state.locale = request_locale(request)
    i18n.set_locale(request.state.locale)
    return str(request.state.locale)


@portal_router.get("/learn", response_class=HTMLResponse)
def portal_library(request: Request, db: DbSession, customer: PageCustomer) -> Response:
    locale = getattr(request.state, "locale", None) or request_locale(request)
    items = education.items_for_customer(db, customer_id=customer.customer_id, locale=locale)
    return render(request, "care/portal_library.html", {"customer": customer, "items": items})


@portal_router.get("/learn/{slug}", response_class=HTMLResponse)
def portal_item(request: Request, db: DbSession, customer: PageCustomer, slug: str) -> Response:
    locale = getattr(request.state, "locale", None) or request_locale(request)
    item = education.read_for_customer(
        db, slug=slug, customer_id=customer.customer_id, locale=locale, now=utcnow()
    )
    return render(request, "care/portal_item.html", {"customer": customer, "item": item})


@router.get("/kiosk/{branch_code}/learn", response_class=HTMLResponse)
def kiosk_library(request: Request, db: DbSession, branch_code: str) -> Response:
    locale = _public_locale(request)
    branch = get_branch_by_code(db, branch_code)
    items = education.items_for_kiosk(db, locale=locale)
    return render(request, "care/kiosk_library.html", {"branch": _screen(branch), "items": items})


@router.get("/kiosk/{branch_code}/learn/{slug}", response_class=HTMLResponse)
def kiosk_item(request: Request, db: DbSession, branch_code: str, slug: str) -> Response:
    locale = _public_locale(request)
    branch = get_branch_by_code(db, branch_code)
    item = education.read_at_kiosk(db, slug=slug, branch_id=branch.id, locale=locale, now=utcnow())
    return render(request, "care/kiosk_item.html", {"branch": _screen(branch), "item": item})
