"""The two engines: DuckDB (embedded, default) and Spark (PySpark; local mode here).

Both offer the same operations: load a Parquet file (or a directory of Parquet files) as a named
table, create a named table from SQL, fetch a table as plain Python rows (dates, ints, strings,
bools, None), write a table to Parquet (large outputs, e.g. `branchdesk bench analytics`) and
close.
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

    def write_parquet(self, table: str, path: Path) -> None: ...

    def close(self) -> None: ...


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


class DuckDbEngine:
    name = "duckdb"

    def __init__(
        self, *, memory_limit: str | None = None, threads: int | None = None, lazy: bool = False
    ) -> None:
        """``lazy``: steps become views, so a chain of steps read once runs as one fused query
        (fastest when only the last table is wanted; a table read several times is recomputed
        each time, so the pipeline keeps the default of one temporary table per step)."""
        self._lazy = lazy
        self._connection = duckdb.connect()
        # results are sorted where order matters (pipeline._records): no need to keep the
        # insertion order, which costs memory and time on large tables
        self._connection.execute("SET preserve_insertion_order = false")
        if memory_limit:  # beyond it DuckDB spills to its temporary directory
            self._connection.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            self._connection.execute(f"SET threads = {int(threads)}")

    def load_parquet(self, table: str, path: Path) -> None:
        source = _quoted(path / "*.parquet" if path.is_dir() else path)
        self._connection.execute(
            f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet('{source}')"
        )

    def create(self, table: str, sql: str) -> None:
        kind = "VIEW" if self._lazy else "TEMP TABLE"
        self._connection.execute(f"CREATE OR REPLACE {kind} {table} AS {sql}")

    def fetch(self, table: str) -> tuple[list[str], list[Row]]:
        cursor = self._connection.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description or ()]
        return columns, [tuple(r) for r in cursor.fetchall()]

    def write_parquet(self, table: str, path: Path) -> None:
        self._connection.execute(f"COPY {table} TO '{_quoted(path)}' (FORMAT parquet)")

    def close(self) -> None:
        self._connection.close()


class SparkEngine:
    """Spark SQL over the same Parquet files. ``master`` defaults to one local core.

    ``shuffle_partitions`` 1 suits the small nightly data; large data wants a few per core.
    ``driver_memory`` (e.g. "3g") only takes effect when this process starts the JVM.
    """

    name = "spark"

    def __init__(
        self,
        master: str = "local[1]",
        *,
        shuffle_partitions: int = 1,
        driver_memory: str | None = None,
    ) -> None:
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(master)
            .appName("branchdesk-analytics")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        )
        if driver_memory:
            builder = builder.config("spark.driver.memory", driver_memory)
        self._spark = builder.getOrCreate()
        self._spark.sparkContext.setLogLevel("ERROR")

    def load_parquet(self, table: str, path: Path) -> None:
        self._spark.read.parquet(str(path)).createOrReplaceTempView(table)

    def create(self, table: str, sql: str) -> None:
        frame = self._spark.sql(sql).cache()
        frame.createOrReplaceTempView(table)

    def fetch(self, table: str) -> tuple[list[str], list[Row]]:
        frame = self._spark.table(table)
        return list(frame.columns), [tuple(r) for r in frame.collect()]

    def write_parquet(self, table: str, path: Path) -> None:
        """A directory of part files (Spark's layout); DuckDB reads it as ``path/*.parquet``."""
        self._spark.table(table).write.mode("overwrite").parquet(str(path))

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
