"""The benches' floor: GET /healthz and GET /api/v1/me through the real app, and the bound that
a floor puts on an operation of k requests."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.bench.floor import FLOOR_PATHS, FloorResult, bound_lines, run_floor
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.factories import bearer, make_user


def _floor(app: FastAPI, token: str) -> list[FloorResult]:
    return asyncio.run(
        run_floor(
            base_url="http://testserver", token=token, clients=1, seconds=0.3,
            transport=httpx.ASGITransport(app=app),
        )
    )  # fmt: skip


def test_both_floors_are_measured_through_the_app(
    app: FastAPI, client: TestClient, db: Session, signer: Signer
) -> None:
    user = make_user(db, Role.admin)
    token = bearer(signer, user)["Authorization"].removeprefix("Bearer ")
    floors = _floor(app, token)
    assert [floor.path for floor in floors] == list(FLOOR_PATHS) == ["/healthz", "/api/v1/me"]
    for floor in floors:
        assert floor.errors == 0
        assert floor.answered > 0
        assert len(floor.latencies_ms) == floor.answered
        assert floor.server_cpu_seconds is None  # in-process: no server process to read
        assert floor.requests_per_second == pytest.approx(floor.answered / floor.seconds)
        assert floor.describe().startswith(
            f"floor GET {floor.path}: requests/s {floor.requests_per_second:.1f} "
            f"({floor.answered} in {floor.seconds:.1f} s), errors 0, requests {floor.answered}, "
        )


def test_a_refused_token_is_counted_as_errors_not_as_a_floor(
    app: FastAPI, client: TestClient
) -> None:
    health, me = _floor(app, "not-a-token")
    assert health.answered > 0
    assert health.errors == 0
    assert me.answered == 0
    assert me.errors > 0
    assert me.latencies_ms == []


def test_the_bound_of_an_operation_of_k_requests() -> None:
    floors = [
        FloorResult(path="/healthz", seconds=2.0, answered=8000),
        FloorResult(path="/api/v1/me", seconds=2.0, answered=1200),
    ]
    assert floors[0].bound(4) == 1000.0
    assert bound_lines(floors, operation="lifecycle", requests=4, pgbench_tps=4000.0) == [
        "lifecycle (4 requests): at most 1000.0/s by the GET /healthz floor = 0.250x pgbench tps",
        "lifecycle (4 requests): at most 150.0/s by the GET /api/v1/me floor = 0.037x pgbench tps",
    ]
    assert bound_lines(floors[1:], operation="single transfer", requests=1, pgbench_tps=None) == [
        "single transfer (1 request): at most 600.0/s by the GET /api/v1/me floor"
    ]
    floors[1].server_cpu_seconds = 0.6
    assert floors[1].describe() == (
        "floor GET /api/v1/me: requests/s 600.0 (1200 in 2.0 s), errors 0, requests 0, "
        "p50 0.0 ms, p99 0.0 ms, mean 0.0 ms, server CPU 0.6 s = 0.500 ms per request"
    )


def test_a_floor_needs_clients_and_time() -> None:
    for clients, seconds in ((0, 1.0), (2, 0.0)):
        with pytest.raises(ValueError, match="at least one client"):
            asyncio.run(run_floor(base_url="http://x", token="t", clients=clients, seconds=seconds))
