"""Shared fixtures: a real database (SQLite, or PostgreSQL when BRANCHDESK_TEST_DB=postgres),
schema built by the Alembic migrations, one rolled-back transaction per test, and the real
ASGI app over HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from branchdesk.app import create_app
from branchdesk.core.config import Settings
from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.migrations import upgrade

TEST_SECRET = "test-secret-key-for-branchdesk-tests-only-0123456789"


def _postgres_url() -> str | None:
    if os.environ.get("BRANCHDESK_TEST_DB") != "postgres":
        return None
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit("BRANCHDESK_TEST_DB=postgres needs TEST_DATABASE_URL", returncode=3)
    return url


def _uses_database(item: pytest.Item) -> bool:
    return "postgres" in item.keywords or "database_url" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = _postgres_url() is not None
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
    if on_postgres:
        # the PostgreSQL pass runs what touches a database; tests that never reach one (pure
        # rules, models, CLIs on their own files) ran already in the SQLite pass
        kept = [item for item in items if _uses_database(item)]
        dropped = [item for item in items if not _uses_database(item)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (created on demand)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = Database(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists.first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable PostgreSQL is a failure, never a skip
        pytest.exit(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}", returncode=3)
    finally:
        admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _postgres_url()
    if url is None:
        path = tmp_path_factory.mktemp("db") / "test.db"
        return f"sqlite:///{path}"
    url = _worker_database(url)
    database = Database(url)
    try:
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # unreachable PostgreSQL is a failure, never a skip
        pytest.exit(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}", returncode=3)
    finally:
        database.dispose()
    return url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    upgrade(database_url)
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer(TEST_SECRET)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=Path(tmp_path_factory.mktemp("var")),
        environment="test",
    )


@contextmanager
def _rolled_back(database: Database) -> Iterator[tuple[Connection, Session]]:
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield connection, session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def db_connection(database: Database) -> Iterator[tuple[Connection, Session]]:
    with _rolled_back(database) as pair:
        yield pair


@pytest.fixture
def db(db_connection: tuple[Connection, Session]) -> Session:
    return db_connection[1]


@pytest.fixture
def fresh_db(database: Database) -> Callable[[], AbstractContextManager[Session]]:
    """For hypothesis: each example gets its own rolled-back session."""

    @contextmanager
    def factory() -> Iterator[Session]:
        with _rolled_back(database) as (_connection, session):
            yield session

    return factory


@pytest.fixture(scope="session")
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI, db_connection: tuple[Connection, Session]) -> Iterator[TestClient]:
    """The real app over HTTP; its sessions join the test's transaction (rolled back after)."""
    connection, _session = db_connection
    database: Database = app.state.database
    original = database.sessionmaker
    database.sessionmaker = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        with TestClient(app, base_url="http://testserver") as test_client:
            yield test_client
    finally:
        database.sessionmaker = original


@pytest.fixture(autouse=True)
def _no_committed_rows_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that must commit (concurrency, races, jobs, the worker) leave rows behind that later
    tests of the same worker would see; after such a test every table is emptied, so each test
    starts from the migrated, empty schema like the rolled-back ones (SQLite and PostgreSQL)."""
    yield
    if "database" not in request.fixturenames:
        return
    from branchdesk.models import Base

    database: Database = request.getfixturevalue("database")
    with database.engine.connect() as conn:
        dirty = conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM branches) OR EXISTS (SELECT 1 FROM users)"
                " OR EXISTS (SELECT 1 FROM customers) OR EXISTS (SELECT 1 FROM events)"
            )
        ).scalar_one()
        if not dirty:
            return
        tables = Base.metadata.sorted_tables
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):  # children before parents
                conn.execute(table.delete())
        conn.commit()
