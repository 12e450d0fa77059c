"""Every route, every role: allowed roles succeed, the others get 403 and nothing changes.

The expected sets below are written out independently of identity/roles.py on purpose: a change
to the permission table that is not also made here fails this test.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Holiday
from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.db import Base
from branchdesk.core.security import Signer
from branchdesk.identity.models import User
from branchdesk.identity.roles import Role
from branchdesk.queue.models import QueueSettings
from branchdesk.queue.screens_support import checkin_code
from tests.appointments.matrix_world import LATER_SLOT_ID, SLOT_ID, appointment_world
from tests.factories import (
    NOW,
    bearer,
    browser_session,
    make_branch,
    make_counter,
    make_customer,
    make_service_type,
    make_ticket,
    make_user,
    offer,
)
from tests.ledger.matrix_world import ledger_world
from tests.matrix import (
    ADMIN,
    ALL,
    AUDITORS,
    CUSTOMER_EDITORS,
    CUSTOMER_VIEWERS,
    PUBLIC,
    QUEUE_MANAGERS,
    SERVERS,
    SUPERVISORS,
    USER_VIEWERS,
    Case,
    WorldContext,
)

# Domain packages that bring their own cases and world (see tests/matrix.py).
PART_MODULES: tuple[str, ...] = (
    "tests.portal.matrix_part",
    "tests.feedback.matrix_part",
    "tests.quality.matrix_part",
    "tests.complaints.matrix_part",
    "tests.loans.matrix_part",
    "tests.crm.matrix_part",
    "tests.care.matrix_part",
    "tests.risk.matrix_part",
    "tests.training.matrix_part",
    "tests.operations.matrix_part",
    "tests.compliance.matrix_part",
    "tests.teller.matrix_part",
    "tests.social.matrix_part",
    "tests.loyalty.matrix_part",
)
PARTS = [importlib.import_module(name) for name in PART_MODULES]

HOLIDAY_ID = "00000000-0000-4000-8000-00000000a001"

CASES = [
    Case("GET", "/healthz", PUBLIC),
    Case("GET", "/readyz", PUBLIC),
    Case("GET", "/metrics", PUBLIC),
    Case("POST", "/api/v1/auth/token", PUBLIC, form={"username": "{username}", "password": "correct horse battery"}),
    Case("GET", "/api/v1/me", ALL),
    Case("POST", "/api/v1/auth/password", ALL, json={"current_password": "correct horse battery", "new_password": "brand-new-passphrase"}),
    Case("GET", "/api/v1/users", USER_VIEWERS),
    Case("POST", "/api/v1/users", ADMIN, json={"username": "made.here", "display_name": "M", "role": "teller", "branch_codes": ["HOME"], "password": "a-fine-passphrase"}),
    Case("GET", "/api/v1/users/{colleague}", USER_VIEWERS),
    Case("PATCH", "/api/v1/users/{colleague}", ADMIN, json={"display_name": "Renamed"}),
    Case("GET", "/api/v1/audit", AUDITORS),
    Case("GET", "/api/v1/audit/verify", AUDITORS),
    Case("GET", "/api/v1/branches", ALL),
    Case("POST", "/api/v1/branches", ADMIN, json={"code": "NEWB", "name_zh_hant": "新", "name_zh_hans": "新", "name_en": "New", "timezone": "Asia/Hong_Kong"}),
    Case("GET", "/api/v1/branches/HOME", ALL),
    Case("PATCH", "/api/v1/branches/HOME", SUPERVISORS, json={"address": "1 Moved Road"}),
    Case("PUT", "/api/v1/branches/HOME/opening-hours", SUPERVISORS, json=[{"weekday": 5, "opens_at": "09:00", "closes_at": "12:00"}]),
    Case("GET", "/api/v1/branches/HOME/holidays", ALL),
    Case("POST", "/api/v1/branches/HOME/holidays", SUPERVISORS, json={"on": "2026-12-25", "name": "Christmas"}),
    Case("DELETE", f"/api/v1/branches/HOME/holidays/{HOLIDAY_ID}", SUPERVISORS),
    Case("GET", "/api/v1/branches/HOME/services", ALL),
    Case("PUT", "/api/v1/branches/HOME/services/MATRIX2", SUPERVISORS, json={"is_enabled": True, "target_max_wait_minutes": 12}),
    Case("GET", "/api/v1/branches/HOME/counters", ALL),
    Case("POST", "/api/v1/branches/HOME/counters", SUPERVISORS, json={"code": "N1", "name": "New", "service_codes": ["MATRIX"]}),
    Case("GET", "/api/v1/branches/HOME/counters/K1", ALL),
    Case("PATCH", "/api/v1/branches/HOME/counters/K1", SUPERVISORS, json={"status": "open"}),
    Case("GET", "/api/v1/service-types", ALL),
    Case("POST", "/api/v1/service-types", ADMIN, json={"code": "NEWS", "name_zh_hant": "新", "name_zh_hans": "新", "name_en": "New", "ticket_prefix": "Z", "standard_handling_minutes": 5, "target_max_wait_minutes": 10}),
    Case("GET", "/api/v1/service-types/MATRIX", ALL),
    Case("PATCH", "/api/v1/service-types/MATRIX", ADMIN, json={"script": "New standard", "change_note": "matrix"}),
    Case("GET", "/api/v1/service-types/MATRIX/versions", ALL),
    Case("POST", "/api/v1/customers", CUSTOMER_EDITORS, json={"full_name": "林大同", "id_document_type": "national_id", "id_number": "B123456789", "home_branch_code": "HOME"}),
    Case("GET", "/api/v1/customers", CUSTOMER_VIEWERS),
    Case("GET", "/api/v1/customers/{customer}", CUSTOMER_VIEWERS),
    # the queue
    Case("POST", "/api/v1/branches/HOME/tickets", ALL, json={"service_code": "MATRIX"}),
    Case("GET", "/api/v1/tickets/{waiting}", ALL),
    Case("GET", "/api/v1/branches/HOME/queue", ALL),
    Case("POST", "/api/v1/branches/HOME/counters/K1/status", SERVERS, json={"status": "paused"}),
    Case("POST", "/api/v1/branches/HOME/counters/K2/call-next", SERVERS),
    Case("POST", "/api/v1/tickets/{called}/recall", SERVERS),
    Case("POST", "/api/v1/tickets/{called}/start", SERVERS),
    Case("POST", "/api/v1/tickets/{serving}/complete", SERVERS, json={"outcome_code": "done"}),
    Case("POST", "/api/v1/tickets/{recalled}/no-show", SERVERS),
    Case("POST", "/api/v1/tickets/{serving}/transfer", SERVERS, json={"service_code": "MATRIX"}),
    Case("POST", "/api/v1/tickets/{called}/park", SERVERS),
    Case("POST", "/api/v1/tickets/{parked}/unpark", SERVERS),
    Case("POST", "/api/v1/tickets/{waiting}/cancel", QUEUE_MANAGERS),
    Case("POST", "/api/v1/tickets/{no_show}/rejoin", QUEUE_MANAGERS),
    Case("POST", "/api/v1/tickets/{remote}/check-in", ALL),
    # appointments
    Case("GET", "/api/v1/branches/HOME/appointment-slots", PUBLIC),
    Case("POST", "/api/v1/branches/HOME/appointment-slots/generate", SUPERVISORS, json={"from_on": "2026-12-07", "days": 1, "minutes": 60}),
    Case("GET", "/api/v1/branches/HOME/appointments", ALL),
    Case("GET", "/api/v1/branches/HOME/appointment-settings", ALL),
    Case("PUT", "/api/v1/branches/HOME/appointment-settings", SUPERVISORS, json={"early_checkin_minutes": 20, "late_checkin_minutes": 10, "reminder_hours": 12}),
    Case("POST", "/api/v1/appointments", ALL, json={"slot_id": SLOT_ID, "contact_name": "Lin", "contact_phone": "0911"}),
    Case("GET", "/api/v1/appointments/{appointment}", ALL),
    Case("POST", "/api/v1/appointments/{appointment}/reschedule", ALL, json={"slot_id": LATER_SLOT_ID}),
    Case("POST", "/api/v1/appointments/{appointment}/cancel", ALL, json={"reason": "matrix"}),
    Case("POST", "/api/v1/appointments/{appointment}/check-in", ALL),
    # accounts and the ledger
    Case("POST", "/api/v1/accounts", CUSTOMER_EDITORS, json={"customer_number": "7777777777", "currency": "CNY", "branch_code": "HOME"}),
    Case("GET", "/api/v1/accounts/{account}", CUSTOMER_VIEWERS),
    Case("GET", "/api/v1/accounts/{account}/entries", CUSTOMER_VIEWERS),
    Case("POST", "/api/v1/accounts/{account_two}/status", SUPERVISORS, json={"status": "frozen"}),
    Case("POST", "/api/v1/deposits", SERVERS, json={"account": "{account}", "amount_minor": 500, "currency": "CNY", "idempotency_key": "m-1", "counter_code": "K1"}),
    Case("POST", "/api/v1/withdrawals", SERVERS, json={"account": "{account}", "amount_minor": 500, "currency": "CNY", "idempotency_key": "m-2"}),
    Case("POST", "/api/v1/transfers", SERVERS, json={"from_account": "{account}", "to_account": "{account_two}", "amount_minor": 500, "currency": "CNY", "idempotency_key": "m-3"}),
    Case("POST", "/api/v1/transfers/batch", SERVERS, json={"transfers": [{"from_account": "{account}", "to_account": "{account_two}", "amount_minor": 500, "currency": "CNY", "idempotency_key": "m-4"}]}),
    Case("POST", "/api/v1/fees", SERVERS, json={"account": "{account}", "amount_minor": 500, "currency": "CNY", "idempotency_key": "m-5"}),
    Case("POST", "/api/v1/remittances", SERVERS, json={"from_account": "{account}", "beneficiary": "BOC 9", "amount_minor": 500, "currency": "CNY", "idempotency_key": "m-6"}),
    Case("POST", "/api/v1/remittances/{remittance}/clearing", SUPERVISORS, json={"outcome": "settled", "idempotency_key": "m-7"}),
    Case("POST", "/api/v1/time-deposits/{time_deposit}/withdraw", SERVERS, json={"to_account": "{account}", "idempotency_key": "m-9"}),
    Case("GET", "/api/v1/postings/{posted}", CUSTOMER_VIEWERS),
    Case("POST", "/api/v1/postings/{posted}/reverse", SERVERS, json={"idempotency_key": "m-8"}),
    Case("GET", "/api/v1/approvals", SUPERVISORS | {Role.compliance_officer}),
    Case("POST", "/api/v1/approvals/{pending}/approve", SUPERVISORS, json={}),
    Case("POST", "/api/v1/approvals/{pending}/reject", SUPERVISORS, json={}),
    Case("PUT", "/api/v1/approval-limits", SUPERVISORS, json={"branch_code": "HOME", "kind": "withdrawal", "currency": "CNY", "amount_minor": 100000}),
    # HTML pages
    Case("GET", "/login", PUBLIC, html=True),
    Case("POST", "/login", PUBLIC, html=True, form={"username": "{username}", "password": "correct horse battery", "next": "/"}),
    Case("POST", "/logout", ALL, html=True, form={}),
    Case("GET", "/lang/zh-Hans", PUBLIC, html=True),
    Case("GET", "/", ALL, html=True),
    Case("GET", "/account/password", ALL, html=True),
    Case("POST", "/account/password", ALL, html=True, form={"current_password": "correct horse battery", "new_password": "brand-new-passphrase", "confirm_password": "brand-new-passphrase"}),
    Case("GET", "/admin/users", USER_VIEWERS, html=True),
    Case("GET", "/admin/users/new", ADMIN, html=True),
    Case("POST", "/admin/users/new", ADMIN, html=True, form={"username": "made.here", "display_name": "M", "role": "teller", "branch_codes": "HOME", "password": "a-fine-passphrase"}),
    Case("GET", "/admin/users/{colleague}", USER_VIEWERS, html=True),
    Case("POST", "/admin/users/{colleague}", ADMIN, html=True, form={"display_name": "Renamed", "role": "teller", "branch_codes": "HOME", "is_active": "on"}),
    Case("GET", "/admin/audit", AUDITORS, html=True),
    Case("GET", "/branches", ALL, html=True),
    Case("GET", "/branches/new", ADMIN, html=True),
    Case("POST", "/branches/new", ADMIN, html=True, form={"code": "NEWB", "name_zh_hant": "新", "name_zh_hans": "新", "name_en": "New", "timezone": "Asia/Taipei"}),
    Case("GET", "/branches/HOME", ALL, html=True),
    Case("POST", "/branches/HOME", SUPERVISORS, html=True, form={"name_zh_hant": "家", "name_zh_hans": "家", "name_en": "Home", "timezone": "Asia/Taipei", "is_active": "on"}),
    Case("POST", "/branches/HOME/hours", SUPERVISORS, html=True, form={"opens_0": "08:30", "closes_0": "16:30"}),
    Case("POST", "/branches/HOME/holidays", SUPERVISORS, html=True, form={"on": "2026-12-25", "name": "Christmas"}),
    Case("POST", f"/branches/HOME/holidays/{HOLIDAY_ID}/delete", SUPERVISORS, html=True, form={}),
    Case("POST", "/branches/HOME/services/MATRIX2", SUPERVISORS, html=True, form={"is_enabled": "on", "target_max_wait_minutes": "12"}),
    Case("POST", "/branches/HOME/counters", SUPERVISORS, html=True, form={"code": "N1", "name": "New", "service_codes": "MATRIX"}),
    Case("GET", "/branches/HOME/counters/K1", ALL, html=True),
    Case("POST", "/branches/HOME/counters/K1", SUPERVISORS, html=True, form={"status": "paused"}),
    Case("GET", "/services", ALL, html=True),
    Case("GET", "/services/new", ADMIN, html=True),
    Case("POST", "/services/new", ADMIN, html=True, form={"code": "NEWS", "name_zh_hant": "新", "name_zh_hans": "新", "name_en": "New", "ticket_prefix": "Z", "standard_handling_minutes": "5", "target_max_wait_minutes": "10"}),
    Case("GET", "/services/MATRIX", ALL, html=True),
    Case("GET", "/approvals", SUPERVISORS | {Role.compliance_officer}, html=True),
    Case("POST", "/approvals/{pending}/approve", SUPERVISORS, html=True, form={}),
    Case("POST", "/approvals/{pending}/reject", SUPERVISORS, html=True, form={"note": "no"}),
    Case("POST", "/services/MATRIX", ADMIN, html=True, form={"name_zh_hant": "矩陣", "name_zh_hans": "矩阵", "name_en": "Matrix", "standard_handling_minutes": "6", "target_max_wait_minutes": "15", "script": "v2", "is_active": "on"}),
    # queue screens: public hall devices and phones, teller console, lobby desk
    Case("GET", "/kiosk/HOME", PUBLIC, html=True),
    Case("POST", "/kiosk/HOME/tickets", PUBLIC, html=True, form={"service_code": "MATRIX"}),
    Case("GET", "/display/HOME", PUBLIC, html=True),
    Case("GET", "/t/{waiting_token}", PUBLIC, html=True),
    Case("POST", "/t/{waiting_token}/cancel", PUBLIC, html=True, form={}),
    Case("POST", "/t/{remote_token}/check-in", PUBLIC, html=True, form={"code": "{checkin_code}"}),
    Case("GET", "/b/HOME/take", PUBLIC, html=True),
    Case("POST", "/b/HOME/take", PUBLIC, html=True, form={"service_code": "MATRIX", "contact_phone": "0912 345 678"}),
    Case("GET", "/b/HOME/queue.json", PUBLIC),
    Case("GET", "/b/HOME/events", PUBLIC, params={"timeout": "0"}),
    Case("GET", "/console", SERVERS, html=True),
    Case("GET", "/console/HOME/K1", SERVERS, html=True),
    Case("POST", "/console/HOME/K1/pause", SERVERS, html=True, form={}),
    Case("POST", "/console/HOME/K2/call-next", SERVERS, html=True, form={}),
    Case("POST", "/console/HOME/K1/recall", SERVERS, html=True, form={"ticket_id": "{called}"}),
    Case("POST", "/console/HOME/K1/start", SERVERS, html=True, form={"ticket_id": "{called}"}),
    Case("POST", "/console/HOME/K1/complete", SERVERS, html=True, form={"ticket_id": "{serving}", "outcome_code": "done"}),
    Case("POST", "/console/HOME/K1/no-show", SERVERS, html=True, form={"ticket_id": "{recalled}"}),
    Case("POST", "/console/HOME/K1/transfer", SERVERS, html=True, form={"ticket_id": "{serving}", "target": "counter:K2"}),
    Case("POST", "/console/HOME/K1/park", SERVERS, html=True, form={"ticket_id": "{called}"}),
    Case("POST", "/console/HOME/K1/unpark", SERVERS, html=True, form={"ticket_id": "{parked}"}),
    Case("GET", "/lobby/HOME", ALL, html=True),
    Case("POST", "/lobby/HOME/tickets", ALL, html=True, form={"service_code": "MATRIX", "priority": "vip"}),
    Case("POST", "/lobby/HOME/tickets/{waiting}/cancel", QUEUE_MANAGERS, html=True, form={}),
    Case("POST", "/lobby/HOME/tickets/{remote}/check-in", ALL, html=True, form={}),
    Case("POST", "/lobby/HOME/tickets/{no_show}/rejoin", QUEUE_MANAGERS, html=True, form={}),
    Case("POST", "/lobby/HOME/tickets/{parked}/unpark", SERVERS, html=True, form={}),
    # appointments pages
    Case("GET", "/branches/HOME/appointments", ALL, html=True),
    Case("POST", "/branches/HOME/appointments", ALL, html=True, form={"slot_id": SLOT_ID, "contact_name": "Lin", "contact_phone": "0911"}),
    Case("POST", "/branches/HOME/appointments/{appointment}/cancel", ALL, html=True, form={}),
    Case("POST", "/branches/HOME/appointments/{appointment}/check-in", ALL, html=True, form={}),
    Case("POST", "/branches/HOME/appointments/generate", SUPERVISORS, html=True, form={"from_on": "2026-12-07", "days": "1", "minutes": "60"}),
]  # fmt: skip
for _part in PARTS:
    CASES.extend(_part.CASES)

OWN_ACCESS = tuple(prefix for part in PARTS for prefix in getattr(part, "OWN_ACCESS", ()))
IGNORED_PATHS = {"/api/v1/openapi.json", "/api/docs", "/api/docs/oauth2-redirect", "/static"}


def _world(db: Session, signer: Signer) -> tuple[dict[str, str], dict[Role, User]]:
    """The rows every case needs, with one acting user per role (``actor.<role>``)."""
    home = make_branch(db, code="HOME")
    make_branch(db, code="AWAY")
    service = make_service_type(db, code="MATRIX", ticket_prefix="M")
    other_service = make_service_type(db, code="MATRIX2", ticket_prefix="N")
    offer(db, home, service)
    k1 = make_counter(db, home, service, code="K1", status="open")
    k2 = make_counter(db, home, service, code="K2", status="open")
    db.add(QueueSettings(branch_id=home.id, enforce_opening_hours=False, updated_at=NOW))
    today = business_day(home, utcnow())
    tickets = {
        "waiting": make_ticket(db, home, service, business_on=today),
        "called": make_ticket(
            db, home, service, business_on=today, state="called", counter_id=k1.id
        ),
        "serving": make_ticket(
            db, home, service, business_on=today, state="serving", counter_id=k1.id
        ),
        "recalled": make_ticket(
            db, home, service, business_on=today, state="called", counter_id=k1.id, recall_count=1
        ),
        "parked": make_ticket(db, home, service, business_on=today, state="parked"),
        "no_show": make_ticket(db, home, service, business_on=today, state="no_show"),
        "remote": make_ticket(
            db, home, service, business_on=today, channel="remote", checked_in_at=None
        ),
    }
    _ = k2
    db.add(
        Holiday(
            id=__import__("uuid").UUID(HOLIDAY_ID),
            branch_id=home.id,
            on=date(2026, 10, 10),
            name="x",
        )
    )
    colleague = make_user(db, Role.teller, (home,), username="colleague")
    customer = make_customer(db, signer, home_branch_id=home.id, customer_number="7777777777")
    actors = {
        role: make_user(db, role, () if role is Role.admin else (home,), username=f"actor.{role}")
        for role in Role
    }
    db.flush()
    _ = other_service
    context = WorldContext(
        home=home, service=service, colleague=colleague, customer=customer,
        actor=actors[Role.teller],
    )  # fmt: skip
    extra: dict[str, str] = {}
    for part in PARTS:
        extra.update(part.world(db, signer, context))
    values = {
        **extra,
        **{name: str(t.id) for name, t in tickets.items()},
        **{f"{name}_token": t.public_token for name, t in tickets.items()},
        "checkin_code": checkin_code(signer, home.id, today),
        "colleague": colleague.username,
        "customer": customer.customer_number,
        **appointment_world(db, home, service),
        **ledger_world(db, signer, home, colleague, customer),
    }
    return values, actors


def _snapshot(db: Session) -> dict[str, list[tuple[Any, ...]]]:
    state: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        rows = db.execute(text(f"SELECT * FROM {table.name}")).all()
        state[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return state


def _send(
    client: TestClient, case: Case, values: dict[str, str], auth: dict[str, str], cookie: str | None
) -> Any:
    path = case.path.format(**values)
    client.cookies.clear()
    if cookie:
        client.cookies.set("bd_session", cookie)
    headers = {} if case.html else dict(auth)
    form = None
    if case.form is not None:
        form = {k: (v.format(**values) if isinstance(v, str) else v) for k, v in case.form.items()}
        if case.html:
            form["csrf_token"] = values["_csrf"]
    return client.request(
        case.method, path, headers=headers, json=_fill(case.json, values), data=form,
        params=case.params or None, follow_redirects=False,
    )  # fmt: skip


def _fill(value: Any, values: dict[str, str]) -> Any:
    """Placeholders such as {account} inside JSON bodies (the ledger's cases)."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_route_allows_exactly_its_roles(
    client: TestClient,
    db_connection: tuple[Connection, Session],
    signer: Signer,
    case: Case,
) -> None:
    """The world is built once per route; each role's request runs in a savepoint that is
    rolled back, so every role meets the same rows."""
    connection, db = db_connection
    shared, actors = _world(db, signer)
    before = _snapshot(db) if case.allowed is not PUBLIC else {}
    wrong: list[str] = []
    for role, actor in actors.items():
        values = {**shared, "username": actor.username, "_user_id": str(actor.id)}
        cookie, csrf = browser_session(signer, actor)
        values["_csrf"] = csrf
        attempt = connection.begin_nested()
        try:
            if case.allowed is PUBLIC:
                response = _send_public(client, signer, case, values, cookie)
                if response.status_code not in case.ok:
                    wrong.append(f"{role}: {response.status_code} {response.text[:300]}")
                continue
            auth = bearer(signer, actor)
            response = _send(client, case, values, auth, cookie if case.html else None)
            if role in case.allowed:
                if response.status_code not in case.ok:
                    wrong.append(f"{role}: {response.status_code} {response.text[:500]}")
            elif response.status_code != 403:
                wrong.append(f"{role}: {response.status_code} instead of 403 {response.text[:300]}")
            elif _snapshot(db) != before:
                wrong.append(f"{role}: refused with 403 but rows changed")
        finally:
            attempt.rollback()
    assert not wrong, "\n".join(wrong)


