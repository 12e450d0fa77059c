"""`branchdesk bench ...` commands."""

from __future__ import annotations

import asyncio

import httpx
import typer

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
    clients = len(counter_list) + 1
    shape = f"{clients} clients: {len(counter_list)} counters + 1 kiosk stream at {rate:g}/s"
    typer.echo(f"branchdesk queue ({shape}): {result.describe()}")
    if pgbench_url:
        pg = run_pgbench(pgbench_url, clients=clients, seconds=int(seconds))
        ratio = result.lifecycles_per_second / pg.tps if pg.tps else 0.0
        latency = f"latency avg {pg.latency_ms} ms"
        typer.echo(f"pgbench (same {clients} clients, {pg.seconds} s): tps {pg.tps:.1f}, {latency}")
        typer.echo(f"lifecycles/s / pgbench tps = {ratio:.3f}")
        typer.echo(f"pgbench command: {pg.command}")


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
    if pgbench_url:
        pg = run_pgbench(pgbench_url, clients=clients, seconds=int(seconds))
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
