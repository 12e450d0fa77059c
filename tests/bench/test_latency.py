"""The benches' shared latency and CPU wording."""

from __future__ import annotations

from branchdesk.bench.latency import cpu_line, latency_line, nearest_rank
from branchdesk.bench.ledger import PhaseResult


def test_nearest_rank_picks_a_sample_by_rank() -> None:
    samples = [float(v) for v in range(100, 0, -1)]  # 1..100, unordered
    assert nearest_rank(samples, 50) == 50.0
    assert nearest_rank(samples, 99) == 99.0
    assert nearest_rank(samples, 100) == 100.0
    assert nearest_rank(samples, 0) == 1.0
    assert nearest_rank([7.0], 99) == 7.0
    assert nearest_rank([], 50) == 0.0


def test_the_lines_and_the_ledger_phase_use_them() -> None:
    assert latency_line([1.0, 2.0, 6.0]) == "requests 3, p50 2.0 ms, p99 6.0 ms, mean 3.0 ms"
    assert cpu_line(None, 10, "transfer", digits=2) == ""
    assert cpu_line(1.5, 0, "transfer", digits=2) == ""
    assert cpu_line(1.5, 4, "transfer", digits=2) == ", server CPU 1.5 s = 375.00 ms per transfer"
    phase = PhaseResult(name="single", seconds=2.0, transfers=4, latencies_ms=[1.0, 2.0, 6.0])
    phase.server_cpu_seconds = 1.5
    assert phase.describe() == (
        "single: transfers/s 2.0 (4 in 2.0 s), refused 0, errors 0, requests 3, p50 2.0 ms, "
        "p99 6.0 ms, mean 3.0 ms, server CPU 1.5 s = 375.00 ms per transfer"
    )
