"""Training services: courses, assignments, completions, certifications, reminders, the overdue
list, the skills matrix, and the certified services of a teller's counter (used by call-next)."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, Counter, ServiceType, counter_services
from branchdesk.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.jobs import Job, register_job
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission, Role
from branchdesk.training import rules
from branchdesk.training.models import (
    Certification,
    Completion,
    Course,
    CourseAssignment,
    CourseCategory,
    StaffCertification,
    TrainingReminder,
)
from branchdesk.training.schemas import (
    AnnualRow,
    AssignmentCreate,
    AssignmentRead,
    CertificationCreate,
    CertificationRead,
    CompletionCreate,
    CompletionRead,
    CounterServices,
    CourseCreate,
    CourseRead,
    OverdueRow,
    SkillCell,
    SkillRow,
    StaffCertificationCreate,
    StaffCertificationRead,
)

# An annual course counts as done when passed within this many days before its due day.
ANNUAL_WINDOW = timedelta(days=365)
# `branchdesk training remind` reminds people this many days before the due day (and after).
REMIND_LEAD_DAYS = 14


class DuplicateCode(Conflict):
    code = "duplicate_code"


# --- look-ups -----------------------------------------------------------------------------------


def _course(db: Session, code: str) -> Course:
    course = db.execute(select(Course).where(Course.code == code.upper())).scalar_one_or_none()
    if course is None:
        raise RuleViolation(f"no course {code!r}", field="course_code")
    return course


def _certification(db: Session, code: str) -> Certification:
    found = db.execute(
        select(Certification).where(Certification.code == code.upper())
    ).scalar_one_or_none()
    if found is None:
        raise RuleViolation(f"no certification {code!r}", field="certification_code")
    return found


def _staff_member(db: Session, username: str, actor: Principal) -> User:
    """The user ``username`` if the actor sees one of their branches (else RuleViolation)."""
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise RuleViolation(f"no staff member {username!r}", field="username")
    if not actor.is_bank_wide:
        branches = set(
            db.execute(
                select(user_branches.c.branch_id).where(user_branches.c.user_id == user.id)
            ).scalars()
        )
        if not branches & actor.branch_ids:
            raise Forbidden("this staff member works outside your branches")
    return user


def _insert(db: Session, row: object, message: str) -> None:
    """Add a row; a unique-constraint clash becomes a Conflict with nothing written."""
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        raise DuplicateCode(message) from None


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- courses and assignments --------------------------------------------------------------------


def create_course(db: Session, *, body: CourseCreate, actor: Principal, now: datetime) -> Course:
    actor.require(Permission.training_manage)
    course = Course(
        code=body.code.upper(), category=str(body.category), title_zh_hant=body.title_zh_hant,
        title_zh_hans=body.title_zh_hans, title_en=body.title_en, pass_mark=body.pass_mark,
        is_annual=body.is_annual, created_at=now,
    )  # fmt: skip
    _insert(db, course, f"course {course.code} exists")
    append_audit(
        db, actor=actor, action="training.course_create", object_type="training_course",
        object_id=course.id, now=now, detail={"code": course.code, "pass_mark": course.pass_mark},
    )  # fmt: skip
    return course


def list_courses(db: Session, *, actor: Principal) -> list[CourseRead]:
    actor.require(Permission.training_view)
    rows = db.execute(select(Course).order_by(Course.code)).scalars()
    return [CourseRead.model_validate(row) for row in rows]


def assign_course(
    db: Session, *, body: AssignmentCreate, actor: Principal, now: datetime
) -> AssignmentRead:
    actor.require(Permission.training_manage)
    course = _course(db, body.course_code)
    assignment = CourseAssignment(
        course_id=course.id, role=str(body.role), due_on=body.due_on, created_by_id=actor.user_id,
        created_at=now,
    )  # fmt: skip
    _insert(db, assignment, f"{course.code} is already assigned to {body.role} by {body.due_on}")
    append_audit(
        db, actor=actor, action="training.assign", object_type="training_assignment",
        object_id=assignment.id, now=now,
        detail={"course": course.code, "role": str(body.role), "due_on": body.due_on.isoformat()},
    )  # fmt: skip
    return AssignmentRead(
        id=assignment.id, course_code=course.code, role=body.role, due_on=body.due_on
    )


def record_completion(
    db: Session, *, body: CompletionCreate, actor: Principal, now: datetime
) -> CompletionRead:
    actor.require(Permission.training_record)
    course = _course(db, body.course_code)
    user = _staff_member(db, body.username, actor)
    completed_at = body.completed_at or now
    if completed_at.tzinfo is None:
        raise RuleViolation("give the time with its offset", field="completed_at")
    if completed_at > now:
        raise RuleViolation("a completion cannot lie in the future", field="completed_at")
    completion = Completion(
        course_id=course.id, user_id=user.id, score=body.score,
        is_passed=body.score >= course.pass_mark, completed_at=completed_at,
        recorded_by_id=actor.user_id,
    )  # fmt: skip
    db.add(completion)
    db.flush()
    append_audit(
        db, actor=actor, action="training.completion", object_type="training_completion",
        object_id=completion.id, now=now,
        detail={"course": course.code, "user": user.username, "score": body.score,
                "passed": completion.is_passed},
    )  # fmt: skip
    return CompletionRead(
        id=completion.id, course_code=course.code, username=user.username, score=body.score,
        is_passed=completion.is_passed, completed_at=completed_at,
    )  # fmt: skip


# --- certifications -----------------------------------------------------------------------------


def create_certification(
    db: Session, *, body: CertificationCreate, actor: Principal, now: datetime
) -> CertificationRead:
    actor.require(Permission.training_manage)
    service_id: uuid.UUID | None = None
    service_code: str | None = None
    if body.service_code:
        service = db.execute(
            select(ServiceType).where(ServiceType.code == body.service_code.upper())
        ).scalar_one_or_none()
        if service is None:
            raise RuleViolation(f"no service {body.service_code!r}", field="service_code")
        service_id, service_code = service.id, service.code
    certification = Certification(
        code=body.code.upper(), name_zh_hant=body.name_zh_hant, name_zh_hans=body.name_zh_hans,
        name_en=body.name_en, service_type_id=service_id, validity_months=body.validity_months,
        created_at=now,
    )  # fmt: skip
    _insert(db, certification, "that code or service already has a certification")
    append_audit(
        db, actor=actor, action="training.certification_create",
        object_type="training_certification", object_id=certification.id, now=now,
        detail={"code": certification.code, "service": service_code},
    )  # fmt: skip
    return CertificationRead(
        id=certification.id, code=certification.code, name_en=certification.name_en,
        service_code=service_code, validity_months=certification.validity_months,
    )  # fmt: skip


def grant_certification(
    db: Session, *, body: StaffCertificationCreate, actor: Principal, now: datetime
) -> StaffCertificationRead:
    actor.require(Permission.training_record)
    certification = _certification(db, body.certification_code)
    user = _staff_member(db, body.username, actor)
    expires_on = body.expires_on or add_months(body.issued_on, certification.validity_months)
    if expires_on <= body.issued_on:
        raise RuleViolation("the expiry must come after the issue day", field="expires_on")
    held = StaffCertification(
        user_id=user.id, certification_id=certification.id, issued_on=body.issued_on,
        expires_on=expires_on, granted_by_id=actor.user_id, created_at=now,
    )  # fmt: skip
    _insert(db, held, f"{user.username} already holds {certification.code} from {body.issued_on}")
    append_audit(
        db, actor=actor, action="training.certification_grant",
        object_type="training_staff_certification", object_id=held.id, now=now,
        detail={"code": certification.code, "user": user.username,
                "issued_on": body.issued_on.isoformat(), "expires_on": expires_on.isoformat()},
    )  # fmt: skip
    return StaffCertificationRead(
        id=held.id, username=user.username, certification_code=certification.code,
        issued_on=body.issued_on, expires_on=expires_on,
    )  # fmt: skip


def required_certifications(db: Session) -> dict[str, str]:
    """Service code -> the certification code serving it requires."""
    rows = db.execute(
        select(ServiceType.code, Certification.code).join(
            Certification, Certification.service_type_id == ServiceType.id
        )
    ).all()
    return {service: certification for service, certification in rows}  # noqa: C416


def valid_certifications(db: Session, *, user_id: uuid.UUID, on: date) -> frozenset[str]:
    """The certification codes a staff member holds valid on day ``on``."""
    rows = db.execute(
        select(Certification.code)
        .join(StaffCertification, StaffCertification.certification_id == Certification.id)
        .where(
            StaffCertification.user_id == user_id,
            StaffCertification.issued_on <= on,
            StaffCertification.expires_on > on,
        )
    ).scalars()
    return frozenset(rows)


# --- the queue integration point ----------------------------------------------------------------


def certified_skills(
    db: Session, *, counter: Counter, skills: Sequence[ServiceType], now: datetime
) -> list[ServiceType]:
    """The counter's skills that its current teller may serve today (call-next's filter).

    Services without a required certification stay; one that requires a certification stays
    only while the teller staffing the counter holds it valid on the branch's business day. A
    counter nobody staffs keeps all its skills (it is closed, so nothing is called there).
    Drop-in for the skills list in ``queue.service.counters.call_next``:
    ``skills = certified_skills(db, counter=counter, skills=skills, now=now)`` right after
    ``skills = _counter_skills(db, counter)``.
    """
    if counter.staffed_by_id is None:
        return list(skills)
    required = required_certifications(db)
    if not any(s.code in required for s in skills):
        return list(skills)
    branch = db.get(Branch, counter.branch_id)
    assert branch is not None
    held = valid_certifications(
        db, user_id=counter.staffed_by_id, on=catalog.business_day(branch, now)
    )
    kept = rules.certified_services([s.code for s in skills], required, held)
    return [s for s in skills if s.code in kept]


def counter_services_now(
    db: Session, *, branch: Branch, counter_code: str, actor: Principal, now: datetime
) -> CounterServices:
    """What a counter serves now: its skills, and those left by its teller's certifications."""
    actor.require(Permission.queue_view, branch.id)
    counter = db.execute(
        select(Counter).where(Counter.branch_id == branch.id, Counter.code == counter_code.upper())
    ).scalar_one_or_none()
    if counter is None:
        raise NotFound(f"no counter {counter_code!r} at {branch.code}")
    skills = list(
        db.execute(
            select(ServiceType)
            .join(counter_services, counter_services.c.service_type_id == ServiceType.id)
            .where(counter_services.c.counter_id == counter.id)
            .order_by(ServiceType.code)
        ).scalars()
    )
    served = certified_skills(db, counter=counter, skills=skills, now=now)
    staffed_by = db.get(User, counter.staffed_by_id) if counter.staffed_by_id else None
    all_codes = [s.code for s in skills]
    served_codes = [s.code for s in served]
    return CounterServices(
        counter_code=counter.code,
        staffed_by=staffed_by.username if staffed_by else None,
        counter_services=all_codes,
        served_services=served_codes,
        removed=[code for code in all_codes if code not in served_codes],
    )


