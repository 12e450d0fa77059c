"""Running calls at the same moment in threads, for tests of concurrent requests (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from branchdesk.core.errors import DomainError


def race(calls: list[Callable[[], object]], *, ok: str = "ok") -> list[str]:
    """Start every call at once (a barrier), each in its own thread; the sorted outcomes: ``ok``
    for a call that returned, the domain error's ``code`` for one that raised a DomainError (any
    other exception is lost with its thread, and the outcome list comes back shorter)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
            result = ok
        except DomainError as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)
