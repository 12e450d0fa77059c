"""Online statistics the wait-time model learns from the event stream of one branch.

Each learner is updated event by event and never looks ahead: service times per service and
counter speed, no-shows, arrival rates by time of day, the calling order between priority
classes, counter breaks, and a small recursive-least-squares correction of the look-ahead.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import deque
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

BIN_SECONDS = 900  # arrival and schedule statistics use quarter-hour bins of the local day
BINS_PER_DAY = 86400 // BIN_SECONDS
STRICT_BOOST = 1.0e7  # a calling-key boost that no wait can overcome: strict priority


class ServiceTimes:
    """Service durations per service, per-counter speed and no-show behaviour."""

    def __init__(self, *, window: int = 400, prior_seconds: float = 300.0) -> None:
        self._window = window
        self._prior = prior_seconds
        self._samples: dict[str, deque[float]] = {}
        self._sums: dict[str, float] = {}
        self._sorted: dict[str, tuple[list[float], list[float]]] = {}
        self._global_sum = 0.0
        self._global_count = 0
        # per counter: sum of observed durations and of the service means they compare with
        self._speed_sums: dict[str, tuple[float, float]] = {}
        self._called: dict[str, int] = {}
        self._no_shows: dict[str, int] = {}
        self._no_show_seconds_sum = 0.0
        self._no_show_count = 0

    def global_mean(self) -> float:
        if self._global_count == 0:
            return self._prior
        return self._global_sum / self._global_count

    def mean(self, service: str) -> float:
        """Mean service time, shrunk towards the branch-wide mean while samples are few."""
        samples = self._samples.get(service)
        count = len(samples) if samples else 0
        total = self._sums.get(service, 0.0)
        shrink = 3.0
        return (total + shrink * self.global_mean()) / (count + shrink)

    def speed(self, counter: str) -> float:
        """Counter service time relative to the service mean (1.0 when unknown)."""
        observed, expected = self._speed_sums.get(counter, (0.0, 0.0))
        prior = 5.0 * self.global_mean()
        return (observed + prior) / (expected + prior)

    def no_show_probability(self, service: str) -> float:
        called = self._called.get(service, 0)
        return (self._no_shows.get(service, 0) + 0.2) / (called + 5.0)

    def no_show_seconds(self) -> float:
        if self._no_show_count == 0:
            return 60.0
        return self._no_show_seconds_sum / self._no_show_count

    def expected_duration(self, service: str, counter: str) -> float:
        """Expected time a counter spends on a called ticket (service or no-show)."""
        p = self.no_show_probability(service)
        return (1.0 - p) * self.mean(service) * self.speed(counter) + p * self.no_show_seconds()

    def residual(self, service: str, counter: str, elapsed: float) -> float:
        """Expected remaining time of a ticket in service for `elapsed` seconds."""
        speed = self.speed(counter)
        p = self.no_show_probability(service)
        ns = self.no_show_seconds()
        service_left = self._service_residual(service, elapsed / speed) * speed
        if elapsed < ns:
            return p * (ns - elapsed) + (1.0 - p) * service_left
        return service_left

    def _ordered(self, service: str) -> tuple[list[float], list[float]] | None:
        """Recent durations of a service, sorted, with suffix sums (None while too few)."""
        samples = self._samples.get(service)
        if not samples or len(samples) < 5:
            return None
        cached = self._sorted.get(service)
        if cached is None:
            ordered = sorted(samples)
            suffix = [0.0] * (len(ordered) + 1)
            for index in range(len(ordered) - 1, -1, -1):
                suffix[index] = suffix[index + 1] + ordered[index]
            cached = (ordered, suffix)
            self._sorted[service] = cached
        return cached

    def _service_residual(self, service: str, elapsed: float) -> float:
        mean = self.mean(service)
        cached = self._ordered(service)
        if cached is None:
            return max(mean - elapsed, 0.3 * mean)
        ordered, suffix = cached
        index = bisect_right(ordered, elapsed)
        left = len(ordered) - index
        if left < 3:
            return 0.25 * mean
        return (suffix[index] - elapsed * left) / left

    def duration_sampler(self, service: str, counter: str) -> Callable[[random.Random], float]:
        """Draws the time a counter spends on a newly called ticket of the service."""
        speed = self.speed(counter)
        p = self.no_show_probability(service)
        ns = self.no_show_seconds()
        cached = self._ordered(service)
        mean = self.mean(service) * speed
        if cached is None:

            def draw_exponential(rng: random.Random) -> float:
                return ns if rng.random() < p else rng.expovariate(1.0 / mean)

            return draw_exponential
        ordered = [value * speed for value in cached[0]]
        size = len(ordered)

        def draw(rng: random.Random) -> float:
            return ns if rng.random() < p else ordered[int(rng.random() * size)]

        return draw

    def residual_sampler(
        self, service: str, counter: str, elapsed: float
    ) -> Callable[[random.Random], float]:
        """Draws the remaining time of a ticket in service for `elapsed` seconds."""
        speed = self.speed(counter)
        p = self.no_show_probability(service)
        ns = self.no_show_seconds()
        cached = self._ordered(service)
        scaled = elapsed / speed
        fallback = self.residual(service, counter, elapsed)
        ordered: list[float] = []
        start = 0
        if cached is not None:
            start = bisect_right(cached[0], scaled)
            if len(cached[0]) - start >= 3:
                ordered = cached[0]
        if elapsed < ns:
            survive = 1.0 - self._fraction_below(cached, scaled)
            p = p / (p + (1.0 - p) * survive) if p > 0.0 else 0.0
        else:
            p = 0.0
        size = len(ordered) - start if ordered else 0

        def draw(rng: random.Random) -> float:
            if p > 0.0 and rng.random() < p:
                return ns - elapsed
            if size:
                return (ordered[start + int(rng.random() * size)] - scaled) * speed
            return rng.expovariate(1.0 / max(fallback, 1.0))

        return draw

    @staticmethod
    def _fraction_below(cached: tuple[list[float], list[float]] | None, value: float) -> float:
        if cached is None:
            return 0.0
        return bisect_right(cached[0], value) / len(cached[0])

    def record_call(self, service: str) -> None:
        self._called[service] = self._called.get(service, 0) + 1

    def record_no_show(self, service: str, seconds: float) -> None:
        self._no_shows[service] = self._no_shows.get(service, 0) + 1
        self._no_show_seconds_sum += seconds
        self._no_show_count += 1

    def record_service(self, service: str, counter: str, seconds: float) -> None:
        seconds = max(seconds, 1.0)
        mean_before = self.mean(service)
        samples = self._samples.setdefault(service, deque(maxlen=self._window))
        total = self._sums.get(service, 0.0)
        if len(samples) == self._window:
            total -= samples[0]
        samples.append(seconds)
        self._sums[service] = total + seconds
        self._sorted.pop(service, None)
        self._global_sum += seconds
        self._global_count += 1
        if len(samples) >= 5:
            observed, expected = self._speed_sums.get(counter, (0.0, 0.0))
            self._speed_sums[counter] = (observed + seconds, expected + mean_before)


class ArrivalRates:
    """Issued tickets per (priority, service) and quarter-hour of the local day."""

    def __init__(self) -> None:
        self._history: dict[tuple[str, str], FloatArray] = {}
        self._history_total = np.zeros(BINS_PER_DAY)
        self._today: dict[tuple[str, str], FloatArray] = {}
        self._today_total = np.zeros(BINS_PER_DAY)
        self.days = 0
        self._first_issue_tod: float | None = None

    def record(self, priority: str, service: str, tod: float) -> None:
        index = min(int(tod // BIN_SECONDS), BINS_PER_DAY - 1)
        counts = self._today.setdefault((priority, service), np.zeros(BINS_PER_DAY))
        counts[index] += 1.0
        self._today_total[index] += 1.0
        if self._first_issue_tod is None:
            self._first_issue_tod = tod

    def end_day(self) -> None:
        if self._today_total.sum() > 0:
            for key, counts in self._today.items():
                history = self._history.setdefault(key, np.zeros(BINS_PER_DAY))
                history += counts
            self._history_total += self._today_total
            self.days += 1
        self._today = {}
        self._today_total = np.zeros(BINS_PER_DAY)
        self._first_issue_tod = None

    def load_factor(self, tod: float) -> float:
        """Today's arrivals so far relative to the usual arrivals by this time of day."""
        if self.days == 0:
            return 1.0
        index = min(int(tod // BIN_SECONDS), BINS_PER_DAY - 1)
        fraction = (tod - index * BIN_SECONDS) / BIN_SECONDS
        usual = float(self._history_total[:index].sum() + fraction * self._history_total[index])
        usual /= self.days
        seen = float(self._today_total[: index + 1].sum())
        factor = (seen + 8.0) / (usual + 8.0)
        return min(max(factor, 0.5), 2.0)

    def arrival_curve(
        self, priority: str, service: str, tod: float, until_tod: float, factor: float
    ) -> ArrivalCurve | None:
        """Expected cumulative arrivals of a class over (tod, until_tod] (None: none expected)."""
        if until_tod <= tod:
            return None
        if self.days > 0:
            history = self._history.get((priority, service))
            if history is None:
                return None
            rates = history * (factor / self.days / BIN_SECONDS)
        else:
            # first day: today's rate so far, flat for the next two hours
            today = self._today.get((priority, service))
            if today is None or self._first_issue_tod is None:
                return None
            elapsed = max(tod - self._first_issue_tod, 1800.0)
            rates = np.zeros(BINS_PER_DAY)
            first = min(int(tod // BIN_SECONDS), BINS_PER_DAY - 1)
            rates[first : min(first + 8, BINS_PER_DAY)] = float(today.sum()) / elapsed
        times = [tod]
        counts = [0.0]
        index = min(int(tod // BIN_SECONDS), BINS_PER_DAY - 1)
        position = tod
        while index < BINS_PER_DAY and position < until_tod:
            bin_end = min((index + 1) * BIN_SECONDS, until_tod)
            rate = float(rates[index])
            if rate > 0.0:
                if times[-1] != position:
                    times.append(position)
                    counts.append(counts[-1])
                times.append(bin_end)
                counts.append(counts[-1] + rate * (bin_end - position))
            position = bin_end
            index += 1
        if counts[-1] <= 0.0:
            return None
        return ArrivalCurve(times, counts)

    def future_arrivals(
        self, priority: str, service: str, tod: float, until_tod: float, factor: float
    ) -> list[float]:
        """Expected arrival times (time of day) of a class in (tod, until_tod], spread evenly.

        The k-th arrival is placed where the expected count since `tod` reaches k - 0.5.
        """
        curve = self.arrival_curve(priority, service, tod, until_tod, factor)
        if curve is None:
            return []
        levels: list[float] = []
        level = 0.5
        while level <= curve.counts[-1] and len(levels) < 400:
            levels.append(level)
            level += 1.0
        return curve.times_at(levels)


class ArrivalCurve:
    """Piecewise-linear expected cumulative count of arrivals against time of day."""

    __slots__ = ("counts", "times", "total")

    def __init__(self, times: list[float], counts: list[float]) -> None:
        self.times = times
        self.counts = counts
        self.total = counts[-1]

    def times_at(self, levels: list[float]) -> list[float]:
        """Times where the cumulative count reaches each level (levels ascending)."""
        out: list[float] = []
        segment = 1
        times, counts = self.times, self.counts
        for level in levels:
            while segment < len(counts) - 1 and counts[segment] < level:
                segment += 1
            low, high = counts[segment - 1], counts[segment]
            if high <= low:
                out.append(times[segment])
                continue
            share = (level - low) / (high - low)
            out.append(times[segment - 1] + share * (times[segment] - times[segment - 1]))
        return out

    def count_at(self, tod: float) -> float:
        """Expected cumulative count up to a time of day."""
        times, counts = self.times, self.counts
        if tod >= times[-1]:
            return counts[-1]
        index = bisect_right(times, tod)
        if index == 0:
            return 0.0
        low_t, high_t = times[index - 1], times[index]
        share = (tod - low_t) / (high_t - low_t) if high_t > low_t else 1.0
        return counts[index - 1] + share * (counts[index] - counts[index - 1])

    def sample(self, rng: random.Random, cap: float, limit: int = 400) -> list[float]:
        """One draw of a Poisson process with this expected count, up to count `cap`."""
        levels: list[float] = []
        level = rng.expovariate(1.0)
        top = min(cap, self.total)
        while level <= top and len(levels) < limit:
            levels.append(level)
            level += rng.expovariate(1.0)
        return self.times_at(levels)


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


__all__ = [
    "BINS_PER_DAY",
    "BIN_SECONDS",
    "STRICT_BOOST",
    "ArrivalCurve",
    "ArrivalRates",
    "CallingOrder",
    "CounterSchedule",
    "OnlineRidge",
    "ServiceTimes",
]