# --- overdue, reminders, skills matrix ----------------------------------------------------------


def _branch_staff(db: Session, branch: Branch) -> list[User]:
    return list(
        db.execute(
            select(User)
            .join(user_branches, user_branches.c.user_id == User.id)
            .where(user_branches.c.branch_id == branch.id, User.is_active.is_(True))
            .order_by(User.username)
        ).scalars()
    )


def _has_passed(
    passes: dict[tuple[uuid.UUID, uuid.UUID], list[datetime]],
    user: User,
    course: Course,
    due_on: date,
) -> bool:
    times = passes.get((user.id, course.id), [])
    if not course.is_annual:
        return bool(times)
    earliest = due_on - ANNUAL_WINDOW
    return any(t.date() >= earliest for t in times)


def _passes(
    db: Session, user_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], list[datetime]]:
    found: dict[tuple[uuid.UUID, uuid.UUID], list[datetime]] = {}
    if not user_ids:
        return found
    rows = db.execute(
        select(Completion.user_id, Completion.course_id, Completion.completed_at).where(
            Completion.user_id.in_(user_ids), Completion.is_passed.is_(True)
        )
    ).all()
    for user_id, course_id, completed_at in rows:
        found.setdefault((user_id, course_id), []).append(completed_at)
    return found


def _open_duties(db: Session, users: Sequence[User]) -> list[tuple[User, CourseAssignment, Course]]:
    """(user, assignment, course) for every assignment of the user's role not yet passed."""
    roles = {u.role for u in users}
    if not roles:
        return []
    assignments = db.execute(
        select(CourseAssignment, Course)
        .join(Course, Course.id == CourseAssignment.course_id)
        .where(CourseAssignment.role.in_(roles))
        .order_by(CourseAssignment.due_on, Course.code)
    ).all()
    passes = _passes(db, [u.id for u in users])
    return [
        (user, assignment, course)
        for assignment, course in assignments
        for user in users
        if user.role == assignment.role and not _has_passed(passes, user, course, assignment.due_on)
    ]


