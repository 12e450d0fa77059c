"""The floor under the HTTP benches: what the same clients get from the server for requests that
do (almost) nothing, measured in the same run as the benched operation and pgbench.

Two phases, with as many concurrent clients as the bench's own phases:

- ``GET /healthz``: the HTTP server, the middleware and routing; no token, no database.
- ``GET /api/v1/me``: the bearer check (the principal read from the database on every request,
  so that a revocation takes effect at once), a session, the user's row and branches, the
  commit: the least an authenticated API request costs.

An operation that takes k requests cannot run faster than a floor's requests/s divided by k on
this server and machine, whatever the operation itself does; the benches print that bound
beside pgbench's tps, so a target that lies above it is visible in the run itself.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from branchdesk.bench.http import BenchClient, LeanClient
from branchdesk.bench.latency import cpu_line, latency_line
from branchdesk.bench.server import cpu_seconds, server_pids

FLOOR_PATHS = ("/healthz", "/api/v1/me")


@dataclass
class FloorResult:
    path: str
    seconds: float
    answered: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_seconds: float | None = None  # None: the server is not a local process

    @property
    def requests_per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def bound(self, requests_per_operation: int) -> float:
        """The most operations/s that this floor allows an operation of that many requests."""
        return self.requests_per_second / requests_per_operation

    def describe(self) -> str:
        return (
            f"floor GET {self.path}: requests/s {self.requests_per_second:.1f} "
            f"({self.answered} in {self.seconds:.1f} s), errors {self.errors}, "
            f"{latency_line(self.latencies_ms)}"
            f"{cpu_line(self.server_cpu_seconds, self.answered, 'request', digits=3)}"
        )


async def _floor_phase(
    client: BenchClient, path: str, *, clients: int, seconds: float, pids: list[int]
) -> FloorResult:
    result = FloorResult(path=path, seconds=seconds)
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                response = await client.get(path)
            except httpx.HTTPError:
                result.errors += 1
                continue
            if response.status_code != 200:  # a floor of refusals would say nothing
                result.errors += 1
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.answered += 1

    before = cpu_seconds(pids)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    after = cpu_seconds(pids)
    if before is not None and after is not None:
        result.server_cpu_seconds = after - before
    return result


async def run_floor(
    *,
    base_url: str,
    token: str,
    clients: int,
    seconds: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[FloorResult]:
    """One phase per path of ``FLOOR_PATHS``, ``clients`` concurrent clients for ``seconds``
    each, through the benches' lean client (or httpx over ``transport``); server CPU from /proc
    when the server runs on this machine."""
    if clients < 1 or seconds <= 0:
        raise ValueError("the floor needs at least one client and a positive duration")
    auth = {"Authorization": f"Bearer {token}"}
    client: BenchClient
    if transport is not None:  # in-process (tests): httpx through the ASGI app
        pids: list[int] = []
        client = httpx.AsyncClient(base_url=base_url, headers=auth, timeout=60, transport=transport)
    else:
        pids = server_pids(base_url)
        client = LeanClient(base_url, headers=auth, timeout=60)
    try:
        return [
            await _floor_phase(client, path, clients=clients, seconds=seconds, pids=pids)
            for path in FLOOR_PATHS
        ]
    finally:
        await client.aclose()


def bound_lines(
    floors: list[FloorResult], *, operation: str, requests: int, pgbench_tps: float | None
) -> list[str]:
    """What the floors allow an operation of ``requests`` requests, and that as a share of
    pgbench's tps (the issues' targets are stated as such shares)."""
    lines = []
    for floor in floors:
        bound = floor.bound(requests)
        share = f" = {bound / pgbench_tps:.3f}x pgbench tps" if pgbench_tps else ""
        lines.append(
            f"{operation} ({requests} request{'s' if requests > 1 else ''}): at most "
            f"{bound:.1f}/s by the GET {floor.path} floor{share}"
        )
    return lines
