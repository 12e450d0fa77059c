"""Import every module that registers outbox consumers or message templates at import time.

The web app imports them through its routers; processes without the web app (the outbox
`worker`, CLI jobs) call ``load_all()`` so that they know every consumer and template.
"""

from __future__ import annotations

import importlib

MODULES = (
    "branchdesk.models",
    "branchdesk.core.notify",
    "branchdesk.queue.service.notices",
    "branchdesk.appointments.notifications",
    "branchdesk.loans.notifications",
    "branchdesk.loans.jobs",
    "branchdesk.loyalty.jobs",
    "branchdesk.complaints.sla",
    "branchdesk.feedback.service",
    "branchdesk.quality.reports",
    "branchdesk.quality.rollup",
    "branchdesk.social.service",
    "branchdesk.risk.cases.jobs",
    "branchdesk.training.service",
    "branchdesk.compliance.service",
    "branchdesk.care.jobs",
)


def load_all() -> None:
    for name in MODULES:
        importlib.import_module(name)
