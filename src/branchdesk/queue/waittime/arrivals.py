"""Issued tickets per class and quarter-hour of the local day, and the expected arrivals."""

from __future__ import annotations

import random
from bisect import bisect_right

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

BIN_SECONDS = 900  # arrival statistics use quarter-hour bins of the local day
BINS_PER_DAY = 86400 // BIN_SECONDS


class ArrivalRates:
    """Issued tickets per (priority, service) and quarter-hour of the local day."""

    def __init__(self) -> None:
        self._history: dict[tuple[str, str], FloatArray] = {}
        self._history_total = np.zeros(BINS_PER_DAY)
        self._today: dict[tuple[str, str], FloatArray] = {}
        self._today_total = np.zeros(BINS_PER_DAY)
        self.days = 0
        self.load_prior = 8.0  # tickets: shrinks today's load factor towards 1 early in the day
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
        factor = (seen + self.load_prior) / (usual + self.load_prior)
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
