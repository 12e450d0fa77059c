"""HTML pages of service quality: ``/quality`` (bank or branch dashboard with plotly charts).

Drill-down: the bank page lists branches (each links to its branch page); a branch page breaks
its figures down by teller, counter and service. ``/quality/plotly.js`` serves the plotly.js
bundled in the installed Python package with long cache headers.
"""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.catalog import service as catalog
from branchdesk.core import i18n
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.web import DbSession, redirect, render, validate_form
from branchdesk.identity.deps import PageUser, PostedForm
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.quality import charts, checklists, reports, service
from branchdesk.quality.kpi import Period
from branchdesk.quality.schemas import VisitCreate

router = APIRouter(include_in_schema=False)


def parse_date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise RuleViolation("use a date like 2026-03-31", field=field) from exc


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no closing tag can appear in it)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


@router.get("/quality/plotly.js")
def plotly_js() -> Response:
    return Response(
        charts.plotly_js(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get("/quality", response_class=HTMLResponse)
def dashboard(
    request: Request, db: DbSession, principal: PageUser, branch: str = "", period: str = "day"
) -> Response:
    i18n.set_locale(request.state.locale)
    now = utcnow()
    default_from, default_to = service.default_range(db, now)
    from_on = parse_date(request.query_params.get("from"), "from") or default_from
    to_on = parse_date(request.query_params.get("to"), "to") or default_to
    try:
        chosen = Period(period)
    except ValueError as exc:
        raise RuleViolation("choose day or week", field="period") from exc
    code = branch.strip().upper() or None
    board = service.dashboard(
        db, actor=principal, branch_code=code, from_on=from_on, to_on=to_on, period=chosen,
        now=now,
    )  # fmt: skip
    figures = charts.figures(board)
    return render(
        request,
        "quality/dashboard.html",
        {
            "board": board,
            "figures": {name: _script_json(fig) for name, fig in figures.items()},
            "plotly_version": charts.plotly_version(),
            "branches": service.visible_branches(db, actor=principal),
            "selected": {
                "branch": code or "", "period": board.period.value,
                "from": from_on.isoformat(), "to": to_on.isoformat(),
            },
        },
    )  # fmt: skip


# --- service-standard checklists ----------------------------------------------------------------


def _checklist_page(
    request: Request,
    db: DbSession,
    principal: Principal,
    *,
    branch: str,
    service_code: str,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    i18n.set_locale(request.state.locale)
    code = branch.strip().upper() or None
    template = (
        checklists.checklist_template(db, actor=principal, service_code=service_code)
        if service_code and principal.can(Permission.quality_manage)
        else None
    )
    services = catalog.list_service_types(db, actor=principal)
    return render(
        request,
        "quality/checklists.html",
        {
            "visits": checklists.list_visits(db, actor=principal, branch_code=code),
            "trend": checklists.trend(db, actor=principal, branch_code=code),
            "template": template,
            "may_record": principal.can(Permission.quality_manage),
            "branches": service.visible_branches(db, actor=principal),
            "services": [(s.code, i18n.localized(s.name_zh_hant, s.name_zh_hans, s.name_en))
                         for s in services],
            "selected": {"branch": code or "", "service": service_code.upper()},
            "today": utcnow().date().isoformat(),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )  # fmt: skip


@router.get("/quality/checklists", response_class=HTMLResponse)
def checklist_page(
    request: Request, db: DbSession, principal: PageUser, branch: str = "", service: str = ""
) -> Response:
    return _checklist_page(request, db, principal, branch=branch, service_code=service)


@router.post("/quality/checklists")
def record_visit(
    request: Request, db: DbSession, principal: PageUser, form: PostedForm
) -> Response:
    principal.require(Permission.quality_manage)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    branch, service_code = values.get("branch", ""), values.get("service", "")
    template = checklists.checklist_template(db, actor=principal, service_code=service_code)
    scores = [
        {"code": item.code, "verdict": values.get(f"verdict-{item.code}", ""),
         "note": values.get(f"note-{item.code}", "")}
        for item in template.items
    ]  # fmt: skip
    data, errors = validate_form(
        VisitCreate,
        {"branch_code": branch, "service_code": service_code,
         "visited_on": values.get("visited_on", ""),
         "teller_username": values.get("teller") or None, "note": values.get("note", ""),
         "scores": scores},
    )  # fmt: skip
    if data is None:
        return _checklist_page(
            request, db, principal, branch=branch, service_code=service_code, errors=errors,
            values=values, status_code=422,
        )  # fmt: skip
    try:
        checklists.record_visit(db, actor=principal, data=data, now=utcnow())
    except RuleViolation as exc:
        db.rollback()
        return _checklist_page(
            request, db, principal, branch=branch, service_code=service_code,
            errors={exc.field or "form": exc.detail}, values=values, status_code=422,
        )  # fmt: skip
    return redirect(f"/quality/checklists?branch={data.branch_code.upper()}&saved=1")


# --- reports ------------------------------------------------------------------------------------


@router.get("/quality/report")
def report(
    request: Request,
    db: DbSession,
    principal: PageUser,
    period: str = "day",
    branch: str = "",
    format: str = "html",
) -> Response:
    i18n.set_locale(request.state.locale)
    try:
        chosen, kind = reports.ReportPeriod(period), reports.ReportFormat(format)
    except ValueError as exc:
        raise RuleViolation("choose day or week, and html, pdf or csv", field="period") from exc
    now = utcnow()
    on = parse_date(request.query_params.get("date"), "date") or now.date()
    code = branch.strip().upper() or None
    built = reports.build_report(
        db, actor=principal, period=chosen, on=on, branch_code=code, now=now
    )
    name = f"quality-{chosen.value}-{built.board.scope}-{built.board.from_on}"
    if kind == reports.ReportFormat.csv:
        return Response(
            reports.to_csv(built), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )  # fmt: skip
    if kind == reports.ReportFormat.pdf:
        return Response(
            reports.to_pdf(built, request.state.locale), media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )  # fmt: skip
    return render(request, "quality/report.html", reports.html_context(built, on, code))
