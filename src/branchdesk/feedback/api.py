"""JSON API of surveys: the public answer by token link, and the staff roll-ups."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError
from branchdesk.core.web import DbSession, request_locale
from branchdesk.feedback import service
from branchdesk.feedback.deps import expiry_days, survey_tokens
from branchdesk.feedback.schemas import (
    GroupBy,
    SurveyAnswer,
    SurveyAnswerRead,
    SurveyPage,
    SurveySummary,
)
from branchdesk.feedback.tokens import SurveyTokens
from branchdesk.identity.deps import ApiUser

router = APIRouter(prefix="/api/v1", tags=["feedback"])

Tokens = Annotated[SurveyTokens, Depends(survey_tokens)]
ExpiryDays = Annotated[int, Depends(expiry_days)]

_REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "The link is forged, tampered with or unknown"},
    409: {"description": "Already answered, or the visit is not completed yet"},
    410: {"description": "The survey link has expired"},
}


@router.get(
    "/surveys/{token}",
    response_model=SurveyPage,
    summary="What a survey link is about and whether it can be answered (public)",
    responses={404: _REFUSALS[404]},
)
def get_survey(db: DbSession, tokens: Tokens, days: ExpiryDays, token: str) -> SurveyPage:
    return service.survey_page(db, tokens=tokens, token=token, now=utcnow(), expiry_days=days)


@router.post(
    "/surveys/{token}",
    status_code=201,
    response_model=SurveyAnswerRead,
    summary="Answer a post-service survey once (public, by the token link)",
    responses=_REFUSALS,
)
def answer_survey(
    request: Request,
    db: DbSession,
    tokens: Tokens,
    days: ExpiryDays,
    token: str,
    body: SurveyAnswer,
) -> SurveyAnswerRead | JSONResponse:
    now = utcnow()
    try:
        response = service.answer_survey(
            db, tokens=tokens, token=token, answer=body, locale=request_locale(request),
            now=now, expiry_days=days,
        )  # fmt: skip
    except DomainError as exc:
        db.rollback()
        service.record_refusal(db, tokens=tokens, token=token, reason=exc.code, now=now)
        return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status_code)
    return SurveyAnswerRead(
        ticket_number=service.ticket_number(db, response.ticket_id),
        business_on=response.business_on,
    )


@router.get(
    "/feedback/summary",
    response_model=SurveySummary,
    summary="CSAT, NPS and response rate by teller, counter, service, branch, region or day",
)
def summary(
    db: DbSession,
    principal: ApiUser,
    group_by: GroupBy = GroupBy.branch,
    from_on: Annotated[date | None, Query(alias="from", description="First business day")] = None,
    to_on: Annotated[date | None, Query(alias="to", description="Last business day")] = None,
    branch: Annotated[str | None, Query(max_length=16, description="Branch code")] = None,
) -> SurveySummary:
    default_from, default_to = service.default_range(db, utcnow())
    return service.summarize(
        db, actor=principal, group_by=group_by, from_on=from_on or default_from,
        to_on=to_on or default_to, branch_code=branch,
    )  # fmt: skip
