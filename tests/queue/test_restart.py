"""Killing the server mid-day loses no ticket: after a SIGKILL and a restart the queue, the
positions and the events are exactly as the clients were told."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.browser_support import free_port, prepare_bank, server_env, start_server, stop_server


def test_sigkill_mid_day_loses_no_ticket(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    prepare_bank(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_server(env, port)
    try:
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "teller1.tpe", "password": "branchdesk-demo"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        told = []
        for service in ("CASH", "CASH", "XFER", "CASH", "LOAN"):
            response = httpx.post(
                f"{base}/api/v1/branches/TPE01/tickets",
                headers=auth,
                json={"service_code": service},
            )
            assert response.status_code == 201
            told.append(response.json())
        httpx.post(
            f"{base}/api/v1/branches/TPE01/counters/C01/status",
            headers=auth,
            json={"status": "open"},
        )
        called = httpx.post(
            f"{base}/api/v1/branches/TPE01/counters/C01/call-next", headers=auth
        ).json()
        assert called["number"] == "A-001"
        before = httpx.get(f"{base}/api/v1/branches/TPE01/queue", headers=auth).json()
    finally:
        stop_server(process, kill=True)

    process = start_server(env, port)
    try:
        for ticket in told:
            again = httpx.get(f"{base}/api/v1/tickets/{ticket['id']}", headers=auth).json()
            assert again["number"] == ticket["number"]
        after = httpx.get(f"{base}/api/v1/branches/TPE01/queue", headers=auth).json()
        assert after["waiting_total"] == before["waiting_total"] == 4
        assert after["recent_calls"][0]["number"] == "A-001"
        positions = {
            t["number"]: httpx.get(f"{base}/api/v1/tickets/{t['id']}", headers=auth).json()[
                "position"
            ]
            for t in told
        }
        assert positions == {"A-001": None, "A-002": 1, "C-001": 1, "A-003": 2, "D-001": 1}
        # the queue goes on where it stopped
        nxt = httpx.post(f"{base}/api/v1/branches/TPE01/counters/C01/call-next", headers=auth)
        assert nxt.status_code == 409  # A-001 is still called at C01
    finally:
        stop_server(process)
    verify = subprocess.run(
        [sys.executable, "-m", "branchdesk", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