def list_overdue(
    db: Session, *, branch: Branch, actor: Principal, now: datetime
) -> list[OverdueRow]:
    """Staff of a branch past the due day of an assigned course they have not passed."""
    actor.require(Permission.training_view, branch.id)
    today = catalog.business_day(branch, now)
    return [
        OverdueRow(
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            course_code=course.code,
            due_on=assignment.due_on,
            days_overdue=(today - assignment.due_on).days,
        )
        for user, assignment, course in _open_duties(db, _branch_staff(db, branch))
        if assignment.due_on < today
    ]


def annual_compliance(
    db: Session, *, branch: Branch, actor: Principal, now: datetime
) -> list[AnnualRow]:
    """The manager's view of annual compliance training: every staff member of the branch and
    every annual compliance course assigned to their role, done (passed within the year before
    the due day), due, or overdue; the overdue first."""
    actor.require(Permission.training_view, branch.id)
    today = catalog.business_day(branch, now)
    staff = _branch_staff(db, branch)
    roles = {u.role for u in staff}
    if not roles:
        return []
    assignments = db.execute(
        select(CourseAssignment, Course)
        .join(Course, Course.id == CourseAssignment.course_id)
        .where(
            CourseAssignment.role.in_(roles),
            Course.is_annual.is_(True),
            Course.category == CourseCategory.compliance,
        )
        .order_by(CourseAssignment.due_on, Course.code)
    ).all()
    passes = _passes(db, [u.id for u in staff])
    rows: list[AnnualRow] = []
    for assignment, course in assignments:
        for user in staff:
            if user.role != assignment.role:
                continue
            times = passes.get((user.id, course.id), [])
            last = max(times).date() if times else None
            if _has_passed(passes, user, course, assignment.due_on):
                status = "done"
            elif assignment.due_on < today:
                status = "overdue"
            else:
                status = "due"
            rows.append(
                AnnualRow(
                    username=user.username, display_name=user.display_name,
                    role=Role(user.role), course_code=course.code, due_on=assignment.due_on,
                    last_passed_on=last, status=status,
                    days_overdue=(today - assignment.due_on).days if status == "overdue" else 0,
                )
            )  # fmt: skip
    order = {"overdue": 0, "due": 1, "done": 2}
    return sorted(rows, key=lambda r: (order[r.status], -r.days_overdue, r.username))


