"""The /my pages: login with the code, session separation, CSRF, idle expiry, and the pages'
operations (balances, statement and exports, transfer, QR, settings, visits)."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.notify import RecordingNotifier
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger.models import Account, Entry, Posting
from branchdesk.portal.deps import PORTAL_COOKIE
from branchdesk.portal.models import NotificationPreference, PortalLogin
from tests.factories import browser_session, make_user
from tests.portal.conftest import LIMIT, PortalWorld, csrf_of, page_login


def _money_rows(db: Session) -> tuple[int, int]:
    return (
        db.execute(select(func.count()).select_from(Posting)).scalar_one(),
        db.execute(select(func.count()).select_from(Entry)).scalar_one(),
    )


def test_pages_need_the_customer_login(client: TestClient, portal_app: FastAPI) -> None:
    for path in ("/my", "/my/transfer", "/my/qr", "/my/settings", "/my/visits"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/my/login?next=")


def test_login_with_code_shows_balances_and_logout_ends_it(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, world: PortalWorld
) -> None:
    page_login(client, notifier, world.alice.customer_number)
    home = client.get("/my")
    assert home.status_code == 200
    assert world.alice_account.number in home.text
    assert "CNY 5,000.00" in home.text
    assert world.bob_account.number not in home.text
    cookie = client.cookies.get(PORTAL_COOKIE)
    assert cookie
    out = client.post("/my/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(PORTAL_COOKIE, cookie, path="/my")  # the old cookie was revoked too
    assert client.get("/my", follow_redirects=False).status_code == 303


def test_wrong_code_page_is_401_and_the_login_stays_pending(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    page = client.get("/my/login")
    client.post(
        "/my/login",
        data={"csrf_token": csrf_of(page.text), "identifier": world.alice.customer_number,
              "password": "portal-pass-1234"},
    )  # fmt: skip
    form = client.get("/my/login/verify")
    code = notifier.sent[-1].values["code"]
    wrong = client.post(
        "/my/login/verify",
        data={"csrf_token": csrf_of(form.text), "code": "000000" if code != "000000" else "111111"},
    )
    assert wrong.status_code == 401
    assert "That code is wrong or no longer valid." in wrong.text
    assert client.get("/my", follow_redirects=False).status_code == 303
    login = db.execute(
        select(PortalLogin).where(PortalLogin.customer_id == world.alice.id)
    ).scalar_one()
    db.refresh(login)
    assert login.failed_count == 1


def test_staff_and_customer_sessions_are_separate(
    client: TestClient, db: Session, signer: Signer, portal_app: FastAPI,
    notifier: RecordingNotifier, world: PortalWorld,
) -> None:  # fmt: skip
    admin = make_user(db, Role.admin)
    staff_cookie, _csrf = browser_session(signer, admin)
    client.cookies.set("bd_session", staff_cookie)
    assert client.get("/branches").status_code == 200
    assert client.get("/my", follow_redirects=False).status_code == 303  # staff: not a customer
    client.cookies.clear()
    page_login(client, notifier, world.alice.customer_number)
    assert client.get("/my").status_code == 200
    staff_page = client.get("/branches", follow_redirects=False)
    assert staff_page.status_code == 303
    assert staff_page.headers["location"].startswith("/login")
    # the portal cookie under the staff name is no staff session either
    client.cookies.set("bd_session", client.cookies.get(PORTAL_COOKIE) or "")
    assert client.get("/branches", follow_redirects=False).status_code == 303


def test_idle_session_expires(
    client: TestClient, signer: Signer, portal_app: FastAPI, world: PortalWorld
) -> None:
    login_epoch = 0
    fresh = signer.dump_session(
        {"k": "portal", "n": "nonce", "cid": str(world.alice.id), "ep": login_epoch,
         "seen": int(time.time()) - 60},
    )  # fmt: skip
    client.cookies.set(PORTAL_COOKIE, fresh, path="/my")
    assert client.get("/my").status_code == 200
    idle = signer.dump_session(
        {"k": "portal", "n": "nonce", "cid": str(world.alice.id), "ep": login_epoch,
         "seen": int(time.time()) - 16 * 60},
    )  # fmt: skip
    client.cookies.clear()
    client.cookies.set(PORTAL_COOKIE, idle, path="/my")
    assert client.get("/my", follow_redirects=False).status_code == 303


def test_transfer_page_within_and_over_the_limit_and_csrf(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    page_login(client, notifier, world.alice.customer_number)
    form = client.get("/my/transfer")
    values = {
        "from_account": world.alice_account.number,
        "to_account": world.bob_account.number,
        "amount": "300.00",
        "memo": "dinner",
        "key": "form-key-1",
    }
    before = _money_rows(db)
    assert client.post("/my/transfer", data=values).status_code == 403  # no CSRF token
    assert _money_rows(db) == before
    done = client.post("/my/transfer", data={**values, "csrf_token": csrf_of(form.text)})
    assert done.status_code == 200
    assert "the money has moved" in done.text
    again = client.post("/my/transfer", data={**values, "csrf_token": csrf_of(form.text)})
    assert again.status_code == 200  # the same form key: replayed, not paid twice
    after_one = _money_rows(db)
    assert after_one == (before[0] + 1, before[1] + 2)
    over = client.post(
        "/my/transfer",
        data={**values, "amount": f"{LIMIT / 100:,.2f}", "key": "form-key-2",
              "csrf_token": csrf_of(form.text)},
    )  # fmt: skip
    assert over.status_code == 422
    assert "daily limit" in over.text
    assert _money_rows(db) == after_one
    account = db.get(Account, world.alice_account.id)
    assert account is not None
    db.refresh(account)
    assert account.balance_minor == 470_000
    statement = client.get(f"/my/accounts/{world.alice_account.number}", params={"text": "dinner"})
    assert statement.status_code == 200
    assert "CNY -300.00" in statement.text
    assert "1 entries" in statement.text


def test_statement_pages_and_exports(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, world: PortalWorld
) -> None:
    page_login(client, notifier, world.alice.customer_number)
    url = f"/my/accounts/{world.alice_account.number}"
    page = client.get(url)
    assert "salary" in page.text
    exported = client.get(f"{url}/statement.csv")
    assert exported.text.splitlines()[1].endswith(",deposit,salary,5000.00,CNY,5000.00")
    pdf = client.get(f"{url}/statement.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert b"1 entries" in pdf.content
    assert client.get(f"/my/accounts/{world.bob_account.number}").status_code == 404
    assert client.get(f"/my/accounts/{world.bob_account.number}/statement.csv").status_code == 404
    bad = client.get(url, params={"from_on": "2026-03-02", "to_on": "2026-03-01"})
    assert bad.status_code == 422
    # amounts are searched in major units of the account's currency
    assert "1 entries" in client.get(url, params={"min": "5,000", "max": "5000.00"}).text
    assert "No entries match." in client.get(url, params={"min": "5,000.01"}).text
    assert client.get(url, params={"min": "5.001"}).status_code == 422  # CNY has cents only


def test_qr_pages_create_and_pay(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    page_login(client, notifier, world.bob.customer_number)
    form = client.get("/my/qr")
    created = client.post(
        "/my/qr",
        data={"csrf_token": csrf_of(form.text), "account": world.bob_account.number,
              "amount": "15"},
    )  # fmt: skip
    assert created.status_code == 200
    assert "<svg" in created.text
    payload = created.text.split('id="payload">', 1)[1].split("</textarea>", 1)[0]
    assert payload.startswith(f"BDPAY1|{world.bob_account.number}|1500|CNY|")
    client.cookies.clear()
    page_login(client, notifier, world.alice.customer_number)
    pay_form = client.get("/my/qr")
    paid = client.post(
        "/my/qr/pay",
        data={"csrf_token": csrf_of(pay_form.text), "payload": payload,
              "from_account": world.alice_account.number},
    )  # fmt: skip
    assert paid.status_code == 200
    assert 'id="paid"' in paid.text
    again = client.post(
        "/my/qr/pay",
        data={"csrf_token": csrf_of(pay_form.text), "payload": payload,
              "from_account": world.alice_account.number},
    )  # fmt: skip
    assert "already paid" in again.text
    account = db.get(Account, world.bob_account.id)
    assert account is not None
    db.refresh(account)
    assert account.balance_minor == 101_500


def test_settings_page_saves_the_choices(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    page_login(client, notifier, world.alice.customer_number)
    form = client.get("/my/settings")
    assert form.status_code == 200
    saved = client.post(
        "/my/settings",
        data={"csrf_token": csrf_of(form.text), "transaction_alerts_email": "on",
              "queue_come_back_sms": "on"},
    )  # fmt: skip
    assert saved.status_code == 200
    row = db.get(NotificationPreference, world.alice.id)
    assert row is not None
    assert (row.transaction_alerts_sms, row.transaction_alerts_email, row.appointment_reminders_sms,
            row.appointment_reminders_email, row.queue_come_back_sms,
            row.queue_come_back_email) == (False, True, False, False, True, False)  # fmt: skip


def test_pages_speak_chinese(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, world: PortalWorld
) -> None:
    page = client.get("/my/login", headers={"Accept-Language": "zh-TW"})
    assert "登入網路銀行" in page.text
    page = client.get("/my/login", headers={"Accept-Language": "zh-CN"})
    assert "登录网上银行" in page.text
    refused = client.post(
        "/my/login",
        headers={"Accept-Language": "zh-TW"},
        data={"csrf_token": csrf_of(page.text), "identifier": world.alice.customer_number,
              "password": "not-the-password"},
    )  # fmt: skip
    assert refused.status_code == 401
    assert "客戶編號或密碼錯誤。" in refused.text


def test_held_transfer_is_shown_honestly_on_the_pages(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    from branchdesk.core.clock import utcnow
    from branchdesk.ledger import service as ledger
    from branchdesk.ledger.schemas import ApprovalLimitSet

    limit = ApprovalLimitSet(
        branch_code=world.bank.branch.code, kind="transfer", currency="CNY", amount_minor=1_000
    )
    ledger.set_approval_limit(db, data=limit, actor=world.bank.manager, now=utcnow())
    page_login(client, notifier, world.alice.customer_number)
    form = client.get("/my/transfer")
    held = client.post(
        "/my/transfer",
        data={"csrf_token": csrf_of(form.text), "from_account": world.alice_account.number,
              "to_account": world.bob_account.number, "amount": "50", "memo": "big",
              "key": "held-1"},
    )  # fmt: skip
    assert held.status_code == 200
    assert "approval: the money moves once a supervisor approves it" in held.text
    statement = client.get(f"/my/accounts/{world.alice_account.number}")
    assert 'id="pending"' in statement.text
    assert "supervisor" in statement.text
    assert "CNY -50.00" in statement.text
    home = client.get("/my")
    recent = home.text.split('id="transfers"', 1)[1]
    assert "<td>Waiting for approval</td>" in recent  # the recent transfer's status, as it is


def test_visits_page_takes_a_ticket_and_books_reschedules_cancels(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    from datetime import timedelta

    from branchdesk.appointments.models import Appointment
    from branchdesk.core.clock import utcnow
    from branchdesk.queue.models import QueueSettings, Ticket
    from tests.factories import make_service_type, make_slot, offer

    service_type = make_service_type(db, name_en="Deposits")
    offer(db, world.bank.branch, service_type)
    db.add(QueueSettings(branch_id=world.bank.branch.id, enforce_opening_hours=False,
                         updated_at=utcnow()))  # fmt: skip
    start = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    first = make_slot(db, world.bank.branch, service_type, starts_at=start)
    second = make_slot(db, world.bank.branch, service_type, starts_at=start + timedelta(hours=1))
    page_login(client, notifier, world.alice.customer_number)
    page = client.get("/my/visits")
    choice = f"{world.bank.branch.code}|{service_type.code}"
    assert f'value="{choice}"' in page.text
    taken = client.post("/my/visits/ticket", data={"csrf_token": csrf_of(page.text), "choice": choice},
                        follow_redirects=False)  # fmt: skip
    assert taken.status_code == 303
    ticket = db.execute(select(Ticket).where(Ticket.customer_id == world.alice.id)).scalar_one()
    assert taken.headers["location"] == f"/t/{ticket.public_token}"
    assert ticket.contact_phone == "+886912000001"  # the come-back SMS is wanted by default
    day = start.astimezone(ZoneInfo(world.bank.branch.timezone)).date().isoformat()
    slots = client.get("/my/visits", params={"branch_code": world.bank.branch.code,
                                             "service_code": service_type.code, "on": day})  # fmt: skip
    assert str(first.id) in slots.text
    booked = client.post("/my/visits/appointments",
                         data={"csrf_token": csrf_of(page.text), "slot_id": str(first.id)})  # fmt: skip
    assert booked.status_code == 200
    appointment = db.execute(
        select(Appointment).where(Appointment.customer_id == world.alice.id)
    ).scalar_one()
    assert appointment.channel == "portal"
    moved = client.post(
        f"/my/visits/appointments/{appointment.reference}/reschedule",
        data={"csrf_token": csrf_of(page.text), "slot_id": str(second.id)},
    )
    assert moved.status_code == 200
    db.refresh(appointment)
    assert appointment.slot_id == second.id
    client.cookies.clear()
    page_login(client, notifier, world.bob.customer_number)
    other = client.get("/my/visits")
    stolen = client.post(f"/my/visits/appointments/{appointment.reference}/cancel",
                         data={"csrf_token": csrf_of(other.text)})  # fmt: skip
    assert stolen.status_code == 404
    db.refresh(appointment)
    assert appointment.state == "booked"
