"""The mobile-banking API over HTTP: tokens, accounts, statements and exports, transfers and
the daily limit, QR requests, access rules, visits and notification settings."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.events import Event
from branchdesk.core.notify import RecordingNotifier
from branchdesk.core.security import Signer
from branchdesk.identity.audit import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import Account, Entry, Posting
from branchdesk.ledger.schemas import ApprovalLimitSet
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.portal.models import PortalTransfer
from branchdesk.portal.service import qr
from tests.factories import bearer, make_service_type, make_slot, make_user, offer
from tests.portal.conftest import LIMIT, PortalWorld, api_login, last_code


def _counts(db: Session) -> tuple[int, int, int]:
    return (
        db.execute(select(func.count()).select_from(Posting)).scalar_one(),
        db.execute(select(func.count()).select_from(Entry)).scalar_one(),
        db.execute(select(func.count()).select_from(PortalTransfer)).scalar_one(),
    )


def _balance(db: Session, account: Account) -> int:
    db.expire(account)
    return account.balance_minor


def _transfer(client: TestClient, headers: dict[str, str], world: PortalWorld, amount: int,
              key: str | None = None, to: str | None = None) -> object:  # fmt: skip
    return client.post(
        "/api/v1/portal/transfers",
        headers=headers,
        json={
            "from_account": world.alice_account.number,
            "to_account": to or world.bob_account.number,
            "amount_minor": amount,
            "currency": "CNY",
            "memo": "rent",
            "idempotency_key": key or uuid.uuid4().hex,
        },
    )


def test_login_accounts_and_balances(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, world: PortalWorld
) -> None:
    wrong = client.post(
        "/api/v1/portal/login",
        json={"identifier": world.alice.customer_number, "password": "wrong-password"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_credentials"
    headers = api_login(client, notifier, world.alice.customer_number)
    assert notifier.sent[-1].to_phone == "+886912000001"
    accounts = client.get("/api/v1/portal/accounts", headers=headers)
    assert accounts.status_code == 200
    assert [(a["number"], a["type"], a["balance_minor"]) for a in accounts.json()] == sorted(
        [
            (world.alice_account.number, "current", 500_000),
            (world.alice_savings.number, "savings", 0),
        ]
    )


def test_wrong_code_over_http_is_401_and_counted(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, world: PortalWorld
) -> None:
    started = client.post(
        "/api/v1/portal/login",
        json={"identifier": world.alice.customer_number, "password": "portal-pass-1234"},
    ).json()
    code = last_code(notifier)
    bad = client.post(
        "/api/v1/portal/login/verify",
        json={
            "challenge_id": started["challenge_id"],
            "code": "000000" if code != "000000" else "111111",
        },
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_code"
    resend = client.post(
        "/api/v1/portal/login/resend", json={"challenge_id": started["challenge_id"]}
    )
    assert resend.status_code == 429


def test_other_customers_account_is_404_everywhere(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, world: PortalWorld
) -> None:
    headers = api_login(client, notifier, world.alice.customer_number)
    bob = world.bob_account.number
    for path in (f"/accounts/{bob}", f"/accounts/{bob}/statement", f"/accounts/{bob}/statement.csv",
                 f"/accounts/{bob}/statement.pdf", "/accounts/9999999999"):  # fmt: skip
        answer = client.get(f"/api/v1/portal{path}", headers=headers)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "account_not_found"
    before = _counts(client.app.state.database.sessionmaker())  # type: ignore[attr-defined]
    stolen = client.post(
        "/api/v1/portal/transfers", headers=headers,
        json={"from_account": bob, "to_account": world.alice_account.number, "amount_minor": 100,
              "currency": "CNY", "idempotency_key": "steal"},
    )  # fmt: skip
    assert stolen.status_code == 404
    request = client.post(
        "/api/v1/portal/payment-requests", headers=headers, json={"account": bob, "amount_minor": 5}
    )
    assert request.status_code == 404
    assert _counts(client.app.state.database.sessionmaker()) == before  # type: ignore[attr-defined]


def test_staff_and_customer_tokens_stay_on_their_side(
    client: TestClient, db: Session, signer: Signer, portal_app: FastAPI,
    notifier: RecordingNotifier, world: PortalWorld,
) -> None:  # fmt: skip
    admin = make_user(db, Role.admin)
    staff = bearer(signer, admin)
    assert client.get("/api/v1/me", headers=staff).status_code == 200
    refused = client.get("/api/v1/portal/accounts", headers=staff)
    assert refused.status_code == 403
    assert refused.json()["error"] == "wrong_token"
    assert client.get("/api/v1/portal/accounts").status_code == 401
    customer = api_login(client, notifier, world.alice.customer_number)
    assert client.get("/api/v1/me", headers=customer).status_code == 401
    account = client.get(f"/api/v1/accounts/{world.alice_account.number}", headers=customer)
    assert account.status_code == 401
    # logging out revokes the token
    assert client.post("/api/v1/portal/logout", headers=customer).status_code == 204
    assert client.get("/api/v1/portal/accounts", headers=customer).status_code == 401


def test_statement_search_and_exports(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    headers = api_login(client, notifier, world.alice.customer_number)
    for amount, memo in ((12_345, "coffee beans"), (25_000, "rent")):
        assert _transfer(client, headers, world, amount).status_code == 201
        db.execute(  # the memo is the transfer's; set it apart per line for the search
            Posting.__table__.update()
            .where(Posting.amount_minor == amount, Posting.kind == "transfer")
            .values(memo=memo)
        )
    url = f"/api/v1/portal/accounts/{world.alice_account.number}/statement"
    full = client.get(url, headers=headers).json()
    assert [
        (line["kind"], line["amount_minor"], line["balance_after_minor"]) for line in full["lines"]
    ] == [
        ("transfer", -25_000, 462_655),
        ("transfer", -12_345, 487_655),
        ("deposit", 500_000, 500_000),
    ]
    text = client.get(url, headers=headers, params={"text": "COFFEE"}).json()
    assert [line["amount_minor"] for line in text["lines"]] == [-12_345]
    amounts = client.get(
        url, headers=headers, params={"min_amount_minor": 20_000, "max_amount_minor": 300_000}
    ).json()
    assert [line["amount_minor"] for line in amounts["lines"]] == [-25_000]
    today = utcnow().astimezone().date()
    future = client.get(url, headers=headers, params={"from_on": str(today + timedelta(days=2))})
    assert future.json()["lines"] == []
    bad = client.get(url, headers=headers, params={"from_on": "2026-02-02", "to_on": "2026-02-01"})
    assert bad.status_code == 422
    exported = client.get(
        f"{url}.csv",
        headers=headers,
        params={"min_amount_minor": 10_000, "max_amount_minor": 20_000},
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    line = full["lines"][1]
    assert exported.text == (
        "seq,booked_at,kind,memo,amount,currency,balance_after\n"
        f"{line['seq']},{line['local_time']},transfer,coffee beans,-123.45,CNY,4876.55\n"
    )
    pdf = client.get(f"{url}.pdf", headers=headers, params={"locale": "zh-Hant"})
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert b"3 entries" in pdf.content
    assert b"MSung-Light" in pdf.content
    hans = client.get(f"{url}.pdf", headers=headers, params={"locale": "zh-Hans", "text": "rent"})
    assert b"1 entries" in hans.content
    assert b"STSong-Light" in hans.content


def test_transfer_within_and_over_the_daily_limit(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    headers = api_login(client, notifier, world.alice.customer_number)
    first = _transfer(client, headers, world, 60_000, key="pay-1")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "posted"
    assert _balance(db, world.bob_account) == 160_000
    posting = db.get(Posting, uuid.UUID(first.json()["posting_id"]))
    assert posting is not None
    assert posting.maker_id is not None
    # a retry with the same key replays, it does not pay twice or count twice
    again = _transfer(client, headers, world, 60_000, key="pay-1")
    assert again.status_code == 200
    assert again.json()["posting_id"] == first.json()["posting_id"]
    before = _counts(db)
    over = _transfer(client, headers, world, LIMIT - 60_000 + 1, key="pay-2")
    assert over.status_code == 422
    assert over.json()["error"] == "daily_limit_exceeded"
    assert over.json()["field"] == "amount_minor"
    assert _counts(db) == before
    assert _balance(db, world.alice_account) == 440_000
    refusal = (
        db.execute(
            select(AuditEntry)
            .where(AuditEntry.action == "portal.transfer")
            .order_by(AuditEntry.seq.desc())
        )
        .scalars()
        .first()
    )
    assert refusal is not None
    assert refusal.outcome == "refused"
    assert refusal.detail["error"] == "daily_limit_exceeded"
    exact = _transfer(
        client, headers, world, LIMIT - 60_000, key="pay-3", to=world.alice_savings.number
    )
    assert exact.status_code == 201
    limits = client.get("/api/v1/portal/limits", headers=headers).json()
    assert limits == [{"currency": "CNY", "limit_minor": LIMIT, "used_today_minor": LIMIT}]
    # each new transfer queued one SMS alert (the default choice), the replay none
    alerts = db.execute(
        select(Event.payload).where(Event.type == "notify.requested").order_by(Event.seq)
    ).scalars()
    sent = [(p["to_phone"], p["values"]["amount"]) for p in alerts
            if p["template"] == "portal.transaction_alert"]  # fmt: skip
    assert sent == [("+886912000001", "CNY 600.00"), ("+886912000001", "CNY 400.00")]


def test_held_transfer_is_shown_as_pending_and_counts_towards_the_limit(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    limit = ApprovalLimitSet(
        branch_code=world.bank.branch.code, kind="transfer", currency="CNY", amount_minor=50_000
    )
    ledger.set_approval_limit(db, data=limit, actor=world.bank.manager, now=utcnow())
    headers = api_login(client, notifier, world.alice.customer_number)
    held = _transfer(client, headers, world, 70_000)
    assert held.status_code == 201
    assert held.json()["status"] == "pending_approval"
    assert _balance(db, world.alice_account) == 500_000
    listed = client.get("/api/v1/portal/transfers", headers=headers).json()
    assert [(t["status"], t["amount_minor"]) for t in listed] == [("pending_approval", 70_000)]
    over = _transfer(client, headers, world, 30_001)
    assert over.status_code == 422
    # the statement shows it as waiting, beside a large withdrawal the teller made
    withdrawal = ledger.post_withdrawal(
        db, account=world.alice_account.number, amount_minor=80_000, currency="CNY",
        idempotency_key="teller-w-1", actor=world.bank.teller, now=utcnow(), compliance=AllowAll(),
        memo="cash",
    )  # fmt: skip
    assert withdrawal.posting.status == "posted"  # withdrawals have no limit here
    limit = ApprovalLimitSet(
        branch_code=world.bank.branch.code, kind="withdrawal", currency="CNY", amount_minor=1_000
    )
    ledger.set_approval_limit(db, data=limit, actor=world.bank.manager, now=utcnow())
    big = ledger.post_withdrawal(
        db, account=world.alice_account.number, amount_minor=90_000, currency="CNY",
        idempotency_key="teller-w-2", actor=world.bank.teller, now=utcnow(), compliance=AllowAll(),
        memo="big cash",
    )  # fmt: skip
    assert big.posting.status == "pending_approval"
    url = f"/api/v1/portal/accounts/{world.alice_account.number}/statement"
    pending = client.get(url, headers=headers).json()["pending"]
    assert [(p["kind"], p["status"], p["amount_minor"]) for p in pending] == [
        ("withdrawal", "pending_approval", -90_000),
        ("transfer", "pending_approval", -70_000),
    ]
    assert (
        client.get(
            f"/api/v1/portal/accounts/{world.bob_account.number}/statement",
            headers=api_login(client, notifier, world.bob.customer_number),
        ).json()["pending"][0]["amount_minor"]
        == 70_000
    )
    # a supervisor approves it: the maker is the mobile-banking channel user, not them
    posting = ledger.approve_posting(
        db, posting_id=uuid.UUID(held.json()["posting_id"]), actor=world.bank.manager,
        now=utcnow(),
    )  # fmt: skip
    assert posting.status == "posted"
    assert _balance(db, world.alice_account) == 350_000


def test_qr_request_create_pay_pay_twice_expired_tampered(
    client: TestClient, db: Session, signer: Signer, portal_app: FastAPI,
    notifier: RecordingNotifier, world: PortalWorld,
) -> None:  # fmt: skip
    bob = api_login(client, notifier, world.bob.customer_number)
    created = client.post(
        "/api/v1/portal/payment-requests", headers=bob,
        json={"account": world.bob_account.number, "amount_minor": 4_200},
    )  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    payload = body["payload"]
    parts = payload.split("|")
    assert parts[:4] == ["BDPAY1", world.bob_account.number, "4200", "CNY"]
    assert len(parts) == 7
    assert body["qr_svg"].startswith("<svg")
    alice = api_login(client, notifier, world.alice.customer_number)
    pay = {"payload": payload, "from_account": world.alice_account.number}
    paid = client.post("/api/v1/portal/payments", headers=alice, json=pay)
    assert paid.status_code == 201, paid.text
    assert paid.json()["to_account"] == world.bob_account.number
    assert _balance(db, world.bob_account) == 104_200
    before = _counts(db)
    twice = client.post("/api/v1/portal/payments", headers=alice, json=pay)
    assert twice.status_code == 200
    assert twice.json()["is_replay"] is True
    assert _balance(db, world.bob_account) == 104_200
    from_savings = client.post(
        "/api/v1/portal/payments", headers=alice,
        json={"payload": payload, "from_account": world.alice_savings.number},
    )  # fmt: skip
    assert from_savings.status_code == 409
    assert _counts(db) == before
    tampered = payload.replace("|4200|", "|42|")
    refused = client.post("/api/v1/portal/payments", headers=alice,
                          json={**pay, "payload": tampered})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json() == {
        "error": "payload_tampered",
        "detail": "the payment request was changed or is not ours",
        "field": "payload",
    }
    expired = qr.create_payment_request(
        db, customer=_principal(db, world, "bob"), account=world.bob_account.number,
        amount_minor=100, signer=signer, settings=portal_app.state.portal_settings,
        now=utcnow() - timedelta(hours=1),
    )  # fmt: skip
    late = client.post("/api/v1/portal/payments", headers=alice,
                       json={**pay, "payload": expired.payload})  # fmt: skip
    assert late.status_code == 422
    assert late.json()["error"] == "payload_expired"
    garbage = client.post(
        "/api/v1/portal/payments", headers=alice, json={**pay, "payload": "hello"}
    )
    assert garbage.json()["error"] == "payload_invalid"
    assert _counts(db) == before
    assert _balance(db, world.alice_account) == 495_800


def _principal(db: Session, world: PortalWorld, who: str):  # type: ignore[no-untyped-def]
    from branchdesk.portal.models import PortalLogin
    from branchdesk.portal.service.common import customer_principal

    customer = world.bob if who == "bob" else world.alice
    login = db.execute(
        select(PortalLogin).where(PortalLogin.customer_id == customer.id)
    ).scalar_one()
    return customer_principal(customer, login)


def test_notification_settings_round_trip(
    client: TestClient, portal_app: FastAPI, notifier: RecordingNotifier, world: PortalWorld
) -> None:
    headers = api_login(client, notifier, world.alice.customer_number)
    url = "/api/v1/portal/notification-settings"
    assert client.get(url, headers=headers).json() == {
        "transaction_alerts_sms": True, "transaction_alerts_email": False,
        "appointment_reminders_sms": True, "appointment_reminders_email": True,
        "queue_come_back_sms": True, "queue_come_back_email": False,
        "greetings_sms": True, "greetings_email": False, "offers_sms": True, "offers_email": True,
    }  # fmt: skip
    chosen = {
        "transaction_alerts_sms": False, "transaction_alerts_email": True,
        "appointment_reminders_sms": False, "appointment_reminders_email": False,
        "queue_come_back_sms": False, "queue_come_back_email": True,
        "greetings_sms": False, "greetings_email": True, "offers_sms": False, "offers_email": False,
    }  # fmt: skip
    assert client.put(url, headers=headers, json=chosen).json() == chosen
    assert client.get(url, headers=headers).json() == chosen
    bob = api_login(client, notifier, world.bob.customer_number)
    assert client.get(url, headers=bob).json()["transaction_alerts_sms"] is True


def test_queue_ticket_and_appointments(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    service_type = make_service_type(db)
    offer(db, world.bank.branch, service_type)
    from branchdesk.queue.models import QueueSettings

    db.add(
        QueueSettings(
            branch_id=world.bank.branch.id, enforce_opening_hours=False, updated_at=utcnow()
        )
    )
    db.flush()
    headers = api_login(client, notifier, world.alice.customer_number)
    ticket = client.post(
        "/api/v1/portal/queue-tickets", headers=headers,
        json={"branch_code": world.bank.branch.code, "service_code": service_type.code},
    )  # fmt: skip
    assert ticket.status_code == 201, ticket.text
    assert ticket.json()["number"].startswith(service_type.ticket_prefix + "-")
    assert ticket.json()["url"].startswith("/t/")
    start = utcnow() + timedelta(days=1)
    first = make_slot(db, world.bank.branch, service_type, starts_at=start)
    second = make_slot(db, world.bank.branch, service_type, starts_at=start + timedelta(hours=1))
    booked = client.post(
        "/api/v1/portal/appointments", headers=headers, json={"slot_id": str(first.id)}
    )
    assert booked.status_code == 201, booked.text
    reference = booked.json()["reference"]
    assert booked.json()["channel"] == "portal"
    moved = client.post(f"/api/v1/portal/appointments/{reference}/reschedule", headers=headers,
                        json={"slot_id": str(second.id)})  # fmt: skip
    assert moved.status_code == 200
    assert moved.json()["slot_id"] == str(second.id)
    bob = api_login(client, notifier, world.bob.customer_number)
    assert (
        client.post(f"/api/v1/portal/appointments/{reference}/cancel", headers=bob).status_code
        == 404
    )
    cancelled = client.post(f"/api/v1/portal/appointments/{reference}/cancel", headers=headers)
    assert cancelled.json()["state"] == "cancelled"
    mine = client.get("/api/v1/portal/appointments", headers=headers).json()
    assert [(a["reference"], a["state"]) for a in mine] == [(reference, "cancelled")]


def test_staff_enrolment_route_sends_an_activation_code(
    client: TestClient, db: Session, signer: Signer, portal_app: FastAPI,
    notifier: RecordingNotifier, world: PortalWorld,
) -> None:  # fmt: skip
    from tests.factories import make_customer

    carol = make_customer(db, signer, home_branch_id=world.bank.branch.id, phone="+886912000003")
    teller = make_user(db, Role.teller, (world.bank.branch,))
    url = f"/api/v1/customers/{carol.customer_number}/portal-enrolment"
    quality = make_user(db, Role.quality_officer, (world.bank.branch,))
    assert client.post(url, headers=bearer(signer, quality)).status_code == 403
    done = client.post(url, headers=bearer(signer, teller))
    assert done.status_code == 201
    assert done.json() == {
        "customer_number": carol.customer_number, "status": "pending_activation",
        "code_sent_to": "*********003",
    }  # fmt: skip
    activated = client.post(
        "/api/v1/portal/activate",
        json={"customer_number": carol.customer_number, "code": last_code(notifier),
              "password": "carol-new-password"},
    )  # fmt: skip
    assert activated.status_code == 200, activated.text
    token = {"Authorization": f"Bearer {activated.json()['access_token']}"}
    assert client.get("/api/v1/portal/accounts", headers=token).json() == []
    missing = client.post(
        "/api/v1/customers/0000000000/portal-enrolment", headers=bearer(signer, teller)
    )
    assert missing.status_code == 404


def test_a_code_is_delivered_at_once_even_behind_a_backlog(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    from branchdesk.core.notify import Message, queue_notification

    for n in range(30):  # undelivered alerts waiting for the worker
        queue_notification(
            db, now=utcnow(),
            message=Message(template="portal.transaction_alert", to_phone="+886900000000",
                            values={"account": "*0000", "amount": f"CNY {n}.00", "status": "posted"}),
        )  # fmt: skip
    headers = api_login(client, notifier, world.alice.customer_number)  # reads the code it got
    assert [m.template for m in notifier.sent] == ["portal.login_code"]
    assert client.get("/api/v1/portal/accounts", headers=headers).status_code == 200


def test_a_customer_with_an_expired_id_cannot_pay_from_the_phone(
    client: TestClient, db: Session, portal_app: FastAPI, notifier: RecordingNotifier,
    world: PortalWorld,
) -> None:  # fmt: skip
    """The portal posts through the ledger API's own check (expired KYC, then AML), not the
    AML rules alone."""
    portal_app.state.ledger_compliance = None  # the app's default check
    headers = api_login(client, notifier, world.alice.customer_number)
    world.alice.id_expires_on = utcnow().date() - timedelta(days=2)
    db.flush()
    before = (_counts(db), _balance(db, world.alice_account), _balance(db, world.bob_account))
    refused = _transfer(client, headers, world, 10_000, key="kyc-1")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "posting_blocked"
    assert (_counts(db), _balance(db, world.alice_account), _balance(db, world.bob_account)) == (
        before
    )
    world.alice.id_expires_on = utcnow().date() + timedelta(days=365)
    db.flush()
    paid = _transfer(client, headers, world, 10_000, key="kyc-2")
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "posted"
    assert _balance(db, world.bob_account) == before[2] + 10_000
