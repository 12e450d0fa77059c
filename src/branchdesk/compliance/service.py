"""Compliance checks: checklists, runs, results, violations and the trend report.

Compliance officers and admins manage checks and the register bank-wide; branch managers see
their own branches' runs and violations. Every change writes an audit row.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch
from branchdesk.compliance.models import (
    ChecklistItem,
    ChecklistResult,
    ChecklistRun,
    ChecklistTemplate,
    DisciplinaryOutcome,
    ItemResult,
    RunStatus,
    Schedule,
    Severity,
    Violation,
    ViolationStatus,
)
from branchdesk.compliance.schemas import (
    ChecklistCreate,
    ChecklistRead,
    ItemRead,
    ResultRead,
    ResultsBody,
    RunRead,
    RunStart,
    TrendMonth,
    TrendReport,
    TrendRow,
    ViolationCreate,
    ViolationRead,
    ViolationUpdate,
)
from branchdesk.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from branchdesk.core.jobs import Job, register_job
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission, Role

# Roles that see and manage every branch's checks (the others see their own branches).
BANK_WIDE = frozenset({Role.compliance_officer, Role.admin})
# A failed checklist item becomes a violation due for remediation this many days later.
REMEDIATION_DAYS = 30


class AlreadyExists(Conflict):
    code = "already_exists"


class RunClosed(Conflict):
    code = "run_submitted"


def _sees(actor: Principal, branch_id: uuid.UUID) -> bool:
    return actor.role in BANK_WIDE or actor.sees_branch(branch_id)


def _require_branch(actor: Principal, permission: Permission, branch_id: uuid.UUID) -> None:
    actor.require(permission)
    if not _sees(actor, branch_id):
        raise Forbidden("this branch is outside your assignment")


def period_of(schedule: Schedule | str, day: date) -> str:
    """``2026-03`` for a monthly check, ``2026-Q1`` for a quarterly one."""
    if Schedule(schedule) is Schedule.monthly:
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


# --- checklists ---------------------------------------------------------------------------------


def _items(db: Session, checklist_id: uuid.UUID) -> list[ChecklistItem]:
    return list(
        db.execute(
            select(ChecklistItem)
            .where(ChecklistItem.checklist_id == checklist_id)
            .order_by(ChecklistItem.position)
        ).scalars()
    )


def _checklist_read(db: Session, checklist: ChecklistTemplate) -> ChecklistRead:
    return ChecklistRead(
        id=checklist.id, code=checklist.code, title_en=checklist.title_en,
        title_zh_hant=checklist.title_zh_hant, title_zh_hans=checklist.title_zh_hans,
        schedule=Schedule(checklist.schedule),
        items=[
            ItemRead(id=i.id, position=i.position, text=i.text,
                     is_evidence_required=i.is_evidence_required)
            for i in _items(db, checklist.id)
        ],
    )  # fmt: skip


def create_checklist(
    db: Session, *, body: ChecklistCreate, actor: Principal, now: datetime
) -> ChecklistRead:
    actor.require(Permission.compliance_manage)
    checklist = ChecklistTemplate(
        code=body.code.upper(), title_zh_hant=body.title_zh_hant,
        title_zh_hans=body.title_zh_hans, title_en=body.title_en, schedule=str(body.schedule),
        is_active=True, created_at=now,
    )  # fmt: skip
    try:
        with db.begin_nested():
            db.add(checklist)
            db.flush()
    except IntegrityError:
        raise AlreadyExists(f"checklist {checklist.code} exists") from None
    for position, item in enumerate(body.items, start=1):
        db.add(
            ChecklistItem(
                checklist_id=checklist.id, position=position, text=item.text,
                is_evidence_required=item.is_evidence_required,
            )
        )  # fmt: skip
    db.flush()
    append_audit(
        db, actor=actor, action="compliance.checklist_create", object_type="compliance_checklist",
        object_id=checklist.id, now=now,
        detail={"code": checklist.code, "schedule": checklist.schedule, "items": len(body.items)},
    )  # fmt: skip
    return _checklist_read(db, checklist)


def list_checklists(db: Session, *, actor: Principal) -> list[ChecklistRead]:
    actor.require(Permission.compliance_view)
    rows = db.execute(
        select(ChecklistTemplate)
        .where(ChecklistTemplate.is_active.is_(True))
        .order_by(ChecklistTemplate.code)
    ).scalars()
    return [_checklist_read(db, row) for row in rows]


# --- runs ---------------------------------------------------------------------------------------


def _run(db: Session, run_id: uuid.UUID, *, lock: bool = False) -> ChecklistRun:
    query = select(ChecklistRun).where(ChecklistRun.id == run_id)
    if lock:
        query = query.with_for_update()
    run = db.execute(query).scalar_one_or_none()
    if run is None:
        raise NotFound("no such checklist run")
    return run


def get_run(db: Session, *, run_id: uuid.UUID, actor: Principal) -> RunRead:
    run = _run(db, run_id)
    _require_branch(actor, Permission.compliance_view, run.branch_id)
    checklist = db.get(ChecklistTemplate, run.checklist_id)
    branch = db.get(Branch, run.branch_id)
    assert checklist is not None
    assert branch is not None
    results = {
        r.item_id: r
        for r in db.execute(select(ChecklistResult).where(ChecklistResult.run_id == run.id))
        .scalars()
    }  # fmt: skip
    violations = db.execute(
        select(Violation.id).where(Violation.run_id == run.id).order_by(Violation.created_at)
    ).scalars()
    rows = []
    for item in _items(db, checklist.id):
        found = results.get(item.id)
        rows.append(
            ResultRead(
                position=item.position, text=item.text,
                is_evidence_required=item.is_evidence_required,
                result=ItemResult(found.result) if found else None,
                evidence_note=found.evidence_note if found else "",
                attachment_name=found.attachment_name if found else "",
            )
        )  # fmt: skip
    return RunRead(
        id=run.id, checklist_code=checklist.code, branch_code=branch.code, period=run.period,
        status=RunStatus(run.status), started_at=run.started_at, submitted_at=run.submitted_at,
        results=rows, violation_ids=list(violations),
    )  # fmt: skip


def start_run(
    db: Session, *, branch: Branch, body: RunStart, actor: Principal, now: datetime
) -> RunRead:
    """Start this period's check of a branch. Raises AlreadyExists for a second one."""
    _require_branch(actor, Permission.compliance_manage, branch.id)
    checklist = db.execute(
        select(ChecklistTemplate).where(
            ChecklistTemplate.code == body.checklist_code.upper(),
            ChecklistTemplate.is_active.is_(True),
        )
    ).scalar_one_or_none()
    if checklist is None:
        raise RuleViolation(f"no checklist {body.checklist_code!r}", field="checklist_code")
    period = period_of(checklist.schedule, catalog.business_day(branch, now))
    run = ChecklistRun(
        checklist_id=checklist.id, branch_id=branch.id, period=period, status=RunStatus.open,
        started_by_id=actor.user_id, started_at=now, submitted_at=None,
    )  # fmt: skip
    try:
        with db.begin_nested():
            db.add(run)
            db.flush()
    except IntegrityError:
        raise AlreadyExists(f"{checklist.code} for {period} at {branch.code} exists") from None
    append_audit(
        db, actor=actor, action="compliance.run_start", object_type="compliance_run",
        object_id=run.id, branch_id=branch.id, now=now,
        detail={"checklist": checklist.code, "period": period},
    )  # fmt: skip
    return get_run(db, run_id=run.id, actor=actor)


