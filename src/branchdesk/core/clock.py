"""The one place that knows what time it is. Services take ``now`` as an argument."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive datetime is a bug and raises ``ValueError``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: every instant must carry a time zone")
    return value.astimezone(UTC)


def local_minute(value: datetime | None, timezone: str | ZoneInfo) -> str:
    """An instant as pages show it: in a branch's time zone, to the minute ("" for none)."""
    if value is None:
        return ""
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
