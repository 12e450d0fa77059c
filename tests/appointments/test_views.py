from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.appointments.models import Appointment, AppointmentSlot
from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.queue.models import QueueSettings
from tests.factories import (
    NOW,
    browser_session,
    make_appointment,
    make_branch,
    make_service_type,
    make_slot,
    make_user,
    offer,
)


def _login(client: TestClient, db: Session, signer: Signer, role: Role = Role.teller) -> tuple:  # type: ignore[type-arg]
    branch = make_branch(db, code="VIEWB")
    service = make_service_type(db, code="VIEWSVC")
    offer(db, branch, service)
    db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=False, updated_at=NOW))
    user = make_user(db, role, (branch,))
    cookie, csrf = browser_session(signer, user)
    client.cookies.set("bd_session", cookie)
    return branch, service, csrf


def test_day_page_books_by_phone_and_checks_in(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch, service, csrf = _login(client, db, signer)
    soon = utcnow().replace(microsecond=0) + timedelta(minutes=5)
    slot = make_slot(db, branch, service, starts_at=soon, capacity=1)
    day = business_day(branch, soon).isoformat()
    page = client.get(f"/branches/VIEWB/appointments?on={day}")
    assert page.status_code == 200
    assert "Book by phone" in page.text
    booked = client.post(
        "/branches/VIEWB/appointments",
        data={"csrf_token": csrf, "on": day, "slot_id": str(slot.id), "contact_name": "Wang Da",
              "contact_phone": "0922-111-222", "locale": "zh-Hant"},
        follow_redirects=False,
    )  # fmt: skip
    assert booked.status_code == 303, booked.text[:300]
    listed = client.get(booked.headers["location"])
    assert "Wang Da" in listed.text
    reference = db.execute(select(Appointment.reference)).scalar_one()
    assert reference in listed.text
    full = client.post(
        "/branches/VIEWB/appointments",
        data={"csrf_token": csrf, "on": day, "slot_id": str(slot.id), "contact_name": "Late",
              "contact_phone": "0922"},
        follow_redirects=False,
    )  # fmt: skip
    assert full.status_code == 409
    assert db.execute(select(func.count()).select_from(Appointment)).scalar_one() == 1
    checked = client.post(
        f"/branches/VIEWB/appointments/{reference}/check-in",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert checked.status_code == 303
    assert "ticket=" in checked.headers["location"]
    assert "Ticket" in client.get(checked.headers["location"]).text


def test_cancel_and_early_check_in_on_the_page(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch, service, csrf = _login(client, db, signer)
    later = make_slot(db, branch, service, starts_at=utcnow() + timedelta(hours=3))
    appointment = make_appointment(db, later)
    early = client.post(
        f"/branches/VIEWB/appointments/{appointment.reference}/check-in",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert early.status_code == 422
    assert appointment.state == "booked"
    cancelled = client.post(
        f"/branches/VIEWB/appointments/{appointment.reference}/cancel",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    db.expire_all()
    assert db.get(Appointment, appointment.id).state == "cancelled"  # type: ignore[union-attr]
    assert db.get(AppointmentSlot, later.id).booked_count == 0  # type: ignore[union-attr]


def test_supervisor_generates_slots_from_the_page(
    client: TestClient, db: Session, signer: Signer
) -> None:
    _branch, _service, csrf = _login(client, db, signer, Role.branch_manager)
    response = client.post(
        "/branches/VIEWB/appointments/generate",
        data={"csrf_token": csrf, "from_on": "2026-12-07", "days": "1", "minutes": "60",
              "capacity": "2"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "09:00–10:00" in page.text
    assert db.execute(select(func.count()).select_from(AppointmentSlot)).scalar_one() == 8
