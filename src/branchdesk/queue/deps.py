"""Request-scoped access to the live queue parts held by the app."""

from __future__ import annotations

from fastapi import Request

from branchdesk.queue.live import EventFeed, LiveWaits


def waits(request: Request) -> LiveWaits:
    value: LiveWaits = request.app.state.waits
    return value


def feed(request: Request) -> EventFeed:
    value: EventFeed = request.app.state.feed
    return value
