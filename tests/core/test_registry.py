from __future__ import annotations

from branchdesk.core.events import consumers
from branchdesk.registry import load_all


def test_the_worker_knows_every_consumer_the_app_registers() -> None:
    load_all()
    assert "notify" in {c.name for c in consumers()}