def record_results(
    db: Session, *, run_id: uuid.UUID, body: ResultsBody, actor: Principal, now: datetime
) -> RunRead:
    """Record (or correct) per-item results of an open run."""
    run = _run(db, run_id, lock=True)
    _require_branch(actor, Permission.compliance_manage, run.branch_id)
    if run.status != RunStatus.open:
        raise RunClosed("the run was submitted; its results are final")
    items = {i.position: i for i in _items(db, run.checklist_id)}
    for index, given in enumerate(body.results):
        if given.position not in items:
            raise RuleViolation(f"no item {given.position}", field=f"results.{index}.position")
    existing = {
        r.item_id: r
        for r in db.execute(select(ChecklistResult).where(ChecklistResult.run_id == run.id))
        .scalars()
    }  # fmt: skip
    for given in body.results:
        item = items[given.position]
        row = existing.get(item.id)
        if row is None:
            row = ChecklistResult(run_id=run.id, item_id=item.id)
            db.add(row)
            existing[item.id] = row
        row.result = str(given.result)
        row.evidence_note = given.evidence_note
        row.attachment_name = given.attachment_name
        row.recorded_by_id = actor.user_id
        row.recorded_at = now
    db.flush()
    append_audit(
        db, actor=actor, action="compliance.results", object_type="compliance_run",
        object_id=run.id, branch_id=run.branch_id, now=now,
        detail={"results": {str(r.position): str(r.result) for r in body.results}},
    )  # fmt: skip
    return get_run(db, run_id=run.id, actor=actor)


