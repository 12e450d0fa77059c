"""Notification preferences: which events reach the customer by SMS and by e-mail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.portal.models import NotificationPreference
from branchdesk.portal.schemas import NotificationSettings

EVENTS = ("transaction_alerts", "appointment_reminders", "queue_come_back", "greetings", "offers")
Event = Literal[
    "transaction_alerts", "appointment_reminders", "queue_come_back", "greetings", "offers"
]
ChannelName = Literal["sms", "email"]


def _defaults(customer_id: uuid.UUID, now: datetime) -> NotificationPreference:
    return NotificationPreference(
        customer_id=customer_id,
        transaction_alerts_sms=True,
        transaction_alerts_email=False,
        appointment_reminders_sms=True,
        appointment_reminders_email=True,
        queue_come_back_sms=True,
        queue_come_back_email=False,
        greetings_sms=True,
        greetings_email=False,
        offers_sms=True,
        offers_email=True,
        updated_at=now,
    )


def _read(row: NotificationPreference) -> NotificationSettings:
    return NotificationSettings(
        transaction_alerts_sms=row.transaction_alerts_sms,
        transaction_alerts_email=row.transaction_alerts_email,
        appointment_reminders_sms=row.appointment_reminders_sms,
        appointment_reminders_email=row.appointment_reminders_email,
        queue_come_back_sms=row.queue_come_back_sms,
        queue_come_back_email=row.queue_come_back_email,
        greetings_sms=row.greetings_sms,
        greetings_email=row.greetings_email,
        offers_sms=row.offers_sms,
        offers_email=row.offers_email,
    )


def get_preferences(db: Session, *, customer_id: uuid.UUID, now: datetime) -> NotificationSettings:
    """The stored choices, or the defaults (nothing is written by reading)."""
    row = db.get(NotificationPreference, customer_id)
    return _read(row if row is not None else _defaults(customer_id, now))


def update_preferences(
    db: Session, *, customer_id: uuid.UUID, data: NotificationSettings, now: datetime
) -> NotificationSettings:
    row = db.get(NotificationPreference, customer_id)
    if row is None:
        row = _defaults(customer_id, now)
        db.add(row)
    for name, value in data.model_dump().items():
        setattr(row, name, bool(value))
    row.updated_at = now
    db.flush()
    return _read(row)


def wants(db: Session, *, customer_id: uuid.UUID, event: Event, channel: ChannelName) -> bool:
    """Whether the customer wants ``event`` by ``channel`` (for any domain that notifies)."""
    row = db.get(NotificationPreference, customer_id)
    if row is None:
        row = _defaults(customer_id, datetime.now(UTC))
    return bool(getattr(row, f"{event}_{channel}"))


def wants_many(
    db: Session, *, customer_ids: list[uuid.UUID], event: Event, channel: ChannelName
) -> dict[uuid.UUID, bool]:
    """``wants`` for many customers in one query per chunk (customers without a row: defaults)."""
    column = f"{event}_{channel}"
    default = bool(getattr(_defaults(uuid.UUID(int=0), datetime.now(UTC)), column))
    found = dict.fromkeys(customer_ids, default)
    for start in range(0, len(customer_ids), 500):
        chunk = customer_ids[start : start + 500]
        rows = db.execute(
            select(
                NotificationPreference.customer_id, getattr(NotificationPreference, column)
            ).where(NotificationPreference.customer_id.in_(chunk))
        ).all()
        found.update({row[0]: bool(row[1]) for row in rows})
    return found
