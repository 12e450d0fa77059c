"""Customer 360 and care-task routes in the role matrix (tests/web/test_role_matrix.py): the 360
for the roles with customer.view on a customer of the actor's home branch; the care-task
worklist (customer.view) and completing a task (customer.manage)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.analytics.models import AnalyticsRun, CareTask
from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from tests.matrix import CUSTOMER_EDITORS, CUSTOMER_VIEWERS, Case, WorldContext

CASES = [
    Case("GET", "/api/v1/customers/{customer}/360", CUSTOMER_VIEWERS),
    Case("GET", "/customers/{customer}/360", CUSTOMER_VIEWERS, html=True),
    Case("GET", "/api/v1/care-tasks", CUSTOMER_VIEWERS),
    Case("POST", "/api/v1/care-tasks/{care_task}/done", CUSTOMER_EDITORS),
]


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    now = utcnow()
    run = AnalyticsRun(
        id=new_id(), run_on=now.date(), engine="duckdb", rule_version="matrix", customer_count=1,
        milliseconds=1, profile={}, started_at=now, finished_at=now,
    )  # fmt: skip
    db.add(run)
    db.flush()
    task = CareTask(
        id=new_id(), customer_id=ctx.customer.id, rule_code="birthday",
        dedupe_key=f"matrix:{new_id()}", due_on=now.date(), branch_id=ctx.home.id,
        status="open", detail="", run_id=run.id, created_at=now,
    )  # fmt: skip
    db.add(task)
    db.flush()
    return {"care_task": str(task.id)}
