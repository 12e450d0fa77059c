"""DuckDB and Spark run the same pipeline definition to identical results, row for row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from branchdesk.analytics.config import PipelineConfig
from branchdesk.analytics.engines import DuckDbEngine, SparkEngine
from branchdesk.analytics.extract import extract_to_parquet
from branchdesk.analytics.pipeline import compute
from branchdesk.core.security import Signer
from tests.analytics.bank import AS_OF, book, build_bank, open_account
from tests.factories import make_customer

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkEngine]:
    engine = SparkEngine("local[1]")
    yield engine
    engine.close()


def test_duckdb_and_spark_give_identical_outputs(
    db: Session, signer: Signer, tmp_path: Path, spark: SparkEngine
) -> None:
    bank = build_bank(db, signer)
    # more customers so that quintiles, clusters and the recommender have something to do
    for n in range(12):
        person = make_customer(db, signer, home_branch_id=bank.branch.id,
                               has_marketing_consent=n % 2 == 0)  # fmt: skip
        account = open_account(db, bank.branch, person, type=("savings", "current")[n % 2],
                               currency=("CNY", "USD", "HKD")[n % 3],
                               on=AS_OF.replace(year=2025, month=1 + n % 12))  # fmt: skip
        for j in range(1 + n % 4):
            book(db, account, 1_234_567 * (n + 1) + j, AS_OF.replace(day=1 + j, month=1 + n % 2))
    config = PipelineConfig(clusters=3)
    paths = extract_to_parquet(db, config=config, directory=tmp_path, branch_ids=[bank.branch.id])
    duck = DuckDbEngine()
    try:
        on_duckdb = compute(duck, paths, config=config, as_of=AS_OF)
    finally:
        duck.close()
    on_spark = compute(spark, paths, config=config, as_of=AS_OF)
    assert len(on_duckdb.tables["features"]) == 15
    assert set(on_duckdb.tables) == {"features", "recommendations", "care_tasks"}
    assert on_duckdb.tables["recommendations"]
    for name, rows in on_duckdb.tables.items():
        assert on_spark.tables[name] == rows, name
    assert on_spark.cluster_profiles == on_duckdb.cluster_profiles
