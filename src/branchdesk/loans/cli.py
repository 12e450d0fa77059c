"""`branchdesk credit ...`: train, score, evaluate and monitor the application scorecard.

Every command checks its whole input first; on bad input it prints what is wrong, exits with
status 2 and writes nothing. Outputs are written to a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import typer

credit_app = typer.Typer(
    no_args_is_help=True,
    help="Credit scorecard: train, score, evaluate, stability (PSI/CSI), champion/challenger.",
)


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _run(step: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a lifecycle step, turning its domain errors into exit status 2."""
    from branchdesk.core.errors import DomainError

    try:
        return step(*args, **kwargs)
    except DomainError as exc:
        _fail(exc.detail)
    except OSError as exc:
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}")


def _metrics_text(metrics: dict[str, Any]) -> str:
    def shown(key: str) -> str:
        value = metrics.get(key)
        return "n/a" if value is None else f"{value:.4f}"

    return f"AUC {shown('auc')}  KS {shown('ks')}  Gini {shown('gini')}"


@credit_app.command("train")
def train(
    data: Path = typer.Option(..., "--data", help="Training CSV: one applicant per row."),
    target: str = typer.Option(..., "--target", help="Column holding the outcome."),
    bad_value: str = typer.Option(..., "--bad-value", help="Outcome value that means bad."),
    out: Path = typer.Option(..., "--out", help="Model directory to write (versioned artifact)."),
) -> None:
    """Train a scorecard (WOE bins, logistic regression, points) on any CSV of applicants."""
    from branchdesk.core.clock import utcnow
    from branchdesk.loans.scorecard.lifecycle import train_to_directory

    started = time.perf_counter()
    meta = _run(train_to_directory, data, target=target, bad_value=bad_value, out=out, now=utcnow())
    train_m, oof = meta["metrics"]["train"], meta["metrics"]["out_of_fold"]
    rows = meta["training_data"]
    print(f"model {meta['model_version']} written to {out}")
    print(f"  {rows['rows']} rows, {rows['bads']} bad ({rows['bad_rate']:.1%})")
    print(f"  characteristics: {', '.join(meta['selected_features'])}")
    for name, m in (("train", train_m), ("out of fold", oof)):
        print(f"  {name:12s} " + _metrics_text(m))
    print(f"  in {time.perf_counter() - started:.1f} s")


@credit_app.command("score")
def score(
    model: Path = typer.Option(..., "--model", help="Model directory from `credit train`."),
    data: Path = typer.Option(..., "--data", help="Applicants CSV to score."),
    out: Path = typer.Option(..., "--out", help="Scores CSV: probability_bad, score, reasons."),
) -> None:
    """Score applicants: one output row per input row, in the same order."""
    from branchdesk.loans.scorecard.lifecycle import score_to_file

    scores, absent = _run(score_to_file, model, data, out)
    if absent:
        print(f"warning: columns absent, scored as missing: {', '.join(absent)}", file=sys.stderr)
    print(f"{len(scores)} rows scored to {out}")


@credit_app.command("evaluate")
def evaluate(
    data: Path = typer.Option(..., "--data", help="Labelled CSV."),
    target: str = typer.Option(..., "--target", help="Column holding the outcome."),
    bad_value: str = typer.Option(..., "--bad-value", help="Outcome value that means bad."),
    splits: int = typer.Option(
        10, "--splits", min=1, help="Stratified 70/30 splits, seeds 0..N-1."
    ),
) -> None:
    """Mean and per-split test AUC of the whole training pipeline."""
    from branchdesk.loans.scorecard.lifecycle import evaluate_file

    results = _run(evaluate_file, data, target=target, bad_value=bad_value, splits=splits)
    for r in results:
        print(f"{r.name:24s} train {r.n_train:6d}  test {r.n_test:6d}  AUC {r.auc:.4f}")
    mean = sum(r.auc for r in results) / len(results)
    print(f"mean test AUC over {len(results)} splits: {mean:.4f}")


@credit_app.command("stability")
def stability(
    model: Path = typer.Option(..., "--model", help="Model directory from `credit train`."),
    data: Path = typer.Option(..., "--data", help="Recent applicants CSV (no target needed)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON."),
) -> None:
    """PSI of the score and CSI of every characteristic against the development sample."""
    from branchdesk.loans.scorecard.lifecycle import stability_of_file

    report = _run(stability_of_file, model, data)
    print(f"development rows {report.n_development}, actual rows {report.n_actual}")
    print(f"score PSI {report.score_psi:.4f} ({report.score_verdict})")
    for band in report.score_bands:
        print(
            f"  {band['band']:28s} development {band['development_share']:6.1%}"
            f"  actual {band['actual_share']:6.1%}"
        )
    print("characteristic stability (CSI, mean points shift):")
    for c in report.characteristics:
        print(f"  {c.name:40s} CSI {c.csi:7.4f} ({c.verdict:7s}) points {c.points_shift:+7.2f}")
    if json_out is not None:
        _write_json(json_out, report.to_dict())


