"""Small factories with deterministic defaults; a counter keeps unique fields unique."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from branchdesk.catalog.models import (
    Branch,
    BranchService,
    Counter,
    CounterStatus,
    OpeningHours,
    ServiceType,
    counter_services,
)
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer, hash_password
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.identity.service import principal_for

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Taipei
PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_password_hash: str | None = None


def _n() -> int:
    return next(_counter)


def password_hash() -> str:
    global _password_hash
    if _password_hash is None:
        _password_hash = hash_password(PASSWORD)
    return _password_hash


def make_branch(db: Session, **overrides: Any) -> Branch:
    n = _n()
    values: dict[str, Any] = {
        "id": new_id(),
        "code": f"B{n:03d}",
        "name_zh_hant": f"測試分行{n}",
        "name_zh_hans": f"测试网点{n}",
        "name_en": f"Test Branch {n}",
        "address": f"{n} Test Road",
        "region": "North",
        "timezone": "Asia/Taipei",
        "phone": "",
        "is_active": True,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    branch = Branch(**values)
    db.add(branch)
    db.flush()
    for weekday in range(5):
        db.add(
            OpeningHours(branch_id=branch.id, weekday=weekday, opens_at=time(9), closes_at=time(17))
        )
    db.flush()
    return branch


def make_service_type(db: Session, **overrides: Any) -> ServiceType:
    n = _n()
    values: dict[str, Any] = {
        "id": new_id(),
        "code": f"SVC{n}",
        "name_zh_hant": f"服務{n}",
        "name_zh_hans": f"服务{n}",
        "name_en": f"Service {n}",
        "ticket_prefix": chr(ord("A") + n % 26) + chr(ord("A") + (n // 26) % 26),
        "standard_handling_minutes": 5,
        "target_max_wait_minutes": 15,
        "required_documents": ["ID document"],
        "script": "Greet the customer.",
        "current_version": 1,
        "is_active": True,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    service = ServiceType(**values)
    db.add(service)
    db.flush()
    return service


def offer(db: Session, branch: Branch, *services: ServiceType) -> None:
    for service in services:
        db.add(BranchService(branch_id=branch.id, service_type_id=service.id, is_enabled=True))
    db.flush()


def make_counter(db: Session, branch: Branch, *services: ServiceType, **overrides: Any) -> Counter:
    n = _n()
    values: dict[str, Any] = {
        "id": new_id(),
        "branch_id": branch.id,
        "code": f"C{n:02d}",
        "name": f"Counter {n}",
        "status": CounterStatus.closed,
        "is_vip": False,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    counter = Counter(**values)
    db.add(counter)
    db.flush()
    if services:
        db.execute(
            insert(counter_services),
            [{"counter_id": counter.id, "service_type_id": s.id} for s in services],
        )
    return counter


def make_user(
    db: Session, role: Role = Role.teller, branches: tuple[Branch, ...] = (), **overrides: Any
) -> User:
    n = _n()
    values: dict[str, Any] = {
        "id": new_id(),
        "username": f"user{n}",
        "display_name": f"User {n}",
        "role": role,
        "password_hash": password_hash(),
        "preferred_locale": None,
        "is_active": True,
        "failed_login_count": 0,
        "auth_epoch": 0,
        "password_changed_at": NOW,
        "created_at": NOW,
    }
    values.update(overrides)
    user = User(**values)
    db.add(user)
    db.flush()
    if branches:
        db.execute(
            insert(user_branches), [{"user_id": user.id, "branch_id": b.id} for b in branches]
        )
    return user


def principal(db: Session, user: User) -> Principal:
    return principal_for(db, user)


def make_customer(db: Session, signer: Signer, **overrides: Any) -> Customer:
    n = _n()
    number = f"A1{n:08d}"
    values: dict[str, Any] = {
        "id": new_id(),
        "customer_number": f"{n:08d}00",
        "full_name": f"陳客戶{n}",
        "latin_name": f"CHEN Customer {n}",
        "id_document_type": "national_id",
        "id_number_encrypted": signer.encrypt(number),
        "id_number_hash": signer.lookup_hash(number),
        "id_number_masked": "A1****" + number[-4:],
        "id_expires_on": date(2030, 1, 1),
        "phone": "",
        "email": "",
        "birth_on": date(1980, 5, 17),
        "preferred_locale": "zh-Hant",
        "has_marketing_consent": False,
        "home_branch_id": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    customer = Customer(**values)
    db.add(customer)
    db.flush()
    return customer


def bearer(signer: Signer, user: User) -> dict[str, str]:
    token = signer.dump_token({"uid": str(user.id), "ep": user.auth_epoch})
    return {"Authorization": f"Bearer {token}"}


def browser_session(signer: Signer, user: User, nonce: str = "test-nonce") -> tuple[str, str]:
    """(session cookie value, CSRF token) for a logged-in browser."""
    cookie = signer.dump_session({"uid": str(user.id), "ep": user.auth_epoch, "n": nonce})
    return cookie, signer.csrf_token(nonce)


def make_ticket(db: Session, branch: Branch, service: ServiceType, **overrides: Any) -> Any:
    """A ticket row in any state (for tests of the later transitions)."""
    import secrets

    from branchdesk.queue.models import Ticket

    n = _n()
    values: dict[str, Any] = {
        "id": new_id(),
        "branch_id": branch.id,
        "service_type_id": service.id,
        "business_on": overrides.pop("business_on", date(2026, 3, 2)),
        "prefix": service.ticket_prefix,
        "seq": n,
        "number": f"{service.ticket_prefix}-{n:03d}",
        "priority": "normal",
        "channel": "kiosk",
        "customer_id": None,
        "appointment_id": None,
        "booked_at": None,
        "contact_phone": "",
        "state": "waiting",
        "issued_at": NOW,
        "queued_at": NOW,
        "checked_in_at": NOW,
        "recall_count": 0,
        "transfer_count": 0,
        "public_token": secrets.token_urlsafe(24),
    }
    values.update(overrides)
    ticket = Ticket(**values)
    db.add(ticket)
    db.flush()
    return ticket


def make_slot(db: Session, branch: Branch, service: ServiceType, **overrides: Any) -> Any:
    """An appointment slot (default: 30 minutes from 11:00 Taipei on NOW's day, 2 places)."""
    from datetime import timedelta

    from branchdesk.appointments.models import AppointmentSlot

    starts_at = overrides.pop("starts_at", NOW + timedelta(hours=1))
    values: dict[str, Any] = {
        "id": new_id(),
        "branch_id": branch.id,
        "service_type_id": service.id,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=30),
        "capacity": 2,
        "booked_count": 0,
        "created_at": NOW,
    }
    values.update(overrides)
    slot = AppointmentSlot(**values)
    db.add(slot)
    db.flush()
    return slot


def make_appointment(db: Session, slot: Any, **overrides: Any) -> Any:
    """A booked appointment in ``slot`` (its place taken)."""
    from zoneinfo import ZoneInfo

    from branchdesk.appointments.models import Appointment

    branch = db.get(Branch, slot.branch_id)
    assert branch is not None
    n = _n()
    values: dict[str, Any] = {
        "id": new_id(),
        "reference": f"AP-TEST-{n:06d}",
        "branch_id": slot.branch_id,
        "service_type_id": slot.service_type_id,
        "slot_id": slot.id,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "business_on": slot.starts_at.astimezone(ZoneInfo(branch.timezone)).date(),
        "contact_name": f"Guest {n}",
        "contact_phone": "0900-000-000",
        "channel": "phone",
        "state": "booked",
        "booked_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    appointment = Appointment(**values)
    slot.booked_count += 1
    db.add(appointment)
    db.flush()
    return appointment
