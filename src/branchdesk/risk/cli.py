"""`branchdesk aml ...`: transaction monitoring over core banking exports."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from branchdesk.risk.aml.config import RuleConfig, RuleConfigError, load_config

aml_app = typer.Typer(
    no_args_is_help=True,
    help="Transaction monitoring: AML typologies and large-value reports over exports.",
)


def _config(path: Path | None) -> RuleConfig:
    try:
        return load_config(path)
    except (RuleConfigError, OSError) as exc:
        print(f"{path}: invalid rules: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None


@aml_app.command("scan")
def scan(
    transactions: Path = typer.Option(..., "--transactions", help="Core banking export (CSV)."),
    out: Path = typer.Option(..., "--out", help="Alerts CSV to write (atomically)."),
    config_path: Path | None = typer.Option(None, "--config", help="Rules JSON."),
) -> None:
    """Run every rule over an export and write the alerts; a malformed export writes nothing."""
    from branchdesk.risk.aml.io import ExportFormatError
    from branchdesk.risk.aml.scan import scan_file, write_alerts

    config = _config(config_path)
    started = time.perf_counter()
    try:
        alerts = scan_file(transactions, config)
    except ExportFormatError as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None
    except OSError as exc:
        print(f"{transactions}: cannot read: {exc.strerror}", file=sys.stderr)
        raise typer.Exit(2) from None
    write_alerts(alerts, out)
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[alert.typology] = counts.get(alert.typology, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    seconds = time.perf_counter() - started
    print(f"{len(alerts)} alerts ({summary}) written to {out} in {seconds:.2f} s")


@aml_app.command("generate")
def generate(
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed, same file)."),
    out: Path = typer.Option(..., "--out", help="Export CSV to write."),
    labels: Path = typer.Option(..., "--labels", help="Labels CSV to write."),
    accounts: int = typer.Option(1000, "--accounts", min=1, help="Background customers."),
    mix: str = typer.Option("standard", "--mix", help="standard or lookalike-heavy."),
) -> None:
    """Write a labelled synthetic six-month export with look-alikes and planted typologies."""
    from branchdesk.risk.aml.synth import MIXES, generate, write_export, write_labels

    if mix not in MIXES:
        print(f"unknown mix {mix!r}; choose from {sorted(MIXES)}", file=sys.stderr)
        raise typer.Exit(2)
    export = generate(seed, accounts, MIXES[mix])
    write_export(export, out)
    write_labels(export, labels)
    print(f"{len(export.rows)} transactions to {out}, {len(export.labels)} labels to {labels}")


@aml_app.command("evaluate")
def evaluate(
    transactions: Path = typer.Option(..., "--transactions", help="Export CSV."),
    labels: Path = typer.Option(..., "--labels", help="Labels CSV from `generate`."),
    config_path: Path | None = typer.Option(None, "--config", help="Rules JSON."),
) -> None:
    """Per-typology account recall, flagged-account precision, large-cash exactness, time."""
    from branchdesk.risk.aml.evaluate import evaluate_file
    from branchdesk.risk.aml.io import ExportFormatError

    config = _config(config_path)
    try:
        result = evaluate_file(transactions, labels, config)
    except ExportFormatError as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None
    except (OSError, KeyError) as exc:
        print(f"cannot read the export or labels: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    for line in result.lines():
        print(line)
    if result.false_flagged:
        print("false positives: " + ", ".join(result.false_flagged[:20]))
    if result.large_cash_missed or result.large_cash_wrong:
        print("large cash missed: " + ", ".join(result.large_cash_missed[:20]))
        print("large cash wrong: " + ", ".join(result.large_cash_wrong[:20]))
