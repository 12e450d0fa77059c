"""`branchdesk waittime ...`: replay, evaluate and generate ticket event streams."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from branchdesk.queue.baselines import BASELINE_NAMES, KEYINGS
from branchdesk.queue.replay import ReplayInputError, replay
from branchdesk.queue.waittime import EventFormatError, WaitTimeModel, parse_event
from branchdesk.queue.waittime.evaluation import evaluate_events

waittime_app = typer.Typer(
    help="The online wait-time model: replay an event stream, evaluate it, generate branches.",
    no_args_is_help=True,
)


@waittime_app.command("replay")
def replay_command() -> None:
    """Read events on stdin; answer one JSON line per `issued` event, flushed before reading on."""
    try:
        replay(sys.stdin, sys.stdout, model=WaitTimeModel())
    except ReplayInputError as error:
        sys.stderr.write(f"branchdesk waittime replay: bad input on {error}\n")
        sys.stderr.flush()
        raise typer.Exit(code=2) from None


@waittime_app.command("evaluate")
def evaluate_command(
    stream: list[Path] = typer.Option(
        ..., "--stream", help="JSON-lines event stream (repeatable)."
    ),
    warmup_days: int = typer.Option(3, "--warmup-days", min=0, help="Days learned, not scored."),
    samples: int = typer.Option(16, "--samples", min=0, help="Sampled look-ahead runs (0: mean)."),
) -> None:
    """Replay each stream through the model and the classical baselines; print RMSE per branch."""
    typer.echo(
        "baselines: best of " + ", ".join(f"{k}/{b}" for k in KEYINGS for b in BASELINE_NAMES)
    )
    for path in stream:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            typer.echo(f"cannot read {path}: {error.strerror}", err=True)
            raise typer.Exit(code=2) from None
        events = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                events.append(parse_event(line))
            except EventFormatError as error:
                typer.echo(f"{path}: bad input on line {number}: {error}", err=True)
                raise typer.Exit(code=2) from None
        result = evaluate_events(
            events, warmup_days=warmup_days, model=WaitTimeModel(samples=samples)
        )
        typer.echo(f"{path}: {result.events} events, {result.days} days, scored {result.scored}")
        typer.echo(f"  model RMSE            {result.model_rmse:10.1f} s")
        for name, value in sorted(result.baseline_rmse.items(), key=lambda item: item[1]):
            typer.echo(f"  {name:40s} {value:10.1f} s")
        typer.echo(
            f"  ratio to best baseline ({result.best_baseline}): {result.ratio:.3f}; "
            f"model {result.ms_per_event:.3f} ms/event"
        )


@waittime_app.command("generate")
def generate_command(
    seed: int = typer.Option(..., "--seed", help="Seed of the branch and of its days."),
    out: Path = typer.Option(..., "--out", help="Where to write the JSON-lines stream."),
    days: int = typer.Option(12, "--days", min=1, help="Working days to simulate."),
    counters: int | None = typer.Option(None, "--counters", min=1, help="Number of counters."),
    load: float | None = typer.Option(None, "--load", min=0.05, help="Utilisation, e.g. 0.9."),
    policy: str | None = typer.Option(None, "--policy", help="strict, aging, mixed or bonus."),
    vip_counter: bool | None = typer.Option(None, "--vip-counter/--no-vip-counter"),
) -> None:
    """Write a synthetic branch's event stream (deterministic for a seed and options)."""
    from branchdesk.queue.streamgen import random_branch, stream_lines

    if policy is not None and policy not in ("strict", "aging", "mixed", "bonus"):
        typer.echo("--policy must be strict, aging, mixed or bonus", err=True)
        raise typer.Exit(code=2)
    config = random_branch(
        seed, counters=counters, load=load, policy=policy, vip_counter=vip_counter, days=days
    )
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for line in stream_lines(config, seed):
            handle.write(line + "\n")
            count += 1
    services = ", ".join(config.services)
    typer.echo(
        f"{out}: {count} events, {len(config.counters)} counters, services {services}, "
        f"{config.tickets_per_day:.0f} tickets/day expected"
    )
