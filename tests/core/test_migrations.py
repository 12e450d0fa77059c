from __future__ import annotations

from branchdesk.core.db import Database
from branchdesk.migrations import check, is_current


def test_models_and_migrations_agree(database: Database) -> None:
    """`alembic check` on the test database, which the migrations built (SQLite or PostgreSQL)."""
    assert is_current(database.url)
    check(database.url)  # raises when autogenerate would find a difference
