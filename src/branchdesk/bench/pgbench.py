"""Run PostgreSQL's own pgbench (default TPC-B-like script) beside our load, same client count."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from sqlalchemy import make_url


@dataclass(frozen=True)
class PgbenchResult:
    clients: int
    seconds: int
    tps: float
    latency_ms: float | None
    command: str


def run_pgbench(database_url: str, *, clients: int, seconds: int, scale: int = 10) -> PgbenchResult:
    """Initialise a scratch pgbench database next to ours and run the default script."""
    if shutil.which("pgbench") is None:
        raise RuntimeError("pgbench is not installed (Debian: postgresql-contrib / postgresql-15)")
    url = make_url(database_url)
    base = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    # one scratch database per run, so that two benches on one server do not share it
    scratch = f"branchdesk_pgbench_{os.getpid()}"
    env = {**os.environ, "PGPASSWORD": url.password} if url.password else None

    def psql(sql: str) -> None:
        subprocess.run(
            ["psql", *base, "-d", url.database or "postgres", "-qc", sql],
            check=True,
            capture_output=True,
            env=env,
        )

    psql(f"DROP DATABASE IF EXISTS {scratch}")
    psql(f"CREATE DATABASE {scratch}")
    try:
        return _initialise_and_run(
            base, scratch, env, clients=clients, seconds=seconds, scale=scale
        )
    finally:
        psql(f"DROP DATABASE IF EXISTS {scratch}")


def _initialise_and_run(
    base: list[str],
    scratch: str,
    env: dict[str, str] | None,
    *,
    clients: int,
    seconds: int,
    scale: int,
) -> PgbenchResult:
    subprocess.run(
        ["pgbench", *base, "-i", "-q", "-s", str(scale), scratch],
        check=True,
        capture_output=True,
        env=env,
    )
    command = [
        "pgbench",
        *base,
        "-c",
        str(clients),
        "-j",
        str(min(clients, 4)),
        "-T",
        str(seconds),
        scratch,
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    tps = re.search(r"tps = ([0-9.]+)", done.stdout)
    latency = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    return PgbenchResult(
        clients=clients,
        seconds=seconds,
        tps=float(tps.group(1)) if tps else 0.0,
        latency_ms=float(latency.group(1)) if latency else None,
        command=" ".join(command),
    )
