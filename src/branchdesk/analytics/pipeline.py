"""Run the pipeline: extract -> SQL steps (DuckDB or Spark) -> Python steps -> write-back.

``compute`` is engine-dependent only through the SQL steps; its result is plain rows, so the
two engines can be compared row for row. ``write_back`` replaces the results of the same as-of
date (features, recommendations), keeps segment history (valid_from/valid_to; a second run of
the same day first undoes that day's changes), has ``branchdesk.loyalty`` earn points (once per
source event and rule) and decide tiers (which also set the queue's vip service tier), and adds
each care task once per dedupe key.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from branchdesk.analytics import python_steps
from branchdesk.analytics.config import PIPELINE_VERSION, PipelineConfig
from branchdesk.analytics.engines import Engine, make_engine
from branchdesk.analytics.extract import extract_to_parquet
from branchdesk.analytics.models import (
    AnalyticsRun,
    CareTask,
    CustomerFeature,
    CustomerRecommendation,
    CustomerSegment,
)
from branchdesk.analytics.recommend.rules import RULE_VERSION
from branchdesk.analytics.steps import INPUTS, OUTPUTS, STEPS, parameters, render
from branchdesk.core.ids import new_id
from branchdesk.loyalty import service as loyalty
from branchdesk.loyalty.config import Programme

Record = dict[str, Any]
SEGMENT_KINDS = ("asset_tier", "rfm", "cluster", "loyalty_tier")


def rule_version() -> str:
    return f"{PIPELINE_VERSION}+{RULE_VERSION}"


@dataclass
class PipelineOutput:
    as_of: date
    engine: str
    tables: dict[str, list[Record]] = field(default_factory=dict)
    cluster_profiles: list[Record] = field(default_factory=list)
    seconds_sql: float = 0.0
    seconds_python: float = 0.0


def _records(engine: Engine, table: str, keys: tuple[str, ...]) -> list[Record]:
    columns, rows = engine.fetch(table)
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    records.sort(key=lambda r: tuple(str(r[k]) for k in keys))
    return records


def compute(
    engine: Engine, paths: dict[str, Path], *, config: PipelineConfig, as_of: date
) -> PipelineOutput:
    """Run every step on ``engine`` over the Parquet inputs; nothing is written."""
    started = time.perf_counter()
    values = parameters(config, as_of)
    for name in INPUTS:
        engine.load_parquet(name, paths[name])
    for step in STEPS:
        engine.create(step.name, render(step, engine.name, values))
    raw = {name: _records(engine, name, keys) for name, keys in OUTPUTS.items()}
    output = PipelineOutput(as_of=as_of, engine=engine.name)
    output.seconds_sql = time.perf_counter() - started
    started = time.perf_counter()
    segments = {s["customer_id"]: s for s in raw["segments"]}
    features = raw["features"]
    clusters = python_steps.cluster(features, config)
    by_type = {p.account_type: p.code for p in config.products if p.account_type}
    for f in features:
        s = segments[f["customer_id"]]
        f.update({k: s[k] for k in ("asset_tier", "rfm_group", "r_score", "f_score", "m_score")})
        f["cluster"] = clusters.names.get(f["customer_id"], "")
        f["products"] = " ".join(code for kind, code in by_type.items() if f.get(f"has_{kind}"))
    output.tables["features"] = features
    output.cluster_profiles = clusters.profiles
    output.tables["recommendations"] = python_steps.recommend(
        features, raw["product_openings"], config, as_of
    )
    output.tables["care_tasks"] = python_steps.care_tasks(
        features, raw["care_events"], config, as_of
    )
    output.seconds_python = time.perf_counter() - started
    return output


@dataclass(frozen=True)
class RunSummary:
    run_id: uuid.UUID
    engine: str
    as_of: date
    customers: int
    recommendations: int
    points_added: int
    tasks_added: int
    seconds: float
    seconds_extract: float
    seconds_sql: float


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def write_back(
    db: Session,
    output: PipelineOutput,
    *,
    started_at: datetime,
    now: datetime,
    milliseconds: int,
    programme: Programme | None = None,
) -> tuple[uuid.UUID, int, int]:
    """Store one run's results; returns (run id, points entries added, care tasks added).

    Points are earned up to as-of and tiers decided by the loyalty programme (``programme``);
    the tier goes into the segment history like the other segments.
    """
    as_of = output.as_of
    features = output.tables["features"]
    run = AnalyticsRun(
        id=new_id(),
        run_on=as_of,
        engine=output.engine,
        rule_version=rule_version(),
        customer_count=len(features),
        milliseconds=milliseconds,
        profile={"clusters": output.cluster_profiles},
        started_at=started_at,
        finished_at=now,
    )
    db.add(run)
    db.flush()
    ids = [uuid.UUID(f["customer_id"]) for f in features]
    for chunk in _chunks(ids):
        db.execute(
            delete(CustomerFeature).where(
                CustomerFeature.as_of == as_of, CustomerFeature.customer_id.in_(chunk)
            )
        )
        db.execute(
            delete(CustomerRecommendation).where(
                CustomerRecommendation.as_of == as_of,
                CustomerRecommendation.customer_id.in_(chunk),
            )
        )
    db.add_all(
        CustomerFeature(
            id=new_id(), run_id=run.id, as_of=as_of, customer_id=uuid.UUID(f["customer_id"]),
            base_currency="CNY", assets_minor=f["assets_minor"],
            assets_30d_ago_minor=f["assets_month_ago_minor"], recency_days=f["recency_days"],
            frequency=f["frequency"], monetary_minor=f["monetary_minor"],
            product_count=f["product_count"], products=f["products"],
            counter_visits=f["counter_visits"], portal_visits=f["portal_visits"],
            remote_visits=f["remote_visits"], appointments=f["appointments"],
            tenure_months=f["tenure_months"], risk_tolerance=f["risk_tolerance"],
            is_risk_tolerance_default=bool(f["is_risk_tolerance_default"]),
            r_score=f["r_score"], f_score=f["f_score"], m_score=f["m_score"],
        )
        for f in features
    )  # fmt: skip
    db.add_all(
        CustomerRecommendation(
            id=new_id(), run_id=run.id, as_of=as_of, customer_id=uuid.UUID(r["customer_id"]),
            rank=r["rank"], product_code=r["product_code"], reason=r["reason"],
            rule_version=RULE_VERSION, reason_parts=r["reason_parts"],
        )
        for r in output.tables["recommendations"]
    )  # fmt: skip
    points_added = loyalty.earn_from_sources(
        db, until=as_of, now=now, programme=programme, customer_ids=ids
    )
    tiers = loyalty.evaluate_tiers(db, today=as_of, now=now, customer_ids=ids, programme=programme)
    for f in features:
        f["loyalty_tier"] = tiers[uuid.UUID(f["customer_id"])]
    _segments(db, run.id, as_of, features, ids)
    existing_tasks = set(db.execute(select(CareTask.dedupe_key)).scalars())
    new_tasks = [t for t in output.tables["care_tasks"] if t["dedupe_key"] not in existing_tasks]
    db.add_all(
        CareTask(
            id=new_id(), customer_id=uuid.UUID(t["customer_id"]), rule_code=t["rule_code"],
            dedupe_key=t["dedupe_key"], due_on=t["due_on"], branch_id=_uuid(t["branch_id"]),
            assignee_id=None, status="open", detail=t["detail"][:300], run_id=run.id,
            created_at=now,
        )
        for t in new_tasks
    )  # fmt: skip
    db.flush()
    return run.id, points_added, len(new_tasks)


def _chunks(ids: list[uuid.UUID], size: int = 500) -> list[list[uuid.UUID]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _segments(
    db: Session, run_id: uuid.UUID, as_of: date, features: list[Record], ids: list[uuid.UUID]
) -> None:
    """Apply the run's segments (the loyalty tier among them) as history."""
    open_rows: dict[tuple[str, str], CustomerSegment] = {}
    for chunk in _chunks(ids):
        # undo an earlier run of the same day (or a later one: a re-run rewrites from as_of)
        mine = CustomerSegment.customer_id.in_(chunk)
        db.execute(delete(CustomerSegment).where(mine, CustomerSegment.valid_from >= as_of))
        db.execute(
            update(CustomerSegment)
            .where(mine, CustomerSegment.valid_to >= as_of)
            .values(valid_to=None)
            .execution_options(synchronize_session="fetch")
        )
        for s in db.execute(
            select(CustomerSegment)
            .where(mine, CustomerSegment.valid_to.is_(None))
            .execution_options(populate_existing=True)
        ).scalars():
            open_rows[(str(s.customer_id), s.kind)] = s
    wanted = {"asset_tier": "asset_tier", "rfm": "rfm_group", "cluster": "cluster",
              "loyalty_tier": "loyalty_tier"}  # fmt: skip
    for f in features:
        for kind, column in wanted.items():
            value = f[column]
            current = open_rows.get((f["customer_id"], kind))
            if current is not None and current.segment == value:
                continue
            if current is not None:
                current.valid_to = as_of
            db.add(
                CustomerSegment(
                    id=new_id(), customer_id=uuid.UUID(f["customer_id"]), kind=kind,
                    segment=value, valid_from=as_of, valid_to=None, run_id=run_id,
                )
            )  # fmt: skip


