"""Survey history for demos and benchmarks: answers for past completed tickets.

Deterministic from a seed (each ticket's answer depends only on the seed and the ticket id).
Seeded answers are history: they count in the roll-ups but open no follow-up cases.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.ids import new_id
from branchdesk.feedback import rules
from branchdesk.feedback.models import SurveyResponse
from branchdesk.queue.models import Ticket, TicketState

COMMENTS = ("", "", "", "服務親切", "等候太久", "Quick and friendly", "手續繁瑣", "很满意")


def _answer(rng: random.Random, wait_seconds: float) -> tuple[int, int]:
    """A plausible (CSAT, NPS): longer waits give lower ratings on average."""
    mood = rng.gauss(4.1 - min(wait_seconds, 3600) / 1800, 0.9)
    csat = max(1, min(5, round(mood)))
    nps = max(0, min(10, round(mood * 2 + rng.gauss(0.5, 1.2))))
    return csat, nps


def seed_responses(
    db: Session,
    *,
    seed: int = 7,
    share: float = 0.3,
    since: date | None = None,
    batch: int = 5000,
) -> int:
    """Answer about ``share`` of the completed tickets without an answer; returns how many."""
    answered = select(SurveyResponse.ticket_id)
    query = (
        select(
            Ticket.id, Ticket.branch_id, Ticket.service_type_id, Ticket.counter_id,
            Ticket.served_by_id, Ticket.business_on, Ticket.queued_at, Ticket.started_at,
            Ticket.finished_at, Branch.region,
        )
        .join(Branch, Branch.id == Ticket.branch_id)
        .where(Ticket.state == TicketState.completed, Ticket.id.not_in(answered))
        .order_by(Ticket.id)
    )  # fmt: skip
    if since is not None:
        query = query.where(Ticket.business_on >= since)
    rows: list[dict[str, object]] = []
    written = 0
    for row in db.execute(query).all():
        rng = random.Random(f"{seed}:{row.id}")
        if rng.random() >= share:
            continue
        waited = (row.started_at - row.queued_at).total_seconds() if row.started_at else 600.0
        csat, nps = _answer(rng, waited)
        finished: datetime = row.finished_at or row.queued_at
        rows.append(
            {
                "id": new_id(), "ticket_id": row.id, "branch_id": row.branch_id,
                "region": row.region, "service_type_id": row.service_type_id,
                "counter_id": row.counter_id, "teller_id": row.served_by_id,
                "business_on": row.business_on, "csat": csat, "nps": nps,
                "comment": rng.choice(COMMENTS), "locale": "zh-Hant",
                "is_detractor": rules.is_detractor(csat=csat, nps=nps),
                "follow_up_case_id": None,
                "answered_at": finished + timedelta(minutes=rng.randint(2, 600)),
            }
        )  # fmt: skip
        if len(rows) >= batch:
            db.execute(insert(SurveyResponse), rows)
            written += len(rows)
            rows = []
    if rows:
        db.execute(insert(SurveyResponse), rows)
        written += len(rows)
    db.flush()
    return written
