"""Publishing adapters: a post goes out after the transaction that published it commits.

``service.publish_post`` appends a ``social.publish_requested`` event; the outbox consumer
registered here hands it to the process's ``Publisher`` (``branchdesk worker`` or any caller of
``core.events.deliver_outbox``), so a rolled-back publish never reaches a channel. Delivery is
at-least-once: a publisher receives the event id as ``request.message_id`` and drops a repeat.

There is no network client here: the default ``FilePublisher`` appends what would be sent, one
JSON line per post, to ``<data_dir>/social_posts.jsonl`` (as the file notifier does for SMS and
e-mail); a real WeChat/LINE/Facebook client is another ``Publisher``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from branchdesk.core.events import Consumer, EventView, register_consumer

EVENT_TYPE = "social.publish_requested"
CONSUMER_NAME = "social_publisher"


@dataclass(frozen=True, slots=True)
class PublishRequest:
    reference: str
    channel: str
    title: str
    body: str
    link_url: str
    message_id: uuid.UUID | None = None


class Publisher(Protocol):
    def publish(self, request: PublishRequest) -> None: ...


class RecordingPublisher:
    """In memory, for tests: ``sent`` lists every post once."""

    def __init__(self) -> None:
        self.sent: list[PublishRequest] = []
        self._seen: set[uuid.UUID] = set()

    def publish(self, request: PublishRequest) -> None:
        if request.message_id is not None:
            if request.message_id in self._seen:
                return
            self._seen.add(request.message_id)
        self.sent.append(request)


class FilePublisher:
    """The default without a channel client: one JSON line per post that would be sent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: set[uuid.UUID] = set()
        self._lock = threading.Lock()

    def publish(self, request: PublishRequest) -> None:
        body = asdict(request)
        body["message_id"] = str(request.message_id) if request.message_id else None
        with self._lock:
            if request.message_id is not None:
                if request.message_id in self._seen:
                    return
                self._seen.add(request.message_id)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(body, ensure_ascii=False) + "\n")


_publisher: list[Publisher | None] = [None]


def get_publisher() -> Publisher:
    publisher = _publisher[0]
    if publisher is None:
        from branchdesk.core.config import get_settings

        publisher = FilePublisher(get_settings().data_dir / "social_posts.jsonl")
        _publisher[0] = publisher
    return publisher


@contextmanager
def use_publisher(publisher: Publisher) -> Iterator[Publisher]:
    """Swap the publisher for a block (tests)."""
    previous = _publisher[0]
    _publisher[0] = publisher
    try:
        yield publisher
    finally:
        _publisher[0] = previous


def _deliver(event: EventView) -> None:
    payload = event.payload
    get_publisher().publish(
        PublishRequest(
            reference=str(payload["reference"]),
            channel=str(payload["channel"]),
            title=str(payload["title"]),
            body=str(payload["body"]),
            link_url=str(payload.get("link_url", "")),
            message_id=event.id,
        )
    )


register_consumer(Consumer(name=CONSUMER_NAME, prefixes=(EVENT_TYPE,), handler=_deliver))
