"""Mystery-shopper / service-standard checklists.

A checklist is built from the service type's current standard version (target wait, standard
handling time, each required document, each line of the script). A quality officer records a
visit scoring every item pass / fail / n.a. with a note; the score is passed / (passed + failed).
Raises ``Forbidden`` (no quality.view / quality.manage, or a branch outside the assignment),
``NotFound`` (branch, service) and ``RuleViolation`` (items missing, unknown or repeated; teller
unknown; a visit dated in the future).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, ServiceStandardVersion, ServiceType
from branchdesk.core import i18n
from branchdesk.core.errors import RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.quality.models import ChecklistVisit, ChecklistVisitItem
from branchdesk.quality.schemas import (
    ChecklistItem,
    ChecklistTemplate,
    ItemScoreRead,
    Verdict,
    VisitCreate,
    VisitRead,
    VisitTrendPoint,
)
from branchdesk.quality.service import resolve_scope


def _standard(db: Session, service: ServiceType) -> tuple[int, int, int, list[str], str]:
    version = db.execute(
        select(ServiceStandardVersion).where(
            ServiceStandardVersion.service_type_id == service.id,
            ServiceStandardVersion.version == service.current_version,
        )
    ).scalar_one_or_none()
    if version is None:  # a service created before standards were versioned
        return (
            service.current_version, service.target_max_wait_minutes,
            service.standard_handling_minutes, list(service.required_documents), service.script,
        )  # fmt: skip
    return (
        version.version, version.target_max_wait_minutes, version.standard_handling_minutes,
        list(version.required_documents), version.script,
    )  # fmt: skip


def _template(db: Session, service: ServiceType) -> ChecklistTemplate:
    _ = i18n.gettext
    version, wait, handling, documents, script = _standard(db, service)
    items = [
        ChecklistItem(
            code="wait", text=_("Called within the target wait of {minutes} minutes").format(
                minutes=wait
            ),
        ),
        ChecklistItem(
            code="handling",
            text=_("Served within the standard handling time of {minutes} minutes").format(
                minutes=handling
            ),
        ),
    ]  # fmt: skip
    for n, document in enumerate(documents, 1):
        text = _("Checked the required document: {document}").format(document=document)
        items.append(ChecklistItem(code=f"document-{n}", text=text))
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    for n, line in enumerate(lines, 1):
        items.append(
            ChecklistItem(
                code=f"script-{n}", text=_("Followed the script: {line}").format(line=line)
            )
        )
    return ChecklistTemplate(
        service_code=service.code,
        service_name=i18n.localized(service.name_zh_hant, service.name_zh_hans, service.name_en),
        standard_version=version,
        items=items,
    )


def checklist_template(db: Session, *, actor: Principal, service_code: str) -> ChecklistTemplate:
    """The items of a service's current standard. Raises Forbidden, NotFound."""
    actor.require(Permission.quality_view)
    return _template(db, catalog.get_service_type(db, code=service_code))


def _read(db: Session, visit: ChecklistVisit) -> VisitRead:
    branch = db.get(Branch, visit.branch_id)
    service = db.get(ServiceType, visit.service_type_id)
    teller = db.get(User, visit.teller_id) if visit.teller_id else None
    items = db.execute(
        select(ChecklistVisitItem)
        .where(ChecklistVisitItem.visit_id == visit.id)
        .order_by(ChecklistVisitItem.position)
    ).scalars()
    assert branch is not None
    assert service is not None
    return VisitRead(
        id=visit.id, branch_code=branch.code, service_code=service.code,
        standard_version=visit.standard_version, visited_on=visit.visited_on,
        teller_name=teller.display_name if teller else None, officer_name=visit.officer_label,
        score_percent=None if visit.score_basis_points is None else visit.score_basis_points / 100,
        passed=visit.passed, failed=visit.failed, not_applicable=visit.not_applicable,
        note=visit.note, recorded_at=visit.recorded_at,
        items=[
            ItemScoreRead(code=i.code, text=i.text, verdict=Verdict(i.verdict), note=i.note)
            for i in items
        ],
    )  # fmt: skip


def score_basis_points(passed: int, failed: int) -> int | None:
    """passed / (passed + failed) in basis points, half up; None when nothing was scorable."""
    scored = passed + failed
    return None if scored == 0 else (20000 * passed + scored) // (2 * scored)


