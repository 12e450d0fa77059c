"""The request gate: no more requests hold a session than the connection pool can serve, so a
burst larger than the pool waits on the event loop instead of stalling the server; a pool that
still runs dry answers 503 (nothing changed), never 500."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from branchdesk.app import create_app
from branchdesk.core.config import Settings
from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.identity.models import User
from branchdesk.identity.roles import Role
from tests.factories import bearer, make_user


@pytest.fixture
def small_pool(database: Database) -> Iterator[Database]:
    """The test database behind a pool of two connections that gives up after 3 s."""
    small = Database(database.url, pool_size=2, max_overflow=0, pool_timeout=3)
    yield small
    small.dispose()


def _token(database: Database, signer: Signer) -> dict[str, str]:
    with database.unit_of_work() as db:
        return bearer(signer, make_user(db, Role.admin))


async def _burst(app: FastAPI, headers: dict[str, str], count: int) -> list[int]:
    # Fewer threads than requests, as on a busy server (anyio's default is 40 per process).
    anyio.to_thread.current_default_thread_limiter().total_tokens = 3
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        answers = await asyncio.gather(*(c.get("/api/v1/me") for _ in range(count)))
    return [answer.status_code for answer in answers]


def test_a_burst_beyond_the_pool_is_served_whole(
    settings: Settings, small_pool: Database, signer: Signer
) -> None:
    headers = _token(small_pool, signer)
    app = create_app(settings, small_pool)
    assert small_pool.request_slots == 2
    # Without the gate, threads blocked in the pool's checkout starve the requests that hold
    # the connections: most of this burst timed out after 3 s (500 before the 503 handler).
    statuses = asyncio.run(asyncio.wait_for(_burst(app, headers, 24), timeout=60))
    assert statuses == [200] * 24
    assert small_pool.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_dry_pool_answers_503_and_changes_nothing(
    settings: Settings, database: Database, signer: Signer
) -> None:
    headers = _token(database, signer)
    tiny = Database(database.url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    try:
        app = create_app(settings, tiny)
        with tiny.engine.connect():  # someone else holds the only connection
            answer = asyncio.run(_post_customer(app, headers))
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.json() == {
            "error": "database_busy",
            "detail": "the database is busy; nothing was changed, try again shortly",
        }
        with database.unit_of_work() as db:
            assert db.scalar(select(func.count()).select_from(User)) == 1  # only the caller
    finally:
        tiny.dispose()


async def _post_customer(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        return await c.get("/api/v1/me")


@pytest.mark.parametrize(
    ("kwargs", "slots"),
    [
        ({"pool_size": 10, "max_overflow": 20}, 26),  # the PostgreSQL default: 4 kept back
        ({"pool_size": 4, "max_overflow": 4}, 6),
        ({"pool_size": 2, "max_overflow": 0}, 2),
        ({"pool_size": 1, "max_overflow": 0}, 1),
        ({"pool_size": 5, "max_overflow": -1}, None),  # no limit: no gate
    ],
)
def test_slots_follow_the_pool(database: Database, kwargs: dict[str, int], slots: int) -> None:
    sized = Database(database.url, **kwargs)
    try:
        assert sized.request_slots == slots
    finally:
        sized.dispose()


def test_each_event_loop_has_its_own_gate_with_fewer_slots_than_threads(
    small_pool: Database,
) -> None:
    async def gate(threads: int) -> asyncio.Semaphore | None:
        return small_pool.request_gate(threads)

    first, second = asyncio.run(gate(40)), asyncio.run(gate(2))
    assert first is not None
    assert second is not None
    assert first is not second
    assert first._value == 2  # the pool's two connections
    assert second._value == 1  # one thread stays free for the holder to finish
