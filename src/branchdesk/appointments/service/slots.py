"""Slots: generated from a branch's opening hours, listed per branch-local day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.appointments.models import (
    AppointmentSlot,
)
from branchdesk.appointments.schemas import (
    SlotRead,
)
from branchdesk.appointments.service.common import (
    day_bounds,
    local_time,
)
from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.core.errors import RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue import service as queue

# --- slots -----------------------------------------------------------------------------------


def generate_slots(
    db: Session,
    *,
    branch: Branch,
    start_on: date,
    days: int,
    minutes: int,
    capacity: int,
    now: datetime,
    service_codes: Sequence[str] = (),
    actor: Principal | None = None,
) -> int:
    """Slots of ``minutes`` within the opening hours of each day (holidays skipped) for each
    service (default: every service offered at the branch); existing slots are kept.
    Returns how many were created. Raises Forbidden, RuleViolation (service not offered, bad size).
    """
    if actor is not None:
        actor.require(Permission.branch_update, branch.id)
    if minutes < 5 or capacity < 1 or days < 1:
        raise RuleViolation("slots need at least 5 minutes, 1 place and 1 day")
    codes = [c.upper() for c in service_codes] or [
        s.service_code for s in catalog.list_branch_services(db, branch=branch, only_enabled=True)
    ]
    services = [queue.offered_service(db, branch, code)[0] for code in codes]
    zone = ZoneInfo(branch.timezone)
    end_on = start_on + timedelta(days=days - 1)
    holidays = catalog.holidays_between(db, branch_id=branch.id, start=start_on, end=end_on)
    hours = {h.weekday: h for h in catalog.opening_hours(db, branch.id)}
    windows: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = start_on + timedelta(days=offset)
        opening = hours.get(day.weekday())
        if day in holidays or opening is None:
            continue
        start = datetime.combine(day, opening.opens_at, zone)
        closes = datetime.combine(day, opening.closes_at, zone)
        step = timedelta(minutes=minutes)
        while start + step <= closes:
            windows.append((start.astimezone(UTC), (start + step).astimezone(UTC)))
            start += step
    if not windows:
        return 0
    created = 0
    for service in services:
        existing = set(
            db.execute(
                select(AppointmentSlot.starts_at).where(
                    AppointmentSlot.branch_id == branch.id,
                    AppointmentSlot.service_type_id == service.id,
                    AppointmentSlot.starts_at >= windows[0][0],
                    AppointmentSlot.starts_at <= windows[-1][0],
                )
            ).scalars()
        )
        for starts_at, ends_at in windows:
            if starts_at in existing:
                continue
            db.add(
                AppointmentSlot(
                    id=new_id(),
                    branch_id=branch.id,
                    service_type_id=service.id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    capacity=capacity,
                    booked_count=0,
                    created_at=now,
                )
            )
            created += 1
    record_event(
        db,
        type="appointment.slots_generated",
        aggregate_type="branch",
        aggregate_id=branch.id,
        branch_id=branch.id,
        actor_id=actor.user_id if actor else None,
        now=now,
        payload={
            "from_on": start_on.isoformat(),
            "days": days,
            "minutes": minutes,
            "capacity": capacity,
            "services": sorted(s.code for s in services),
            "created": created,
        },
    )
    if actor is not None:
        append_audit(
            db,
            action="appointment.slots_generate",
            object_type="branch",
            object_id=branch.id,
            branch_id=branch.id,
            now=now,
            actor=actor,
            detail={"from_on": start_on.isoformat(), "days": days, "created": created},
        )
    db.flush()
    return created


def list_slots(
    db: Session, *, branch: Branch, on: date, service_code: str | None = None
) -> list[SlotRead]:
    """The slots of one branch-local day (public: availability only, no names)."""
    start, end = day_bounds(branch, on)
    query = (
        select(AppointmentSlot, ServiceType.code)
        .join(ServiceType, ServiceType.id == AppointmentSlot.service_type_id)
        .where(
            AppointmentSlot.branch_id == branch.id,
            AppointmentSlot.starts_at >= start,
            AppointmentSlot.starts_at < end,
        )
        .order_by(AppointmentSlot.starts_at, ServiceType.code)
    )
    if service_code:
        query = query.where(ServiceType.code == service_code.upper())
    return [
        SlotRead(
            id=slot.id,
            branch_code=branch.code,
            service_code=code,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            local_start=local_time(branch, slot.starts_at).strftime("%H:%M"),
            local_end=local_time(branch, slot.ends_at).strftime("%H:%M"),
            capacity=slot.capacity,
            booked_count=slot.booked_count,
            available=slot.capacity - slot.booked_count,
        )
        for slot, code in db.execute(query).all()
    ]
