"""Count the SQL statements a block of code sends (a regression guard for the hot paths).

Listens to SQLAlchemy's ``before_cursor_execute`` on one connection (the test's, which the app's
sessions join), so the live feed's own polling connection is not counted. Transaction control
(SAVEPOINT / RELEASE / ROLLBACK TO, BEGIN) is left out unless ``keep_control``: mostly it is the
test harness's, not the request's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event

_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN")


@contextmanager
def count_statements(connection: Connection, *, keep_control: bool = False) -> Iterator[list[str]]:
    """Yields a list that fills with the statements sent inside the block."""
    seen: list[str] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool
    ) -> None:
        if keep_control or not statement.lstrip().upper().startswith(_CONTROL):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)
