"""Quality figures out, checklist visits in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from branchdesk.quality.kpi import Level, Period


class KpiRow(BaseModel):
    key: str = Field(description="Group key (branch/counter/teller/service id, region, 'all')")
    label: str
    bucket: str = Field(description="Business day, week Monday (ISO date) or 'all'")
    drill: str | None = Field(default=None, description="Page that breaks this group down")
    tickets: int
    called: int
    completed: int
    wait_p50_seconds: int | None
    wait_p90_seconds: int | None
    within_target: int
    within_target_share: float | None = Field(description="Called within target / called (0-1)")
    service_average_seconds: float | None
    service_p50_seconds: int | None
    abandoned: int
    abandonment_rate: float | None = Field(description="Cancelled before the call / tickets")
    no_show: int
    no_show_rate: float | None
    complaints: int | None = Field(description="Cases received (branch levels only)")
    complaint_rate_per_1000: float | None
    sla_answered: int | None
    sla_in_time: int | None
    sla_compliance: float | None = Field(description="Final answers by the deadline / answered")
    open_past_due: int | None
    responses: int | None = Field(description="Survey answers (feedback roll-up)")
    csat_average: float | None
    nps: float | None


class Breakdown(BaseModel):
    level: Level
    rows: list[KpiRow]


class Dashboard(BaseModel):
    scope: str = Field(description="'bank' or the branch code")
    scope_label: str
    from_on: date
    to_on: date
    period: Period
    regions_note: str | None = Field(description="Set when branches carry no region")
    percentile_bucket_seconds: int = Field(
        description="Wait and service-time percentiles are the lower edge of a bucket this wide"
    )
    total: KpiRow
    series: list[KpiRow]
    breakdowns: list[Breakdown]


class Verdict(StrEnum):
    passed = "pass"
    failed = "fail"
    not_applicable = "na"


class ChecklistItem(BaseModel):
    code: str
    text: str


class ChecklistTemplate(BaseModel):
    service_code: str
    service_name: str
    standard_version: int
    items: list[ChecklistItem]


class ItemScoreIn(BaseModel):
    code: str = Field(max_length=40)
    verdict: Verdict
    note: str = Field(default="", max_length=500)


class VisitCreate(BaseModel):
    branch_code: str = Field(max_length=16)
    service_code: str = Field(max_length=32)
    visited_on: date
    teller_username: str | None = Field(default=None, max_length=80)
    note: str = Field(default="", max_length=2000)
    scores: list[ItemScoreIn] = Field(min_length=1)


class ItemScoreRead(BaseModel):
    code: str
    text: str
    verdict: Verdict
    note: str


class VisitRead(BaseModel):
    id: uuid.UUID
    branch_code: str
    service_code: str
    standard_version: int
    visited_on: date
    teller_name: str | None
    officer_name: str
    score_percent: float | None = Field(description="Passed / (passed + failed) x 100")
    passed: int
    failed: int
    not_applicable: int
    note: str
    recorded_at: datetime
    items: list[ItemScoreRead]


class VisitTrendPoint(BaseModel):
    branch_code: str
    month: str
    visits: int
    average_score_percent: float | None
