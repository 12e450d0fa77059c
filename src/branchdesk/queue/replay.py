"""The replay protocol of `branchdesk waittime replay` (shared/data/waittime/README.md).

Events arrive on standard input, one JSON object a line. Each is fed to one `WaitTimeModel`;
for every `issued` event one line `{"ticket": ..., "predicted_wait_seconds": ...}` is written
and flushed before the next line is read, so an answer only ever uses earlier events.
A line that is not a valid event stops the replay with `ReplayInputError` naming its number.
"""

from __future__ import annotations

import json
from typing import Protocol, TextIO

from branchdesk.queue.waittime import EventFormatError, EventType, WaitTimeModel, parse_event


class ReplayInputError(ValueError):
    """An input line is not a valid ticket event."""

    def __init__(self, line_number: int, reason: str) -> None:
        super().__init__(f"line {line_number}: {reason}")
        self.line_number = line_number
        self.reason = reason


class _Lines(Protocol):
    def readline(self) -> str: ...


def replay(source: _Lines, sink: TextIO, *, model: WaitTimeModel | None = None) -> int:
    """Run the protocol until end of input; returns the number of answers written.

    Raises `ReplayInputError` for a bad line (blank lines are skipped).
    """
    model = model if model is not None else WaitTimeModel()
    answers = 0
    line_number = 0
    while True:
        line = source.readline()
        if not line:
            return answers
        line_number += 1
        if not line.strip():
            continue
        try:
            event = parse_event(line)
        except EventFormatError as error:
            raise ReplayInputError(line_number, str(error)) from None
        model.observe(event)
        if event.type is EventType.ISSUED and event.ticket is not None:
            wait = model.predict_wait_seconds(event.ticket)
            sink.write(json.dumps({"ticket": event.ticket, "predicted_wait_seconds": wait}))
            sink.write("\n")
            sink.flush()
            answers += 1
