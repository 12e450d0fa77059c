"""Branches, counters and the service catalog: the only code that reads or writes them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import (
    Branch,
    BranchService,
    Counter,
    CounterStatus,
    Holiday,
    OpeningHours,
    ServiceStandardVersion,
    ServiceType,
    counter_services,
)
from branchdesk.catalog.schemas import (
    BranchCreate,
    BranchRead,
    BranchServiceIn,
    BranchServiceRead,
    BranchUpdate,
    CounterCreate,
    CounterRead,
    CounterUpdate,
    HolidayIn,
    HolidayRead,
    OpeningHoursIn,
    OpeningHoursRead,
    ServiceTypeCreate,
    ServiceTypeRead,
    ServiceTypeUpdate,
    StandardVersionRead,
)
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission


def _audit(
    db: Session,
    actor: Principal,
    action: str,
    *,
    object_type: str,
    object_id: object,
    branch_id: uuid.UUID | None,
    now: datetime,
    detail: dict[str, object],
) -> None:
    append_audit(
        db,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        branch_id=branch_id,
        now=now,
        actor=actor,
        detail=detail,
    )


# --- branches -------------------------------------------------------------------------------


def list_branches(db: Session, *, actor: Principal) -> list[Branch]:
    actor.require(Permission.catalog_view)
    query = select(Branch).order_by(Branch.code)
    if not actor.is_bank_wide:
        query = query.where(Branch.id.in_(actor.branch_ids))
    return list(db.execute(query).scalars())


def active_branches(db: Session, *, actor: Principal | None = None) -> list[Branch]:
    """Open branches by code: every one, or (with ``actor``) those the actor works at (every one
    for a bank-wide role). Checks no permission: the caller has checked its own."""
    query = select(Branch).where(Branch.is_active.is_(True)).order_by(Branch.code)
    if actor is not None and not actor.is_bank_wide:
        query = query.where(Branch.id.in_(sorted(actor.branch_ids)))
    return list(db.execute(query).scalars())


def get_branch(db: Session, *, code: str, actor: Principal) -> Branch:
    """Raises NotFound, or Forbidden for a branch outside the actor's assignment."""
    actor.require(Permission.catalog_view)
    branch = db.execute(select(Branch).where(Branch.code == code.upper())).scalar_one_or_none()
    if branch is None:
        raise NotFound(f"no branch {code!r}")
    actor.require(Permission.catalog_view, branch.id)
    return branch


def get_branch_by_code(db: Session, code: str) -> Branch:
    """Public look-up (kiosk, customer pages): raises NotFound."""
    branch = db.execute(select(Branch).where(Branch.code == code.upper())).scalar_one_or_none()
    if branch is None or not branch.is_active:
        raise NotFound(f"no branch {code!r}")
    return branch


def opening_hours(db: Session, branch_id: uuid.UUID) -> list[OpeningHours]:
    return list(
        db.execute(
            select(OpeningHours)
            .where(OpeningHours.branch_id == branch_id)
            .order_by(OpeningHours.weekday)
        ).scalars()
    )


def branch_read(db: Session, branch: Branch) -> BranchRead:
    return branch_reads(db, [branch])[0]


def branch_reads(db: Session, branches: Sequence[Branch]) -> list[BranchRead]:
    """``BranchRead`` of each branch, in order: their opening hours in one query."""
    hours: dict[uuid.UUID, list[OpeningHoursRead]] = {b.id: [] for b in branches}
    if branches:
        for h in db.execute(
            select(OpeningHours)
            .where(OpeningHours.branch_id.in_(sorted(hours)))
            .order_by(OpeningHours.branch_id, OpeningHours.weekday)
        ).scalars():
            hours[h.branch_id].append(
                OpeningHoursRead(weekday=h.weekday, opens_at=h.opens_at, closes_at=h.closes_at)
            )
    return [
        BranchRead(
            id=branch.id,
            code=branch.code,
            name_zh_hant=branch.name_zh_hant,
            name_zh_hans=branch.name_zh_hans,
            name_en=branch.name_en,
            address=branch.address,
            region=branch.region,
            timezone=branch.timezone,
            phone=branch.phone,
            is_active=branch.is_active,
            opening_hours=hours[branch.id],
            updated_at=branch.updated_at,
        )
        for branch in branches
    ]


