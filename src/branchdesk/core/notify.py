"""Notifications (SMS, e-mail) sent after commit through the outbox.

A domain calls ``queue_notification(db, message=..., now=...)`` inside its transaction. That only
appends a ``notify.requested`` event; the outbox consumer registered here hands the message to
the process's ``Notifier`` once the transaction has committed (``branchdesk worker``, or any
caller of ``core.events.deliver_outbox``). A rolled-back transaction therefore never sends.

Delivery is at-least-once: a notifier receives the event id as ``Message.message_id`` and may
drop a repeat (``RecordingNotifier`` and ``FileNotifier`` do, within one process).

Templates are registered by name with a text per locale (zh-Hant, zh-Hans, en) and
``str.format`` placeholders; any domain adds its own (appointments, surveys, care, one-time
passwords). There is no SMS or e-mail gateway here: the default ``FileNotifier`` appends what
would be sent, one JSON line per message, to ``<data_dir>/notifications.jsonl``; a real gateway
is another ``Notifier``.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from branchdesk.core.events import Consumer, EventView, record_event, register_consumer

log = logging.getLogger(__name__)

LOCALES = ("zh-Hant", "zh-Hans", "en")
EVENT_TYPE = "notify.requested"
CONSUMER_NAME = "notify"


class UnknownTemplate(KeyError):
    """A message names a template nobody registered (a bug, not a business outcome)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One notification to one person: a template and its values, in the person's language."""

    template: str
    locale: str = "zh-Hant"
    to_phone: str = ""
    to_email: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    message_id: uuid.UUID | None = None

    @property
    def text(self) -> str:
        return render_template(self.template, self.locale, self.values)


class Notifier(Protocol):
    def send(self, message: Message) -> None: ...


# --- templates -------------------------------------------------------------------------------

_TEMPLATES: dict[str, dict[str, str]] = {}


def register_template(name: str, texts: Mapping[str, str]) -> None:
    """Declare a template with one text per locale (zh-Hant, zh-Hans and en are required)."""
    missing = [locale for locale in LOCALES if not texts.get(locale)]
    if missing:
        raise ValueError(f"template {name!r} lacks {', '.join(missing)}")
    _TEMPLATES[name] = dict(texts)


def render_template(name: str, locale: str, values: Mapping[str, str]) -> str:
    """The text of a template in ``locale`` (English when the locale is not one of ours)."""
    texts = _TEMPLATES.get(name)
    if texts is None:
        raise UnknownTemplate(name)
    return texts.get(locale, texts["en"]).format_map(dict(values))


# --- notifiers -------------------------------------------------------------------------------


class RecordingNotifier:
    """In memory, for tests: ``sent`` lists every message once."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self._seen: set[uuid.UUID] = set()

    def send(self, message: Message) -> None:
        if message.message_id is not None:
            if message.message_id in self._seen:
                return
            self._seen.add(message.message_id)
        message.text  # noqa: B018 - an unknown template or a missing value fails here, as it would for real
        self.sent.append(message)


class FileNotifier:
    """The default without a gateway: one JSON line per message that would have been sent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: set[uuid.UUID] = set()
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        body = asdict(message)
        body["values"] = dict(message.values)
        body["message_id"] = str(message.message_id) if message.message_id else None
        body["text"] = message.text
        with self._lock:
            if message.message_id is not None:
                if message.message_id in self._seen:
                    return
                self._seen.add(message.message_id)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(body, ensure_ascii=False) + "\n")
        # No recipient or text in the log: they are personal data.
        log.info("notification recorded", extra={"command": message.template})


_notifier: Notifier | None = None


def set_notifier(notifier: Notifier | None) -> None:
    """Choose the process's notifier (None: back to the default file notifier)."""
    global _notifier
    _notifier = notifier


def get_notifier() -> Notifier:
    global _notifier
    if _notifier is None:
        from branchdesk.core.config import get_settings

        _notifier = FileNotifier(get_settings().data_dir / "notifications.jsonl")
    return _notifier


@contextmanager
def use_notifier(notifier: Notifier) -> Iterator[Notifier]:
    """Swap the notifier for a block (tests)."""
    global _notifier
    previous = _notifier
    _notifier = notifier
    try:
        yield notifier
    finally:
        _notifier = previous


# --- queueing and delivery -------------------------------------------------------------------


def queue_notification(
    db: Session,
    *,
    message: Message,
    now: datetime,
    aggregate_type: str = "notification",
    aggregate_id: uuid.UUID | None = None,
    branch_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Send ``message`` once the caller's transaction commits; returns its message id.

    Raises ``UnknownTemplate`` (a bug) before anything is written.
    """
    if not message.to_phone and not message.to_email:
        raise ValueError("a message needs a phone number or an e-mail address")
    message.text  # noqa: B018 - refuse an unknown template or a missing value now, not at delivery
    event = record_event(
        db,
        type=EVENT_TYPE,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        branch_id=branch_id,
        actor_id=actor_id,
        now=now,
        payload={
            "template": message.template,
            "locale": message.locale,
            "to_phone": message.to_phone,
            "to_email": message.to_email,
            "values": {str(k): str(v) for k, v in message.values.items()},
        },
    )
    return event.id


def _deliver(event: EventView) -> None:
    payload = event.payload
    get_notifier().send(
        Message(
            template=str(payload["template"]),
            locale=str(payload.get("locale", "en")),
            to_phone=str(payload.get("to_phone", "")),
            to_email=str(payload.get("to_email", "")),
            values={str(k): str(v) for k, v in dict(payload.get("values", {})).items()},
            message_id=event.id,
        )
    )


register_consumer(Consumer(name=CONSUMER_NAME, prefixes=(EVENT_TYPE,), handler=_deliver))
