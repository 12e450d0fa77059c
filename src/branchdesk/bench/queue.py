"""`branchdesk bench queue`: concurrent kiosks and counters against a running server over HTTP.

Kiosks issue tickets at a fixed total rate; each counter loops call-next -> start -> complete.
Reports ticket lifecycles per second, per-request latency percentiles and, for a server on
this machine, the CPU its processes spent per lifecycle (bench.server).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from branchdesk.bench.http import Answer, BenchClient, LeanClient
from branchdesk.bench.latency import cpu_line, latency_line, nearest_rank
from branchdesk.bench.server import cpu_seconds, server_pids


@dataclass
class QueueBenchResult:
    seconds: float
    issued: int = 0
    lifecycles: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_seconds: float | None = None  # None: the server is not a local process

    def percentile(self, p: float) -> float:
        return nearest_rank(self.latencies_ms, p)

    @property
    def lifecycles_per_second(self) -> float:
        return self.lifecycles / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        return (
            f"lifecycles/s {self.lifecycles_per_second:.1f} "
            f"({self.lifecycles} in {self.seconds:.1f} s), tickets issued {self.issued}, "
            f"errors {self.errors}, {latency_line(self.latencies_ms)}"
            f"{cpu_line(self.server_cpu_seconds, self.lifecycles, 'lifecycle', digits=1)}"
        )


async def _timed(
    client: BenchClient, result: QueueBenchResult, url: str, json: object = None
) -> Answer | None:
    """POST ``url``, its latency recorded; None when the request failed."""
    started = time.perf_counter()
    try:
        response = await client.post(url, json=json)
    except httpx.HTTPError:
        result.errors += 1
        return None
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    if response.status_code >= 500:
        result.errors += 1
    return response


async def run_queue_bench(
    *,
    base_url: str,
    token: str,
    branch: str,
    service_codes: list[str],
    counters: list[str],
    seconds: float,
    issue_rate: float,
) -> QueueBenchResult:
    auth = {"Authorization": f"Bearer {token}"}
    result = QueueBenchResult(seconds=seconds)
    async with (
        httpx.AsyncClient(base_url=base_url, headers=auth, timeout=30) as setup,
        LeanClient(base_url, headers=auth, timeout=30) as client,
    ):
        for counter in counters:
            await setup.post(
                f"/api/v1/branches/{branch}/counters/{counter}/status", json={"status": "open"}
            )
        deadline = time.perf_counter() + seconds

        in_flight = asyncio.Semaphore(64)
        pending: set[asyncio.Task[None]] = set()

        async def issue(code: str) -> None:
            async with in_flight:
                response = await _timed(
                    client, result, f"/api/v1/branches/{branch}/tickets", {"service_code": code}
                )
                if response is not None and response.status_code == 201:
                    result.issued += 1

        async def kiosk() -> None:
            # Open-loop arrivals: customers do not wait for the previous ticket to print.
            interval = 1.0 / issue_rate
            next_at = time.perf_counter()
            n = 0
            while time.perf_counter() < deadline:
                task = asyncio.create_task(issue(service_codes[n % len(service_codes)]))
                pending.add(task)
                task.add_done_callback(pending.discard)
                n += 1
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

        async def counter_loop(code: str) -> None:
            while time.perf_counter() < deadline:
                called = await _timed(
                    client, result, f"/api/v1/branches/{branch}/counters/{code}/call-next"
                )
                if called is None or called.status_code != 200:
                    await asyncio.sleep(0.02)
                    continue
                ticket = called.json()["id"]
                await _timed(client, result, f"/api/v1/tickets/{ticket}/start")
                done = await _timed(client, result, f"/api/v1/tickets/{ticket}/complete")
                if done is not None and done.status_code == 200:
                    result.lifecycles += 1

        pids = server_pids(base_url)
        cpu_before = cpu_seconds(pids)
        started = time.perf_counter()
        await asyncio.gather(kiosk(), *(counter_loop(c) for c in counters))
        if pending:
            await asyncio.gather(*pending)
        result.seconds = time.perf_counter() - started
        cpu_after = cpu_seconds(pids)
        if cpu_before is not None and cpu_after is not None:
            result.server_cpu_seconds = cpu_after - cpu_before
    return result