def _send_public(
    client: TestClient, signer: Signer, case: Case, values: dict[str, str], cookie: str
) -> Any:
    if case.path in ("/login",) and case.method == "POST":
        client.cookies.clear()
        client.get("/login")  # anonymous session with a CSRF nonce
        anonymous = client.cookies.get("bd_session")
        assert anonymous
        nonce = signer.load_session(anonymous, max_age_seconds=60)
        assert nonce is not None
        values["_csrf"] = signer.csrf_token(nonce["n"])
        cookie = anonymous
    return _send(client, case, values, {}, cookie if case.html else None)


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if method != "HEAD"
    }
    covered = set()
    for case in CASES:
        for method, path in routes:
            pattern = path
            pattern = re.sub(r"\{[a-z_]+\}", "*", pattern)
            concrete = re.sub(r"\{[a-z_]+\}", "x", case.path)
            parts_a, parts_b = pattern.split("/"), concrete.split("/")
            same_shape = method == case.method and len(parts_a) == len(parts_b)
            if same_shape and all(
                fnmatch.fnmatchcase(b, a) for a, b in zip(parts_a, parts_b, strict=True)
            ):
                covered.add((method, path))
    ignored = {
        (m, p) for m, p in routes if p in IGNORED_PATHS or p.startswith(OWN_ACCESS or ("\0",))
    }
    missing = sorted(routes - covered - ignored)
    assert missing == []
