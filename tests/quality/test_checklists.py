"""Checklists from the current service standard, scored visits, list and monthly trend."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import ServiceStandardVersion, ServiceType
from branchdesk.core.errors import Forbidden, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.quality import checklists
from branchdesk.quality.models import ChecklistVisit
from branchdesk.quality.schemas import ItemScoreIn, Verdict, VisitCreate
from tests.factories import NOW, bearer, make_branch, make_service_type, make_user, principal


def _service(db: Session) -> ServiceType:
    service = make_service_type(
        db, required_documents=["ID card", "Bank book"], script="Greet.\nConfirm the amount.",
        current_version=2, target_max_wait_minutes=10, standard_handling_minutes=6,
    )  # fmt: skip
    db.add(
        ServiceStandardVersion(
            id=new_id(),
            service_type_id=service.id,
            version=2,
            standard_handling_minutes=6,
            target_max_wait_minutes=10,
            required_documents=["ID card", "Bank book"],
            script="Greet.\nConfirm the amount.",
            change_note="",
            changed_by_label="admin",
            changed_at=NOW,
        )
    )
    db.flush()
    return service


def test_template_follows_the_current_standard(db: Session) -> None:
    service = _service(db)
    officer = principal(db, make_user(db, Role.quality_officer))
    template = checklists.checklist_template(db, actor=officer, service_code=service.code)
    assert template.standard_version == 2
    assert [(i.code, i.text) for i in template.items] == [
        ("wait", "Called within the target wait of 10 minutes"),
        ("handling", "Served within the standard handling time of 6 minutes"),
        ("document-1", "Checked the required document: ID card"),
        ("document-2", "Checked the required document: Bank book"),
        ("script-1", "Followed the script: Greet."),
        ("script-2", "Followed the script: Confirm the amount."),
    ]


def _visit(branch: str, service: str, verdicts: dict[str, Verdict]) -> VisitCreate:
    return VisitCreate(
        branch_code=branch, service_code=service, visited_on=date(2026, 3, 2),
        scores=[ItemScoreIn(code=c, verdict=v) for c, v in verdicts.items()],
    )  # fmt: skip


ALL_ITEMS = ("wait", "handling", "document-1", "document-2", "script-1", "script-2")


def test_score_is_passed_over_scored_and_the_trend_averages(db: Session) -> None:
    service = _service(db)
    branch = make_branch(db)
    officer = principal(db, make_user(db, Role.quality_officer, display_name="Officer Lin"))
    verdicts = dict.fromkeys(ALL_ITEMS, Verdict.passed)
    verdicts["handling"] = Verdict.failed
    verdicts["script-2"] = Verdict.not_applicable
    code = service.code
    first = checklists.record_visit(
        db, actor=officer, data=_visit(branch.code, code, verdicts), now=NOW
    )
    assert (first.passed, first.failed, first.not_applicable, first.score_percent) == (
        4,
        1,
        1,
        80.0,
    )
    assert first.standard_version == 2
    assert first.officer_name == "Officer Lin"
    assert [i.verdict for i in first.items][:2] == [Verdict.passed, Verdict.failed]
    verdicts["wait"] = Verdict.failed  # 3 of 5 -> 60 %
    checklists.record_visit(db, actor=officer, data=_visit(branch.code, code, verdicts), now=NOW)
    trend = checklists.trend(db, actor=officer, branch_code=branch.code)
    assert [(p.month, p.visits, p.average_score_percent) for p in trend] == [("2026-03", 2, 70.0)]
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "quality.visit_recorded")
        )
        == 2
    )
    assert checklists.score_basis_points(2, 1) == 6667
    assert checklists.score_basis_points(0, 0) is None


def test_refused_visits_change_nothing(db: Session) -> None:
    service = _service(db)
    branch = make_branch(db)
    code = service.code
    officer = principal(db, make_user(db, Role.quality_officer))
    missing = dict.fromkeys(ALL_ITEMS[:-1], Verdict.passed)
    with pytest.raises(RuleViolation) as error:
        checklists.record_visit(db, actor=officer, data=_visit(branch.code, code, missing), now=NOW)
    assert error.value.field == "scores"
    manager = principal(db, make_user(db, Role.branch_manager, (branch,)))
    with pytest.raises(Forbidden):
        checklists.record_visit(
            db, actor=manager, data=_visit(branch.code, code, dict.fromkeys(ALL_ITEMS, Verdict.passed)),
            now=NOW,
        )  # fmt: skip
    assert db.scalar(select(func.count()).select_from(ChecklistVisit)) == 0


def test_api_records_and_lists(client: TestClient, db: Session, signer: Signer) -> None:
    service = _service(db)
    branch = make_branch(db)
    teller = make_user(db, Role.teller, (branch,), username="teller.chk")
    officer = make_user(db, Role.quality_officer)
    body = {
        "branch_code": branch.code, "service_code": service.code, "visited_on": "2026-03-02",
        "teller_username": "teller.chk",
        "scores": [{"code": c, "verdict": "pass"} for c in ALL_ITEMS],
    }  # fmt: skip
    created = client.post("/api/v1/quality/visits", json=body, headers=bearer(signer, officer))
    assert created.status_code == 201, created.text
    assert created.json()["score_percent"] == 100.0
    assert created.json()["teller_name"] == teller.display_name
    listed = client.get(
        "/api/v1/quality/visits", params={"branch": branch.code}, headers=bearer(signer, officer)
    )
    assert [v["id"] for v in listed.json()] == [created.json()["id"]]
    bad = client.post(
        "/api/v1/quality/visits", json={**body, "teller_username": "nobody"},
        headers=bearer(signer, officer),
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"] == "rule_violation"
    assert db.scalar(select(func.count()).select_from(ChecklistVisit)) == 1