def run_pipeline(
    db: Session,
    *,
    engine_name: str,
    as_of: date,
    now: datetime,
    config: PipelineConfig | None = None,
    parquet_dir: Path | None = None,
    engine: Engine | None = None,
    branch_ids: list[uuid.UUID] | None = None,
    programme: Programme | None = None,
) -> RunSummary:
    """Extract, compute on the engine and write back in the caller's transaction."""
    config = config or PipelineConfig()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="branchdesk-analytics-") as temp:
        directory = parquet_dir or Path(temp)
        paths = extract_to_parquet(
            db, config=config, directory=directory, branch_ids=branch_ids, as_of=as_of
        )
        seconds_extract = time.perf_counter() - started
        own = engine is None
        active = engine or make_engine(engine_name)
        try:
            output = compute(active, paths, config=config, as_of=as_of)
        finally:
            if own:
                active.close()
    elapsed = time.perf_counter() - started
    run_id, points, tasks = write_back(
        db, output, started_at=now, now=now, milliseconds=int(elapsed * 1000),
        programme=programme,
    )  # fmt: skip
    return RunSummary(
        run_id=run_id,
        engine=output.engine,
        as_of=as_of,
        customers=len(output.tables["features"]),
        recommendations=len(output.tables["recommendations"]),
        points_added=points,
        tasks_added=tasks,
        seconds=time.perf_counter() - started,
        seconds_extract=seconds_extract,
        seconds_sql=output.seconds_sql,
    )