def list_assignments(db: Session, *, actor: Principal) -> list[AssignmentRead]:
    actor.require(Permission.training_view)
    rows = db.execute(
        select(CourseAssignment, Course.code)
        .join(Course, Course.id == CourseAssignment.course_id)
        .order_by(CourseAssignment.due_on.desc(), Course.code, CourseAssignment.role)
        .limit(500)
    ).all()
    return [
        AssignmentRead(id=a.id, course_code=code, role=Role(a.role), due_on=a.due_on)
        for a, code in rows
    ]


def list_certifications(db: Session, *, actor: Principal) -> list[CertificationRead]:
    actor.require(Permission.training_view)
    rows = db.execute(
        select(Certification, ServiceType.code)
        .outerjoin(ServiceType, ServiceType.id == Certification.service_type_id)
        .order_by(Certification.code)
    ).all()
    return [
        CertificationRead(
            id=c.id,
            code=c.code,
            name_en=c.name_en,
            service_code=service,
            validity_months=c.validity_months,
        )
        for c, service in rows
    ]


def service_codes(db: Session) -> list[str]:
    return list(db.execute(select(ServiceType.code).order_by(ServiceType.code)).scalars())


def counters_served(
    db: Session, *, branch: Branch, actor: Principal, now: datetime
) -> list[CounterServices]:
    """Every counter of the branch: its skills and what its teller's certifications leave."""
    codes = db.execute(
        select(Counter.code).where(Counter.branch_id == branch.id).order_by(Counter.code)
    ).scalars()
    return [
        counter_services_now(db, branch=branch, counter_code=code, actor=actor, now=now)
        for code in codes
    ]


