"""Ticket events in the replay format (shared/data/waittime/README.md) and their parser."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EventType(StrEnum):
    """The kinds of ticket and counter events the queue emits."""

    COUNTER_OPEN = "counter_open"
    COUNTER_CLOSE = "counter_close"
    ISSUED = "issued"
    CALLED = "called"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class EventFormatError(ValueError):
    """A line is not a valid ticket event; the message says which field is wrong."""


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """One event of a branch's ticket stream. `ts` is timezone-aware, in the branch's offset."""

    ts: datetime
    type: EventType
    ticket: str | None = None
    service: str | None = None
    priority: str | None = None
    counter: str | None = None
    services: tuple[str, ...] = ()


_REQUIRED: dict[EventType, tuple[str, ...]] = {
    EventType.COUNTER_OPEN: ("counter", "services"),
    EventType.COUNTER_CLOSE: ("counter",),
    EventType.ISSUED: ("ticket", "service", "priority"),
    EventType.CALLED: ("ticket", "counter"),
    EventType.COMPLETED: ("ticket",),
    EventType.NO_SHOW: ("ticket",),
}


def _text(record: dict[str, object], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise EventFormatError(f"field {name!r} must be a non-empty string")
    return value


def parse_event(line: str) -> QueueEvent:
    """Parse one JSON line into a `QueueEvent`; raises `EventFormatError` when it is invalid."""
    try:
        record = json.loads(line.lstrip("\ufeff"))  # a byte-order mark may open a file
    except json.JSONDecodeError as error:
        raise EventFormatError(f"not valid JSON ({error.msg})") from None
    if not isinstance(record, dict):
        raise EventFormatError("an event must be a JSON object")
    raw_ts = record.get("ts")
    if not isinstance(raw_ts, str):
        raise EventFormatError("missing or non-string field 'ts'")
    try:
        ts = datetime.fromisoformat(raw_ts)
    except ValueError:
        raise EventFormatError(f"field 'ts' is not an ISO 8601 time: {raw_ts!r}") from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise EventFormatError(f"field 'ts' has no UTC offset: {raw_ts!r}")
    raw_type = record.get("type")
    if not isinstance(raw_type, str):
        raise EventFormatError("missing or non-string field 'type'")
    try:
        kind = EventType(raw_type)
    except ValueError:
        raise EventFormatError(f"unknown event type {raw_type!r}") from None
    for name in _REQUIRED[kind]:
        if record.get(name) is None:
            raise EventFormatError(f"{kind.value} event lacks field {name!r}")
    services: tuple[str, ...] = ()
    if kind is EventType.COUNTER_OPEN:
        raw_services = record["services"]
        if not isinstance(raw_services, list) or not all(
            isinstance(code, str) and code for code in raw_services
        ):
            raise EventFormatError("field 'services' must be a list of service codes")
        services = tuple(raw_services)
    return QueueEvent(
        ts=ts,
        type=kind,
        ticket=_text(record, "ticket"),
        service=_text(record, "service"),
        priority=_text(record, "priority"),
        counter=_text(record, "counter"),
        services=services,
    )
