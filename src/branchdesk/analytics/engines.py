"""The two engines: DuckDB (embedded, default) and Spark (PySpark; local mode here).

Both offer the same four operations: load a Parquet file as a named table, create a named table
from SQL, fetch a table as plain Python rows (dates, ints, strings, bools, None) and close.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import duckdb

Row = tuple[Any, ...]


class Engine(Protocol):
    name: str

    def load_parquet(self, table: str, path: Path) -> None: ...

    def create(self, table: str, sql: str) -> None: ...

    def fetch(self, table: str) -> tuple[list[str], list[Row]]: ...

    def close(self) -> None: ...


class DuckDbEngine:
    name = "duckdb"

    def __init__(self) -> None:
        self._connection = duckdb.connect()

    def load_parquet(self, table: str, path: Path) -> None:
        quoted = str(path).replace("'", "''")
        self._connection.execute(
            f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet('{quoted}')"
        )

    def create(self, table: str, sql: str) -> None:
        self._connection.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")

    def fetch(self, table: str) -> tuple[list[str], list[Row]]:
        cursor = self._connection.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description or ()]
        return columns, [tuple(r) for r in cursor.fetchall()]

    def close(self) -> None:
        self._connection.close()


class SparkEngine:
    """Spark SQL over the same Parquet files. ``master`` defaults to one local core."""

    name = "spark"

    def __init__(self, master: str = "local[1]") -> None:
        from pyspark.sql import SparkSession

        self._spark = (
            SparkSession.builder.master(master)
            .appName("branchdesk-analytics")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            .getOrCreate()
        )
        self._spark.sparkContext.setLogLevel("ERROR")

    def load_parquet(self, table: str, path: Path) -> None:
        self._spark.read.parquet(str(path)).createOrReplaceTempView(table)

    def create(self, table: str, sql: str) -> None:
        frame = self._spark.sql(sql).cache()
        frame.createOrReplaceTempView(table)

    def fetch(self, table: str) -> tuple[list[str], list[Row]]:
        frame = self._spark.table(table)
        return list(frame.columns), [tuple(r) for r in frame.collect()]

    def close(self) -> None:
        # the session is shared by the process (getOrCreate); drop our views, keep it warm
        for table in self._spark.catalog.listTables():
            if table.isTemporary:
                self._spark.catalog.dropTempView(table.name)


def make_engine(name: str) -> Engine:
    if name == "duckdb":
        return DuckDbEngine()
    if name == "spark":
        return SparkEngine()
    raise ValueError(f"unknown engine {name!r} (duckdb or spark)")