def _replace_hours(db: Session, branch_id: uuid.UUID, hours: Sequence[OpeningHoursIn]) -> None:
    weekdays = [h.weekday for h in hours]
    if len(weekdays) != len(set(weekdays)):
        raise RuleViolation("each weekday may appear once", field="opening_hours")
    db.execute(delete(OpeningHours).where(OpeningHours.branch_id == branch_id))
    for h in hours:
        db.add(
            OpeningHours(
                branch_id=branch_id, weekday=h.weekday, opens_at=h.opens_at, closes_at=h.closes_at
            )
        )


def create_branch(db: Session, *, data: BranchCreate, actor: Principal, now: datetime) -> Branch:
    """Raises Forbidden or Conflict (code taken)."""
    actor.require(Permission.branch_create)
    if db.execute(select(Branch.id).where(Branch.code == data.code)).first():
        raise Conflict(f"branch code {data.code!r} exists", field="code")
    branch = Branch(
        id=new_id(),
        code=data.code,
        name_zh_hant=data.name_zh_hant,
        name_zh_hans=data.name_zh_hans,
        name_en=data.name_en,
        address=data.address,
        region=data.region,
        timezone=data.timezone,
        phone=data.phone,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    db.add(branch)
    db.flush()
    _replace_hours(db, branch.id, data.opening_hours)
    _audit(
        db,
        actor,
        "branch.create",
        object_type="branch",
        object_id=branch.id,
        branch_id=branch.id,
        now=now,
        detail={"code": branch.code},
    )
    db.flush()
    return branch


def update_branch(
    db: Session, *, code: str, data: BranchUpdate, actor: Principal, now: datetime
) -> Branch:
    """Raises NotFound or Forbidden."""
    branch = get_branch(db, code=code, actor=actor)
    actor.require(Permission.branch_update, branch.id)
    changes = {
        name: [getattr(branch, name), value]
        for name, value in data.model_dump(exclude_none=True).items()
        if getattr(branch, name) != value
    }
    if changes:
        for name, (_before, after) in changes.items():
            setattr(branch, name, after)
        branch.updated_at = now
        _audit(
            db,
            actor,
            "branch.update",
            object_type="branch",
            object_id=branch.id,
            branch_id=branch.id,
            now=now,
            detail={"code": branch.code, "changes": changes},
        )
    db.flush()
    return branch


def set_opening_hours(
    db: Session, *, code: str, hours: Sequence[OpeningHoursIn], actor: Principal, now: datetime
) -> Branch:
    """Replace the weekly hours. Raises NotFound, Forbidden, RuleViolation (duplicate weekday)."""
    branch = get_branch(db, code=code, actor=actor)
    actor.require(Permission.branch_update, branch.id)
    _replace_hours(db, branch.id, hours)
    branch.updated_at = now
    _audit(
        db,
        actor,
        "branch.opening_hours",
        object_type="branch",
        object_id=branch.id,
        branch_id=branch.id,
        now=now,
        detail={
            "hours": [h.model_dump(mode="json") for h in sorted(hours, key=lambda h: h.weekday)]
        },
    )
    db.flush()
    return branch


def list_holidays(
    db: Session, *, code: str, actor: Principal, year: int | None = None
) -> list[HolidayRead]:
    branch = get_branch(db, code=code, actor=actor)
    query = select(Holiday).where(Holiday.branch_id == branch.id).order_by(Holiday.on)
    if year is not None:
        query = query.where(Holiday.on >= date(year, 1, 1), Holiday.on <= date(year, 12, 31))
    return [HolidayRead(id=h.id, on=h.on, name=h.name) for h in db.execute(query).scalars()]


def holidays_between(db: Session, *, branch_id: uuid.UUID, start: date, end: date) -> set[date]:
    """Branch holidays in [start, end], for business-day calendars (SLA clocks, appointments)."""
    rows = db.execute(
        select(Holiday.on).where(
            Holiday.branch_id == branch_id, Holiday.on >= start, Holiday.on <= end
        )
    )
    return set(rows.scalars())


def add_holiday(
    db: Session, *, code: str, data: HolidayIn, actor: Principal, now: datetime
) -> Holiday:
    """Raises NotFound, Forbidden, Conflict (a holiday already on that date)."""
    branch = get_branch(db, code=code, actor=actor)
    actor.require(Permission.branch_update, branch.id)
    exists = db.execute(
        select(Holiday.id).where(Holiday.branch_id == branch.id, Holiday.on == data.on)
    ).first()
    if exists:
        raise Conflict(f"{data.on.isoformat()} is already a holiday", field="on")
    holiday = Holiday(id=new_id(), branch_id=branch.id, on=data.on, name=data.name)
    db.add(holiday)
    _audit(
        db,
        actor,
        "branch.holiday_add",
        object_type="branch",
        object_id=branch.id,
        branch_id=branch.id,
        now=now,
        detail={"on": data.on.isoformat(), "name": data.name},
    )
    db.flush()
    return holiday


def remove_holiday(
    db: Session, *, code: str, holiday_id: uuid.UUID, actor: Principal, now: datetime
) -> None:
    """Raises NotFound or Forbidden."""
    branch = get_branch(db, code=code, actor=actor)
    actor.require(Permission.branch_update, branch.id)
    holiday = db.get(Holiday, holiday_id)
    if holiday is None or holiday.branch_id != branch.id:
        raise NotFound("no such holiday")
    _audit(
        db,
        actor,
        "branch.holiday_remove",
        object_type="branch",
        object_id=branch.id,
        branch_id=branch.id,
        now=now,
        detail={"on": holiday.on.isoformat(), "name": holiday.name},
    )
    db.delete(holiday)
    db.flush()


# --- service types -------------------------------------------------------------------------


def list_service_types(
    db: Session, *, actor: Principal, include_inactive: bool = True
) -> list[ServiceType]:
    actor.require(Permission.catalog_view)
    query = select(ServiceType).order_by(ServiceType.code)
    if not include_inactive:
        query = query.where(ServiceType.is_active.is_(True))
    return list(db.execute(query).scalars())


def get_service_type(db: Session, *, code: str) -> ServiceType:
    """Raises NotFound."""
    service = db.execute(
        select(ServiceType).where(ServiceType.code == code.upper())
    ).scalar_one_or_none()
    if service is None:
        raise NotFound(f"no service type {code!r}")
    return service


def service_type_read(service: ServiceType) -> ServiceTypeRead:
    return ServiceTypeRead.model_validate(service, from_attributes=True)


def _snapshot(
    service: ServiceType, actor: Principal, now: datetime, note: str
) -> ServiceStandardVersion:
    return ServiceStandardVersion(
        id=new_id(),
        service_type_id=service.id,
        version=service.current_version,
        standard_handling_minutes=service.standard_handling_minutes,
        target_max_wait_minutes=service.target_max_wait_minutes,
        required_documents=list(service.required_documents),
        script=service.script,
        change_note=note,
        changed_by_id=actor.user_id,
        changed_by_label=actor.label,
        changed_at=now,
    )


def create_service_type(
    db: Session, *, data: ServiceTypeCreate, actor: Principal, now: datetime
) -> ServiceType:
    """Raises Forbidden or Conflict (code or ticket prefix taken)."""
    actor.require(Permission.service_type_manage)
    if db.execute(select(ServiceType.id).where(ServiceType.code == data.code)).first():
        raise Conflict(f"service code {data.code!r} exists", field="code")
    if db.execute(
        select(ServiceType.id).where(ServiceType.ticket_prefix == data.ticket_prefix)
    ).first():
        raise Conflict(f"ticket prefix {data.ticket_prefix!r} is in use", field="ticket_prefix")
    service = ServiceType(
        id=new_id(),
        **data.model_dump(),
        current_version=1,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    service.required_documents = [d.strip() for d in data.required_documents if d.strip()]
    db.add(service)
    db.flush()
    db.add(_snapshot(service, actor, now, "created"))
    _audit(
        db,
        actor,
        "service_type.create",
        object_type="service_type",
        object_id=service.id,
        branch_id=None,
        now=now,
        detail={"code": service.code},
    )
    db.flush()
    return service


STANDARD_FIELDS = (
    "standard_handling_minutes",
    "target_max_wait_minutes",
    "required_documents",
    "script",
)


def update_service_type(
    db: Session, *, code: str, data: ServiceTypeUpdate, actor: Principal, now: datetime
) -> ServiceType:
    """A change to the standard writes a new version. Raises Forbidden or NotFound."""
    actor.require(Permission.service_type_manage)
    service = get_service_type(db, code=code)
    values = data.model_dump(exclude_none=True, exclude={"change_note"})
    if "required_documents" in values:
        values["required_documents"] = [
            d.strip() for d in values["required_documents"] if d.strip()
        ]
    changes = {name: value for name, value in values.items() if getattr(service, name) != value}
    if not changes:
        return service
    for name, value in changes.items():
        setattr(service, name, value)
    service.updated_at = now
    if any(name in STANDARD_FIELDS for name in changes):
        service.current_version += 1
        db.add(_snapshot(service, actor, now, data.change_note))
    _audit(
        db,
        actor,
        "service_type.update",
        object_type="service_type",
        object_id=service.id,
        branch_id=None,
        now=now,
        detail={
            "code": service.code,
            "fields": sorted(changes),
            "version": service.current_version,
        },
    )
    db.flush()
    return service


def list_standard_versions(
    db: Session, *, code: str, actor: Principal
) -> list[StandardVersionRead]:
    actor.require(Permission.catalog_view)
    service = get_service_type(db, code=code)
    rows = db.execute(
        select(ServiceStandardVersion)
        .where(ServiceStandardVersion.service_type_id == service.id)
        .order_by(ServiceStandardVersion.version.desc())
    ).scalars()
    return [
        StandardVersionRead(
            version=v.version,
            standard_handling_minutes=v.standard_handling_minutes,
            target_max_wait_minutes=v.target_max_wait_minutes,
            required_documents=list(v.required_documents),
            script=v.script,
            change_note=v.change_note,
            changed_by=v.changed_by_label,
            changed_at=v.changed_at,
        )
        for v in rows
    ]


# --- services offered at a branch ------------------------------------------------------------


def list_branch_services(
    db: Session, *, branch: Branch, only_enabled: bool = False
) -> list[BranchServiceRead]:
    rows = db.execute(
        select(ServiceType, BranchService)
        .join(
            BranchService,
            (BranchService.service_type_id == ServiceType.id)
            & (BranchService.branch_id == branch.id),
            isouter=True,
        )
        .where(ServiceType.is_active.is_(True))
        .order_by(ServiceType.code)
    ).all()
    result = []
    for service, offered in rows:
        enabled = offered is not None and offered.is_enabled
        if only_enabled and not enabled:
            continue
        local = offered.target_max_wait_minutes if offered is not None else None
        result.append(
            BranchServiceRead(
                service_code=service.code,
                name_zh_hant=service.name_zh_hant,
                name_zh_hans=service.name_zh_hans,
                name_en=service.name_en,
                ticket_prefix=service.ticket_prefix,
                is_enabled=enabled,
                target_max_wait_minutes=local or service.target_max_wait_minutes,
                has_local_target=local is not None,
            )
        )
    return result


def set_branch_service(
    db: Session,
    *,
    code: str,
    service_code: str,
    data: BranchServiceIn,
    actor: Principal,
    now: datetime,
) -> BranchServiceRead:
    """Offer or withdraw a service at a branch. Raises NotFound, Forbidden, Conflict."""
    branch = get_branch(db, code=code, actor=actor)
    actor.require(Permission.branch_service_manage, branch.id)
    service = get_service_type(db, code=service_code)
    offered = db.get(BranchService, (branch.id, service.id))
    if not data.is_enabled:
        serving = sorted(
            db.execute(
                select(Counter.code)
                .join(counter_services, counter_services.c.counter_id == Counter.id)
                .where(
                    Counter.branch_id == branch.id,
                    counter_services.c.service_type_id == service.id,
                )
            ).scalars()
        )
        if serving:
            raise Conflict(
                f"counters {', '.join(serving)} still serve {service.code}; change them first",
                field="is_enabled",
            )
    if offered is None:
        offered = BranchService(branch_id=branch.id, service_type_id=service.id)
        db.add(offered)
    offered.is_enabled = data.is_enabled
    offered.target_max_wait_minutes = data.target_max_wait_minutes
    _audit(
        db,
        actor,
        "branch_service.set",
        object_type="branch",
        object_id=branch.id,
        branch_id=branch.id,
        now=now,
        detail={"service": service.code, **data.model_dump()},
    )
    db.flush()
    return next(
        s for s in list_branch_services(db, branch=branch) if s.service_code == service.code
    )


# --- counters --------------------------------------------------------------------------------


def _counter_service_codes(
    db: Session, counter_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    result: dict[uuid.UUID, list[str]] = {cid: [] for cid in counter_ids}
    if not counter_ids:
        return result
    rows = db.execute(
        select(counter_services.c.counter_id, ServiceType.code)
        .join(ServiceType, ServiceType.id == counter_services.c.service_type_id)
        .where(counter_services.c.counter_id.in_(counter_ids))
        .order_by(ServiceType.code)
    )
    for counter_id, code in rows:
        result[counter_id].append(code)
    return result


def list_counters(db: Session, *, code: str, actor: Principal) -> list[CounterRead]:
    branch = get_branch(db, code=code, actor=actor)
    counters = list(
        db.execute(
            select(Counter).where(Counter.branch_id == branch.id).order_by(Counter.code)
        ).scalars()
    )
    services = _counter_service_codes(db, [c.id for c in counters])
    return [_counter_read(branch, c, services[c.id]) for c in counters]


def _counter_read(branch: Branch, counter: Counter, codes: list[str]) -> CounterRead:
    return CounterRead(
        id=counter.id,
        branch_code=branch.code,
        code=counter.code,
        name=counter.name,
        status=CounterStatus(counter.status),
        is_vip=counter.is_vip,
        service_codes=codes,
    )


def get_counter(db: Session, *, branch: Branch, counter_code: str) -> Counter:
    """Raises NotFound."""
    counter = db.execute(
        select(Counter).where(Counter.branch_id == branch.id, Counter.code == counter_code.upper())
    ).scalar_one_or_none()
    if counter is None:
        raise NotFound(f"no counter {counter_code!r} at {branch.code}")
    return counter


def counter_read(db: Session, *, branch: Branch, counter: Counter) -> CounterRead:
    return _counter_read(branch, counter, _counter_service_codes(db, [counter.id])[counter.id])


def _resolve_services(db: Session, branch: Branch, codes: Sequence[str]) -> list[ServiceType]:
    wanted = sorted({c.upper() for c in codes})
    offered = {s.service_code for s in list_branch_services(db, branch=branch, only_enabled=True)}
    not_offered = [c for c in wanted if c not in offered]
    if not_offered:
        raise RuleViolation(
            f"not offered at {branch.code}: {', '.join(not_offered)}", field="service_codes"
        )
    return list(db.execute(select(ServiceType).where(ServiceType.code.in_(wanted))).scalars())


def _set_counter_services(db: Session, counter: Counter, services: Sequence[ServiceType]) -> None:
    db.execute(delete(counter_services).where(counter_services.c.counter_id == counter.id))
    if services:
        db.execute(
            insert(counter_services),
            [{"counter_id": counter.id, "service_type_id": s.id} for s in services],
        )


def create_counter(
    db: Session, *, code: str, data: CounterCreate, actor: Principal, now: datetime
) -> CounterRead:
    """Raises NotFound, Forbidden, Conflict (code taken), RuleViolation (service not offered)."""
    branch = get_branch(db, code=code, actor=actor)
    actor.require(Permission.counter_manage, branch.id)
    if db.execute(
        select(Counter.id).where(Counter.branch_id == branch.id, Counter.code == data.code)
    ).first():
        raise Conflict(f"counter {data.code!r} exists at {branch.code}", field="code")
    services = _resolve_services(db, branch, data.service_codes)
    counter = Counter(
        id=new_id(),
        branch_id=branch.id,
        code=data.code,
        name=data.name,
        status=CounterStatus.closed,
        is_vip=data.is_vip,
        created_at=now,
        updated_at=now,
    )
    db.add(counter)
    db.flush()
    _set_counter_services(db, counter, services)
    _audit(
        db,
        actor,
        "counter.create",
        object_type="counter",
        object_id=counter.id,
        branch_id=branch.id,
        now=now,
        detail={"code": counter.code, "services": sorted(s.code for s in services)},
    )
    record_event(
        db,
        type="counter.created",
        aggregate_type="counter",
        aggregate_id=counter.id,
        branch_id=branch.id,
        actor_id=actor.user_id,
        now=now,
        payload={"counter": counter.code, "services": sorted(s.code for s in services)},
    )
    db.flush()
    return counter_read(db, branch=branch, counter=counter)


def update_counter(
    db: Session,
    *,
    code: str,
    counter_code: str,
    data: CounterUpdate,
    actor: Principal,
    now: datetime,
) -> CounterRead:
    """Raises NotFound, Forbidden, RuleViolation (service not offered)."""
    branch = get_branch(db, code=code, actor=actor)
    actor.require(Permission.counter_manage, branch.id)
    counter = get_counter(db, branch=branch, counter_code=counter_code)
    before = counter_read(db, branch=branch, counter=counter)
    changes: dict[str, object] = {}
    if data.service_codes is not None:
        services = _resolve_services(db, branch, data.service_codes)
        codes = sorted(s.code for s in services)
        if codes != before.service_codes:
            _set_counter_services(db, counter, services)
            changes["services"] = [before.service_codes, codes]
    if data.name is not None and data.name != counter.name:
        changes["name"] = [counter.name, data.name]
        counter.name = data.name
    if data.is_vip is not None and data.is_vip != counter.is_vip:
        changes["is_vip"] = [counter.is_vip, data.is_vip]
        counter.is_vip = data.is_vip
    if data.status is not None and data.status != counter.status:
        changes["status"] = [counter.status, str(data.status)]
        counter.status = data.status
    if changes:
        counter.updated_at = now
        _audit(
            db,
            actor,
            "counter.update",
            object_type="counter",
            object_id=counter.id,
            branch_id=branch.id,
            now=now,
            detail={"code": counter.code, "changes": changes},
        )
        record_event(
            db,
            type="counter.updated",
            aggregate_type="counter",
            aggregate_id=counter.id,
            branch_id=branch.id,
            actor_id=actor.user_id,
            now=now,
            payload={"counter": counter.code, "changes": changes},
        )
    db.flush()
    return counter_read(db, branch=branch, counter=counter)


# --- branch calendar ---------------------------------------------------------------------------


def local_now(branch: Branch, now: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(branch.timezone))


def latest_business_day(db: Session, now: datetime) -> date:
    """The newest local date any branch has reached at ``now``: the last day of a "recent days"
    report (a branch east of UTC starts its day before UTC does)."""
    from zoneinfo import ZoneInfo

    zones = db.execute(select(Branch.timezone).distinct()).scalars()
    return max((now.astimezone(ZoneInfo(zone)).date() for zone in zones), default=now.date())


def business_day(branch: Branch, now: datetime) -> date:
    """The branch's local calendar date at ``now`` (what "today's queue" means)."""
    return local_now(branch, now).date()


def is_open_at(db: Session, branch: Branch, now: datetime) -> bool:
    """Within today's opening hours and not on a holiday, in the branch's own time zone."""
    local = local_now(branch, now)
    today = local.date()
    if today in holidays_between(db, branch_id=branch.id, start=today, end=today):
        return False
    hours = db.get(OpeningHours, (branch.id, local.weekday()))
    if hours is None:
        return False
    return hours.opens_at <= local.time().replace(tzinfo=None) < hours.closes_at
