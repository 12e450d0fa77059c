"""The queue's services: tickets, counters and what the screens show.

Every transition writes one event row (replay-format payload plus ids) in the same transaction.
Call-next picks by ``policy.rank_for_counter`` and then locks the chosen row; on PostgreSQL a row
another teller holds is skipped (``SKIP LOCKED``) and the next best is tried, on SQLite the
single writer serialises call-next. Either way no ticket is called twice.
"""

from branchdesk.queue.service.common import (
    BranchClosed,
    CounterBusy,
    CounterNotOpen,
    InvalidTransition,
    WaitEstimator,
    get_ticket,
    get_ticket_by_token,
    offered_service,
    policy_config,
    queue_settings,
)
from branchdesk.queue.service.counters import call_next, current_ticket, set_counter_status
from branchdesk.queue.service.screens import (
    estimate_wait,
    position,
    snapshot,
    ticket_read,
)
from branchdesk.queue.service.tickets import (
    cancel,
    check_in,
    complete,
    issue_ticket,
    no_show,
    park,
    recall,
    rejoin,
    start_service,
    transfer,
    unpark,
)

__all__ = [
    "BranchClosed",
    "CounterBusy",
    "CounterNotOpen",
    "InvalidTransition",
    "WaitEstimator",
    "call_next",
    "cancel",
    "check_in",
    "complete",
    "current_ticket",
    "estimate_wait",
    "get_ticket",
    "get_ticket_by_token",
    "issue_ticket",
    "no_show",
    "offered_service",
    "park",
    "policy_config",
    "position",
    "queue_settings",
    "recall",
    "rejoin",
    "set_counter_status",
    "snapshot",
    "start_service",
    "ticket_read",
    "transfer",
    "unpark",
]
