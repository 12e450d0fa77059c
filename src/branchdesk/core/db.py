"""Database: declarative Base, UTC datetime column, engine, sessions and the unit of work.

The same models and Alembic migrations run on SQLite (embedded default, WAL mode, one writer
at a time through ``BEGIN IMMEDIATE``) and PostgreSQL (production).
"""

from __future__ import annotations

import asyncio
import enum
import json
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, Table, Uuid, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from branchdesk.core.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC instants on both databases; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: pass a timezone-aware value")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite keeps text; store naive UTC so lexical order is time order.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


READONLY = "branchdesk_readonly"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level, so SQLAlchemy's "begin" below decides the locking.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # One writer at a time: take the write lock when the transaction starts, so two requests
    # never both read a state and then race to write it (the pysqlite recipe in SQLAlchemy's docs).
    # Read-only work (health checks, live streams) opts out and reads a WAL snapshot instead.
    if conn.get_execution_options().get(READONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


@lru_cache(maxsize=64)
def _unnest_insert(
    table: Table, columns: tuple[str, ...], conflict_key: str | None, returning: tuple[str, ...]
) -> tuple[Any, tuple[tuple[str, bool, Any], ...]]:
    """The PostgreSQL statement for ``insert_rows``: one array parameter per column, so its text
    and parse cost stay the same whatever the number of rows (a multi-row VALUES list grows with
    them, and psycopg parses every placeholder of it in Python)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    casts, plan = [], []
    for name in columns:
        column = table.c[name]
        is_json = isinstance(column.type, JSON)
        sql_type = "text" if is_json else column.type.compile(dialect=dialect)
        casts.append(f"CAST(:{name} AS {sql_type}[])")
        impl = getattr(column.type, "process_bind_param", None)
        plan.append((name, is_json, impl if not is_json else None))
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT {', '.join(f'CAST(u.{c} AS json)' if j else f'u.{c}' for c, j, _p in plan)} "
        f"FROM unnest({', '.join(casts)}) AS u({', '.join(columns)})"
    )
    if conflict_key:
        sql += f" ON CONFLICT ({conflict_key}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return text(sql), tuple(plan)


def _array_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def insert_rows(
    db: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts_on: str | None = None,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert many rows (all with the same keys) in one statement; returns the ``returning``
    columns of the rows inserted, in no particular order.

    ``skip_conflicts_on`` names a unique column: a row whose value is already there is skipped
    (``ON CONFLICT DO NOTHING``). On PostgreSQL the rows travel as one array per column
    (``INSERT ... SELECT FROM unnest(...)``); on SQLite as SQLAlchemy's executemany.
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    dialect = db.get_bind().dialect
    if dialect.name == "postgresql":
        statement, plan = _unnest_insert(table, columns, skip_conflicts_on, tuple(returning))
        params: dict[str, list[Any]] = {}
        for name, is_json, process in plan:
            values = [row[name] for row in rows]
            if is_json:
                params[name] = [None if v is None else json.dumps(v) for v in values]
            elif process is not None:
                params[name] = [process(v, dialect) for v in values]
            else:
                params[name] = [_array_value(v) for v in values]
        result = db.execute(statement, params)
        return [tuple(row) for row in result] if returning else []
    if dialect.name == "sqlite":
        base = sqlite.insert(table)
        if skip_conflicts_on:
            base = base.on_conflict_do_nothing(index_elements=[table.c[skip_conflicts_on]])
        if returning:
            result = db.execute(base.returning(*(table.c[c] for c in returning)), list(rows))
            return [tuple(row) for row in result]
        db.execute(base, list(rows))
        return []
    raise NotImplementedError(f"insert_rows: {dialect.name} is not a supported database")


def pool_capacity(engine: Engine) -> int | None:
    """The most connections the engine's pool hands out at once (None: no limit it enforces)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    overflow: int = pool._max_overflow  # QueuePool has no public accessor for it
    return None if overflow < 0 else pool.size() + overflow


# Connections of the pool kept out of the request gate: the live event feed's poll, background
# jobs and a route's own second unit of work take them without passing the gate.
GATE_RESERVE = 4


class Database:
    """An engine and its session factory; the app and the CLI each hold one."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        capacity = pool_capacity(self.engine)
        self.request_slots = (
            None if capacity is None else max(1, capacity - min(GATE_RESERVE, capacity // 4))
        )
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._gates = weakref.WeakKeyDictionary()

    def request_gate(self, threads: int) -> asyncio.Semaphore | None:
        """The running event loop's gate for request sessions (None: the pool sets no limit).

        A request waits here, on the event loop, before it opens its session; at most
        ``request_slots`` requests hold one at a time, and fewer than ``threads`` (the loop's
        worker threads for sync code). Without the gate, a burst of requests beyond the pool's
        size fills the thread pool with threads blocked in the pool's checkout (or in SQLite's
        write lock, or a row lock), while the requests that hold the connections wait for a
        thread to commit and give them back: the server stalls until the waits time out (seen
        at 200 tickets/s with 70 concurrent clients: requests of 11 minutes, then errors). With
        fewer sessions than threads, some thread is always free for a holder to finish.
        """
        if self.request_slots is None:
            return None
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            slots = max(1, min(self.request_slots, threads - 1))
            gate = self._gates[loop] = asyncio.Semaphore(slots)
        return gate

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A session for reads only: never takes SQLite's write lock, never commits."""
        connection = self.engine.connect().execution_options(**{READONLY: True})
        session = Session(bind=connection)
        try:
            yield session
        finally:
            session.close()
            connection.close()

    def dispose(self) -> None:
        self.engine.dispose()
