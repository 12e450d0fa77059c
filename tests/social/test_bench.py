"""The publishing bench runs end to end (on its own temporary SQLite bank)."""

from __future__ import annotations

import pytest

from branchdesk.social import bench


def test_the_bench_publishes_and_records(capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--posts", "3"])
    out = capsys.readouterr().out
    assert "outbox -> FilePublisher, per post:" in out
    assert "(3 lines written)" in out
    assert "webhook reply recorded in the log: median" in out