def submit_run(db: Session, *, run_id: uuid.UUID, actor: Principal, now: datetime) -> RunRead:
    """Close a run; each failed item becomes a violation (medium, due in 30 days)."""
    run = _run(db, run_id, lock=True)
    _require_branch(actor, Permission.compliance_manage, run.branch_id)
    if run.status != RunStatus.open:
        raise RunClosed("the run was submitted already")
    results = {
        r.item_id: r
        for r in db.execute(select(ChecklistResult).where(ChecklistResult.run_id == run.id))
        .scalars()
    }  # fmt: skip
    items = _items(db, run.checklist_id)
    missing = [i.position for i in items if i.id not in results]
    if missing:
        raise RuleViolation(f"items without a result: {missing}", field="results")
    for item in items:
        found = results[item.id]
        has_evidence = bool(found.evidence_note.strip() or found.attachment_name.strip())
        if (
            item.is_evidence_required
            and found.result != ItemResult.not_applicable
            and not (has_evidence)
        ):
            raise RuleViolation(f"item {item.position} needs evidence", field="results")
    branch = db.get(Branch, run.branch_id)
    assert branch is not None
    today = catalog.business_day(branch, now)
    run.status = RunStatus.submitted
    run.submitted_at = now
    created = []
    for item in items:
        found = results[item.id]
        if found.result != ItemResult.failed:
            continue
        violation = Violation(
            branch_id=run.branch_id, run_id=run.id, item_id=item.id, title=item.text[:300],
            description=found.evidence_note, severity=Severity.medium, owner_id=None,
            remediation_due_on=today + timedelta(days=REMEDIATION_DAYS),
            status=ViolationStatus.open, disciplinary_outcome=DisciplinaryOutcome.none,
            found_on=today, created_at=now, updated_at=now, closed_at=None,
        )  # fmt: skip
        db.add(violation)
        created.append(violation)
    db.flush()
    append_audit(
        db, actor=actor, action="compliance.run_submit", object_type="compliance_run",
        object_id=run.id, branch_id=run.branch_id, now=now,
        detail={"violations": [str(v.id) for v in created]},
    )  # fmt: skip
    for violation in created:
        _audit_violation(db, violation, "compliance.violation_create", actor, now, {})
    return get_run(db, run_id=run.id, actor=actor)


# --- violations register ------------------------------------------------------------------------


def _audit_violation(
    db: Session,
    violation: Violation,
    action: str,
    actor: Principal,
    now: datetime,
    changes: dict[str, object],
) -> None:
    append_audit(
        db, actor=actor, action=action, object_type="compliance_violation",
        object_id=violation.id, branch_id=violation.branch_id, now=now,
        detail={"severity": violation.severity, "status": violation.status,
                "disciplinary_outcome": violation.disciplinary_outcome, "changes": changes},
    )  # fmt: skip


def _user_by_username(db: Session, username: str, field: str) -> User:
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise RuleViolation(f"no staff member {username!r}", field=field)
    return user


