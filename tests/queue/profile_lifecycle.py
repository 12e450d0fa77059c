"""Profile the four lifecycle requests (issue, call-next, start, complete) through the ASGI app.

    .venv/bin/python -m tests.queue.profile_lifecycle                       # SQLite (temp file)
    .venv/bin/python -m tests.queue.profile_lifecycle --url postgresql+psycopg://postgres@127.0.0.1:5432/bd_queueperf
    ... --waiting 50 --lifecycles 200 --profile 25   # queue depth, rounds, cProfile top-N

The app runs in this thread (anyio's worker threads are replaced by inline calls), so cProfile
and ``time.process_time`` see the whole request: middleware, auth, routing, the service, the
ORM and the response. Prints per request kind: SQL statements (median), CPU ms (median), wall ms.
The PostgreSQL database named by --url is wiped (DROP SCHEMA public CASCADE) first.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import time as clock_time
from typing import Any

import anyio.to_thread
import httpx
from sqlalchemy import event, text

from branchdesk.app import create_app
from branchdesk.catalog.models import CounterStatus, OpeningHours
from branchdesk.core.clock import utcnow
from branchdesk.core.config import Settings
from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.migrations import upgrade
from branchdesk.queue.models import QueueSettings
from tests.factories import bearer, make_branch, make_counter, make_service_type, make_user, offer

SECRET = "profile-secret-key-for-branchdesk-profiling-0123456789"
KINDS = ("issue", "call_next", "start", "complete")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


async def _inline(func: Any, *args: Any, **_kw: Any) -> Any:
    return func(*args)


def _prepare(url: str | None) -> str:
    if url is None:
        return f"sqlite:///{tempfile.mkdtemp(prefix='bd-profile-')}/profile.db"
    database = Database(url)
    with database.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    database.dispose()
    return url


def _seed(database: Database, signer: Signer, counters: int) -> tuple[dict[str, str], list[str]]:
    with database.unit_of_work() as db:
        branch = make_branch(db, code="PROF")
        db.add_all(
            OpeningHours(branch_id=branch.id, weekday=d, opens_at=clock_time(0),
                         closes_at=clock_time(23, 59, 59))
            for d in range(5, 7)
        )  # fmt: skip
        db.execute(
            OpeningHours.__table__.update()
            .where(OpeningHours.branch_id == branch.id)
            .values(opens_at=clock_time(0), closes_at=clock_time(23, 59, 59))
        )
        services = [
            make_service_type(db, code=code, ticket_prefix=prefix)
            for code, prefix in (("PCASH", "A"), ("PXFER", "B"), ("PACCT", "C"))
        ]
        offer(db, branch, *services)
        db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=True, updated_at=utcnow()))
        codes = []
        for n in range(counters):
            counter = make_counter(
                db, branch, *services, code=f"P{n:02d}", status=CounterStatus.open
            )
            codes.append(counter.code)
        user = make_user(db, Role.branch_manager, (branch,))
        auth = bearer(signer, user)
    return auth, codes


async def _run(args: argparse.Namespace) -> None:
    url = _prepare(args.url)
    upgrade(url)
    database = Database(url)
    settings = Settings(database_url=url, secret_key=SECRET, environment="test")
    app = create_app(settings, database)
    signer: Signer = app.state.signer
    auth, counters = _seed(database, signer, args.counters)
    statements: list[int] = [0]
    last: dict[str, list[str]] = defaultdict(list)
    current: list[str] = []

    started: list[float] = [0.0]

    def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        statements[0] += 1
        started[0] = time.perf_counter()
        current.append(" ".join(statement.split())[:150])

    def took(*_a: Any) -> None:
        # The statement's wall time (database and driver), shown with --show.
        current[-1] = f"{(time.perf_counter() - started[0]) * 1000:7.2f} ms  {current[-1]}"

    event.listen(database.engine, "before_cursor_execute", count)
    event.listen(database.engine, "after_cursor_execute", took)
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    stats: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    profiler = cProfile.Profile(time.process_time)
    transport = httpx.ASGITransport(app=app)
    services = ["PCASH", "PXFER", "PACCT"]
    async with httpx.AsyncClient(transport=transport, base_url="http://profile", headers=auth) as c:

        async def timed(kind: str, method: str, path: str, **kw: Any) -> httpx.Response:
            statements[0] = 0
            current.clear()
            cpu, wall = time.process_time(), time.perf_counter()
            profiler.enable()
            response = await c.request(method, path, **kw)
            profiler.disable()
            stats[kind]["cpu"].append((time.process_time() - cpu) * 1000)
            stats[kind]["wall"].append((time.perf_counter() - wall) * 1000)
            stats[kind]["sql"].append(statements[0])
            last[kind] = list(current)
            assert response.status_code < 300, (kind, response.status_code, response.text)
            return response

        for n in range(args.waiting):  # the queue depth the lifecycles run against
            await c.post("/api/v1/branches/PROF/tickets", json={"service_code": services[n % 3]})
        profiler = cProfile.Profile(time.process_time)
        for n in range(args.lifecycles):
            await timed("issue", "POST", "/api/v1/branches/PROF/tickets",
                        json={"service_code": services[n % 3]})  # fmt: skip
            counter = counters[n % len(counters)]
            called = await timed("call_next", "POST",
                                 f"/api/v1/branches/PROF/counters/{counter}/call-next")  # fmt: skip
            ticket = called.json()["id"]
            await timed("start", "POST", f"/api/v1/tickets/{ticket}/start")
            await timed("complete", "POST", f"/api/v1/tickets/{ticket}/complete")
    database.dispose()
    _say(f"database {url.split('://')[0]}, {args.waiting} waiting, {args.lifecycles} lifecycles")
    total_cpu = 0.0
    for kind in KINDS:
        row = stats[kind]
        cpu = statistics.median(row["cpu"])
        total_cpu += statistics.fmean(row["cpu"])
        _say(
            f"  {kind:<10} statements {statistics.median(row['sql']):>4.0f} "
            f"(max {max(row['sql']):.0f})  cpu ms median {cpu:6.2f}  "
            f"wall ms median {statistics.median(row['wall']):6.2f}"
        )
    _say(f"  CPU ms per lifecycle (mean sum of the four): {total_cpu:.2f}")
    for kind in args.show:
        _say(f"statements of the last {kind}:")
        for statement in last[kind]:
            _say(f"    {statement}")
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL URL (default: a temp SQLite)")
    parser.add_argument("--waiting", type=int, default=50)
    parser.add_argument("--lifecycles", type=int, default=200)
    parser.add_argument("--counters", type=int, default=6)
    parser.add_argument(
        "--show",
        nargs="*",
        default=[],
        choices=KINDS,
        help="print the statements of the last request of these kinds, with their wall ms",
    )
    parser.add_argument("--profile", type=int, default=0, help="print the top N of cProfile")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
