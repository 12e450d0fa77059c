"""Two app instances on one database: a ticket issued through one instance reaches a lobby screen
that follows the other instance's event stream (SQLite: the events table is polled; PostgreSQL:
LISTEN/NOTIFY wakes the other instance at once)."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.browser_support import free_port, prepare_bank, server_env, start_server, stop_server


@contextmanager
def _postgres_database() -> Iterator[str]:
    """A throw-away database on the test PostgreSQL server."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"branchdesk_live_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _two_instances(tmp: Path, database_url: str | None) -> Iterator[tuple[str, str]]:
    env = server_env(tmp)
    if database_url is not None:
        env["BRANCHDESK_DATABASE_URL"] = database_url
    prepare_bank(env)
    ports = (free_port(), free_port())
    first = start_server(env, ports[0])
    try:
        second = start_server(env, ports[1])
        try:
            yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
        finally:
            stop_server(second)
    finally:
        stop_server(first)


def _issue_on_one_and_hear_it_on_the_other(display_base: str, kiosk_base: str) -> float:
    lines: list[str] = []
    heard_at: list[float] = []

    def listen() -> None:
        url = f"{display_base}/b/TPE01/events?timeout=6"
        with httpx.stream("GET", url, timeout=15) as stream:
            for line in stream.iter_lines():
                lines.append(line)
                if line.startswith("data: ") and not heard_at:
                    heard_at.append(time.monotonic())

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(1.5)  # the listener is subscribed
    with httpx.Client(base_url=kiosk_base) as kiosk:
        page = kiosk.get("/kiosk/TPE01")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        issued_at = time.monotonic()
        response = kiosk.post(
            "/kiosk/TPE01/tickets", data={"csrf_token": token.group(1), "service_code": "CASH"}
        )
        assert response.status_code == 200
        assert 'id="ticket-number">A-001<' in response.text
    listener.join(timeout=20)
    assert not listener.is_alive()
    assert "event: queue" in lines
    data = [line for line in lines if line.startswith("data: ")]
    assert data[0].startswith('data: {"type": "issued", "number": "A-001", "counter": null, ')
    # The other instance's lobby display renders the same queue.
    display = httpx.get(f"{display_base}/b/TPE01/queue.json").json()
    assert [s["waiting"] for s in display["services"] if s["service_code"] == "CASH"] == [1]
    return heard_at[0] - issued_at


def test_a_ticket_from_one_instance_reaches_the_other_instances_screens(tmp_path: Path) -> None:
    with _two_instances(tmp_path, None) as (display_base, kiosk_base):
        delay = _issue_on_one_and_hear_it_on_the_other(display_base, kiosk_base)
    assert delay < 3.0


@pytest.mark.postgres
def test_on_postgresql_listen_notify_carries_it_across_instances(tmp_path: Path) -> None:
    with (
        _postgres_database() as url,
        _two_instances(tmp_path, url) as (display_base, kiosk_base),
    ):
        delay = _issue_on_one_and_hear_it_on_the_other(display_base, kiosk_base)
    assert delay < 3.0
