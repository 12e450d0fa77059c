"""The benches' server CPU reading: the processes listening on the URL's port, from /proc."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from branchdesk.bench.queue import QueueBenchResult
from branchdesk.bench.server import cpu_seconds, server_pids

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def test_the_listening_process_is_found_and_its_cpu_read() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        pids = server_pids(f"http://127.0.0.1:{port}")
        assert pids == [os.getpid()]
        before = cpu_seconds(pids)
        sum(i * i for i in range(2_000_000))  # some CPU of our own
        after = cpu_seconds(pids)
    assert before is not None
    assert after is not None
    assert after > before
    assert server_pids(f"http://127.0.0.1:{port}") == []  # closed: nobody listens
    assert cpu_seconds([]) is None


def test_the_queue_bench_reports_cpu_per_lifecycle() -> None:
    result = QueueBenchResult(seconds=2.0, issued=10, lifecycles=8, latencies_ms=[5.0, 7.0])
    assert result.describe().endswith("mean 6.0 ms")  # not a local server: no CPU figure
    result.server_cpu_seconds = 0.4
    assert result.describe().endswith("mean 6.0 ms, server CPU 0.4 s = 50.0 ms per lifecycle")
