"""A live server (real uvicorn process on a free port, demo-seeded SQLite) and headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("BRANCHDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    if os.environ.get("BRANCHDESK_REQUIRE_BROWSER"):
        pytest.fail(f"Chromium not found at {CHROMIUM}; CI requires the browser tests")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(tmp: Path, *, seed: int = 7) -> Iterator[str]:
    """Migrate and seed a fresh SQLite bank, serve it, yield the base URL, stop it."""
    port = free_port()
    env = {
        **os.environ,
        "BRANCHDESK_DATABASE_URL": f"sqlite:///{tmp}/live.db",
        "BRANCHDESK_DATA_DIR": str(tmp),
        "BRANCHDESK_SECRET_KEY": "live-server-secret",
        "BRANCHDESK_LOG_LEVEL": "WARNING",
    }
    for args in (["db", "upgrade"], ["seed", "--profile", "demo", "--seed", str(seed)]):
        subprocess.run(
            [sys.executable, "-m", "branchdesk", *args], env=env, check=True, capture_output=True
        )
    process = subprocess.Popen(
        [sys.executable, "-m", "branchdesk", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("live server did not start")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
