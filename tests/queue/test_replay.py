"""`branchdesk waittime replay`: the stdin/stdout protocol, in process and as a real command."""

from __future__ import annotations

import io
import json
import os
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

from branchdesk.queue.replay import ReplayInputError, replay
from branchdesk.queue.streamgen import random_branch, stream_lines

LINES = [
    '{"ts": "2026-01-05T08:55:00+08:00", "type": "counter_open", "counter": "C1",'
    ' "services": ["CASH", "REMIT"]}',
    '{"ts": "2026-01-05T09:00:55+08:00", "type": "issued", "ticket": "20260105-0001",'
    ' "service": "REMIT", "priority": "normal"}',
    '{"ts": "2026-01-05T09:00:55+08:00", "type": "called", "ticket": "20260105-0001",'
    ' "counter": "C1"}',
    '{"ts": "2026-01-05T09:02:00+08:00", "type": "issued", "ticket": "20260105-0002",'
    ' "service": "CASH", "priority": "normal"}',
    '{"ts": "2026-01-05T09:02:04+08:00", "type": "issued", "ticket": "20260105-0003",'
    ' "service": "CASH", "priority": "vip"}',
]


def _answers(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_replay_answers_once_per_issued_event_in_order() -> None:
    out = io.StringIO()
    count = replay(io.StringIO("\n".join(LINES) + "\n"), out)
    answers = _answers(out.getvalue())
    assert count == 3
    assert [a["ticket"] for a in answers] == ["20260105-0001", "20260105-0002", "20260105-0003"]
    assert all(set(a) == {"ticket", "predicted_wait_seconds"} for a in answers)
    assert answers[0]["predicted_wait_seconds"] == 0  # the counter is free
    second = answers[1]["predicted_wait_seconds"]
    assert isinstance(second, int)
    assert second > 0  # C1 is busy with ticket 1


def test_replay_skips_blank_lines_and_names_the_bad_line() -> None:
    out = io.StringIO()
    source = io.StringIO(LINES[0] + "\n\n" + LINES[1] + "\n{broken\n" + LINES[3] + "\n")
    with pytest.raises(ReplayInputError, match="line 4: not valid JSON") as caught:
        replay(source, out)
    assert caught.value.line_number == 4
    assert [a["ticket"] for a in _answers(out.getvalue())] == ["20260105-0001"]


def test_an_answer_uses_only_events_before_it() -> None:
    lines = list(stream_lines(random_branch(5, days=2, counters=3), 5))[:400]
    full = io.StringIO()
    replay(io.StringIO("\n".join(lines) + "\n"), full)
    answers = _answers(full.getvalue())
    issued_positions = [i for i, line in enumerate(lines) if '"type": "issued"' in line]
    for answer_index in (5, 40, len(issued_positions) - 1):
        cut = issued_positions[answer_index] + 1
        prefix = io.StringIO()
        replay(io.StringIO("\n".join(lines[:cut]) + "\n"), prefix)
        assert _answers(prefix.getvalue())[-1] == answers[answer_index]


def _command() -> list[str]:
    return [sys.executable, "-m", "branchdesk", "waittime", "replay"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)  # the answer must be flushed by the command itself
    return env


def test_command_flushes_each_answer_before_reading_the_next_event(tmp_path: Path) -> None:
    process = subprocess.Popen(
        _command(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert process.stdin is not None
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        received = []
        for line in LINES:
            process.stdin.write(line + "\n")
            process.stdin.flush()
            if '"type": "issued"' in line:
                # the next event is only sent once the answer has been read
                assert selector.select(timeout=30), "no answer within 30 s: not flushed?"
                received.append(json.loads(process.stdout.readline()))
        process.stdin.close()
        assert process.wait(timeout=30) == 0
        assert process.stdout.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
        selector.close()
    assert [a["ticket"] for a in received] == ["20260105-0001", "20260105-0002", "20260105-0003"]
    assert received[0]["predicted_wait_seconds"] == 0


def test_command_rejects_a_bad_line_with_exit_code_2_and_its_number() -> None:
    stream = "\n".join([*LINES[:2], "not json at all", LINES[3]]) + "\n"
    result = subprocess.run(
        _command(), input=stream, capture_output=True, text=True, timeout=60, env=_env()
    )
    assert result.returncode == 2
    assert "line 3" in result.stderr
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
    assert [a["ticket"] for a in _answers(result.stdout)] == ["20260105-0001"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (
            '{"ts": "2026-01-05T09:03:00", "type": "completed", "ticket": "20260105-0001"}',
            "field 'ts' has no UTC offset",
        ),
        (
            '{"ts": "2026-01-05T09:03:00+08:00", "type": "teleported", "ticket": "x"}',
            "unknown event type 'teleported'",
        ),
    ],
)
def test_replay_command_names_the_reason(bad: str, reason: str) -> None:
    from typer.testing import CliRunner

    from branchdesk.queue.cli import waittime_app

    stream = "\n".join([*LINES[:2], bad, LINES[3]]) + "\n"
    result = CliRunner().invoke(waittime_app, ["replay"], input=stream)
    assert result.exit_code == 2
    assert f"bad input on line 3: {reason}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_generate_then_evaluate_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from branchdesk.queue.cli import waittime_app

    runner = CliRunner()
    out = tmp_path / "branch.jsonl"
    generated = runner.invoke(
        waittime_app,
        ["generate", "--seed", "8", "--out", str(out), "--days", "5", "--counters", "3"],
    )
    assert generated.exit_code == 0
    assert "3 counters" in generated.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == list(stream_lines(random_branch(8, days=5, counters=3), 8))
    evaluated = runner.invoke(
        waittime_app, ["evaluate", "--stream", str(out), "--warmup-days", "3"]
    )
    assert evaluated.exit_code == 0
    assert f"{out}: {len(lines)} events, 5 days" in evaluated.output
    assert "ratio to best baseline" in evaluated.output
    assert "ms/event" in evaluated.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n{oops\n", encoding="utf-8")
    refused = runner.invoke(waittime_app, ["evaluate", "--stream", str(bad)])
    assert refused.exit_code == 2
