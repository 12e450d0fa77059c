"""Service durations per service, per-counter speed and no-shows, learned online.

Keeps the most recent durations of each service, so the look-ahead can use their mean, the
expected remaining time of a ticket in service, or draw durations from them.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import deque
from collections.abc import Callable


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
