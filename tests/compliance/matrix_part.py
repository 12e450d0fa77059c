"""Compliance routes in the role matrix (tests/web/test_role_matrix.py).

Compliance officers and admins manage checks and the violations register bank-wide; branch
managers read their own branches'."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.compliance.models import (
    ChecklistItem,
    ChecklistResult,
    ChecklistRun,
    ChecklistTemplate,
    Violation,
)
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.factories import NOW
from tests.matrix import Case, WorldContext

VIEWERS = frozenset({Role.branch_manager, Role.compliance_officer, Role.admin})
MANAGERS = frozenset({Role.compliance_officer, Role.admin})
CHECKLIST = {
    "code": "MXNEW", "title_zh_hant": "檢查", "title_zh_hans": "检查", "title_en": "Check",
    "schedule": "quarterly", "items": [{"text": "Something", "is_evidence_required": False}],
}  # fmt: skip

CASES = [
    Case("GET", "/api/v1/compliance/checklists", VIEWERS),
    Case("POST", "/api/v1/compliance/checklists", MANAGERS, json=CHECKLIST),
    Case("POST", "/api/v1/compliance/branches/HOME/runs", MANAGERS,
         json={"checklist_code": "MXCHK"}),
    Case("GET", "/api/v1/compliance/runs/{compliance_run}", VIEWERS),
    Case("POST", "/api/v1/compliance/runs/{compliance_run}/results", MANAGERS,
         json={"results": [{"position": 1, "result": "fail", "evidence_note": "n"}]}),
    Case("POST", "/api/v1/compliance/runs/{compliance_run_done}/submit", MANAGERS),
    Case("GET", "/api/v1/compliance/violations", VIEWERS),
    Case("POST", "/api/v1/compliance/violations", MANAGERS,
         json={"branch_code": "HOME", "title": "t", "severity": "low"}),
    Case("PATCH", "/api/v1/compliance/violations/{compliance_violation}", MANAGERS,
         json={"status": "remediating"}),
    Case("GET", "/api/v1/compliance/trend", VIEWERS),
    Case("GET", "/compliance/violations", VIEWERS, html=True),
    Case("GET", "/compliance/trend", VIEWERS, html=True, params={"months": "6"}),
    Case("GET", "/compliance/runs/{compliance_run}", VIEWERS, html=True),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    checklist = ChecklistTemplate(
        id=new_id(), code="MXCHK", title_zh_hant="檢", title_zh_hans="检", title_en="C",
        schedule="monthly", is_active=True, created_at=NOW,
    )  # fmt: skip
    db.add(checklist)
    db.flush()
    item = ChecklistItem(id=new_id(), checklist_id=checklist.id, position=1, text="x",
                         is_evidence_required=False)  # fmt: skip
    db.add(item)
    runs: dict[str, ChecklistRun] = {}
    for name, period in (("compliance_run", "2000-01"), ("compliance_run_done", "2000-02")):
        run = ChecklistRun(
            id=new_id(), checklist_id=checklist.id, branch_id=ctx.home.id, period=period,
            status="open", started_by_id=None, started_at=NOW, submitted_at=None,
        )  # fmt: skip
        db.add(run)
        runs[name] = run
    db.flush()
    db.add(ChecklistResult(run_id=runs["compliance_run_done"].id, item_id=item.id,
                           result="pass", evidence_note="", attachment_name="",
                           recorded_by_id=None, recorded_at=NOW))  # fmt: skip
    violation = Violation(
        id=new_id(), branch_id=ctx.home.id, run_id=None, item_id=None, title="v",
        description="", severity="low", owner_id=None, remediation_due_on=None, status="open",
        disciplinary_outcome="none", found_on=NOW.date(), created_at=NOW, updated_at=NOW,
        closed_at=None,
    )  # fmt: skip
    db.add(violation)
    db.flush()
    return {
        **{name: str(run.id) for name, run in runs.items()},
        "compliance_violation": str(violation.id),
    }
