"""The SLA check: warn the assignee before a deadline, escalate to the branch manager on breach.

Each (case, target, kind) raises at most once (a unique row in ``complaint_sla_alerts``), so the
job may run as often as wanted and from several processes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from branchdesk.complaints import rules
from branchdesk.complaints.models import Case, CaseState, SlaAlert, TimelineKind
from branchdesk.complaints.service import add_timeline
from branchdesk.complaints.settings import complaint_settings
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.core.jobs import Job, register_job
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.roles import Role

# Paused (waiting on the customer) and answered cases have no running clock.
RUNNING = (CaseState.new, CaseState.acknowledged, CaseState.in_progress, CaseState.reopened)

register_template(
    "complaints.sla_warning",
    {
        "zh-Hant": "投訴 {reference} 的{target}期限 {due} 即將到期。",
        "zh-Hans": "投诉 {reference} 的{target}期限 {due} 即将到期。",
        "en": "Complaint {reference}: the {target} deadline {due} is close.",
    },
)
register_template(
    "complaints.sla_breach",
    {
        "zh-Hant": "投訴 {reference} 已超過{target}期限 {due}，請處理。",
        "zh-Hans": "投诉 {reference} 已超过{target}期限 {due}，请处理。",
        "en": "Complaint {reference} has missed its {target} deadline {due}: please act.",
    },
)


@dataclass
class SlaReport:
    warned: list[tuple[str, str]] = field(default_factory=list)
    escalated: list[tuple[str, str]] = field(default_factory=list)


def _pending_targets(case: Case) -> list[tuple[str, datetime]]:
    out: list[tuple[str, datetime]] = []
    if case.acknowledged_at is None and case.acknowledge_due_at is not None:
        out.append(("acknowledge", case.acknowledge_due_at))
    if case.first_reply_at is None and case.interim_due_at is not None:
        out.append(("interim", case.interim_due_at))
    if case.resolved_at is None and case.final_due_at is not None:
        out.append(("final", case.final_due_at))
    return out


def _claim(db: Session, case: Case, target: str, kind: str, due: datetime, now: datetime) -> bool:
    """Insert the alert row unless it exists (also against a concurrent run): True if ours."""
    values = {
        "id": new_id(), "case_id": case.id, "target": target, "kind": kind, "due_at": due,
        "raised_at": now,
    }  # fmt: skip
    dialect = db.get_bind().dialect.name
    insert_fn = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert_fn(SlaAlert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["case_id", "target", "kind"])
        .returning(SlaAlert.id)
    )
    return db.execute(statement).first() is not None


def _managers(db: Session, branch_id: uuid.UUID) -> list[User]:
    return list(
        db.execute(
            select(User)
            .join(user_branches, user_branches.c.user_id == User.id)
            .where(
                user_branches.c.branch_id == branch_id,
                User.role == Role.branch_manager,
                User.is_active.is_(True),
            )
            .order_by(User.username)
        ).scalars()
    )


def _notify_staff(
    db: Session,
    users: list[User],
    *,
    template: str,
    case: Case,
    target: str,
    due: datetime,
    now: datetime,
) -> list[str]:
    domain = complaint_settings().staff_mail_domain
    sent = []
    for user in users:
        queue_notification(
            db,
            message=Message(
                template=template,
                locale=user.preferred_locale or "zh-Hant",
                to_email=f"{user.username}@{domain}",
                values={"reference": case.reference, "target": target, "due": due.isoformat()},
            ),
            now=now,
            aggregate_type="complaint",
            aggregate_id=case.id,
            branch_id=case.branch_id,
        )
        sent.append(user.username)
    return sent


def check_sla(db: Session, *, now: datetime, lead_hours: int | None = None) -> SlaReport:
    """Warn (lead hours before) and escalate (after) every running deadline, once each."""
    report = SlaReport()
    book = rules.policy_book()
    configured = complaint_settings().warn_lead_hours
    if lead_hours is not None:
        horizon = timedelta(hours=lead_hours)
    else:
        longest = max(p.warn_lead_hours for p in book.policies.values())
        horizon = timedelta(hours=configured or longest)
    due_soon = now + horizon
    running = Case.state.in_([str(s) for s in RUNNING])
    cases = db.execute(
        select(Case)
        .where(
            running,
            or_(
                Case.acknowledged_at.is_(None) & (Case.acknowledge_due_at <= due_soon),
                Case.first_reply_at.is_(None) & (Case.interim_due_at <= due_soon),
                Case.resolved_at.is_(None) & (Case.final_due_at <= due_soon),
            ),
        )
        .order_by(Case.received_at)
    ).scalars()
    candidates = list(cases)
    raised = {
        (row.case_id, row.target, row.kind)
        for row in db.execute(
            select(SlaAlert.case_id, SlaAlert.target, SlaAlert.kind).where(
                SlaAlert.case_id.in_(select(Case.id).where(running))
            )
        )
    }
    managers: dict[uuid.UUID, list[User]] = {}
    for case in candidates:
        policy_lead = book.policy(case.jurisdiction).warn_lead_hours
        lead = timedelta(
            hours=lead_hours if lead_hours is not None else (configured or policy_lead)
        )
        for target, due in _pending_targets(case):
            if now >= due:
                kind = "breach"
            elif now >= due - lead:
                kind = "warning"
            else:
                continue
            if (case.id, target, kind) in raised or not _claim(db, case, target, kind, due, now):
                continue
            if kind == "breach":
                if case.branch_id not in managers:
                    managers[case.branch_id] = _managers(db, case.branch_id)
                recipients = managers[case.branch_id]
                template, entry_kind = "complaints.sla_breach", TimelineKind.sla_breach
                report.escalated.append((case.reference, target))
            else:
                assignee = db.get(User, case.assignee_id) if case.assignee_id else None
                recipients = [assignee] if assignee is not None and assignee.is_active else []
                template, entry_kind = "complaints.sla_warning", TimelineKind.sla_warning
                report.warned.append((case.reference, target))
            sent = _notify_staff(
                db, recipients, template=template, case=case, target=target, due=due, now=now
            )
            add_timeline(
                db, case, kind=entry_kind, now=now, actor_label="sla-check",
                data={"target": target, "due_at": due.isoformat(), "notified": sent},
            )  # fmt: skip
            record_event(
                db,
                type=f"complaint.sla.{'breached' if kind == 'breach' else 'warning'}",
                aggregate_type="complaint",
                aggregate_id=case.id,
                branch_id=case.branch_id,
                now=now,
                payload={"reference": case.reference, "target": target, "due_at": due.isoformat()},
            )
    db.flush()
    return report


register_job(
    Job(
        name="complaints.sla_check",
        every=timedelta(minutes=15),
        run=lambda db, now: check_sla(db, now=now),
    )
)
