"""HTML pages for branches, opening hours, holidays, counters and the service catalog."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.catalog import service
from branchdesk.catalog.models import CounterStatus
from branchdesk.catalog.schemas import (
    BranchCreate,
    BranchServiceIn,
    BranchUpdate,
    CounterCreate,
    CounterUpdate,
    HolidayIn,
    OpeningHoursIn,
    ServiceTypeCreate,
    ServiceTypeUpdate,
)
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError
from branchdesk.core.web import DbSession, redirect, render, validate_form
from branchdesk.identity.deps import FormFields, PageUser, PostedForm
from branchdesk.identity.roles import Permission

router = APIRouter(include_in_schema=False)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _lines(value: str | list[str] | None) -> list[str]:
    text = value if isinstance(value, str) else "\n".join(_list(value))
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- branches --------------------------------------------------------------------------------


@router.get("/branches", response_class=HTMLResponse)
def branches_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    branches = service.branch_reads(db, service.list_branches(db, actor=principal))
    return render(
        request,
        "catalog/branches.html",
        {"branches": branches, "can_create": principal.can(Permission.branch_create)},
    )


@router.get("/branches/new", response_class=HTMLResponse)
def new_branch_page(request: Request, principal: PageUser) -> Response:
    principal.require(Permission.branch_create)
    return render(request, "catalog/branch_new.html", {"errors": {}, "values": {}})


@router.post("/branches/new")
def create_branch(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    principal.require(Permission.branch_create)
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["opening_hours"] = [
        {"weekday": day, "opens_at": "09:00", "closes_at": "17:00"} for day in range(5)
    ]
    data, errors = validate_form(BranchCreate, values)
    if data is not None:
        try:
            branch = service.create_branch(db, data=data, actor=principal, now=utcnow())
        except DomainError as exc:
            db.rollback()
            errors = {exc.field or "form": exc.detail}
        else:
            return redirect(f"/branches/{branch.code}?saved=1")
    return render(
        request, "catalog/branch_new.html", {"errors": errors, "values": values}, status_code=422
    )


def _branch_context(
    db: DbSession, principal: PageUser, code: str, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    branch = service.get_branch(db, code=code, actor=principal)
    hours = {h.weekday: h for h in service.opening_hours(db, branch.id)}
    return {
        "branch": service.branch_read(db, branch),
        "weekdays": [
            {
                "index": index,
                "name": name,
                "opens_at": hours[index].opens_at.strftime("%H:%M") if index in hours else "",
                "closes_at": hours[index].closes_at.strftime("%H:%M") if index in hours else "",
            }
            for index, name in enumerate(WEEKDAYS)
        ],
        "holidays": service.list_holidays(db, code=branch.code, actor=principal),
        "services": service.list_branch_services(db, branch=branch),
        "counters": service.list_counters(db, code=branch.code, actor=principal),
        "statuses": [s.value for s in CounterStatus],
        "can_edit": principal.can(Permission.branch_update, branch.id),
        "can_manage_counters": principal.can(Permission.counter_manage, branch.id),
        "can_manage_services": principal.can(Permission.branch_service_manage, branch.id),
        "errors": errors or {},
    }


@router.get("/branches/{code}", response_class=HTMLResponse)
def branch_page(
    request: Request, db: DbSession, principal: PageUser, code: str, saved: int = 0
) -> Response:
    context = _branch_context(db, principal, code)
    context["saved"] = bool(saved)
    return render(request, "catalog/branch.html", context)


def _branch_form_result(
    request: Request,
    db: DbSession,
    principal: PageUser,
    code: str,
    errors: dict[str, str],
    anchor: str,
) -> Response:
    if not errors:
        return redirect(f"/branches/{code.upper()}?saved=1#{anchor}")
    db.rollback()
    context = _branch_context(db, principal, code, errors)
    context["saved"] = False
    return render(request, "catalog/branch.html", context, status_code=422)


def _run(errors: dict[str, str], action: Any) -> None:
    try:
        action()
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        errors[exc.field or "form"] = exc.detail


@router.post("/branches/{code}")
def update_branch(
    request: Request, db: DbSession, principal: PageUser, code: str, form: PostedForm
) -> Response:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["is_active"] = form.get("is_active") == "on"
    data, errors = validate_form(BranchUpdate, values)
    if data is not None:
        _run(
            errors,
            lambda: service.update_branch(db, code=code, data=data, actor=principal, now=utcnow()),
        )
    return _branch_form_result(request, db, principal, code, errors, "details")


@router.post("/branches/{code}/hours")
def set_hours(
    request: Request, db: DbSession, principal: PageUser, code: str, form: PostedForm
) -> Response:
    hours: list[OpeningHoursIn] = []
    errors: dict[str, str] = {}
    for day in range(7):
        opens, closes = str(form.get(f"opens_{day}", "")), str(form.get(f"closes_{day}", ""))
        if not opens and not closes:
            continue
        item, item_errors = validate_form(
            OpeningHoursIn, {"weekday": day, "opens_at": opens, "closes_at": closes}
        )
        if item is None:
            errors[f"hours_{day}"] = next(iter(item_errors.values()))
        else:
            hours.append(item)
    if not errors:
        _run(
            errors,
            lambda: service.set_opening_hours(
                db, code=code, hours=hours, actor=principal, now=utcnow()
            ),
        )
    return _branch_form_result(request, db, principal, code, errors, "hours")


@router.post("/branches/{code}/holidays")
def add_holiday(
    request: Request, db: DbSession, principal: PageUser, code: str, form: PostedForm
) -> Response:
    data, errors = validate_form(HolidayIn, {"on": form.get("on"), "name": form.get("name")})
    if data is not None:
        _run(
            errors,
            lambda: service.add_holiday(db, code=code, data=data, actor=principal, now=utcnow()),
        )
    return _branch_form_result(request, db, principal, code, errors, "holidays")


@router.post("/branches/{code}/holidays/{holiday_id}/delete")
def remove_holiday(
    request: Request,
    db: DbSession,
    principal: PageUser,
    code: str,
    holiday_id: uuid.UUID,
    form: PostedForm,
) -> Response:
    service.remove_holiday(db, code=code, holiday_id=holiday_id, actor=principal, now=utcnow())
    return redirect(f"/branches/{code.upper()}?saved=1#holidays")


@router.post("/branches/{code}/services/{service_code}")
def set_branch_service(
    request: Request,
    db: DbSession,
    principal: PageUser,
    code: str,
    service_code: str,
    form: PostedForm,
) -> Response:
    target = str(form.get("target_max_wait_minutes", "")).strip()
    data, errors = validate_form(
        BranchServiceIn,
        {"is_enabled": form.get("is_enabled") == "on", "target_max_wait_minutes": target or None},
    )
    if data is not None:
        _run(
            errors,
            lambda: service.set_branch_service(
                db,
                code=code,
                service_code=service_code,
                data=data,
                actor=principal,
                now=utcnow(),
            ),
        )
    return _branch_form_result(request, db, principal, code, errors, "services")


@router.post("/branches/{code}/counters")
def create_counter(
    request: Request, db: DbSession, principal: PageUser, code: str, form: PostedForm
) -> Response:
    data, errors = validate_form(
        CounterCreate,
        {
            "code": str(form.get("code", "")).upper(),
            "name": form.get("name"),
            "is_vip": form.get("is_vip") == "on",
            "service_codes": _list(form.get("service_codes")),
        },
    )
    if data is not None:
        _run(
            errors,
            lambda: service.create_counter(db, code=code, data=data, actor=principal, now=utcnow()),
        )
    return _branch_form_result(request, db, principal, code, errors, "counters")


@router.get("/branches/{code}/counters/{counter_code}", response_class=HTMLResponse)
def counter_page(
    request: Request, db: DbSession, principal: PageUser, code: str, counter_code: str
) -> Response:
    return _counter_page(request, db, principal, code, counter_code, {})


def _counter_page(
    request: Request,
    db: DbSession,
    principal: PageUser,
    code: str,
    counter_code: str,
    errors: dict[str, str],
) -> Response:
    branch = service.get_branch(db, code=code, actor=principal)
    counter = service.counter_read(
        db, branch=branch, counter=service.get_counter(db, branch=branch, counter_code=counter_code)
    )
    return render(
        request,
        "catalog/counter.html",
        {
            "branch": service.branch_read(db, branch),
            "counter": counter,
            "services": service.list_branch_services(db, branch=branch, only_enabled=True),
            "statuses": [s.value for s in CounterStatus],
            "can_manage": principal.can(Permission.counter_manage, branch.id),
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


@router.post("/branches/{code}/counters/{counter_code}")
def update_counter(
    request: Request,
    db: DbSession,
    principal: PageUser,
    code: str,
    counter_code: str,
    form: PostedForm,
) -> Response:
    values: dict[str, Any] = {}
    if "status" in form and len(form) == 1:
        values["status"] = form.get("status")
    else:
        values = {
            "name": form.get("name"),
            "is_vip": form.get("is_vip") == "on",
            "service_codes": _list(form.get("service_codes")),
            "status": form.get("status") or None,
        }
    data, errors = validate_form(CounterUpdate, values)
    if data is not None:
        _run(
            errors,
            lambda: service.update_counter(
                db, code=code, counter_code=counter_code, data=data, actor=principal, now=utcnow()
            ),
        )
    if errors:
        db.rollback()
        return _counter_page(request, db, principal, code, counter_code, errors)
    return redirect(f"/branches/{code.upper()}?saved=1#counters")


# --- service catalog -------------------------------------------------------------------------


@router.get("/services", response_class=HTMLResponse)
def services_page(request: Request, db: DbSession, principal: PageUser) -> Response:
    services = [
        service.service_type_read(s) for s in service.list_service_types(db, actor=principal)
    ]
    return render(
        request,
        "catalog/services.html",
        {"services": services, "can_manage": principal.can(Permission.service_type_manage)},
    )


def _service_values(form: FormFields) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["required_documents"] = _lines(form.get("required_documents"))
    for key in ("standard_handling_minutes", "target_max_wait_minutes"):
        if values.get(key) == "":
            values.pop(key)
    return values


@router.get("/services/new", response_class=HTMLResponse)
def new_service_page(request: Request, principal: PageUser) -> Response:
    principal.require(Permission.service_type_manage)
    return render(request, "catalog/service_new.html", {"errors": {}, "values": {}})


@router.post("/services/new")
def create_service(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    principal.require(Permission.service_type_manage)
    values = _service_values(form)
    data, errors = validate_form(ServiceTypeCreate, values)
    if data is not None:
        try:
            created = service.create_service_type(db, data=data, actor=principal, now=utcnow())
        except DomainError as exc:
            db.rollback()
            errors = {exc.field or "form": exc.detail}
        else:
            return redirect(f"/services/{created.code}?saved=1")
    return render(
        request, "catalog/service_new.html", {"errors": errors, "values": values}, status_code=422
    )


@router.get("/services/{service_code}", response_class=HTMLResponse)
def service_page(
    request: Request, db: DbSession, principal: PageUser, service_code: str, saved: int = 0
) -> Response:
    return _service_page(request, db, principal, service_code, {}, saved=bool(saved))


def _service_page(
    request: Request,
    db: DbSession,
    principal: PageUser,
    service_code: str,
    errors: dict[str, str],
    *,
    saved: bool = False,
) -> Response:
    principal.require(Permission.catalog_view)
    current = service.service_type_read(service.get_service_type(db, code=service_code))
    return render(
        request,
        "catalog/service.html",
        {
            "service": current,
            "versions": service.list_standard_versions(db, code=service_code, actor=principal),
            "can_manage": principal.can(Permission.service_type_manage),
            "errors": errors,
            "saved": saved,
        },
        status_code=422 if errors else 200,
    )


@router.post("/services/{service_code}")
def update_service(
    request: Request, db: DbSession, principal: PageUser, service_code: str, form: PostedForm
) -> Response:
    principal.require(Permission.service_type_manage)
    values = _service_values(form)
    values["is_active"] = form.get("is_active") == "on"
    values.pop("code", None)
    values.pop("ticket_prefix", None)
    data, errors = validate_form(ServiceTypeUpdate, values)
    if data is not None:
        _run(
            errors,
            lambda: service.update_service_type(
                db, code=service_code, data=data, actor=principal, now=utcnow()
            ),
        )
    if errors:
        db.rollback()
        return _service_page(request, db, principal, service_code, errors)
    return redirect(f"/services/{service_code.upper()}?saved=1")
