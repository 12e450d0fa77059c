"""`branchdesk bench analytics` end to end on a small profile, and its generator."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from branchdesk.analytics.config import PipelineConfig
from branchdesk.analytics.engines import DuckDbEngine
from branchdesk.analytics.extract import SCHEMAS
from branchdesk.analytics.steps import STEPS, parameters, render
from branchdesk.bench import analytics_pandas
from branchdesk.bench.analytics import FEATURE_STEPS, compare
from branchdesk.bench.analytics_data import Profile, generate
from branchdesk.bench.cli import bench_app

AS_OF = date(2026, 11, 28)


def _count(sql: str) -> int:
    row = duckdb.connect().execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_bench_runs_duckdb_and_pandas_to_identical_features(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        bench_app,
        ["analytics", "--customers", "2000", "--transactions", "40000",
         "--engines", "duckdb,pandas", "--out-dir", str(tmp_path), "--as-of", "2026-11-28"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["rows"]["customers"] == 2000
    assert saved["rows"]["entries"] == 40000
    assert [r["run"] for r in saved["runs"]] == [
        "duckdb-features", "duckdb-pipeline", "pandas-features", "pandas-tuned-features",
    ]  # fmt: skip
    assert all(r["status"] == "ok" for r in saved["runs"])
    assert all(r["peak_rss_bytes"] > 0 for r in saved["runs"])
    by_pair = {(c["left"], c["right"]): c for c in saved["comparisons"]}
    pandas = by_pair[("duckdb-features", "pandas-features")]
    assert (pandas["rows_left"], pandas["rows_right"]) == (2000, 2000)
    assert (pandas["only_left"], pandas["only_right"]) == (0, 0)
    assert "duckdb-features vs pandas-features: identical" in result.output
    # the features are not trivial: every column varies across customers
    features = tmp_path / "results" / "pandas-features" / "features.parquet"
    for column in ("assets_minor", "recency_days", "frequency", "monetary_minor",
                   "product_count", "counter_visits", "portal_visits", "remote_visits",
                   "appointments", "tenure_months", "risk_tolerance"):  # fmt: skip
        assert _count(f"SELECT COUNT(DISTINCT {column}) FROM '{features}'") > 2, column


def test_bench_refuses_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    engine = runner.invoke(bench_app, ["analytics", "--customers", "10", "--engines", "hive",
                                       "--out-dir", str(tmp_path)])  # fmt: skip
    assert engine.exit_code == 2
    assert "unknown engine 'hive'" in engine.output
    day = runner.invoke(bench_app, ["analytics", "--as-of", "28/11/2026",
                                    "--out-dir", str(tmp_path)])  # fmt: skip
    assert day.exit_code == 2
    assert "--as-of" in day.output
    assert not (tmp_path / "data").exists()


def test_generation_is_deterministic_exact_and_typed_like_the_extract(tmp_path: Path) -> None:
    profile = Profile(customers=700, transactions=9_001, seed=7, as_of=AS_OF, chunk_customers=256)
    first = generate(profile, tmp_path / "a")
    second = generate(profile, tmp_path / "b")
    other = generate(
        Profile(customers=700, transactions=9_001, seed=8, as_of=AS_OF, chunk_customers=256),
        tmp_path / "c",
    )
    assert first.rows["customers"] == 700
    assert first.rows["entries"] == 9_001  # exactly, across three chunks
    assert first.rows == second.rows
    assert not first.reused
    assert generate(profile, tmp_path / "a").reused  # the same profile is not made again
    for name, schema in SCHEMAS.items():
        a, b = first.paths[name] / "*.parquet", second.paths[name] / "*.parquet"
        kinds = _count(f"SELECT COUNT(*) FROM (DESCRIBE SELECT * FROM '{a}')")
        assert kinds == len(schema)
        assert _count(f"SELECT COUNT(*) FROM (FROM '{a}' EXCEPT ALL FROM '{b}')") == 0, name
        assert _count(f"SELECT COUNT(*) FROM (FROM '{b}' EXCEPT ALL FROM '{a}')") == 0, name
    c = other.paths["entries"] / "*.parquet"
    a = first.paths["entries"] / "*.parquet"
    assert _count(f"SELECT COUNT(*) FROM (FROM '{a}' EXCEPT ALL FROM '{c}')") > 9_000
    # ids unique; each account's balances are the running sum of its amounts in seq order
    assert _count(f"SELECT COUNT(DISTINCT entry_id) FROM '{a}'") == 9_001
    accounts = first.paths["accounts"] / "*.parquet"
    assert _count(f"SELECT COUNT(DISTINCT account_id) FROM '{accounts}'") == first.rows["accounts"]
    assert (
        _count(
            f"""SELECT COUNT(*) FROM (
              SELECT balance_after_minor, SUM(amount_minor) OVER (PARTITION BY account_id
                ORDER BY seq) AS running, seq, ROW_NUMBER() OVER (PARTITION BY account_id
                ORDER BY seq) AS position FROM '{a}')
            WHERE balance_after_minor <> running OR seq <> position"""
        )
        == 0
    )
    # every entry belongs to a generated account, every account to a generated customer
    customers = first.paths["customers"] / "*.parquet"
    assert _count(f"SELECT COUNT(*) FROM '{a}' WHERE account_id NOT IN "
                  f"(SELECT account_id FROM '{accounts}')") == 0  # fmt: skip
    assert _count(f"SELECT COUNT(*) FROM '{accounts}' WHERE customer_id NOT IN "
                  f"(SELECT customer_id FROM '{customers}')") == 0  # fmt: skip


def test_pandas_feature_step_equals_the_sql_steps_on_other_dates(tmp_path: Path) -> None:
    profile = Profile(customers=500, transactions=12_000, seed=3, as_of=AS_OF)
    data = generate(profile, tmp_path / "data")
    frames = analytics_pandas.load(data.paths)
    config = PipelineConfig()
    # as-of inside the history: later entries, accounts and customers must be left out
    for day in (date(2025, 2, 28), date(2026, 3, 31), AS_OF):
        engine = DuckDbEngine()
        try:
            for name, path in data.paths.items():
                engine.load_parquet(name, path)
            values = parameters(config, day)
            for step in STEPS[: len(FEATURE_STEPS)]:
                engine.create(step.name, render(step, "duckdb", values))
            engine.write_parquet("features", tmp_path / f"sql-{day}.parquet")
        finally:
            engine.close()
        result = analytics_pandas.features(frames, config=config, as_of=day)
        analytics_pandas.write(result, tmp_path / f"pandas-{day}.parquet")
        same = compare(tmp_path / f"sql-{day}.parquet", tmp_path / f"pandas-{day}.parquet",
                       left_name="sql", right_name="pandas")  # fmt: skip
        assert same.identical, (day, same)
        assert same.rows_left == 500
