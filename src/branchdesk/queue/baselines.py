"""The four classical wait-time predictors, computed online from the same event stream.

Each one answers at issue time from what happened before, for the ticket's *class*. Two
keyings are computed: `service` (the class is the ticket's service) and `service+priority`
(the class is the service and the priority; where that class has no data yet it falls back
to the service). The evaluation takes the best of all of them, so the model is compared with
the strongest classical answer available.

- `queue_length`: (number of tickets of the class waiting when the ticket is issued, not
  counting it) x (mean service time of the service so far, over completed services) / (number
  of open counters whose skills include the service, at least 1).
- `last_to_enter_service`: the wait of the most recent ticket of the class that was called.
- `head_of_line`: how long the oldest ticket of the class still waiting has waited so far
  (0 when nobody of the class waits).
- `recent_hour_mean`: mean wait of the tickets of the class called during the last hour
  (falling back to the service, then to every ticket in the last hour, then to 0).
"""

from __future__ import annotations

from collections import deque

from branchdesk.queue.waittime.events import EventType, QueueEvent

BASELINE_NAMES = ("queue_length", "last_to_enter_service", "head_of_line", "recent_hour_mean")
KEYINGS = ("service", "service+priority")


class ClassicalBaselines:
    """All classical predictors for one branch, fed with the same events as the model."""

    def __init__(self) -> None:
        self._issued: dict[str, tuple[float, str, str]] = {}
        self._waiting: dict[tuple[str, ...], dict[str, float]] = {}
        self._last_wait: dict[tuple[str, ...], float] = {}
        self._recent: dict[tuple[str, ...], deque[tuple[float, float]]] = {}
        self._service_sum: dict[str, float] = {}
        self._service_count: dict[str, int] = {}
        self._called_at: dict[str, tuple[float, str]] = {}
        self._skills: dict[str, frozenset[str]] = {}
        self._open: set[str] = set()
        self._day: object = None

    @staticmethod
    def _keys(service: str, priority: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (service,), (service, priority)

    def observe(self, event: QueueEvent) -> None:
        now = event.ts.timestamp()
        if event.ts.date() != self._day:
            self._day = event.ts.date()
            self._waiting = {}
            self._issued = {}
            self._called_at = {}
            self._open = set()
        if event.type is EventType.ISSUED:
            if event.ticket is None or event.service is None or event.priority is None:
                return
            self._issued[event.ticket] = (now, event.service, event.priority)
            for key in self._keys(event.service, event.priority):
                self._waiting.setdefault(key, {})[event.ticket] = now
        elif event.type is EventType.CALLED:
            if event.ticket is None:
                return
            issued = self._issued.get(event.ticket)
            if issued is None:
                return
            at, service, priority = issued
            wait = now - at
            for key in self._keys(service, priority):
                self._waiting.get(key, {}).pop(event.ticket, None)
                self._last_wait[key] = wait
                self._recent.setdefault(key, deque()).append((now, wait))
            self._recent.setdefault((), deque()).append((now, wait))
            self._called_at[event.ticket] = (now, service)
        elif event.type is EventType.COMPLETED:
            if event.ticket is None:
                return
            called = self._called_at.pop(event.ticket, None)
            if called is not None:
                service = called[1]
                self._service_sum[service] = self._service_sum.get(service, 0.0) + now - called[0]
                self._service_count[service] = self._service_count.get(service, 0) + 1
        elif event.type is EventType.COUNTER_OPEN and event.counter is not None:
            self._skills[event.counter] = frozenset(event.services)
            self._open.add(event.counter)
        elif event.type is EventType.COUNTER_CLOSE and event.counter is not None:
            self._open.discard(event.counter)

    def _mean_service(self, service: str) -> float:
        count = self._service_count.get(service, 0)
        if count:
            return self._service_sum[service] / count
        total = sum(self._service_count.values())
        return sum(self._service_sum.values()) / total if total else 0.0

    def _recent_mean(self, key: tuple[str, ...], now: float) -> float | None:
        recent = self._recent.get(key)
        if not recent:
            return None
        while recent and recent[0][0] < now - 3600.0:
            recent.popleft()
        if not recent:
            return None
        return sum(wait for _, wait in recent) / len(recent)

    def predict(self, ticket: str, now: float) -> dict[str, float]:
        """Every predictor's answer for a ticket just issued, named `<keying>/<baseline>`."""
        issued = self._issued.get(ticket)
        if issued is None:
            return {}
        _, service, priority = issued
        counters = sum(1 for c in self._open if service in self._skills.get(c, frozenset()))
        mean_service = self._mean_service(service)
        answers: dict[str, float] = {}
        service_key = (service,)
        for keying, key in zip(KEYINGS, self._keys(service, priority), strict=True):
            waiting = self._waiting.get(key, {})
            ahead = len(waiting) - (1 if ticket in waiting else 0)
            answers[f"{keying}/queue_length"] = ahead * mean_service / max(counters, 1)
            last = self._last_wait.get(key, self._last_wait.get(service_key, 0.0))
            answers[f"{keying}/last_to_enter_service"] = last
            head = 0.0
            for other, at in waiting.items():
                if other != ticket:
                    head = now - at
                break
            answers[f"{keying}/head_of_line"] = head
            recent = self._recent_mean(key, now)
            if recent is None:
                recent = self._recent_mean(service_key, now)
            if recent is None:
                recent = self._recent_mean((), now)
            answers[f"{keying}/recent_hour_mean"] = recent if recent is not None else 0.0
        return answers
