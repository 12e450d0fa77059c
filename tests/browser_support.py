"""A live server (real uvicorn process on a free port, demo-seeded SQLite) and headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def server_env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BRANCHDESK_DATABASE_URL": f"sqlite:///{tmp}/live.db",
        "BRANCHDESK_DATA_DIR": str(tmp),
        "BRANCHDESK_SECRET_KEY": "live-server-secret",
        "BRANCHDESK_LOG_LEVEL": "WARNING",
    }


# seed -> a folder holding a migrated, demo-seeded bank made by this test process
_SEEDED: dict[int, Path] = {}


def _seed_into(env: dict[str, str], seed: int) -> None:
    for args in (["db", "upgrade"], ["seed", "--profile", "demo", "--seed", str(seed)]):
        subprocess.run(
            [sys.executable, "-m", "branchdesk", *args], env=env, check=True, capture_output=True
        )


def prepare_bank(env: dict[str, str], *, seed: int = 7) -> None:
    """Migrate and demo-seed the bank of ``env``. The first call per seed in a test process runs
    `branchdesk db upgrade` and `branchdesk seed`; later calls copy that bank's files (the seed is
    deterministic, and every test still gets its own copy to change)."""
    folder = Path(env["BRANCHDESK_DATA_DIR"])
    if env.get("BRANCHDESK_DATABASE_URL") != f"sqlite:///{folder}/live.db":
        _seed_into(env, seed)
        return
    template = _SEEDED.get(seed)
    if template is None:
        template = Path(tempfile.mkdtemp(prefix=f"branchdesk-demo-{seed}-"))
        _seed_into(server_env(template), seed)
        _SEEDED[seed] = template
    folder.mkdir(parents=True, exist_ok=True)
    for item in template.iterdir():
        if item.is_dir():
            shutil.copytree(item, folder / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, folder / item.name)


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Start `branchdesk serve` and wait until /readyz answers (up to two minutes: start-up is
    slow on a loaded two-core machine). Its stderr goes to ``server.log`` in the data folder
    (a pipe nobody reads could fill up and stall the server); a server that exits or never
    answers fails with the end of that log."""
    log_path = Path(env.get("BRANCHDESK_DATA_DIR", tempfile.gettempdir())) / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "branchdesk", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(process, kill=True)
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"live server did not start:\n{tail}")


def stop_server(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    if kill:
        process.kill()  # SIGKILL: no shutdown hooks, no flush
    else:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """Serve the bank of ``env`` (already prepared) on a free port; yield the base URL, stop it."""
    port = free_port()
    process = start_server(env, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@contextmanager
def live_server(tmp: Path, *, seed: int = 7) -> Iterator[str]:
    """Migrate and seed a fresh SQLite bank, serve it, yield the base URL, stop it."""
    env = server_env(tmp)
    prepare_bank(env, seed=seed)
    with serving(env) as url:
        yield url


def sent_count(path: Path) -> int:
    """How many messages the file notifier has written to ``path`` so far (one JSON line each)."""
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def portal_log_in(
    page: Any, base_url: str, *, login: str, password: str, notifications: Path, phone: str
) -> None:
    """Log a customer in to the portal (English pages): password, then the one-time code read
    from the file notifier at ``notifications``; ends on "My accounts"."""
    from playwright.sync_api import expect

    sent_before = sent_count(notifications)
    page.goto(f"{base_url}/my")
    expect(page.locator("h1")).to_have_text("Log in to online banking")
    page.get_by_label("Customer number, phone or e-mail").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("One-time code")
    page.get_by_label("Code").fill(read_login_code(notifications, phone, sent_before))
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("My accounts")


def read_login_code(path: Path, phone: str, after: int = 0, *, wait_seconds: float = 20) -> str:
    """The newest portal login code sent to ``phone``, read from the file notifier (one JSON line
    per message) after its first ``after`` lines."""
    import json
    import time

    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()[after:]
            for line in reversed(lines):
                message = json.loads(line)
                if message["template"] == "portal.login_code" and message["to_phone"] == phone:
                    return str(message["values"]["code"])
        time.sleep(0.2)
    raise AssertionError("no login code was sent")
