"""pgbench beside our load: its own scratch database per run, dropped afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from branchdesk.bench.pgbench import run_pgbench
from branchdesk.core.db import Database


@pytest.mark.postgres
def test_pgbench_runs_in_a_scratch_database_of_its_own_and_drops_it(database: Database) -> None:
    def scratch_databases() -> set[str]:
        with database.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE 'branchdesk_pgbench_%'")
            )
            return set(rows.scalars())

    before = scratch_databases()
    result = run_pgbench(database.url, clients=2, seconds=1, scale=1)
    assert result.clients == 2
    assert result.seconds == 1
    assert result.tps > 0
    assert result.command.startswith("pgbench -h ")
    scratch = result.command.rsplit(" ", 1)[1]
    assert scratch.startswith("branchdesk_pgbench_")
    assert scratch not in before
    assert scratch_databases() == before  # dropped again