def _violation_read(db: Session, violation: Violation, today: date) -> ViolationRead:
    branch = db.get(Branch, violation.branch_id)
    owner = db.get(User, violation.owner_id) if violation.owner_id else None
    assert branch is not None
    return ViolationRead(
        id=violation.id, branch_code=branch.code, title=violation.title,
        description=violation.description, severity=Severity(violation.severity),
        owner=owner.username if owner else None,
        remediation_due_on=violation.remediation_due_on,
        status=ViolationStatus(violation.status),
        disciplinary_outcome=DisciplinaryOutcome(violation.disciplinary_outcome),
        found_on=violation.found_on, run_id=violation.run_id,
        is_overdue=(violation.status != ViolationStatus.closed
                    and violation.remediation_due_on is not None
                    and violation.remediation_due_on < today),
    )  # fmt: skip


def create_violation(
    db: Session, *, body: ViolationCreate, actor: Principal, now: datetime
) -> ViolationRead:
    branch = catalog.get_branch_by_code(db, body.branch_code)
    _require_branch(actor, Permission.compliance_manage, branch.id)
    owner = _user_by_username(db, body.owner_username, "owner_username") if (
        body.owner_username
    ) else None  # fmt: skip
    today = catalog.business_day(branch, now)
    violation = Violation(
        branch_id=branch.id, run_id=None, item_id=None, title=body.title,
        description=body.description, severity=str(body.severity),
        owner_id=owner.id if owner else None, remediation_due_on=body.remediation_due_on,
        status=ViolationStatus.open, disciplinary_outcome=DisciplinaryOutcome.none,
        found_on=today, created_at=now, updated_at=now, closed_at=None,
    )  # fmt: skip
    db.add(violation)
    db.flush()
    _audit_violation(db, violation, "compliance.violation_create", actor, now, {})
    return _violation_read(db, violation, today)


def update_violation(
    db: Session, *, violation_id: uuid.UUID, body: ViolationUpdate, actor: Principal, now: datetime
) -> ViolationRead:
    """Change severity, owner, deadline, status or the disciplinary outcome (audited)."""
    violation = db.execute(
        select(Violation).where(Violation.id == violation_id).with_for_update()
    ).scalar_one_or_none()
    if violation is None:
        raise NotFound("no such violation")
    _require_branch(actor, Permission.compliance_manage, violation.branch_id)
    if violation.status == ViolationStatus.closed and body.status != ViolationStatus.open:
        raise Conflict("the violation is closed; reopen it first")
    changes: dict[str, object] = {}
    if body.owner_username is not None:
        owner = _user_by_username(db, body.owner_username, "owner_username")
        if owner.id != violation.owner_id:
            changes["owner"] = owner.username
            violation.owner_id = owner.id
    for field in ("severity", "remediation_due_on", "status", "disciplinary_outcome"):
        value = getattr(body, field)
        if value is not None and value != getattr(violation, field):
            setattr(violation, field, str(value) if field != "remediation_due_on" else value)
            changes[field] = str(value)
    if not changes and not body.note:
        raise RuleViolation("nothing to change", field="status")
    if "status" in changes:
        violation.closed_at = now if violation.status == ViolationStatus.closed else None
    violation.updated_at = now
    if body.note:
        changes["note"] = body.note
    db.flush()
    _audit_violation(db, violation, "compliance.violation_update", actor, now, changes)
    branch = db.get(Branch, violation.branch_id)
    assert branch is not None
    return _violation_read(db, violation, catalog.business_day(branch, now))


def list_violations(
    db: Session,
    *,
    actor: Principal,
    now: datetime,
    branch_code: str | None = None,
    status: ViolationStatus | None = None,
) -> list[ViolationRead]:
    actor.require(Permission.compliance_view)
    query = select(Violation).order_by(Violation.found_on.desc(), Violation.created_at.desc())
    if branch_code:
        branch = catalog.get_branch_by_code(db, branch_code)
        _require_branch(actor, Permission.compliance_view, branch.id)
        query = query.where(Violation.branch_id == branch.id)
    elif actor.role not in BANK_WIDE:
        query = query.where(Violation.branch_id.in_(actor.branch_ids))
    if status is not None:
        query = query.where(Violation.status == status)
    today = now.date()
    return [_violation_read(db, v, today) for v in db.execute(query).scalars()]


