"""`branchdesk analytics run` end to end on a migrated SQLite file (in-process CLI)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from branchdesk.analytics.cli import analytics_app
from branchdesk.migrations import upgrade


def test_run_writes_a_run_row_and_keeps_parquet(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    upgrade(url)
    runner = CliRunner()
    parquet = tmp_path / "extract"
    result = runner.invoke(
        analytics_app, ["run", "--as-of", "2026-03-02", "--parquet", str(parquet), "--url", url]
    )
    assert result.exit_code == 0, result.output
    assert "on duckdb as of 2026-03-02: 0 customers" in result.output
    assert sorted(p.name for p in parquet.iterdir())[:3] == [
        "accounts.parquet", "appointments.parquet", "complaints.parquet",
    ]  # fmt: skip
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT engine, run_on FROM analytics_runs")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("duckdb", "2026-03-02")]


def test_unknown_engine_or_date_is_refused_before_anything_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'none.db'}"
    bad_engine = runner.invoke(analytics_app, ["run", "--engine", "hive", "--url", url])
    assert bad_engine.exit_code == 2
    assert "is not duckdb or spark" in bad_engine.output
    bad_day = runner.invoke(analytics_app, ["run", "--as-of", "02/03/2026", "--url", url])
    assert bad_day.exit_code == 2
    assert "is not an ISO date" in bad_day.output
    assert not (tmp_path / "none.db").exists()
