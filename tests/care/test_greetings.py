"""Greetings: birthdays and lunar festivals on the branch's local day, from 09:00, in the
customer's language, by the channels the customer chose, once per customer and occasion, and
sent only when the outbox delivers after commit."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.care.models import Greeting
from branchdesk.care.service.greetings import send_greetings
from branchdesk.core.events import deliver_outbox
from branchdesk.core.notify import RecordingNotifier
from branchdesk.core.security import Signer
from branchdesk.portal.models import NotificationPreference
from tests.factories import make_branch, make_customer
from tests.portal.conftest import csrf_of, enrol_fast, page_login

MID_AUTUMN_MORNING = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)  # 10:00 in Taipei


def _prefer(db: Session, customer_id: object, **choices: bool) -> None:
    values = {
        "transaction_alerts_sms": True, "transaction_alerts_email": False,
        "appointment_reminders_sms": True, "appointment_reminders_email": True,
        "queue_come_back_sms": True, "queue_come_back_email": False, "greetings_sms": True,
        "greetings_email": False, "offers_sms": True, "offers_email": True,
    }  # fmt: skip
    values.update(choices)
    db.add(NotificationPreference(customer_id=customer_id, updated_at=MID_AUTUMN_MORNING, **values))
    db.flush()


def test_festival_and_birthday_greetings_follow_language_choice_and_local_day(
    db: Session, signer: Signer, notifier: RecordingNotifier
) -> None:
    taipei = make_branch(db, timezone="Asia/Taipei")
    new_york = make_branch(db, timezone="America/New_York")
    ann = make_customer(db, signer, home_branch_id=taipei.id, full_name="陳小安",
                        phone="+886912000101", birth_on=date(1990, 9, 25))  # fmt: skip
    bob = make_customer(db, signer, home_branch_id=taipei.id, latin_name="WONG Bob",
                        preferred_locale="en", phone="+886912000102", email="bob@example.com")  # fmt: skip
    _prefer(db, bob.id, greetings_sms=False, greetings_email=True)
    cat = make_customer(db, signer, home_branch_id=taipei.id, phone="+886912000103",
                        preferred_locale="zh-Hans")  # fmt: skip
    _prefer(db, cat.id, greetings_sms=False, greetings_email=False)
    dan = make_customer(db, signer, home_branch_id=taipei.id)  # no phone, no e-mail
    eve = make_customer(db, signer, home_branch_id=new_york.id, phone="+12125550100",
                        birth_on=date(1985, 9, 25))  # still 24 September in New York  # fmt: skip

    too_early = send_greetings(db, now=datetime(2026, 9, 25, 0, 30, tzinfo=UTC))  # 08:30 Taipei
    assert (too_early.sent, too_early.opted_out, too_early.no_contact) == (0, 0, 0)

    summary = send_greetings(db, now=MID_AUTUMN_MORNING)
    assert summary.occasions == {"birthday": 1, "mid_autumn": 4}
    assert (summary.sent, summary.opted_out, summary.no_contact) == (3, 1, 1)
    decided = {
        (g.customer_id, g.occasion_key): g.status for g in db.execute(select(Greeting)).scalars()
    }
    assert decided == {
        (ann.id, "birthday:2026"): "sent",
        (ann.id, "mid_autumn:2026"): "sent",
        (bob.id, "mid_autumn:2026"): "sent",
        (cat.id, "mid_autumn:2026"): "opted_out",
        (dan.id, "mid_autumn:2026"): "no_contact",
    }
    assert eve.id not in {customer for customer, _key in decided}
    assert notifier.sent == []  # queued in the transaction, not sent
    deliver_outbox(db, now=MID_AUTUMN_MORNING)
    sent = sorted((m.template, m.to_phone, m.to_email, m.text) for m in notifier.sent)
    assert sent == [
        ("care.greeting.birthday", "+886912000101", "",
         "陳小安，祝您生日快樂，身體健康，萬事如意！"),
        ("care.greeting.mid_autumn", "", "bob@example.com",
         "Happy Mid-Autumn Festival, WONG Bob! May the full moon bring you joy."),
        ("care.greeting.mid_autumn", "+886912000101", "", "陳小安，中秋快樂，花好月圓，闔家團圓！"),
    ]  # fmt: skip

    again = send_greetings(db, now=MID_AUTUMN_MORNING.replace(hour=9))
    assert (again.sent, again.opted_out, again.no_contact, again.occasions) == (0, 0, 0, {})
    assert db.scalar(select(func.count()).select_from(Greeting)) == 5


def test_turning_greetings_off_in_the_portal_settings_page_is_respected(
    db: Session, signer: Signer, client: TestClient, portal_app: FastAPI,
    notifier: RecordingNotifier,
) -> None:  # fmt: skip
    branch = make_branch(db, timezone="Asia/Taipei")
    ann = make_customer(db, signer, home_branch_id=branch.id, phone="+886912000111")
    enrol_fast(db, ann)
    page_login(client, notifier, ann.customer_number)
    settings = client.get("/my/settings")
    assert "Birthday and festival greetings" in settings.text
    form = {"csrf_token": csrf_of(settings.text), "transaction_alerts_sms": "on"}
    assert client.post("/my/settings", data=form).status_code == 200
    summary = send_greetings(db, now=MID_AUTUMN_MORNING)
    assert (summary.sent, summary.opted_out) == (0, 1)
    stored = db.get(NotificationPreference, ann.id, populate_existing=True)
    assert stored is not None
    assert (stored.greetings_sms, stored.offers_sms, stored.transaction_alerts_sms) == (
        False,
        False,
        True,
    )
