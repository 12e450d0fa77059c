"""`branchdesk bench ledger`: single and batch transfers/s and latency over HTTP.

Sets up its own customers and funded accounts through the API, then runs two timed phases with
the same number of concurrent clients: one transfer per request, then batches of transfers per
request. Every transfer carries a fresh idempotency key.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx


@dataclass
class PhaseResult:
    name: str
    seconds: float
    transfers: int = 0
    refused: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def transfers_per_second(self) -> float:
        return self.transfers / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        mean = statistics.fmean(self.latencies_ms) if self.latencies_ms else 0.0
        return (
            f"{self.name}: transfers/s {self.transfers_per_second:.1f} "
            f"({self.transfers} in {self.seconds:.1f} s), refused {self.refused}, "
            f"errors {self.errors}, requests {len(self.latencies_ms)}, "
            f"p50 {self.percentile(50):.1f} ms, p99 {self.percentile(99):.1f} ms, "
            f"mean {mean:.1f} ms"
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
    client: httpx.AsyncClient | list[httpx.AsyncClient],
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
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    auth = {"Authorization": f"Bearer {token}"}
    urls = [u.strip() for u in base_url.split(",") if u.strip()]
    pool = [
        httpx.AsyncClient(base_url=url, headers=auth, timeout=120, limits=limits) for url in urls
    ]
    try:
        numbers = await open_funded_accounts(
            pool[0], branch=branch, count=accounts, balance_minor=10**12, currency=currency
        )
        single = await run_phase(
            pool, name="single", accounts=numbers, currency=currency, clients=clients,
            seconds=seconds, batch_size=1,
        )  # fmt: skip
        batch = await run_phase(
            pool, name=f"batch of {batch_size}", accounts=numbers, currency=currency,
            clients=clients, seconds=seconds, batch_size=batch_size,
        )  # fmt: skip
    finally:
        for each in pool:
            await each.aclose()
    return single, batch
