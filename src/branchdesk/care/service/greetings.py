"""Birthday and festival greetings, decided once per customer and occasion.

A customer's day is their home branch's local day, and nothing goes out before
``SEND_FROM_HOUR`` there (no text message at midnight). Customers without a home branch follow
``FALLBACK_ZONE``. The job runs hourly; each run greets whoever's occasion is today and has no
``care_greetings`` row yet, so reruns and a second worker add nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.care.models import Greeting, GreetingStatus
from branchdesk.care.notices import greeting_template
from branchdesk.care.rules import birthday_in, festivals_on, occasion_key
from branchdesk.care.schemas import GreetingSummary
from branchdesk.catalog.models import Branch
from branchdesk.core.ids import new_id
from branchdesk.core.notify import Message, queue_notification
from branchdesk.customers.models import Customer
from branchdesk.portal.service.preferences import wants_many

SEND_FROM_HOUR = 9
FALLBACK_ZONE = "Asia/Hong_Kong"


def display_name(customer: Customer) -> str:
    """How a message addresses the customer: the Latin name in English when there is one."""
    if customer.preferred_locale == "en" and customer.latin_name:
        return customer.latin_name
    return customer.full_name


def _local_days(db: Session, now: datetime) -> dict[uuid.UUID | None, date]:
    """Home branch id (None: no branch) -> its local date, for those past SEND_FROM_HOUR."""
    days: dict[uuid.UUID | None, date] = {}
    zones = [(b.id, b.timezone) for b in db.execute(select(Branch)).scalars()]
    for branch_id, zone in [*zones, (None, FALLBACK_ZONE)]:
        local = now.astimezone(ZoneInfo(zone))
        if local.hour >= SEND_FROM_HOUR:
            days[branch_id] = local.date()
    return days


def send_greetings(db: Session, *, now: datetime) -> GreetingSummary:
    """Queue today's greetings (sent after commit by the notifier); returns what was decided."""
    days = _local_days(db, now)
    occasions: Counter[str] = Counter()
    outcome: Counter[str] = Counter()
    for branch_id, day in days.items():
        here = (
            Customer.home_branch_id.is_(None)
            if branch_id is None
            else Customer.home_branch_id == branch_id
        )
        wanted: dict[uuid.UUID, list[str]] = {}
        # birthdays: only (id, birth date) pairs are read; the date test is done here, so it
        # is the same on SQLite and PostgreSQL (29 February included)
        for customer_id, birth_on in db.execute(
            select(Customer.id, Customer.birth_on).where(here, Customer.birth_on.is_not(None))
        ).all():
            if birth_on is not None and birthday_in(birth_on, day.year) == day:
                wanted.setdefault(customer_id, []).append("birthday")
        birthday_key = occasion_key("birthday", day)
        greeted = _greeted(db, list(wanted), birthday_key)
        wanted = {c: codes for c, codes in wanted.items() if c not in greeted}
        for code in festivals_on(day):
            key = occasion_key(code, day)
            pending = db.execute(
                select(Customer.id).where(
                    here,
                    ~select(Greeting.id)
                    .where(Greeting.customer_id == Customer.id, Greeting.occasion_key == key)
                    .exists(),
                )
            ).scalars()
            for customer_id in pending:
                wanted.setdefault(customer_id, []).append(code)
        if not wanted:
            continue
        ids = sorted(wanted)
        people: dict[uuid.UUID, Customer] = {}
        for start in range(0, len(ids), 500):
            people.update(
                (c.id, c)
                for c in db.execute(
                    select(Customer).where(Customer.id.in_(ids[start : start + 500]))
                ).scalars()
            )
        due = [
            (people[c], code)
            for c in sorted(ids, key=lambda c: people[c].customer_number)
            for code in wanted[c]
        ]
        sms = wants_many(db, customer_ids=ids, event="greetings", channel="sms")
        email = wants_many(db, customer_ids=ids, event="greetings", channel="email")
        for customer, code in due:
            key = occasion_key(code, day)
            occasions[code] += 1
            message_id = None
            if not sms[customer.id] and not email[customer.id]:
                status = GreetingStatus.opted_out
            else:
                phone = customer.phone if sms[customer.id] else ""
                address = customer.email if email[customer.id] else ""
                if not phone and not address:
                    status = GreetingStatus.no_contact
                else:
                    status = GreetingStatus.sent
                    message_id = queue_notification(
                        db,
                        message=Message(
                            template=greeting_template(code), locale=customer.preferred_locale,
                            to_phone=phone, to_email=address,
                            values={"name": display_name(customer)},
                        ),
                        now=now, aggregate_type="customer", aggregate_id=customer.id,
                        branch_id=customer.home_branch_id,
                    )  # fmt: skip
            outcome[status] += 1
            db.add(
                Greeting(
                    id=new_id(), customer_id=customer.id, occasion=code, occasion_key=key,
                    occasion_on=day, status=status, message_id=message_id, created_at=now,
                )
            )  # fmt: skip
    db.flush()
    return GreetingSummary(
        on=now.date(),
        occasions=dict(sorted(occasions.items())),
        sent=outcome[GreetingStatus.sent],
        opted_out=outcome[GreetingStatus.opted_out],
        no_contact=outcome[GreetingStatus.no_contact],
    )


def _greeted(db: Session, customer_ids: list[uuid.UUID], key: str) -> set[uuid.UUID]:
    """Which of these customers already have the greeting ``key``."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(customer_ids), 500):
        found.update(
            db.execute(
                select(Greeting.customer_id).where(
                    Greeting.customer_id.in_(customer_ids[start : start + 500]),
                    Greeting.occasion_key == key,
                )
            ).scalars()
        )
    return found