@credit_app.command("compare")
def compare(
    champion: Path = typer.Option(..., "--champion", help="Model directory in production."),
    challenger: Path = typer.Option(..., "--challenger", help="Model directory to try."),
    data: Path = typer.Option(..., "--data", help="Labelled CSV scored by both."),
    target: str = typer.Option(..., "--target", help="Column holding the outcome."),
    bad_value: str = typer.Option(..., "--bad-value", help="Outcome value that means bad."),
) -> None:
    """AUC, KS and Gini of champion and challenger on the same rows, with DeLong's test."""
    from branchdesk.loans.scorecard.lifecycle import compare_on_file

    result = _run(compare_on_file, champion, challenger, data, target=target, bad_value=bad_value)
    print(f"{result.n_rows} rows, {result.n_bad} bad")
    for name, m in (("champion", result.champion), ("challenger", result.challenger)):
        print(f"  {name:12s} " + _metrics_text(m))
    print(f"AUC difference {result.auc_difference:+.4f}, DeLong p = {result.p_value:.4f}")
    print(f"decision: {result.decision}")


@credit_app.command("generate")
def generate(
    rows: int = typer.Option(1000, "--rows", min=10, help="Applicants to generate."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same file)."),
    out: Path = typer.Option(..., "--out", help="CSV to write, target column `outcome`."),
) -> None:
    """Write synthetic labelled applicants (target `outcome`, bad value `bad`)."""
    from branchdesk.loans.scorecard.lifecycle import write_csv_atomically
    from branchdesk.loans.scorecard.synth import generate_applicants

    frame, _ = generate_applicants(rows, seed)
    _run(write_csv_atomically, frame, out)
    print(f"{rows} applicants written to {out} (target outcome, bad value bad)")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from branchdesk.loans.scorecard.lifecycle import write_text_atomically

    _run(write_text_atomically, json.dumps(data, indent=2, ensure_ascii=False) + "\n", path)


loans_app = typer.Typer(
    no_args_is_help=True,
    help="Loans: the daily servicing job (days past due, penalty), default products and model.",
)


def _database(url: str | None) -> Any:
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database

    return Database(url or get_settings().database_url)


@loans_app.command("daily")
def daily(
    as_of: str = typer.Option(..., "--as-of", help="Business date, YYYY-MM-DD."),
    branch: list[str] = typer.Option([], "--branch", help="Branch code (repeatable; default all)."),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Days past due, buckets, penalty up to --as-of (idempotent); then the watch list."""
    from datetime import date

    from sqlalchemy import select

    from branchdesk.catalog.models import Branch
    from branchdesk.core.clock import utcnow
    from branchdesk.loans.service import run_daily
    from branchdesk.loans.service.watchlist import update_watch_list

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)")
    database = _database(url)
    try:
        with database.unit_of_work() as db:
            branch_ids = None
            if branch:
                codes = [code.strip().upper() for code in branch]
                found = dict(
                    db.execute(select(Branch.code, Branch.id).where(Branch.code.in_(codes))).all()
                )
                unknown = [code for code in codes if code not in found]
                if unknown:
                    _fail(f"unknown branch {', '.join(unknown)}")
                branch_ids = list(found.values())
            result = run_daily(db, as_of=day, now=utcnow(), branch_ids=branch_ids)
            opened = update_watch_list(db, as_of=day, now=utcnow(), branch_ids=branch_ids)
    finally:
        database.dispose()
    print(
        f"{result.as_of}: {result.loans} loans, {result.overdue} overdue, "
        f"{result.days_accrued} loan-days of penalty, {result.penalty_accrued_minor} minor units, "
        f"{result.interest_accrued_minor} minor units of interest accrued, "
        f"{result.repriced} re-priced, {result.snapshots} snapshots, {opened} alerts opened"
    )


@loans_app.command("simulate")
def simulate_command(
    branch: str = typer.Option("SHA01", "--branch", help="Branch code (its staff and customers)."),
    loans: int = typer.Option(60, "--loans", min=1, max=5000, help="Loans to pay out."),
    months: int = typer.Option(12, "--months", min=1, max=36, help="Months of history."),
    seed: int = typer.Option(7, "--seed", help="Random seed (same seed, same behaviours)."),
    url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Demo history: loans paid out over past months, repaid (or not) through the real services,
    the daily job weekly and at month ends, so roll rates and vintage curves have data."""
    import time

    from branchdesk.core.clock import utcnow
    from branchdesk.core.errors import DomainError
    from branchdesk.loans.simulate import simulate

    database = _database(url)
    started = time.perf_counter()
    try:
        with database.unit_of_work() as db:
            done = simulate(
                db, branch_code=branch, loans=loans, months=months, seed=seed,
                today=utcnow().date(),
            )  # fmt: skip
    except DomainError as exc:
        _fail(exc.detail)
    finally:
        database.dispose()
    print(
        f"{done.loans} loans over {months} months at {branch.upper()}: {done.repayments} "
        f"repayments, {done.daily_runs} daily runs "
        f"({', '.join(f'{k} {v}' for k, v in done.behaviours.items())}) "
        f"in {time.perf_counter() - started:.1f} s"
    )


@loans_app.command("seed-products")
def seed_products_command(url: str | None = typer.Option(None, help="Database URL.")) -> None:
    """Create the default personal, mortgage, car and business products (existing codes kept)."""
    from branchdesk.core.clock import utcnow
    from branchdesk.loans.service.products import seed_products

    database = _database(url)
    try:
        with database.unit_of_work() as db:
            created = seed_products(db, now=utcnow())
    finally:
        database.dispose()
    print(f"{created} loan products created")


@loans_app.command("default-model")
def default_model(
    out: Path = typer.Option(..., "--out", help="Model directory to write."),
) -> None:
    """Write the default scorecard (trained on generated applicants) to a model directory."""
    from branchdesk.core.clock import utcnow
    from branchdesk.loans.service.scoring import write_default_model

    version = _run(write_default_model, out, now=utcnow())
    print(f"model {version} written to {out}")
