"""`branchdesk bench ledger`: single and batch transfers/s and latency over HTTP.

Sets up its own customers and funded accounts through the API, then runs two timed phases with
the same number of concurrent clients: one transfer per request, then batches of transfers per
request. Every transfer carries a fresh idempotency key.

For a server on this machine the CPU time its processes spent during each phase is read from
/proc (the processes holding the listening socket of each URL's port), so the figures say how
much CPU a transfer costs even when the machine is shared. ``python -m branchdesk.bench.ledger
--database-url URL`` measures statements and CPU per transfer in-process (the ASGI app without
HTTP, one client) and prints a cProfile summary with ``--profile``.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from branchdesk.bench.http import BenchClient, LeanClient
from branchdesk.bench.latency import cpu_line, latency_line, nearest_rank
from branchdesk.bench.server import cpu_seconds, server_pids


@dataclass
class PhaseResult:
    name: str
    seconds: float
    transfers: int = 0
    refused: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_seconds: float | None = None  # None: the server is not a local process

    def percentile(self, p: float) -> float:
        return nearest_rank(self.latencies_ms, p)

    @property
    def transfers_per_second(self) -> float:
        return self.transfers / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        return (
            f"{self.name}: transfers/s {self.transfers_per_second:.1f} "
            f"({self.transfers} in {self.seconds:.1f} s), refused {self.refused}, "
            f"errors {self.errors}, {latency_line(self.latencies_ms)}"
            f"{cpu_line(self.server_cpu_seconds, self.transfers, 'transfer', digits=2)}"
        )


async def open_funded_accounts(
    client: httpx.AsyncClient, *, branch: str, count: int, balance_minor: int, currency: str
) -> list[str]:
    """Create ``count`` customers with one funded account each; returns the account numbers."""
    run = uuid.uuid4().hex[:10].upper()
    numbers = []
    for n in range(count):
        customer = await client.post(
            "/api/v1/customers",
            json={"full_name": f"Bench {run} {n}", "id_document_type": "passport",
                  "id_number": f"B{run}{n:05d}", "id_expires_on": "2099-12-31",
                  "home_branch_code": branch},
        )  # fmt: skip
        customer.raise_for_status()
        account = await client.post(
            "/api/v1/accounts",
            json={"customer_number": customer.json()["customer_number"], "currency": currency,
                  "branch_code": branch},
        )  # fmt: skip
        account.raise_for_status()
        number = account.json()["number"]
        funded = await client.post(
            "/api/v1/deposits",
            json={"account": number, "amount_minor": balance_minor, "currency": currency,
                  "idempotency_key": f"bench-{run}-fund-{n}", "branch_code": branch},
        )  # fmt: skip
        funded.raise_for_status()
        numbers.append(number)
    return numbers


async def run_phase(
    client: BenchClient | list[BenchClient],
    *,
    name: str,
    accounts: list[str],
    currency: str,
    clients: int,
    seconds: float,
    batch_size: int,
) -> PhaseResult:
    """``batch_size`` 1: POST /transfers; above 1: POST /transfers/batch."""
    result = PhaseResult(name=name, seconds=seconds)
    run = uuid.uuid4().hex[:10]
    deadline = time.perf_counter() + seconds

    def transfer(rng: random.Random, key: str) -> dict[str, object]:
        source, target = rng.sample(accounts, 2)
        return {"from_account": source, "to_account": target, "currency": currency,
                "amount_minor": rng.randint(1, 100), "idempotency_key": key}  # fmt: skip

    pool = client if isinstance(client, list) else [client]

    async def worker(index: int) -> None:
        client = pool[index % len(pool)]  # clients spread over the instances
        rng = random.Random(index)
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            started = time.perf_counter()
            try:
                if batch_size == 1:
                    response = await client.post(
                        "/api/v1/transfers", json=transfer(rng, f"{run}-{index}-{n}")
                    )
                else:
                    items = [transfer(rng, f"{run}-{index}-{n}-{i}") for i in range(batch_size)]
                    response = await client.post(
                        "/api/v1/transfers/batch", json={"transfers": items}
                    )
            except httpx.HTTPError:
                result.errors += 1
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 500:
                result.errors += 1
            elif batch_size == 1:
                if response.status_code == 201:
                    result.transfers += 1
                else:
                    result.refused += 1
            elif response.status_code == 200:
                body = response.json()
                result.transfers += int(body["applied"])
                result.refused += int(body["refused"]) + int(body["pending"])
            else:
                result.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


async def run_ledger_bench(
    *,
    base_url: str,
    token: str,
    branch: str,
    accounts: int,
    clients: int,
    seconds: float,
    batch_size: int,
    currency: str = "CNY",
) -> tuple[PhaseResult, PhaseResult]:
    auth = {"Authorization": f"Bearer {token}"}
    urls = [u.strip() for u in base_url.split(",") if u.strip()]
    leans = [LeanClient(url, headers=auth, timeout=120) for url in urls]
    pool: list[BenchClient] = list(leans)
    try:
        async with httpx.AsyncClient(base_url=urls[0], headers=auth, timeout=120) as setup:
            numbers = await open_funded_accounts(
                setup, branch=branch, count=accounts, balance_minor=10**12, currency=currency
            )
        pids = server_pids(base_url)
        before = cpu_seconds(pids)
        single = await run_phase(
            pool, name="single", accounts=numbers, currency=currency, clients=clients,
            seconds=seconds, batch_size=1,
        )  # fmt: skip
        middle = cpu_seconds(pids)
        batch = await run_phase(
            pool, name=f"batch of {batch_size}", accounts=numbers, currency=currency,
            clients=clients, seconds=seconds, batch_size=batch_size,
        )  # fmt: skip
        after = cpu_seconds(pids)
        if before is not None and middle is not None and after is not None:
            single.server_cpu_seconds = middle - before
            batch.server_cpu_seconds = after - middle
    finally:
        for each in leans:
            await each.aclose()
    return single, batch


# --- in-process: statements and CPU per transfer -----------------------------------------------


@dataclass
class InProcessResult:
    name: str
    transfers: int
    requests: int
    statements: int
    cpu_seconds: float
    wall_seconds: float

    def describe(self) -> str:
        return (
            f"{self.name}: {self.transfers} transfers in {self.requests} requests, "
            f"statements {self.statements / self.requests:.1f} per request = "
            f"{self.statements / self.transfers:.2f} per transfer, "
            f"CPU {self.cpu_seconds * 1000 / self.transfers:.2f} ms per transfer "
            f"(wall {self.wall_seconds * 1000 / self.transfers:.2f} ms)"
        )


async def run_in_process(
    *,
    username: str,
    password: str,
    branch: str,
    accounts: int,
    transfers: int,
    batch_size: int,
    profile: int = 0,
    currency: str = "CNY",
    phases: tuple[str, ...] = ("single", "batch"),
) -> list[InProcessResult]:
    """The app of ``BRANCHDESK_DATABASE_URL`` called in this process and thread (no HTTP, no
    thread pool), one request at a time: statements counted on the engine, CPU by the process."""
    import cProfile
    import io
    import pstats

    import anyio.to_thread
    from sqlalchemy import event

    from branchdesk.app import create_app

    async def inline(func: Any, *args: Any, **_kwargs: Any) -> Any:
        return func(*args)  # the sync routes run here, so that cProfile sees them

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]  # measurement only
    app = create_app()
    counted = [0]

    def count(*_args: Any) -> None:
        counted[0] += 1

    event.listen(app.state.database.engine, "before_cursor_execute", count)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        token = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        token.raise_for_status()
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        numbers = await open_funded_accounts(
            client, branch=branch, count=accounts, balance_minor=10**12, currency=currency
        )
        rng = random.Random(7)
        run = uuid.uuid4().hex[:10]

        def transfer(key: str) -> dict[str, object]:
            source, target = rng.sample(numbers, 2)
            return {"from_account": source, "to_account": target, "currency": currency,
                    "amount_minor": rng.randint(1, 100), "idempotency_key": key}  # fmt: skip

        results = []
        sizes = {"single": 1, "batch": batch_size}
        for phase in phases:
            size = sizes[phase]
            name = "single" if phase == "single" else f"batch of {batch_size}"
            requests = max(1, transfers // size)
            profiler = cProfile.Profile()
            counted[0] = 0
            cpu, wall = time.process_time(), time.perf_counter()
            if profile:
                profiler.enable()
            for n in range(requests):
                if size == 1:
                    response = await client.post(
                        "/api/v1/transfers", json=transfer(f"{run}-{name}-{n}")
                    )
                else:
                    items = [transfer(f"{run}-{name}-{n}-{i}") for i in range(size)]
                    response = await client.post(
                        "/api/v1/transfers/batch", json={"transfers": items}
                    )
                response.raise_for_status()
            profiler.disable()
            results.append(
                InProcessResult(
                    name=name, transfers=requests * size, requests=requests,
                    statements=counted[0], cpu_seconds=time.process_time() - cpu,
                    wall_seconds=time.perf_counter() - wall,
                )
            )  # fmt: skip
            if profile:
                text = io.StringIO()
                stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
                stats.print_stats(profile)
                print(text.getvalue())  # noqa: T201 - a command's report
    return results


def main(argv: list[str] | None = None) -> None:
    """``python -m branchdesk.bench.ledger``: statements and CPU per transfer, in-process."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m branchdesk.bench.ledger")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--branch", default="TPE01")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--profile", type=int, default=0, help="print the top N of cProfile")
    parser.add_argument(
        "--phases", default="single,batch", help="which phases, in order: single, batch or both"
    )
    args = parser.parse_args(argv)
    phases = tuple(phase.strip() for phase in args.phases.split(",") if phase.strip())
    unknown = sorted(set(phases) - {"single", "batch"})
    if unknown or not phases:
        parser.error(f"--phases: expected single and/or batch, got {args.phases!r}")
    for result in asyncio.run(
        run_in_process(
            username=args.username, password=args.password, branch=args.branch,
            accounts=args.accounts, transfers=args.transfers, batch_size=args.batch_size,
            profile=args.profile, phases=phases,
        )
    ):  # fmt: skip
        print(result.describe())  # noqa: T201 - a command's report


if __name__ == "__main__":
    main()
