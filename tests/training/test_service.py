"""Training services: certified skills decide what a teller's counter serves; overdue and
reminders; refused operations change nothing; every change is audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, Forbidden, RuleViolation
from branchdesk.core.events import Event
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.queue import service as queue
from branchdesk.queue.service.common import _counter_skills
from branchdesk.training import rules, service
from branchdesk.training.models import Completion, StaffCertification, TrainingReminder
from branchdesk.training.schemas import (
    AssignmentCreate,
    CompletionCreate,
)
from tests.factories import NOW, make_branch, make_ticket, make_user
from tests.factories import principal as principal_of
from tests.training.helpers import World, count

TODAY = date(2026, 3, 2)  # NOW's business day in Taipei


@pytest.fixture
def world(db: Session) -> World:
    return World(db)


def test_rule_keeps_services_without_certification_and_certified_ones() -> None:
    required = {"FX": "FXC", "WEALTH": "WM"}
    assert rules.certified_services(["CASH", "FX", "WEALTH"], required, ["FXC"]) == {"CASH", "FX"}
    assert rules.certified_services(["CASH", "FX"], required, []) == {"CASH"}
    assert rules.certified_services([], required, ["FXC"]) == frozenset()
    assert rules.is_valid_on(date(2025, 3, 2), date(2026, 3, 2), date(2026, 3, 1))
    assert not rules.is_valid_on(date(2025, 3, 2), date(2026, 3, 2), date(2026, 3, 2))


def _served(world: World, now: datetime) -> set[str]:
    skills = _counter_skills(world.db, world.counter)
    kept = service.certified_skills(world.db, counter=world.counter, skills=skills, now=now)
    return {s.code for s in kept}


def test_expired_certification_removes_the_service_from_the_tellers_counter(world: World) -> None:
    world.grant(date(2025, 3, 1), date(2026, 3, 3))  # valid today (Mar 2), expires Mar 3
    assert _served(world, NOW) == {world.cash.code, world.fx.code}
    # The next day the certification has expired: FX leaves the counter, cash stays.
    assert _served(world, NOW + timedelta(days=1)) == {world.cash.code}
    view = service.counter_services_now(
        world.db, branch=world.branch, counter_code=world.counter.code, actor=world.manager,
        now=NOW + timedelta(days=1),
    )  # fmt: skip
    assert view.served_services == [world.cash.code]
    assert view.removed == [world.fx.code]
    assert view.staffed_by == world.teller_user.username
    # A renewed certification brings it back.
    world.grant(date(2026, 3, 3))
    assert _served(world, NOW + timedelta(days=1)) == {world.cash.code, world.fx.code}


def test_teller_without_certification_serves_only_uncertified_services(world: World) -> None:
    assert _served(world, NOW) == {world.cash.code}
    # A counter nobody staffs keeps its configured skills.
    world.counter.staffed_by_id = None
    assert _served(world, NOW) == {world.cash.code, world.fx.code}


def test_an_expired_certification_takes_the_service_off_the_tellers_counter(world: World) -> None:
    """The Done-when of #8: call-next itself serves only what the teller is certified for."""
    now = NOW + timedelta(days=1)
    world.grant(date(2025, 3, 1), date(2026, 3, 3))  # expired on the day of the call
    day = date(2026, 3, 3)
    fx = make_ticket(
        world.db, world.branch, world.fx, business_on=day, queued_at=now - timedelta(minutes=30)
    )
    teller = principal_of(world.db, world.teller_user)
    call = {"branch": world.branch, "counter_code": world.counter.code, "actor": teller}
    assert queue.call_next(world.db, **call, now=now) is None  # FX waits, nobody may serve it
    world.db.refresh(fx)
    assert fx.state == "waiting"
    cash = make_ticket(world.db, world.branch, world.cash, business_on=day, queued_at=now)
    called = queue.call_next(world.db, **call, now=now)
    assert called is not None
    assert called.id == cash.id
    world.db.refresh(fx)
    assert fx.state == "waiting"


def test_grant_refusals_change_nothing(world: World) -> None:
    world.grant(date(2026, 1, 1))
    before = (count(world.db, StaffCertification), count(world.db, AuditEntry))
    with pytest.raises(Conflict):
        world.grant(date(2026, 1, 1))
    with pytest.raises(RuleViolation) as bad:
        world.grant(date(2026, 1, 1), date(2026, 1, 1))
    assert bad.value.field == "expires_on"
    other_branch = make_branch(world.db)
    outsider = make_user(world.db, Role.teller, (other_branch,))
    with pytest.raises(Forbidden):
        world.grant(date(2026, 1, 1), user=outsider)
    assert (count(world.db, StaffCertification), count(world.db, AuditEntry)) == before


