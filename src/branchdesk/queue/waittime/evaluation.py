"""Replay a branch stream through the model and the classical baselines and score them.

Predictions are made at issue time, exactly as in `branchdesk waittime replay`. The score is
the root mean squared error of the predicted against the realised wait (`called - issued`)
over the tickets issued on the branch's later days (local dates after the first
`warmup_days`); tickets never called have no realised wait and are not scored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from branchdesk.queue.baselines import ClassicalBaselines
from branchdesk.queue.waittime.events import EventType, QueueEvent
from branchdesk.queue.waittime.model import WaitTimeModel


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """Scores of one branch stream."""

    events: int
    days: int
    scored: int
    model_rmse: float
    baseline_rmse: dict[str, float]
    best_baseline: str
    ratio: float
    ms_per_event: float


def _rmse(errors: list[float]) -> float:
    return math.sqrt(sum(e * e for e in errors) / len(errors)) if errors else math.nan


def evaluate_events(
    events: Iterable[QueueEvent], *, warmup_days: int = 3, model: WaitTimeModel | None = None
) -> EvaluationResult:
    """Score the model and every baseline on the days after `warmup_days`."""
    model = model if model is not None else WaitTimeModel()
    baselines = ClassicalBaselines()
    predictions: dict[str, tuple[float, dict[str, float], float, date]] = {}
    days: list[date] = []
    model_errors: list[float] = []
    baseline_errors: dict[str, list[float]] = {}
    model_seconds = 0.0
    count = 0
    for event in events:
        count += 1
        local_day = event.ts.date()
        if not days or days[-1] != local_day:
            days.append(local_day)
        started = time.perf_counter()
        model.observe(event)
        answer = 0
        if event.type is EventType.ISSUED and event.ticket is not None:
            answer = model.predict_wait_seconds(event.ticket)
        model_seconds += time.perf_counter() - started
        baselines.observe(event)
        now = event.ts.timestamp()
        if event.type is EventType.ISSUED and event.ticket is not None:
            answers = baselines.predict(event.ticket, now)
            predictions[event.ticket] = (float(answer), answers, now, local_day)
        elif event.type is EventType.CALLED and event.ticket is not None:
            made = predictions.pop(event.ticket, None)
            if made is None or len(days) <= warmup_days:
                continue
            if made[3] in days[:warmup_days]:
                continue
            wait = now - made[2]
            model_errors.append(made[0] - wait)
            for name, value in made[1].items():
                baseline_errors.setdefault(name, []).append(value - wait)
    baseline_rmse = {name: _rmse(errors) for name, errors in sorted(baseline_errors.items())}
    best = min(baseline_rmse, key=lambda name: baseline_rmse[name]) if baseline_rmse else ""
    model_rmse = _rmse(model_errors)
    ratio = model_rmse / baseline_rmse[best] if best and baseline_rmse[best] > 0 else math.nan
    return EvaluationResult(
        events=count,
        days=len(days),
        scored=len(model_errors),
        model_rmse=model_rmse,
        baseline_rmse=baseline_rmse,
        best_baseline=best,
        ratio=ratio,
        ms_per_event=1000.0 * model_seconds / count if count else 0.0,
    )
