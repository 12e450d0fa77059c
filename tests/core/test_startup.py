"""A served process freezes its long-lived heap once start-up's warm-ups are done."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from branchdesk.app import create_app
from branchdesk.core.config import Settings
from branchdesk.core.db import Database


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_heap_is_frozen_after_the_warm_ups_and_not_before(
    settings: Settings, database: Database
) -> None:
    assert gc.get_freeze_count() == 0  # nothing in the test process froze before
    release = threading.Event()
    warm_up = threading.Thread(target=release.wait, name="slow warm-up", daemon=True)
    warm_up.start()
    app = create_app(settings, database, warm_ups=[warm_up], freeze_heap=True)
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            time.sleep(0.3)
            assert gc.get_freeze_count() == 0  # the warm-up thread is still running
            release.set()
            assert _wait_for(lambda: gc.get_freeze_count() > 0)
            assert client.get("/healthz").status_code == 200
    finally:
        release.set()
        gc.unfreeze()  # the rest of the test process collects as usual


def test_an_app_without_freeze_heap_never_freezes(settings: Settings, database: Database) -> None:
    app = create_app(settings, database)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        time.sleep(0.3)
    assert gc.get_freeze_count() == 0
