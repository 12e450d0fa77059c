"""Survey answers in, roll-ups out."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field


class GroupBy(StrEnum):
    teller = "teller"
    counter = "counter"
    service = "service"
    branch = "branch"
    region = "region"
    day = "day"


class SurveyAnswer(BaseModel):
    csat: int = Field(ge=1, le=5, description="Satisfaction with this visit, 1 (poor) to 5")
    nps: int = Field(
        ge=0, le=10, description="How likely to recommend us to a friend, 0 (not) to 10"
    )
    comment: str = Field(default="", max_length=2000)


class SurveyAnswerRead(BaseModel):
    status: str = "recorded"
    ticket_number: str
    business_on: date


class SummaryRow(BaseModel):
    key: str
    label: str
    completed: int
    responses: int
    response_rate: float | None = Field(description="responses / completed tickets (0-1)")
    csat_average: float | None
    csat_distribution: list[int] = Field(description="Counts of CSAT 1, 2, 3, 4 and 5")
    promoters: int
    passives: int
    detractors: int
    nps: float | None = Field(description="promoters% - detractors%, -100 to 100")


class SurveySummary(BaseModel):
    group_by: GroupBy
    from_on: date
    to_on: date
    branch_code: str | None
    total: SummaryRow
    rows: list[SummaryRow]


class SurveyPage(BaseModel):
    """What the public survey page shows about the visit (no personal data)."""

    status: str  # open, answered, expired, not_completed
    ticket_id: uuid.UUID
    ticket_number: str
    service_name: str
    branch_code: str
    branch_name: str
    expires_on: date | None
