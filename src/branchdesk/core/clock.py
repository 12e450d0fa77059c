"""The one place that knows what time it is. Services take ``now`` as an argument."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive datetime is a bug and raises ``ValueError``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: every instant must carry a time zone")
    return value.astimezone(UTC)
