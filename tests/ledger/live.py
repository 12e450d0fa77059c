"""A live server that may be killed and restarted (a variant of tests/browser_support.py with a
longer start-up allowance on a busy machine and its stderr kept in a file for diagnosis)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx


def start(
    env: dict[str, str], port: int, log: Path, *, timeout: float = 120
) -> subprocess.Popen[bytes]:
    """Start `branchdesk serve` and wait until /readyz answers 200."""
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "branchdesk", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"live server did not start within {timeout}s; see {log}")


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no shutdown hooks, no flush, transactions cut wherever they are."""
    process.kill()
    process.wait(timeout=30)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)
