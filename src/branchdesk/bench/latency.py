"""What the benches print about latency and server CPU, in one wording."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def nearest_rank(values: Sequence[float], percent: float) -> float:
    """The ``percent`` percentile of ``values`` by rank (0.0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))]


def latency_line(latencies_ms: Sequence[float]) -> str:
    """``requests N, p50 X ms, p99 Y ms, mean Z ms``."""
    mean = statistics.fmean(latencies_ms) if latencies_ms else 0.0
    return (
        f"requests {len(latencies_ms)}, p50 {nearest_rank(latencies_ms, 50):.1f} ms, "
        f"p99 {nearest_rank(latencies_ms, 99):.1f} ms, mean {mean:.1f} ms"
    )


def cpu_line(cpu_seconds: float | None, count: int, unit: str, *, digits: int) -> str:
    """``, server CPU S s = X ms per <unit>``, or nothing (not a local server, or no count)."""
    if cpu_seconds is None or not count:
        return ""
    per = cpu_seconds * 1000 / count
    return f", server CPU {cpu_seconds:.1f} s = {per:.{digits}f} ms per {unit}"
