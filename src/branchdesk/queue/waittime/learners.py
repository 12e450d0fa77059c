"""Online learners of the wait-time model: calling order, counter schedule, residual ridge.

Each learner is updated event by event and never looks ahead. Service times live in
`service_times.py`, arrival rates in `arrivals.py`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

STRICT_BOOST = 1.0e7  # a calling-key boost that no wait can overcome: strict priority


class CallingOrder:
    """Infers the branch's calling order from which eligible ticket each counter called.

    Model: a counter calls the eligible ticket with the smallest key `issued - boost[priority]`.
    Every call bounds boost differences: calling class a over an older waiting ticket of
    class b means boost[a] - boost[b] >= age difference. A class that was always called ahead
    of another, never the reverse, is a strict tier above it; within a tier the finite
    boosts are the midpoints of the bounds, fitted by least squares.
    """

    def __init__(self) -> None:
        self._lower: dict[tuple[str, str], float] = {}
        self._count: dict[tuple[str, str], int] = {}
        self._priorities: list[str] = []
        self._boosts: dict[str, float] | None = None

    def observe_call(self, chosen: str, issued: float, oldest_other: dict[str, float]) -> None:
        """`oldest_other`: issue time of the oldest eligible waiting ticket of each other class."""
        if chosen not in self._priorities:
            self._priorities.append(chosen)
            self._boosts = None
        for other, other_issued in oldest_other.items():
            if other not in self._priorities:
                self._priorities.append(other)
            pair = (chosen, other)
            bound = issued - other_issued
            if bound > self._lower.get(pair, -math.inf):
                self._lower[pair] = bound
                self._boosts = None
            self._count[pair] = self._count.get(pair, 0) + 1

    def boosts(self) -> dict[str, float]:
        if self._boosts is None:
            self._boosts = self._fit()
        return self._boosts

    def boost(self, priority: str) -> float:
        return self.boosts().get(priority, 0.0)

    def _strictly_above(self, a: str, b: str) -> bool:
        return (
            self._lower.get((a, b), -math.inf) > 0.0
            and self._count.get((a, b), 0) >= 3
            and (b, a) not in self._lower
        )

    def _fit(self) -> dict[str, float]:
        priorities = self._priorities
        tier = dict.fromkeys(priorities, 0)
        for _ in range(len(priorities)):
            changed = False
            for a in priorities:
                for b in priorities:
                    if a != b and self._strictly_above(a, b) and tier[a] < tier[b] + 1:
                        tier[a] = min(tier[b] + 1, len(priorities))
                        changed = True
            if not changed:
                break
        index = {p: i for i, p in enumerate(priorities)}
        rows: list[FloatArray] = []
        targets: list[float] = []
        for (a, b), low in self._lower.items():
            if a >= b and (b, a) in self._lower:
                continue  # the pair is handled once, from its other orientation
            if tier[a] != tier[b]:
                continue
            high = -self._lower[(b, a)] if (b, a) in self._lower else math.inf
            if math.isinf(high):
                if low <= 0.0:
                    continue
                value, weight = low, 0.5
            else:
                value, weight = (low + high) / 2.0, 1.0
            row = np.zeros(len(priorities))
            row[index[a]] = weight
            row[index[b]] = -weight
            rows.append(row)
            targets.append(weight * value)
        finite = np.zeros(len(priorities))
        if rows:
            matrix = np.vstack([*rows, 1e-3 * np.eye(len(priorities))])
            vector = np.concatenate([np.asarray(targets), np.zeros(len(priorities))])
            finite = np.linalg.lstsq(matrix, vector, rcond=None)[0]
        return {p: tier[p] * STRICT_BOOST + float(finite[index[p]]) for p in priorities}


class CounterSchedule:
    """Learns when each counter usually starts, takes its break and closes for good."""

    def __init__(self) -> None:
        self._first_open: dict[str, list[float]] = {}
        self._breaks: dict[str, list[tuple[float, float]]] = {}
        self._hard_close: dict[str, list[float]] = {}
        self._days_seen: dict[str, int] = {}
        # today
        self._opened_today: dict[str, float] = {}
        self._closed_at: dict[str, float] = {}
        self._closed_with_waiting: dict[str, bool] = {}
        self._breaks_today: dict[str, int] = {}

    def record_open(self, counter: str, tod: float) -> None:
        if counter not in self._opened_today:
            self._opened_today[counter] = tod
        elif counter in self._closed_at:
            closed = self._closed_at.pop(counter)
            self._breaks.setdefault(counter, []).append((closed, tod))
            self._breaks_today[counter] = self._breaks_today.get(counter, 0) + 1
        self._closed_with_waiting.pop(counter, None)

    def record_close(self, counter: str, tod: float, *, has_waiting_work: bool) -> None:
        self._closed_at[counter] = tod
        self._closed_with_waiting[counter] = has_waiting_work

    def end_day(self) -> None:
        for counter, tod in self._opened_today.items():
            self._first_open.setdefault(counter, []).append(tod)
            self._days_seen[counter] = self._days_seen.get(counter, 0) + 1
        for counter, tod in self._closed_at.items():
            if self._closed_with_waiting.get(counter, False):
                self._hard_close.setdefault(counter, []).append(tod)
        self._opened_today = {}
        self._closed_at = {}
        self._closed_with_waiting = {}
        self._breaks_today = {}

    def is_closed_today(self, counter: str) -> bool:
        return counter in self._closed_at

    def next_break(self, counter: str, tod: float) -> tuple[float, float] | None:
        """(start, end) time of day of the break an open counter still has ahead today."""
        breaks = self._breaks.get(counter)
        days = self._days_seen.get(counter, 0)
        if not breaks or days == 0 or self._breaks_today.get(counter, 0) > 0:
            return None
        if len(breaks) * 2 < days:
            return None
        starts = sorted(start for start, _ in breaks)
        ends = sorted(end for _, end in breaks)
        start = starts[len(starts) // 2]
        end = ends[len(ends) // 2]
        if tod >= end:
            return None
        return max(start, tod), end

    def reopen_at(self, counter: str, tod: float) -> float | None:
        """When a counter that is closed now will open again today (None: not today)."""
        closed = self._closed_at.get(counter)
        if closed is None:
            if counter in self._opened_today:
                return tod
            first = self._first_open.get(counter)
            if not first:
                return None
            usual = sorted(first)[len(first) // 2]
            return usual if usual > tod else None
        breaks = self._breaks.get(counter)
        hard = self._hard_close.get(counter)
        if hard and len(hard) * 2 >= self._days_seen.get(counter, 1):
            usual_close = sorted(hard)[len(hard) // 2]
            if closed >= usual_close - 1800:
                return None
        if breaks:
            ends = sorted(end for _, end in breaks)
            durations = sorted(end - start for start, end in breaks)
            usual_end = ends[len(ends) // 2]
            return max(usual_end, closed + 0.5 * durations[len(durations) // 2], tod)
        return max(closed + 3600.0, tod)

    def hard_close(self, counter: str) -> float | None:
        """Usual time of day the counter stops calling even with tickets waiting, if any."""
        hard = self._hard_close.get(counter)
        if not hard or len(hard) * 2 < self._days_seen.get(counter, 1):
            return None
        return sorted(hard)[len(hard) // 2]


class OnlineRidge:
    """Recursive least squares with forgetting: a ridge regression updated one row at a time."""

    def __init__(self, size: int, *, ridge: float = 10.0, forgetting: float = 0.9995) -> None:
        self.weights = np.zeros(size)
        self._inverse = np.eye(size) / ridge
        self._forgetting = forgetting
        self.count = 0

    def predict(self, features: FloatArray) -> float:
        return float(self.weights @ features)

    def update(self, features: FloatArray, target: float) -> None:
        inverse = self._inverse
        projected = inverse @ features
        gain = projected / (self._forgetting + float(features @ projected))
        self.weights = self.weights + gain * (target - float(self.weights @ features))
        self._inverse = (inverse - np.outer(gain, projected)) / self._forgetting
        self.count += 1
