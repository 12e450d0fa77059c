"""Compliance checks: checklist runs, findings into the violations register, audit, trends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.compliance import service
from branchdesk.compliance.models import ChecklistResult, ChecklistRun, Violation
from branchdesk.compliance.schemas import (
    ChecklistCreate,
    ItemCreate,
    ResultInput,
    ResultsBody,
    RunStart,
    ViolationCreate,
    ViolationUpdate,
)
from branchdesk.core.errors import Conflict, Forbidden, RuleViolation
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from tests.factories import NOW, bearer, make_branch, make_user
from tests.factories import principal as principal_of


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


class World:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.branch = make_branch(db)
        self.other = make_branch(db)
        self.officer_user = make_user(db, Role.compliance_officer)
        self.officer = principal_of(db, self.officer_user)
        self.manager = principal_of(db, make_user(db, Role.branch_manager, (self.branch,)))
        self.teller = make_user(db, Role.teller, (self.branch,))
        self.checklist = service.create_checklist(
            db,
            body=ChecklistCreate(
                code="cash-vault", title_zh_hant="金庫", title_zh_hans="金库", title_en="Vault",
                schedule="monthly",  # type: ignore[arg-type]
                items=[ItemCreate(text="Dual control on the vault", is_evidence_required=True),
                       ItemCreate(text="Cash limits respected"),
                       ItemCreate(text="Keys logged")],
            ),
            actor=self.officer, now=NOW,
        )  # fmt: skip

    def start(self, branch: object | None = None) -> service.RunRead:
        return service.start_run(
            self.db, branch=branch or self.branch, body=RunStart(checklist_code="CASH-VAULT"),  # type: ignore[arg-type]
            actor=self.officer, now=NOW,
        )  # fmt: skip

    def results(self, run_id: object, *rows: ResultInput) -> service.RunRead:
        return service.record_results(
            self.db, run_id=run_id, body=ResultsBody(results=list(rows)), actor=self.officer,  # type: ignore[arg-type]
            now=NOW,
        )  # fmt: skip

    def state(self) -> tuple[int, ...]:
        return tuple(
            _count(self.db, m) for m in (ChecklistRun, ChecklistResult, Violation, AuditEntry)
        )


@pytest.fixture
def world(db: Session) -> World:
    return World(db)


def test_period_of() -> None:
    assert service.period_of("monthly", date(2026, 3, 2)) == "2026-03"
    assert service.period_of("quarterly", date(2026, 3, 31)) == "2026-Q1"
    assert service.period_of("quarterly", date(2026, 10, 1)) == "2026-Q4"


def test_run_to_violations_with_refusals(world: World) -> None:
    run = world.start()
    assert (run.period, run.status, len(run.results)) == ("2026-03", "open", 3)
    before = world.state()
    with pytest.raises(Conflict):
        world.start()  # one run per checklist, branch and period
    with pytest.raises(RuleViolation) as unknown:
        world.results(run.id, ResultInput(position=4, result="pass"))  # type: ignore[arg-type]
    assert unknown.value.field == "results.0.position"
    with pytest.raises(RuleViolation):
        service.submit_run(world.db, run_id=run.id, actor=world.officer, now=NOW)  # no results
    assert world.state() == before
    world.results(
        run.id,
        ResultInput(position=1, result="pass"),  # type: ignore[arg-type]
        ResultInput(position=2, result="fail", evidence_note="limit exceeded twice"),  # type: ignore[arg-type]
        ResultInput(position=3, result="na"),  # type: ignore[arg-type]
    )
    before = world.state()
    with pytest.raises(RuleViolation) as evidence:
        service.submit_run(world.db, run_id=run.id, actor=world.officer, now=NOW)
    assert "item 1 needs evidence" in evidence.value.detail
    assert world.state() == before
    world.results(
        run.id,
        ResultInput(position=1, result="pass", attachment_name="vault-log.pdf"),  # type: ignore[arg-type]
    )
    done = service.submit_run(world.db, run_id=run.id, actor=world.officer, now=NOW)
    assert done.status == "submitted"
    assert [r.result for r in done.results] == ["pass", "fail", "na"]
    assert done.results[0].attachment_name == "vault-log.pdf"
    (violation_id,) = done.violation_ids
    violation = world.db.get(Violation, violation_id)
    assert violation is not None
    assert (violation.title, violation.severity, violation.status) == (
        "Cash limits respected", "medium", "open"
    )  # fmt: skip
    assert violation.remediation_due_on == date(2026, 4, 1)
    before = world.state()
    with pytest.raises(Conflict):
        service.submit_run(world.db, run_id=run.id, actor=world.officer, now=NOW)
    with pytest.raises(Conflict):
        world.results(run.id, ResultInput(position=2, result="pass"))  # type: ignore[arg-type]
    assert world.state() == before


def test_violation_register_is_audited(world: World) -> None:
    made = service.create_violation(
        world.db,
        body=ViolationCreate(branch_code=world.branch.code, title="Unlocked drawer",
                             severity="high", owner_username=world.teller.username,  # type: ignore[arg-type]
                             remediation_due_on=date(2026, 3, 10)),
        actor=world.officer, now=NOW,
    )  # fmt: skip
    assert (made.owner, made.status, made.disciplinary_outcome) == (
        world.teller.username, "open", "none"
    )  # fmt: skip
    later = NOW + timedelta(days=10)
    updated = service.update_violation(
        world.db, violation_id=made.id,
        body=ViolationUpdate(status="closed", disciplinary_outcome="warning", note="talked"),  # type: ignore[arg-type]
        actor=world.officer, now=later,
    )  # fmt: skip
    assert (updated.status, updated.disciplinary_outcome, updated.is_overdue) == (
        "closed", "warning", False
    )  # fmt: skip
    rows = world.db.execute(
        select(AuditEntry)
        .where(AuditEntry.object_type == "compliance_violation")
        .order_by(AuditEntry.seq)
    ).scalars().all()  # fmt: skip
    assert [r.action for r in rows] == [
        "compliance.violation_create", "compliance.violation_update"
    ]  # fmt: skip
    assert rows[1].detail["changes"] == {
        "status": "closed", "disciplinary_outcome": "warning", "note": "talked"
    }  # fmt: skip
    assert rows[1].actor_id == world.officer.user_id
    before = world.state()
    with pytest.raises(Conflict):  # closed: reopen first
        service.update_violation(
            world.db, violation_id=made.id,
            body=ViolationUpdate(disciplinary_outcome="penalty"),  # type: ignore[arg-type]
            actor=world.officer, now=later,
        )  # fmt: skip
    with pytest.raises(Forbidden):  # branch managers see, they do not manage
        service.update_violation(
            world.db, violation_id=made.id, body=ViolationUpdate(status="open"),  # type: ignore[arg-type]
            actor=world.manager, now=later,
        )  # fmt: skip
    assert world.state() == before


def test_branch_manager_sees_own_branch_and_trend(world: World) -> None:
    for branch, severity in ((world.branch, "high"), (world.other, "low"), (world.branch, "high")):
        service.create_violation(
            world.db,
            body=ViolationCreate(branch_code=branch.code, title="x", severity=severity),  # type: ignore[arg-type]
            actor=world.officer, now=NOW,
        )  # fmt: skip
    mine = service.list_violations(world.db, actor=world.manager, now=NOW)
    assert {v.branch_code for v in mine} == {world.branch.code}
    assert len(mine) == 2
    with pytest.raises(Forbidden):
        service.list_violations(world.db, actor=world.manager, now=NOW,
                                branch_code=world.other.code)  # fmt: skip
    trend = service.trend(world.db, actor=world.officer)
    assert sorted((t.branch_code, t.severity, t.month, t.count) for t in trend) == sorted([
        (world.branch.code, "high", "2026-03", 2), (world.other.code, "low", "2026-03", 1)
    ])  # fmt: skip
    assert [(t.branch_code, t.count) for t in service.trend(world.db, actor=world.manager)] == [
        (world.branch.code, 2)
    ]


def test_over_http(client: TestClient, db: Session, signer: Signer) -> None:
    w = World(db)
    auth = bearer(signer, w.officer_user)
    started = client.post(f"/api/v1/compliance/branches/{w.branch.code}/runs",
                          json={"checklist_code": "cash-vault"}, headers=auth)  # fmt: skip
    assert started.status_code == 201, started.text
    again = client.post(f"/api/v1/compliance/branches/{w.branch.code}/runs",
                        json={"checklist_code": "cash-vault"}, headers=auth)  # fmt: skip
    assert again.status_code == 409
    run_url = f"/api/v1/compliance/runs/{started.json()['id']}"
    bad = client.post(run_url + "/results", json={"results": [{"position": 9, "result": "pass"}]},
                      headers=auth)  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["field"] == "results.0.position"
    assert client.get(run_url, headers=auth).json()["results"][0]["result"] is None


def test_scheduled_runs_start_once_per_period(world: World) -> None:
    from branchdesk.catalog.models import Branch

    active = int(
        world.db.execute(
            select(func.count()).select_from(Branch).where(Branch.is_active.is_(True))
        ).scalar_one()
    )
    world.start()  # this branch's March run exists already
    assert service.open_scheduled_runs(world.db, now=NOW) == active - 1
    assert service.open_scheduled_runs(world.db, now=NOW) == 0
    assert service.open_scheduled_runs(world.db, now=NOW + timedelta(days=31)) == active
    periods = world.db.execute(
        select(ChecklistRun.period).where(ChecklistRun.branch_id == world.other.id)
        .order_by(ChecklistRun.period)
    ).scalars().all()  # fmt: skip
    assert periods == ["2026-03", "2026-04"]