def record_visit(db: Session, *, actor: Principal, data: VisitCreate, now: datetime) -> VisitRead:
    """Score a visit against the current standard. Raises Forbidden, NotFound, RuleViolation."""
    actor.require(Permission.quality_manage)
    scope = resolve_scope(db, actor=actor, branch_code=data.branch_code)
    assert scope.branch is not None
    service = catalog.get_service_type(db, code=data.service_code)
    if data.visited_on > now.date():
        raise RuleViolation("a visit cannot be dated in the future", field="visited_on")
    template = _template(db, service)
    wanted = [item.code for item in template.items]
    given = [score.code for score in data.scores]
    if sorted(given) != sorted(wanted):
        raise RuleViolation(
            f"score every item of the checklist once: {', '.join(wanted)}", field="scores"
        )
    teller_id: uuid.UUID | None = None
    if data.teller_username:
        teller = db.execute(
            select(User).where(User.username == data.teller_username.strip())
        ).scalar_one_or_none()
        if teller is None:
            raise RuleViolation("no staff user with this username", field="teller_username")
        teller_id = teller.id
    verdicts = {score.code: score for score in data.scores}
    passed = sum(1 for s in data.scores if s.verdict == Verdict.passed)
    failed = sum(1 for s in data.scores if s.verdict == Verdict.failed)
    visit = ChecklistVisit(
        id=new_id(), branch_id=scope.branch.id, service_type_id=service.id,
        standard_version=template.standard_version, visited_on=data.visited_on,
        teller_id=teller_id, officer_id=actor.user_id, officer_label=actor.display_name,
        passed=passed, failed=failed, not_applicable=len(data.scores) - passed - failed,
        score_basis_points=score_basis_points(passed, failed), note=data.note, recorded_at=now,
    )  # fmt: skip
    db.add(visit)
    db.flush()
    for position, item in enumerate(template.items):
        score = verdicts[item.code]
        db.add(
            ChecklistVisitItem(
                id=new_id(),
                visit_id=visit.id,
                position=position,
                code=item.code,
                text=item.text,
                verdict=score.verdict.value,
                note=score.note,
            )
        )
    db.flush()
    append_audit(
        db, action="quality.visit_recorded", object_type="quality_visit", object_id=visit.id,
        now=now, actor=actor, branch_id=scope.branch.id,
        detail={"service": service.code, "score_basis_points": visit.score_basis_points},
    )  # fmt: skip
    return _read(db, visit)


def list_visits(
    db: Session, *, actor: Principal, branch_code: str | None, limit: int = 100
) -> list[VisitRead]:
    """Newest first, in the actor's scope. Raises Forbidden, NotFound."""
    scope = resolve_scope(db, actor=actor, branch_code=branch_code)
    rows = db.execute(
        select(ChecklistVisit)
        .where(ChecklistVisit.branch_id.in_(scope.branch_ids))
        .order_by(ChecklistVisit.visited_on.desc(), ChecklistVisit.recorded_at.desc())
        .limit(limit)
    ).scalars()
    return [_read(db, v) for v in rows]


def trend(db: Session, *, actor: Principal, branch_code: str | None) -> list[VisitTrendPoint]:
    """Visits and average score per branch and month. Raises Forbidden, NotFound."""
    scope = resolve_scope(db, actor=actor, branch_code=branch_code)
    rows = db.execute(
        select(Branch.code, ChecklistVisit.visited_on, ChecklistVisit.score_basis_points)
        .join(Branch, Branch.id == ChecklistVisit.branch_id)
        .where(ChecklistVisit.branch_id.in_(scope.branch_ids))
    )
    groups: dict[tuple[str, str], list[int | None]] = defaultdict(list)
    for code, visited_on, points in rows:
        groups[(code, visited_on.strftime("%Y-%m"))].append(points)
    out = []
    for (code, month), scores in sorted(groups.items()):
        scored = [s for s in scores if s is not None]
        average = round(sum(scored) / len(scored) / 100, 1) if scored else None
        out.append(
            VisitTrendPoint(
                branch_code=code, month=month, visits=len(scores), average_score_percent=average
            )
        )
    return out
