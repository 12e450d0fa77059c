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

from branchdesk.core import i18n
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import RuleViolation
from branchdesk.core.web import DbSession, render
from branchdesk.identity.deps import PageUser
from branchdesk.quality import charts, service
from branchdesk.quality.kpi import Period

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
    default_from, default_to = service.default_range(now)
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
