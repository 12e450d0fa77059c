"""Care routes in the role matrix (tests/web/test_role_matrix.py): the worklist (customer.view,
done with customer.manage), relationship manager (supervisors), risk assessments (supervisors and
relationship managers), campaigns (relationship managers and supervisors draft, supervisors
approve), the education library (supervisors and quality) and the public kiosk library. The
portal's /my/learn is covered by the portal's own access rule (tests/care/test_education.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.analytics.models import AnalyticsRun, CareTask, CustomerSegment
from branchdesk.care.models import Campaign, EducationItem
from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.factories import make_user
from tests.matrix import (
    CUSTOMER_EDITORS,
    CUSTOMER_VIEWERS,
    PUBLIC,
    SUPERVISORS,
    Case,
    WorldContext,
)

CAMPAIGNERS = SUPERVISORS | {Role.relationship_manager}
ASSESSORS = SUPERVISORS | {Role.relationship_manager}
EDUCATORS = SUPERVISORS | {Role.quality_officer}
CAMPAIGN = {
    "name": "Matrix", "branch_code": "HOME", "segment_kind": "asset_tier", "segment": "mass",
    "text_zh_hant": "你好", "text_zh_hans": "你好", "text_en": "Hello",
}  # fmt: skip
ITEM = {
    "slug": "matrix-new", "kind": "article", "title_zh_hant": "標題", "title_zh_hans": "标题",
    "title_en": "Title", "body_zh_hant": "內容", "body_zh_hans": "内容", "body_en": "Text",
}  # fmt: skip

CASES = [
    Case("GET", "/api/v1/care/worklist", CUSTOMER_VIEWERS),
    Case("POST", "/api/v1/care/tasks/{care_task_care}/done", CUSTOMER_EDITORS, json={"outcome": "reached"}),
    Case("PUT", "/api/v1/customers/{customer}/relationship-manager", SUPERVISORS, json={"username": "matrix.rm"}),
    Case("POST", "/api/v1/customers/{customer}/risk-assessments", ASSESSORS, json={"risk_tolerance": "C3"}),
    Case("GET", "/api/v1/customers/{customer}/risk-assessment", CUSTOMER_VIEWERS),
    Case("GET", "/api/v1/care/segments", CAMPAIGNERS, params={"branch_code": "HOME"}),
    Case("GET", "/api/v1/care/campaigns", CAMPAIGNERS),
    Case("POST", "/api/v1/care/campaigns", CAMPAIGNERS, json={**CAMPAIGN, "scheduled_at": "2026-12-01T09:00:00+08:00"}),
    Case("GET", "/api/v1/care/campaigns/{campaign_draft}", CAMPAIGNERS),
    Case("POST", "/api/v1/care/campaigns/{campaign_draft}/submit", CAMPAIGNERS),
    Case("POST", "/api/v1/care/campaigns/{campaign_pending}/approve", SUPERVISORS, json={}),
    Case("POST", "/api/v1/care/campaigns/{campaign_pending}/reject", SUPERVISORS, json={"note": "no"}),
    Case("GET", "/api/v1/education", EDUCATORS),
    Case("POST", "/api/v1/education", EDUCATORS, json=ITEM),
    Case("GET", "/care/worklist", CUSTOMER_VIEWERS, html=True),
    Case("POST", "/care/tasks/{care_task_care}/done", CUSTOMER_EDITORS, html=True, form={"outcome": "reached"}),
    Case("GET", "/care/customers/{customer}", CUSTOMER_VIEWERS, html=True),
    Case("POST", "/care/customers/{customer}/manager", SUPERVISORS, html=True, form={"username": "matrix.rm"}),
    Case("POST", "/care/customers/{customer}/risk-assessment", ASSESSORS, html=True, form={"risk_tolerance": "C3"}),
    Case("GET", "/care/campaigns", CAMPAIGNERS, html=True),
    Case("POST", "/care/campaigns", CAMPAIGNERS, html=True, form={**CAMPAIGN, "segment": "asset_tier:mass"}),
    Case("GET", "/care/campaigns/{campaign_draft}", CAMPAIGNERS, html=True),
    Case("POST", "/care/campaigns/{campaign_draft}/submit", CAMPAIGNERS, html=True, form={}),
    Case("POST", "/care/campaigns/{campaign_pending}/approve", SUPERVISORS, html=True, form={"note": ""}),
    Case("GET", "/care/education", EDUCATORS, html=True),
    Case("POST", "/care/education", EDUCATORS, html=True, form=ITEM),
    Case("GET", "/kiosk/HOME/learn", PUBLIC, html=True),
    Case("GET", "/kiosk/HOME/learn/matrix-item", PUBLIC, html=True),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    now = utcnow()
    run = AnalyticsRun(
        id=new_id(), run_on=now.date(), engine="duckdb", rule_version="matrix", customer_count=1,
        milliseconds=1, profile={}, started_at=now, finished_at=now,
    )  # fmt: skip
    db.add(run)
    db.flush()
    db.add(
        CustomerSegment(id=new_id(), customer_id=ctx.customer.id, kind="asset_tier",
                        segment="mass", valid_from=now.date(), valid_to=None, run_id=run.id)
    )  # fmt: skip
    task = CareTask(
        id=new_id(), customer_id=ctx.customer.id, rule_code="account_opened",
        dedupe_key=f"matrix-care:{new_id()}", due_on=now.date(), branch_id=ctx.home.id,
        status="open", detail="", run_id=None, created_at=now,
    )  # fmt: skip
    make_user(db, Role.relationship_manager, (ctx.home,), username="matrix.rm")
    campaigns = {}
    for name, status in (("campaign_draft", "draft"), ("campaign_pending", "pending_approval")):
        campaign = Campaign(
            id=new_id(), name=name, branch_id=ctx.home.id, segment_kind="asset_tier",
            segment="mass", text_zh_hant="x", text_zh_hans="x", text_en="x", scheduled_at=now,
            status=status, created_by_id=ctx.colleague.id, decision_note="", created_at=now,
        )  # fmt: skip
        db.add(campaign)
        campaigns[name] = str(campaign.id)
    db.add(
        EducationItem(
            id=new_id(), slug="matrix-item", kind="fraud_warning", title_zh_hant="詐騙",
            title_zh_hans="诈骗", title_en="Fraud", body_zh_hant="小心", body_zh_hans="小心",
            body_en="Beware", segment_kind=None, segment=None, is_published=True,
            created_by_id=None, created_at=now,
        )
    )  # fmt: skip
    db.add(task)
    db.flush()
    return {"care_task_care": str(task.id), **campaigns}