def queue_reminders(db: Session, *, now: datetime, lead_days: int = REMIND_LEAD_DAYS) -> int:
    """Remind everyone whose assigned course is due within ``lead_days`` (or overdue), once.

    Each reminder is a ``training.reminder`` event (the outbox delivers it to the staff inbox)
    and a row that keeps it from being sent twice. Returns how many were sent.
    """
    today = now.date()
    users = list(db.execute(select(User).where(User.is_active.is_(True))).scalars())
    sent = {
        (a, u)
        for a, u in db.execute(select(TrainingReminder.assignment_id, TrainingReminder.user_id))
    }
    count = 0
    for user, assignment, course in _open_duties(db, users):
        if assignment.due_on > today + timedelta(days=lead_days):
            continue
        if (assignment.id, user.id) in sent:
            continue
        reminder = TrainingReminder(assignment_id=assignment.id, user_id=user.id, sent_at=now)
        db.add(reminder)
        record_event(
            db, type="training.reminder", aggregate_type="training_assignment",
            aggregate_id=assignment.id, actor_id=None, now=now,
            payload={"user": user.username, "course": course.code,
                     "due_on": assignment.due_on.isoformat(),
                     "overdue": assignment.due_on < today},
        )  # fmt: skip
        count += 1
    db.flush()
    return count


def skills_matrix(
    db: Session, *, branch: Branch, actor: Principal, now: datetime
) -> list[SkillRow]:
    """Per staff member of a branch: certifications (valid or not) and courses passed."""
    actor.require(Permission.training_view, branch.id)
    today = catalog.business_day(branch, now)
    staff = _branch_staff(db, branch)
    ids = [u.id for u in staff]
    held: dict[uuid.UUID, dict[str, SkillCell]] = {}
    if ids:
        rows = db.execute(
            select(StaffCertification, Certification.code, ServiceType.code)
            .join(Certification, Certification.id == StaffCertification.certification_id)
            .outerjoin(ServiceType, ServiceType.id == Certification.service_type_id)
            .where(StaffCertification.user_id.in_(ids))
            .order_by(StaffCertification.issued_on)
        ).all()
        for staff_cert, code, service_code in rows:
            cell = SkillCell(
                certification_code=code, service_code=service_code,
                expires_on=staff_cert.expires_on,
                is_valid=rules.is_valid_on(staff_cert.issued_on, staff_cert.expires_on, today),
            )  # fmt: skip
            cells = held.setdefault(staff_cert.user_id, {})
            if code not in cells or cell.is_valid or not cells[code].is_valid:
                cells[code] = cell  # the latest grant wins, a valid one over an expired one
    courses = {c.id: c.code for c in db.execute(select(Course)).scalars()}
    passes = _passes(db, ids)
    return [
        SkillRow(
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            certifications=sorted(
                held.get(user.id, {}).values(), key=lambda c: c.certification_code
            ),
            passed_courses=sorted({courses[c] for (u, c) in passes if u == user.id}),
        )
        for user in staff
    ]


def get_branch(db: Session, code: str) -> Branch:
    return catalog.get_branch_by_code(db, code)


register_job(
    Job(
        name="training.remind",
        every=timedelta(hours=12),
        run=lambda db, now: queue_reminders(db, now=now, lead_days=14),
    )
)
