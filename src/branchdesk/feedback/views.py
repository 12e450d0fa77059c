"""HTML pages of surveys: the public survey link ``/s/{token}`` and the quality dashboard.

The survey page needs no login (the signed token is the permission) and shows only the visit's
ticket number, service and branch. The dashboard ``/quality/surveys`` is for quality officers,
branch managers (their branches) and administrators, with inline SVG charts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.core import i18n
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.web import DbSession, render, request_locale, validate_form
from branchdesk.feedback import charts, service
from branchdesk.feedback.api import ExpiryDays, Tokens
from branchdesk.feedback.schemas import GroupBy, SurveyAnswer, SurveySummary
from branchdesk.identity.deps import (
    PageUser,
    PostedForm,
    attach_pending_cookie,
    ensure_session_nonce,
)

router = APIRouter(include_in_schema=False)

CSAT_CHOICES = (1, 2, 3, 4, 5)
NPS_CHOICES = tuple(range(11))
_STATUS_REFUSAL = {
    "answered": "survey_already_answered",
    "not_completed": "survey_not_open",
    "expired": "survey_expired",
}
_REFUSAL_HTTP = {"survey_already_answered": 409, "survey_not_open": 409, "survey_expired": 410}


def _public_locale(request: Request) -> None:
    request.state.locale = request_locale(request)
    i18n.set_locale(request.state.locale)


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    ensure_session_nonce(request)
    values: dict[str, Any] = {"live_src": None, "events_url": None}
    values.update(csat_choices=CSAT_CHOICES, nps_choices=NPS_CHOICES)
    values.update(context)
    response = render(request, "feedback/survey.html", values, status_code=status_code)
    return attach_pending_cookie(request, response)


def _survey_context(
    request: Request, db: DbSession, tokens: Tokens, days: int, token: str
) -> dict[str, Any]:
    survey = service.survey_page(db, tokens=tokens, token=token, now=utcnow(), expiry_days=days)
    return {
        "branch": {"code": survey.branch_code, "name": survey.branch_name},
        "survey": survey,
        "status": survey.status,
        "token": token,
        "values": {},
        "errors": {},
    }


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(
    request: Request, db: DbSession, tokens: Tokens, days: ExpiryDays, token: str
) -> Response:
    _public_locale(request)
    return _page(request, _survey_context(request, db, tokens, days, token))


@router.post("/s/{token}")
def survey_answer(
    request: Request,
    db: DbSession,
    tokens: Tokens,
    days: ExpiryDays,
    token: str,
    form: PostedForm,
) -> Response:
    _public_locale(request)
    now = utcnow()
    try:
        context = _survey_context(request, db, tokens, days, token)
    except service.InvalidSurveyLink as exc:
        service.record_refusal(db, tokens=tokens, token=token, reason=exc.code, now=now)
        context = {"branch": {"code": "", "name": "branchdesk"}, "survey": None}
        context.update(status="invalid", token=token, values={}, errors={})
        return _page(request, context, status_code=exc.status_code)
    if context["status"] != "open":
        reason = _STATUS_REFUSAL[context["status"]]
        service.record_refusal(db, tokens=tokens, token=token, reason=reason, now=now)
        return _page(request, context, status_code=_REFUSAL_HTTP[reason])
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    data, errors = validate_form(
        SurveyAnswer,
        {"csat": values.get("csat", ""), "nps": values.get("nps", ""),
         "comment": values.get("comment", "")},
    )  # fmt: skip
    if data is None:
        context.update(values=values, errors=errors)
        return _page(request, context, status_code=422)
    try:
        service.answer_survey(
            db, tokens=tokens, token=token, answer=data, locale=request.state.locale,
            now=now, expiry_days=days,
        )  # fmt: skip
    except DomainError as exc:  # lost a race with another submission of the same link
        db.rollback()
        service.record_refusal(db, tokens=tokens, token=token, reason=exc.code, now=now)
        context = _survey_context(request, db, tokens, days, token)
        return _page(request, context, status_code=exc.status_code)
    context["status"] = "thanks"
    return _page(request, context)


# --- the quality dashboard ----------------------------------------------------------------------


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise RuleViolation("use a date like 2026-03-31", field=field) from exc


def _charts(summary: SurveySummary, by_day: SurveySummary) -> dict[str, str]:
    gettext = i18n.gettext
    rows = summary.rows[:30]
    distribution = [
        (f"CSAT {n}", float(c)) for n, c in enumerate(summary.total.csat_distribution, 1)
    ]
    days = [r.key for r in by_day.rows]
    return {
        "distribution": charts.bar_chart(distribution, title=gettext("CSAT distribution")),
        "csat": charts.bar_chart(
            [(r.label, r.csat_average) for r in rows], title=gettext("CSAT average"),
            low=0, high=5,
        ),
        "nps": charts.bar_chart(
            [(r.label, r.nps) for r in rows], title="NPS", low=-100, high=100
        ),
        "rate": charts.bar_chart(
            [(r.label, None if r.response_rate is None else round(100 * r.response_rate, 1))
             for r in rows],
            title=gettext("Response rate"), low=0, high=100, unit="%",
        ),
        "trend_csat": charts.line_chart(
            days, [(gettext("CSAT average"), [r.csat_average for r in by_day.rows])],
            title=gettext("CSAT average by day"), low=1, high=5,
        ),
        "trend_nps": charts.line_chart(
            days, [("NPS", [r.nps for r in by_day.rows])],
            title=gettext("NPS by day"), low=-100, high=100,
        ),
    }  # fmt: skip


@router.get("/quality/surveys", response_class=HTMLResponse)
def dashboard(
    request: Request,
    db: DbSession,
    principal: PageUser,
    group_by: str = "branch",
    branch: str = "",
) -> Response:
    i18n.set_locale(request.state.locale)
    params = request.query_params
    default_from, default_to = service.default_range(db, utcnow())
    from_on = _date(params.get("from"), "from") or default_from
    to_on = _date(params.get("to"), "to") or default_to
    try:
        grouping = GroupBy(group_by)
    except ValueError as exc:
        raise RuleViolation("choose a grouping from the list", field="group_by") from exc
    code = branch.strip() or None
    summary = service.summarize(
        db, actor=principal, group_by=grouping, from_on=from_on, to_on=to_on, branch_code=code
    )
    by_day = (
        summary
        if grouping == GroupBy.day
        else service.summarize(
            db, actor=principal, group_by=GroupBy.day, from_on=from_on, to_on=to_on,
            branch_code=code,
        )
    )  # fmt: skip
    return render(
        request,
        "feedback/dashboard.html",
        {
            "summary": summary,
            "charts": _charts(summary, by_day),
            "groupings": [g.value for g in GroupBy],
            "branches": service.visible_branches(db, actor=principal),
            "selected": {
                "group_by": grouping.value,
                "from": from_on.isoformat(),
                "to": to_on.isoformat(),
                "branch": (code or "").upper(),
            },
        },
    )
