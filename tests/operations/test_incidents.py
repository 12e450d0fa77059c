"""Emergency plans as step checklists during an incident, loss events, all audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, Forbidden, RuleViolation
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.operations import incidents
from branchdesk.operations.models import EmergencyPlan, IncidentStep, LossEvent, Scenario
from branchdesk.operations.schemas import IncidentOpen, LossEventCreate, PlanPut, PlanStep
from tests.factories import NOW, bearer, make_branch, make_user
from tests.factories import principal as principal_of


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


class World:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.branch = make_branch(db)
        self.teller_user = make_user(db, Role.teller, (self.branch,))
        self.teller = principal_of(db, self.teller_user)
        self.other_teller = principal_of(db, make_user(db, Role.teller, (make_branch(db),)))
        self.manager = principal_of(db, make_user(db, Role.branch_manager, (self.branch,)))
        self.officer = principal_of(db, make_user(db, Role.compliance_officer))
        incidents.load_default_plans(db, now=NOW)

    def open(self, scenario: Scenario = Scenario.robbery) -> incidents.IncidentRead:
        return incidents.open_incident(
            self.db, branch=self.branch,
            body=IncidentOpen(scenario=scenario, title="Hold-up at counter 2"),
            actor=self.teller, now=NOW,
        )  # fmt: skip

    def tick(self, incident_id: object, position: int, minutes: int = 1) -> incidents.IncidentRead:
        return incidents.tick_step(
            self.db, incident_id=incident_id, position=position, actor=self.teller,  # type: ignore[arg-type]
            now=NOW + timedelta(minutes=minutes),
        )  # fmt: skip


@pytest.fixture
def world(db: Session) -> World:
    return World(db)


def test_default_plans_cover_every_scenario(world: World) -> None:
    plans = incidents.list_plans(world.db, actor=world.teller)
    assert {p.scenario for p in plans} == set(Scenario)
    for plan in plans:
        assert plan.steps
        assert all(set(step) == {"zh-Hant", "zh-Hans", "en"} for step in plan.steps)
    assert incidents.load_default_plans(world.db, now=NOW) == 0  # kept
    assert _count(world.db, EmergencyPlan) == 5


def test_emergency_plan_checklist_flow(world: World) -> None:
    opened = world.open()
    assert opened.status == "open"
    assert len(opened.steps) == 5
    assert opened.steps[0].text_en == "Keep everyone safe; do not resist"
    assert opened.steps[0].text_zh_hant == "確保人員安全，勿抵抗"
    assert all(s.ticked_at is None for s in opened.steps)
    after = world.tick(opened.id, 2, minutes=3)
    assert (after.steps[1].ticked_by, after.steps[1].ticked_at) == (
        world.teller_user.username, NOW + timedelta(minutes=3)
    )  # fmt: skip
    before = (_count(world.db, AuditEntry), [s.ticked_at for s in after.steps])
    with pytest.raises(Conflict):
        world.tick(opened.id, 2, minutes=4)  # once
    with pytest.raises(RuleViolation) as unticked:
        incidents.close_incident(
            world.db, incident_id=opened.id, note="done", actor=world.manager, now=NOW
        )
    assert "[1, 3, 4, 5]" in unticked.value.detail
    with pytest.raises(Forbidden):
        incidents.tick_step(
            world.db, incident_id=opened.id, position=1, actor=world.other_teller, now=NOW
        )
    current = incidents.get_incident(world.db, incident_id=opened.id, actor=world.teller)
    assert (_count(world.db, AuditEntry), [s.ticked_at for s in current.steps]) == before
    for position in (1, 3, 4, 5):
        world.tick(opened.id, position)
    closed = incidents.close_incident(
        world.db, incident_id=opened.id, note="police report 123", actor=world.manager,
        now=NOW + timedelta(hours=1),
    )  # fmt: skip
    assert (closed.status, closed.closing_note) == ("closed", "police report 123")
    with pytest.raises(Conflict):
        world.tick(opened.id, 1)
    actions = world.db.execute(
        select(AuditEntry.action).where(AuditEntry.object_id == str(opened.id))
        .order_by(AuditEntry.seq)
    ).scalars().all()  # fmt: skip
    assert actions == ["incident.open"] + ["incident.step_tick"] * 5 + ["incident.close"]


def test_new_plan_version_leaves_open_incident_alone(world: World) -> None:
    opened = world.open(Scenario.fire)
    step = PlanStep.model_validate({"zh-Hant": "撤離", "zh-Hans": "撤离", "en": "Evacuate"})
    plan = incidents.put_plan(
        world.db, scenario=Scenario.fire,
        body=PlanPut(title_zh_hant="火", title_zh_hans="火", title_en="Fire", steps=[step]),
        actor=world.officer, now=NOW,
    )  # fmt: skip
    assert (plan.version, plan.steps) == (
        2,
        [{"zh-Hant": "撤離", "zh-Hans": "撤离", "en": "Evacuate"}],
    )
    kept = incidents.get_incident(world.db, incident_id=opened.id, actor=world.teller)
    assert (kept.plan_version, len(kept.steps)) == (1, 4)
    assert len(world.open(Scenario.fire).steps) == 1
    with pytest.raises(Forbidden):
        incidents.put_plan(
            world.db, scenario=Scenario.fire,
            body=PlanPut(title_zh_hant="x", title_zh_hans="x", title_en="x", steps=[step]),
            actor=world.manager, now=NOW,
        )  # fmt: skip


def test_loss_events(world: World) -> None:
    opened = world.open()
    body = LossEventCreate(
        kind="loss", category="external_fraud", amount_minor=1_234_500, currency="TWD",  # type: ignore[arg-type]
        root_cause="robbery", occurred_on=date(2026, 3, 2), incident_id=opened.id,
    )  # fmt: skip
    made = incidents.record_loss_event(
        world.db, branch=world.branch, body=body, actor=world.manager, now=NOW
    )
    assert (made.amount_minor, made.currency, made.incident_id) == (1_234_500, "TWD", opened.id)
    before = (_count(world.db, LossEvent), _count(world.db, AuditEntry))
    with pytest.raises(RuleViolation) as future:
        incidents.record_loss_event(
            world.db, branch=world.branch,
            body=body.model_copy(update={"occurred_on": date(2026, 3, 3)}),
            actor=world.manager, now=NOW,
        )  # fmt: skip
    assert future.value.field == "occurred_on"
    with pytest.raises(Forbidden):
        incidents.record_loss_event(
            world.db, branch=world.branch, body=body, actor=world.teller, now=NOW
        )
    assert (_count(world.db, LossEvent), _count(world.db, AuditEntry)) == before
    listed = incidents.list_loss_events(world.db, branch=world.branch, actor=world.officer)
    assert [e.id for e in listed] == [made.id]


def test_incident_over_http(client: TestClient, db: Session, signer: Signer) -> None:
    w = World(db)
    auth = bearer(signer, w.teller_user)
    made = client.post(f"/api/v1/branches/{w.branch.code}/incidents",
                       json={"scenario": "network_loss", "title": "line down"}, headers=auth)  # fmt: skip
    assert made.status_code == 201, made.text
    url = f"/api/v1/incidents/{made.json()['id']}"
    assert client.post(url + "/steps/1/tick", headers=auth).status_code == 200
    again = client.post(url + "/steps/1/tick", headers=auth)
    assert again.status_code == 409
    assert again.json()["error"] == "step_already_ticked"
    assert client.post(url + "/steps/9/tick", headers=auth).status_code == 404
    early = client.post(url + "/close", json={"note": "ok"}, headers=auth)
    assert early.status_code == 422
    assert early.json()["field"] == "steps"
    assert _count(db, IncidentStep) == 4
    listed = client.get(f"/api/v1/branches/{w.branch.code}/incidents", headers=auth).json()
    assert [i["steps"][0]["ticked_by"] for i in listed] == [w.teller_user.username]
