"""sla-check: warn the assignee before a deadline, escalate to the branch manager on breach,
each exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.complaints import service
from branchdesk.complaints.models import SlaAlert
from branchdesk.complaints.sla import check_sla
from branchdesk.core.events import Event
from branchdesk.identity.roles import Role
from tests.complaints.helpers import NOW, count, open_web_case, timeline_kinds
from tests.factories import make_branch, make_user, principal


def notify_events(db: Session, template: str) -> list[dict[str, object]]:
    rows = db.execute(select(Event).where(Event.type == "notify.requested")).scalars()
    return [e.payload for e in rows if e.payload["template"] == template]


def test_warns_once_then_escalates_once(db: Session) -> None:
    branch = make_branch(db, timezone="Asia/Shanghai")
    teller_user = make_user(db, Role.teller, (branch,), username="cmp.teller")
    make_user(db, Role.branch_manager, (branch,), username="cmp.manager")
    make_user(db, Role.branch_manager, (make_branch(db),), username="cmp.other")
    teller = principal(db, teller_user)
    case = open_web_case(db, branch)
    service.transition(db, reference=case.reference, action="acknowledge", actor=teller, now=NOW)
    service.reply(db, reference=case.reference, text="On it", actor=teller, now=NOW)
    service.assign(db, reference=case.reference, assignee_id=teller_user.id, actor=teller, now=NOW)
    final = case.final_due_at
    assert final == datetime(2026, 3, 23, 16, 0, tzinfo=UTC)

    early = check_sla(db, now=final - timedelta(hours=49))
    assert (early.warned, early.escalated) == ([], [])
    warn_at = final - timedelta(hours=47)  # the CN policy warns 48 hours ahead
    first = check_sla(db, now=warn_at)
    again = check_sla(db, now=warn_at + timedelta(hours=1))
    assert first.warned == [(case.reference, "final")]
    assert (again.warned, again.escalated) == ([], [])
    warnings = notify_events(db, "complaints.sla_warning")
    assert [w["to_email"] for w in warnings] == ["cmp.teller@staff.branchdesk.local"]

    breach = check_sla(db, now=final)
    later = check_sla(db, now=final + timedelta(days=3))
    assert breach.escalated == [(case.reference, "final")]
    assert (later.warned, later.escalated) == ([], [])
    escalations = notify_events(db, "complaints.sla_breach")
    assert [e["to_email"] for e in escalations] == ["cmp.manager@staff.branchdesk.local"]
    assert timeline_kinds(db, case).count("sla_warning") == 1
    assert timeline_kinds(db, case).count("sla_breach") == 1
    assert count(db, SlaAlert, SlaAlert.case_id == case.id) == 2
    assert (
        count(db, Event, Event.aggregate_id == case.id, Event.type == "complaint.sla.breached") == 1
    )


def test_unacknowledged_case_escalates_acknowledge_and_paused_case_is_left_alone(
    db: Session,
) -> None:
    branch = make_branch(db, timezone="Asia/Shanghai")
    teller = principal(db, make_user(db, Role.teller, (branch,)))
    waiting = open_web_case(db, branch)
    for action in ("acknowledge", "start", "wait"):
        service.transition(db, reference=waiting.reference, action=action, actor=teller, now=NOW)
    fresh = open_web_case(db, branch)
    report = check_sla(db, now=NOW + timedelta(days=2), lead_hours=1)
    assert report.escalated == [(fresh.reference, "acknowledge")]
    assert report.warned == []
    assert count(db, SlaAlert, SlaAlert.case_id == waiting.id) == 0
