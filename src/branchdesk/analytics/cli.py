"""`branchdesk recommend ...`: suitable next-best-product recommendations from plain CSV."""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import typer

recommend_app = typer.Typer(
    no_args_is_help=True,
    help="Suitable next-best-product recommendations: batch scoring, synthetic data, evaluation.",
)


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        print(f"--as-of: {value!r} is not an ISO date (YYYY-MM-DD)", file=sys.stderr)
        raise typer.Exit(2) from None


@recommend_app.command("batch")
def batch(
    customers: Path = typer.Option(..., "--customers", help="customers.csv"),
    products: Path = typer.Option(..., "--products", help="products.csv"),
    holdings: Path = typer.Option(..., "--holdings", help="holdings.csv"),
    as_of: str = typer.Option(..., "--as-of", help="As-of date, YYYY-MM-DD."),
    k: int = typer.Option(3, "--k", min=1, help="Recommendations per customer (at most)."),
    out: Path = typer.Option(..., "--out", help="Recommendations CSV to write (atomically)."),
) -> None:
    """Recommend up to k eligible products per customer; bad input writes nothing (exit 2).

    Also writes OUT with the suffix .log.jsonl: inputs, rule version and reason of each row.

    Customers with fewer than k eligible products get fewer rows; with none, no row (see log).
    """
    from branchdesk.analytics.recommend.batch import run_batch
    from branchdesk.analytics.recommend.io import CsvFormatError

    day = _as_of(as_of)
    if not out.parent.is_dir():
        print(f"{out}: directory {out.parent} does not exist", file=sys.stderr)
        raise typer.Exit(2)
    started = time.perf_counter()
    try:
        summary = run_batch(customers, products, holdings, day, k, out)
    except CsvFormatError as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None
    except OSError as exc:
        print(f"{exc.filename or out}: cannot write: {exc.strerror}", file=sys.stderr)
        raise typer.Exit(2) from None
    seconds = time.perf_counter() - started
    print(
        f"{summary.n_rows} recommendations for {summary.n_recommended} of "
        f"{summary.n_customers} customers written to {out} in {seconds:.1f} s; "
        f"{summary.n_short} customers have fewer than {k} eligible products, "
        f"{summary.n_without} have none (see {summary.log_path})"
    )


@recommend_app.command("generate")
def generate(
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed, same files)."),
    out_dir: Path = typer.Option(..., "--out-dir", help="Directory for the four CSV files."),
    customers: int = typer.Option(20_000, "--customers", min=1, help="Number of customers."),
    as_of: str = typer.Option("2025-06-30", "--as-of", help="As-of date, YYYY-MM-DD."),
) -> None:
    """Write customers, products, holdings (to as-of) and truth (90 days after) CSV files."""
    from branchdesk.analytics.recommend.synth import generate as make_bank
    from branchdesk.analytics.recommend.synth import write

    bank = make_bank(seed, customers, _as_of(as_of))
    paths = write(bank, out_dir)
    print(
        f"{len(bank.customers)} customers, {len(bank.products)} products, "
        f"{len(bank.holdings)} holdings, {len(bank.truth)} openings in the 90 days after "
        f"{as_of} written to {', '.join(str(p) for p in paths.values())}"
    )


@recommend_app.command("evaluate")
def evaluate(
    customers: Path = typer.Option(..., "--customers", help="customers.csv"),
    products: Path = typer.Option(..., "--products", help="products.csv"),
    holdings: Path = typer.Option(..., "--holdings", help="holdings.csv (history)."),
    truth: Path = typer.Option(..., "--truth", help="Openings after as-of (same columns)."),
    as_of: str = typer.Option(..., "--as-of", help="As-of date, YYYY-MM-DD."),
    k: int = typer.Option(3, "--k", min=1, help="Cut-off of MAP@k."),
) -> None:
    """MAP@k of the model vs the popularity baseline (same filters), and rule violations."""
    from branchdesk.analytics.recommend.batch import load
    from branchdesk.analytics.recommend.evaluate import evaluate as run_evaluation
    from branchdesk.analytics.recommend.io import CsvFormatError, read_holdings

    day = _as_of(as_of)
    try:
        tables = load(customers, products, holdings, day)
        actual = read_holdings(truth, tables[0], tables[1])
    except CsvFormatError as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None
    result = run_evaluation(*tables, actual, day, k)
    print(f"customers: {result.n_customers}, with openings in the 90 days: {result.n_evaluated}")
    print(f"MAP@{k} model:                    {result.map_model:.4f}")
    print(f"MAP@{k} popularity (last 90 days): {result.map_popularity:.4f}")
    print(f"MAP@{k} popularity (all time):     {result.map_popularity_all_time:.4f}")
    print(f"ratio model / popularity (90 days): {result.ratio:.3f}")
    print(f"ratio model / popularity (all time): {result.ratio_all_time:.3f}")
    print(
        f"violations: model unsuitable {result.model_unsuitable}, "
        f"already held {result.model_already_held}; popularity unsuitable "
        f"{result.popularity_unsuitable}, already held {result.popularity_already_held}"
    )
    print(f"time: train {result.seconds_train:.1f} s, rank {result.seconds_rank:.1f} s")


analytics_app = typer.Typer(
    no_args_is_help=True,
    help="Nightly customer analytics: features, segments, recommendations, loyalty, care.",
)


@analytics_app.callback()
def analytics() -> None:
    """Nightly customer analytics (a group, even with one command)."""


@analytics_app.command("run")
def run(
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    as_of: str | None = typer.Option(None, "--as-of", help="As-of date, YYYY-MM-DD (today)."),
    parquet: Path | None = typer.Option(
        None, "--parquet", help="Keep the extracted Parquet files in this directory."
    ),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Extract, run the pipeline on the engine and write the results back (one transaction).

    Running again for the same --as-of replaces that day's results; history is kept.
    """
    import branchdesk.models  # noqa: F401  (every table, for the foreign keys)
    from branchdesk.analytics.extract import MissingRate
    from branchdesk.analytics.pipeline import run_pipeline
    from branchdesk.core.clock import utcnow
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database

    if engine not in ("duckdb", "spark"):
        print(f"--engine: {engine!r} is not duckdb or spark", file=sys.stderr)
        raise typer.Exit(2)
    now = utcnow()
    day = _as_of(as_of) if as_of else now.date()
    database = Database(url or get_settings().database_url)
    try:
        with database.unit_of_work() as db:
            summary = run_pipeline(db, engine_name=engine, as_of=day, now=now, parquet_dir=parquet)
    except MissingRate as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None
    print(
        f"run {summary.run_id} on {summary.engine} as of {summary.as_of}: "
        f"{summary.customers} customers, {summary.recommendations} recommendations, "
        f"{summary.points_added} new points entries, {summary.tasks_added} new care tasks "
        f"in {summary.seconds:.1f} s (extract {summary.seconds_extract:.1f} s, "
        f"SQL steps {summary.seconds_sql:.1f} s)"
    )
