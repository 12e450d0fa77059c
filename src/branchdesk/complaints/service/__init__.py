"""The complaint case flow: functions taking a Session, the acting Principal and ``now``.

``open_case`` is the entry point for other domains (surveys open a case for a detractor).
"""

from __future__ import annotations

from branchdesk.complaints.service.cases import (
    CaseFilter,
    add_note,
    append_customer_message,
    assign,
    correct_category,
    extensions,
    find_open_case_by_thread,
    get_case,
    handlers_for_branch,
    is_overdue,
    list_cases,
    reply,
    set_complex,
    timeline,
    transition,
)
from branchdesk.complaints.service.common import (
    AGGREGATE,
    CaseClosed,
    TransitionRefused,
    add_timeline,
    audited_refusal,
    category_choices,
    jurisdiction_for_branch,
    recompute_due_dates,
    set_branch_jurisdiction,
)
from branchdesk.complaints.service.deadline_extensions import decide_extension, request_extension
from branchdesk.complaints.service.opening import (
    open_case,
    open_case_for_staff,
    open_case_from_public_form,
    reads_as_complaint,
    set_classifier,
)

__all__ = [
    "AGGREGATE",
    "CaseClosed",
    "CaseFilter",
    "TransitionRefused",
    "add_note",
    "add_timeline",
    "append_customer_message",
    "assign",
    "audited_refusal",
    "category_choices",
    "correct_category",
    "decide_extension",
    "extensions",
    "find_open_case_by_thread",
    "get_case",
    "handlers_for_branch",
    "is_overdue",
    "jurisdiction_for_branch",
    "list_cases",
    "open_case",
    "open_case_for_staff",
    "open_case_from_public_form",
    "reads_as_complaint",
    "recompute_due_dates",
    "reply",
    "request_extension",
    "set_branch_jurisdiction",
    "set_classifier",
    "set_complex",
    "timeline",
    "transition",
]
