"""`branchdesk bench ...` commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import typer

from branchdesk.bench.floor import FloorResult, bound_lines, run_floor

bench_app = typer.Typer(
    help="Load benchmarks against a running server (results in BENCHMARKS.md).",
    no_args_is_help=True,
)


@bench_app.command("queue")
def bench_queue(
    url: str = typer.Option("http://127.0.0.1:8000", help="Base URL of a running branchdesk."),
    username: str = typer.Option(..., help="A staff user allowed to issue and serve (admin)."),
    password: str = typer.Option(..., prompt=True, hide_input=True),
    branch: str = typer.Option("TPE01", help="Branch code."),
    services: str = typer.Option("CASH,XFER,ENQ", help="Comma-separated service codes."),
    counters: str = typer.Option("C01,C02,C03,C04", help="Comma-separated counter codes."),
    seconds: float = typer.Option(30.0, help="Duration."),
    rate: float = typer.Option(200.0, help="Tickets issued per second (all kiosks together)."),
    extra_counters: int = typer.Option(0, min=0, max=200, help="Create this many more counters."),
    pgbench_url: str | None = typer.Option(
        None, help="PostgreSQL URL: run pgbench beside, same clients."
    ),
    floor_seconds: float = typer.Option(
        10.0, min=0, help="Seconds of each floor phase (GET /healthz, GET /api/v1/me); 0 skips."
    ),
) -> None:
    """Issue -> call-next -> start -> complete lifecycles/s and p50/p99, beside pgbench."""
    from branchdesk.bench.pgbench import run_pgbench
    from branchdesk.bench.queue import run_queue_bench

    token = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": username, "password": password}
    )
    if token.status_code != 200:
        typer.echo(f"error: cannot log in as {username}: {token.text}", err=True)
        raise typer.Exit(2)
    counter_list = [c.strip() for c in counters.split(",") if c.strip()]
    service_list = [s.strip() for s in services.split(",") if s.strip()]
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for index in range(extra_counters):  # more servers than the demo branch has
        code = f"BX{index:02d}"
        httpx.post(
            f"{url}/api/v1/branches/{branch}/counters", headers=headers, timeout=30,
            json={"code": code, "name": f"Bench {index}", "service_codes": service_list},
        )  # fmt: skip
        counter_list.append(code)
    clients = len(counter_list) + 1
    # The floor first, on a server that has nothing else to do (after the run it would still be
    # working through the run's backlog: the live feed, the come-back notices).
    floors = _floor(url, token.json()["access_token"], clients, floor_seconds)
    result = asyncio.run(
        run_queue_bench(
            base_url=url,
            token=token.json()["access_token"],
            branch=branch,
            service_codes=service_list,
            counters=counter_list,
            seconds=seconds,
            issue_rate=rate,
        )
    )
    shape = f"{clients} clients: {len(counter_list)} counters + 1 kiosk stream at {rate:g}/s"
    typer.echo(f"branchdesk queue ({shape}): {result.describe()}")
    tps = None
    if pgbench_url:
        pg = run_pgbench(pgbench_url, clients=clients, seconds=int(seconds))
        tps = pg.tps or None
        ratio = result.lifecycles_per_second / pg.tps if pg.tps else 0.0
        latency = f"latency avg {pg.latency_ms} ms"
        typer.echo(f"pgbench (same {clients} clients, {pg.seconds} s): tps {pg.tps:.1f}, {latency}")
        typer.echo(f"lifecycles/s / pgbench tps = {ratio:.3f}")
        typer.echo(f"pgbench command: {pg.command}")
    # issue, call-next, start, complete: four requests per lifecycle
    for line in bound_lines(floors, operation="lifecycle", requests=4, pgbench_tps=tps):
        typer.echo(line)


def _floor(url: str, token: str, clients: int, seconds: float) -> list[FloorResult]:
    """The floor phases (bench.floor) against the first URL, printed as they are measured."""
    if not seconds:
        return []
    first = url.split(",")[0].strip()
    floors = asyncio.run(run_floor(base_url=first, token=token, clients=clients, seconds=seconds))
    for floor in floors:
        typer.echo(floor.describe())
    return floors


@bench_app.command("ledger")
def bench_ledger(
    url: str = typer.Option(
        "http://127.0.0.1:8000",
        help="Base URL of a running branchdesk (comma-separated: instances share the clients).",
    ),
    username: str = typer.Option(..., help="A staff user who may open accounts and post."),
    password: str = typer.Option(..., prompt=True, hide_input=True),
    branch: str = typer.Option("TPE01", help="Branch code where the bench accounts are opened."),
    accounts: int = typer.Option(200, help="Funded accounts that the transfers move between."),
    clients: int = typer.Option(8, help="Concurrent HTTP clients (and pgbench clients)."),
    seconds: float = typer.Option(30.0, help="Duration of each phase."),
    batch_size: int = typer.Option(100, help="Transfers per batch request (at most 1,000)."),
    pgbench_url: str | None = typer.Option(
        None, help="PostgreSQL URL: run pgbench beside, same clients."
    ),
    floor_seconds: float = typer.Option(
        10.0, min=0, help="Seconds of each floor phase (GET /healthz, GET /api/v1/me); 0 skips."
    ),
) -> None:
    """Single and batch transfers/s and p99 through the HTTP API, beside pgbench."""
    from branchdesk.bench.ledger import run_ledger_bench
    from branchdesk.bench.pgbench import run_pgbench

    first = url.split(",")[0].strip()
    token = httpx.post(
        f"{first}/api/v1/auth/token", data={"username": username, "password": password}
    )
    if token.status_code != 200:
        typer.echo(f"error: cannot log in as {username}: {token.text}", err=True)
        raise typer.Exit(2)
    floors = _floor(url, token.json()["access_token"], clients, floor_seconds)  # idle server
    single, batch = asyncio.run(
        run_ledger_bench(
            base_url=url,
            token=token.json()["access_token"],
            branch=branch,
            accounts=accounts,
            clients=clients,
            seconds=seconds,
            batch_size=min(max(batch_size, 2), 1000),
        )
    )
    typer.echo(f"branchdesk ledger ({clients} clients, {accounts} accounts)")
    typer.echo(single.describe())
    typer.echo(batch.describe())
    tps = None
    if pgbench_url:
        pg = run_pgbench(pgbench_url, clients=clients, seconds=int(seconds))
        tps = pg.tps or None
        typer.echo(f"pgbench (same {clients} clients, {pg.seconds} s): tps {pg.tps:.1f}, "
                   f"latency avg {pg.latency_ms} ms")  # fmt: skip
        if pg.tps:
            typer.echo(
                f"single transfers/s / pgbench tps = {single.transfers_per_second / pg.tps:.3f}"
            )
            typer.echo(
                f"batch transfers/s / pgbench tps = {batch.transfers_per_second / pg.tps:.3f}"
            )
        typer.echo(f"pgbench command: {pg.command}")
    for line in bound_lines(floors, operation="single transfer", requests=1, pgbench_tps=tps):
        typer.echo(line)


@bench_app.command("analytics")
def bench_analytics(
    customers: int = typer.Option(1_000_000, min=1, help="Customers in the bench profile."),
    transactions: int = typer.Option(20_000_000, min=0, help="Ledger entries in the profile."),
    engines: str = typer.Option(
        "duckdb,pandas,spark", help="Comma-separated: duckdb, pandas, spark."
    ),
    out_dir: Path = typer.Option(Path("var/bench-analytics"), help="Data and results go here."),
    seed: int = typer.Option(1, help="Seed of the generated profile (same seed, same data)."),
    as_of: str = typer.Option("2026-11-28", help="As-of date of the pipeline, YYYY-MM-DD."),
    chunk_customers: int = typer.Option(50_000, min=1, help="Customers generated per chunk."),
    duckdb_memory: str | None = typer.Option(None, help="DuckDB memory_limit, e.g. 3GB."),
    spark_master: str = typer.Option("local[2]", help="Spark master (local mode)."),
    spark_memory: str = typer.Option("3g", help="Spark driver memory."),
    spark_partitions: int = typer.Option(8, min=1, help="spark.sql.shuffle.partitions."),
    spark_timeout: float = typer.Option(1500.0, help="Stop the Spark run after this many s."),
) -> None:
    """Generate the bench profile, then time DuckDB, pandas and Spark on it (own processes)."""
    import json
    from datetime import date

    from branchdesk.bench.analytics import Options, report, run_bench

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        typer.echo(f"error: --as-of {as_of!r} is not an ISO date (YYYY-MM-DD)", err=True)
        raise typer.Exit(2) from None
    chosen = [e.strip() for e in engines.split(",") if e.strip()]
    options = Options(as_of=day, duckdb_memory=duckdb_memory, spark_master=spark_master,
                      spark_memory=spark_memory, spark_partitions=spark_partitions,
                      spark_timeout=spark_timeout)  # fmt: skip
    try:
        result = run_bench(customers=customers, transactions=transactions, engines=chosen,
                           out_dir=out_dir, seed=seed, options=options,
                           chunk_customers=chunk_customers, echo=typer.echo)  # fmt: skip
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    (out_dir / "results.json").write_text(json.dumps(result.to_json(), indent=1, default=str))
    typer.echo("")
    typer.echo(report(result))
    if any(m.status == "failed" for m in result.runs) or not all(
        c.identical for c in result.comparisons
    ):
        raise typer.Exit(1)
