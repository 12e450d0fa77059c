"""The online wait-time estimate: `WaitTimeModel` fed by `QueueEvent`s, one per branch."""

from branchdesk.queue.waittime.events import EventFormatError, EventType, QueueEvent, parse_event
from branchdesk.queue.waittime.model import WaitTimeModel

__all__ = ["EventFormatError", "EventType", "QueueEvent", "WaitTimeModel", "parse_event"]