def test_default_expiry_and_audit_row(world: World) -> None:
    world.grant(date(2024, 2, 29))
    held = world.db.execute(select(StaffCertification)).scalar_one()
    assert held.expires_on == date(2025, 2, 28)  # 12 months, clamped to the month's end
    audit = world.db.execute(
        select(AuditEntry).where(AuditEntry.action == "training.certification_grant")
    ).scalar_one()
    assert audit.object_id == str(held.id)
    assert audit.detail["user"] == world.teller_user.username
    assert audit.detail["expires_on"] == "2025-02-28"


def test_overdue_list_and_reminders(world: World) -> None:
    db = world.db
    world.course("AML-ANNUAL", pass_mark=70)
    service.assign_course(
        db, body=AssignmentCreate(course_code="AML-ANNUAL", role=Role.teller, due_on=TODAY),
        actor=world.officer, now=NOW,
    )  # fmt: skip
    passed = make_user(db, Role.teller, (world.branch,))
    failed = world.teller_user
    for user, score in ((passed, 70), (failed, 69)):
        result = service.record_completion(
            db, body=CompletionCreate(course_code="AML-ANNUAL", username=user.username,
                                      score=score, completed_at=NOW - timedelta(days=30)),
            actor=world.manager, now=NOW,
        )  # fmt: skip
        assert result.is_passed is (score == 70)
    # Due today: nobody is overdue yet; the failed teller is reminded, once.
    assert service.list_overdue(db, branch=world.branch, actor=world.manager, now=NOW) == []
    assert service.queue_reminders(db, now=NOW) == 1
    assert service.queue_reminders(db, now=NOW) == 0
    reminder = db.execute(select(TrainingReminder)).scalar_one()
    assert reminder.user_id == failed.id
    event = db.execute(select(Event).where(Event.type == "training.reminder")).scalar_one()
    assert event.payload["user"] == failed.username
    assert event.payload["overdue"] is False
    # Three days later the manager sees who is overdue.
    later = NOW + timedelta(days=3)
    rows = service.list_overdue(db, branch=world.branch, actor=world.manager, now=later)
    assert [(r.username, r.course_code, r.days_overdue) for r in rows] == [
        (failed.username, "AML-ANNUAL", 3)
    ]
    # A pass older than a year before the due day does not count for an annual course.
    service.record_completion(
        db, body=CompletionCreate(course_code="AML-ANNUAL", username=failed.username, score=90,
                                  completed_at=NOW - timedelta(days=400)),
        actor=world.manager, now=NOW,
    )  # fmt: skip
    assert len(service.list_overdue(db, branch=world.branch, actor=world.manager, now=later)) == 1
    service.record_completion(
        db, body=CompletionCreate(course_code="AML-ANNUAL", username=failed.username, score=95),
        actor=world.manager, now=later,
    )  # fmt: skip
    assert service.list_overdue(db, branch=world.branch, actor=world.manager, now=later) == []


def test_completion_refusals_change_nothing(world: World) -> None:
    world.course("COMM", is_annual=False)
    before = (count(world.db, Completion), count(world.db, AuditEntry))
    with pytest.raises(RuleViolation) as unknown:
        service.record_completion(
            world.db, body=CompletionCreate(course_code="NOPE", username="x", score=1),
            actor=world.manager, now=NOW,
        )  # fmt: skip
    assert unknown.value.field == "course_code"
    with pytest.raises(RuleViolation) as future:
        service.record_completion(
            world.db,
            body=CompletionCreate(course_code="COMM", username=world.teller_user.username,
                                  score=80, completed_at=NOW + timedelta(hours=1)),
            actor=world.manager, now=NOW,
        )  # fmt: skip
    assert future.value.field == "completed_at"
    teller = principal_of(world.db, world.teller_user)
    with pytest.raises(Forbidden):
        service.record_completion(
            world.db,
            body=CompletionCreate(course_code="COMM", username=world.teller_user.username,
                                  score=80),
            actor=teller, now=NOW,
        )  # fmt: skip
    assert (count(world.db, Completion), count(world.db, AuditEntry)) == before


def test_skills_matrix(world: World) -> None:
    world.grant(date(2025, 1, 1), date(2026, 1, 1))  # expired
    world.course("COMM", is_annual=False)
    service.record_completion(
        world.db, body=CompletionCreate(course_code="COMM", username=world.teller_user.username,
                                        score=80),
        actor=world.manager, now=NOW,
    )  # fmt: skip
    rows = service.skills_matrix(world.db, branch=world.branch, actor=world.manager, now=NOW)
    row = next(r for r in rows if r.username == world.teller_user.username)
    assert [(c.certification_code, c.service_code, c.is_valid) for c in row.certifications] == [
        (world.cert_code, world.fx.code, False)
    ]
    assert row.passed_courses == ["COMM"]
    world.grant(date(2026, 1, 1))
    rows = service.skills_matrix(world.db, branch=world.branch, actor=world.manager, now=NOW)
    row = next(r for r in rows if r.username == world.teller_user.username)
    assert [(c.is_valid, c.expires_on) for c in row.certifications] == [(True, date(2027, 1, 1))]