def trend(db: Session, *, actor: Principal, since: date | None = None) -> list[TrendRow]:
    """Violations found per branch, severity and month (``YYYY-MM``)."""
    actor.require(Permission.compliance_view)
    query = select(Branch.code, Violation.severity, Violation.found_on).join(
        Branch, Branch.id == Violation.branch_id
    )
    if actor.role not in BANK_WIDE:
        query = query.where(Violation.branch_id.in_(actor.branch_ids))
    if since is not None:
        query = query.where(Violation.found_on >= since)
    counts: Counter[tuple[str, str, str]] = Counter(
        (code, severity, f"{found.year}-{found.month:02d}")
        for code, severity, found in db.execute(query)
    )
    return [
        TrendRow(branch_code=b, severity=Severity(s), month=m, count=n)
        for (b, s, m), n in sorted(counts.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1]))
    ]


def trend_report(rows: list[TrendRow], *, until: date, months: int) -> TrendReport:
    """The last ``months`` months up to ``until``'s month, every month present (zero when none
    was found), per severity, with the change against the month before."""
    keys: list[str] = []
    year, month = until.year, until.month
    for _ in range(months + 1):  # one more month before: the first month's change
        keys.append(f"{year}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    severities = [str(s) for s in Severity]
    table = {key: dict.fromkeys(severities, 0) for key in keys}
    branches: Counter[str] = Counter()
    for row in rows:
        if row.month in table:
            table[row.month][str(row.severity)] += row.count
            if row.month != keys[0]:
                branches[row.branch_code] += row.count
    found: list[TrendMonth] = []
    for before, key in pairwise(keys):
        total = sum(table[key].values())
        found.append(
            TrendMonth(
                month=key, by_severity=table[key], total=total,
                change=total - sum(table[before].values()),
            )
        )  # fmt: skip
    return TrendReport(
        months=found,
        by_branch=dict(sorted(branches.items())),
        severities=severities,
        peak=max((m.total for m in found), default=0),
    )


def trend_months(db: Session, *, actor: Principal, now: datetime, months: int = 12) -> TrendReport:
    """The trend report of the last ``months`` months (1-60). Raises Forbidden, RuleViolation."""
    if not 1 <= months <= 60:
        raise RuleViolation("between 1 and 60 months", field="months")
    today = now.date()
    first = date(today.year - (months // 12) - 1, 1, 1)
    return trend_report(trend(db, actor=actor, since=first), until=today, months=months)


def open_scheduled_runs(db: Session, *, now: datetime) -> int:
    """Start this period's run of every active checklist at every active branch (once).

    Run daily by `branchdesk compliance schedule`; a run that exists already is kept. Returns how
    many runs were started.
    """
    checklists = list(
        db.execute(select(ChecklistTemplate).where(ChecklistTemplate.is_active.is_(True))).scalars()
    )
    branches = list(db.execute(select(Branch).where(Branch.is_active.is_(True))).scalars())
    existing = {
        (c, b, p)
        for c, b, p in db.execute(
            select(ChecklistRun.checklist_id, ChecklistRun.branch_id, ChecklistRun.period)
        )
    }
    started = 0
    for branch in branches:
        day = catalog.business_day(branch, now)
        for checklist in checklists:
            period = period_of(checklist.schedule, day)
            if (checklist.id, branch.id, period) in existing:
                continue
            run = ChecklistRun(
                checklist_id=checklist.id, branch_id=branch.id, period=period,
                status=RunStatus.open, started_by_id=None, started_at=now, submitted_at=None,
            )  # fmt: skip
            db.add(run)
            db.flush()
            append_audit(
                db, action="compliance.run_start", object_type="compliance_run",
                object_id=run.id, branch_id=branch.id, now=now,
                actor_label="branchdesk compliance schedule",
                detail={"checklist": checklist.code, "period": period},
            )  # fmt: skip
            started += 1
    return started


register_job(
    Job(
        name="compliance.schedule",
        every=timedelta(hours=6),
        run=lambda db, now: open_scheduled_runs(db, now=now),
    )
)
