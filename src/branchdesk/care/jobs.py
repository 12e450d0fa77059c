"""Worker jobs of care (module listed in ``branchdesk.registry``): greetings hourly (each
customer and occasion once, from 09:00 branch time), follow-up tasks and due campaigns every
few minutes. Each is idempotent, so a second worker or a rerun adds nothing."""

from __future__ import annotations

from datetime import timedelta

from branchdesk.care import notices as _notices  # noqa: F401 - the templates the jobs send
from branchdesk.care.service.campaigns import send_due_campaigns
from branchdesk.care.service.followups import make_follow_ups
from branchdesk.care.service.greetings import send_greetings
from branchdesk.core.jobs import Job, register_job

register_job(
    Job(
        name="care.greetings",
        every=timedelta(hours=1),
        run=lambda db, now: send_greetings(db, now=now),
    )
)
register_job(
    Job(
        name="care.followups",
        every=timedelta(minutes=10),
        run=lambda db, now: make_follow_ups(db, now=now),
    )
)
register_job(
    Job(
        name="care.campaigns",
        every=timedelta(minutes=5),
        run=lambda db, now: send_due_campaigns(db, now=now),
    )
)
